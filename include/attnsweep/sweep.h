/* sweep — one sweep end to end under MPI: decide what the output file needs (create it, or
 * continue it: which runs are still to do), create or open the shared HDF5 file, hand the runs
 * out through sched, train and write each one, close, and report. Every rank calls sweep_run with
 * the same grid; rank 0 decides and the others follow. Prints nothing: the caller receives events
 * (start, progress) on rank 0 and a report, and turns them into words. */
#ifndef ATTNSWEEP_SWEEP_H
#define ATTNSWEEP_SWEEP_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <mpi.h>
#include "attnsweep/grid.h"
#include "attnsweep/plan.h"
#include "attnsweep/reuse.h"
#include "attnsweep/sched.h"

/* Stop requests, set by signal handlers (or by the caller). */
typedef struct {
    volatile sig_atomic_t stop;      /* hand out no more runs; runs in flight finish */
    volatile sig_atomic_t interrupt; /* runs in flight end now, as interrupted */
    volatile sig_atomic_t signal;    /* the last signal received, 0 if none */
} sweep_stop_t;

/* Prepare this process to run a sweep, before MPI_Init (so that a signal during start-up is a
 * stop request too): SIGTERM, SIGUSR1 and SIGINT become stop requests on st — the first sets
 * st->stop and, grace seconds later (at once if grace is 0), st->interrupt; a second one sets
 * st->interrupt at once (SIGALRM times the grace period). Under mpirun the process also dies with
 * its launcher (orphaned ranks would race a quick --resume), and Open MPI's MPI-IO defaults to
 * ROMIO (OMPIO can hang in collective writes) unless the user chose. 0 ok, -1 on failure. */
int sweep_process_setup(sweep_stop_t *st, double grace);

/* argv as one shell command line into buf (quoted where needed). with_resume: the command that
 * continues this sweep (--overwrite dropped, --resume added). */
void sweep_command_line(int argc, char *const *argv, int with_resume, char *buf, size_t n);

typedef struct {
    const char *out;          /* the results file */
    int resume;               /* continue an existing file (a missing one is created) */
    int overwrite;            /* replace an existing file */
    int rerun_diverged;       /* with resume: train diverged runs again */
    sched_mode_t schedule;
    double progress_every;    /* seconds between progress events; 0: none */
    const char *command_line; /* stored in the file */
    const char *const *reuse; /* --reuse OLD files (glob patterns), n_reuse of them */
    int n_reuse;
    sweep_stop_t *stop;       /* may be NULL */
} sweep_config_t;

/* What this invocation will do, decided on rank 0 from the file and known on every rank. */
typedef struct {
    int fresh;              /* 1: the file is created; 0: an existing sweep is continued */
    int missing;            /* with resume: the file did not exist, so it is created */
    long n_runs;
    long n_todo;            /* runs this invocation trains, in todo[] */
    long n_done_before;     /* done runs kept from the file */
    long n_diverged_kept;   /* diverged runs kept (a deterministic result) */
    long n_bad_crc;         /* kept-status runs whose trace failed its CRC: trained again */
    long *todo;             /* [n_todo] run ids */
    int32_t *attempts;      /* [n_runs] attempts recorded so far */
    char notice[640];       /* rank 0: a lock taken over from a dead writer, or "" */
    reuse_t reuse;          /* runs copied from --reuse files instead of trained */
} sweep_todo_t;

/* Rank 0's decision, serial (reads the file with h5out_inspect and the --reuse files, writes
 * nothing). 0 ok; <0 with a one-line err saying what to do (file exists without
 * --resume/--overwrite, different spec, ...). */
int sweep_todo_make(const grid_t *g, const sweep_config_t *cfg, sweep_todo_t *todo, char *err,
                    size_t errlen);
void sweep_todo_free(sweep_todo_t *todo);

typedef enum { SWEEP_EVENT_START, SWEEP_EVENT_PROGRESS } sweep_event_kind_t;

typedef struct {
    sweep_event_kind_t kind;
    const sweep_todo_t *todo;
    int n_ranks, n_workers;
    const sched_progress_t *progress; /* PROGRESS only */
    double eta;                       /* PROGRESS only: seconds still to go, NAN if unknown */
} sweep_event_t;

typedef void (*sweep_event_fn)(void *ctx, const sweep_event_t *ev);

/* The outcome, complete on rank 0. */
typedef struct {
    sched_summary_t sched;  /* runs finished by status, wall time, busy times */
    int n_ranks;
    double open_seconds;    /* creating or opening (and checking) the file */
    double close_seconds;
    long n_reused;          /* runs copied by --reuse */
    double reuse_seconds, match_seconds; /* copying them (all ranks), matching them (rank 0) */
    long n_done_total;      /* done runs in the file now */
    long n_left;            /* runs a --resume would still train (pending, interrupted, failed) */
    int stopped;            /* a stop request ended it early */
    int local_error;        /* on failure: err describes this rank's own error (rank 0 always has
                             * a message; other ranks print theirs only when this is set) */
} sweep_report_t;

/* The whole sweep, collective over comm. on_event (may be NULL) is called on rank 0. Returns 0
 * when the sweep ended cleanly (finished or stopped by a request); <0 on an error (the same on
 * every rank), with err on rank 0 and on any rank that failed itself (rep->local_error). */
int sweep_run(MPI_Comm comm, const grid_t *g, const sweep_config_t *cfg, sweep_event_fn on_event,
              void *event_ctx, sweep_report_t *rep, char *err, size_t errlen);

#endif
