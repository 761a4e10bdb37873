/* sched — who trains which run. Pure part: longest-processing-time-first (LPT) order and the
 * cost-balanced static partition. MPI part: sched_run drives a sweep over a communicator —
 * dynamic (rank 0 coordinates, ranks 1..N-1 ask for the next run when they finish one), static
 * (a precomputed LPT partition over all N ranks, no messages) or serial (one rank). The caller
 * supplies the work (train + write one run) as a callback; sched never prints or exits. */
#ifndef ATTNSWEEP_SCHED_H
#define ATTNSWEEP_SCHED_H
#include <signal.h>
#include <mpi.h>
#include "attnsweep/util.h"

typedef enum { SCHED_DYNAMIC = 0, SCHED_STATIC = 1 } sched_mode_t;

/* ---- pure, MPI-free ---------------------------------------------------------------------- */

/* LPT order of n runs: order[k] = index into ids/cost of the k-th run to hand out, by cost
 * descending, then id ascending (deterministic). 0 ok, -1 on allocation failure. */
int sched_lpt_order(const double *cost, const long *ids, long n, long *order);
/* Static partition of n runs over n_workers by greedy LPT: each run in LPT order goes to the
 * worker with the least assigned cost so far (lowest worker index on ties). owner[i] is the
 * worker of ids[i]; load[w] (may be NULL) the summed cost of worker w. 0 ok, -1 on error. */
int sched_static_partition(const double *cost, const long *ids, long n, int n_workers,
                           int *owner, double *load);
/* Makespan (largest worker load) of the greedy LPT schedule on n_workers: what the dynamic queue
 * achieves when estimates are exact. Used by `plan`. Returns a negative value on error. */
double sched_lpt_makespan(const double *cost, long n, int n_workers);

/* The dynamic queue: runs handed out in LPT order. */
typedef struct {
    long *ids;     /* [n] run ids in hand-out order */
    double *cost;  /* [n] their costs */
    long n, next;
} sched_queue_t;

int sched_queue_init(sched_queue_t *q, const long *ids, const double *cost, long n);
/* The next run id, or -1 when the queue is empty; *cost (may be NULL) gets its cost. */
long sched_next_run(sched_queue_t *q, double *cost);
void sched_queue_free(sched_queue_t *q);

/* ---- the sweep driver (MPI) ---------------------------------------------------------------- */

/* What one run reported back: its run_status_t, seconds training and seconds writing, and the
 * steps it took of the steps it was given (fewer when it stopped early). */
typedef struct {
    int status;
    double run_seconds, write_seconds;
    long steps_done, steps_planned;
} sched_result_t;

/* Train and store run id; *r filled. Return 0, or <0 for an error that must stop the sweep (the
 * callback keeps its own message). */
typedef int (*sched_work_fn)(void *ctx, long id, sched_result_t *r);

/* Progress as rank 0 sees it (in static mode: rank 0's own share only, local_only = 1). */
typedef struct {
    long total, finished;      /* runs in this sweep (not counting those done before a resume) */
    long by_status[RUN_N_STATUS]; /* finished runs by run_status_t */
    double elapsed;            /* seconds since sched_run started */
    double run_seconds;        /* Σ run time of the finished runs */
    double busy_seconds;       /* Σ run + write time of the finished runs */
    double cost_total, cost_done; /* estimated cost of all runs / of the finished ones */
    int n_workers, stopping, local_only;
    /* What is left, for an ETA: the costs of the runs not started yet (LPT order), and of each
     * run in training its cost and the seconds since it started. */
    const double *pending_cost;
    long n_pending;
    const double *running_cost, *running_elapsed;
    int n_running;
    const double *all_cost;    /* every run of this sweep (of rank 0's share when local_only) */
    long n_all;
} sched_progress_t;

typedef void (*sched_progress_fn)(void *ctx, const sched_progress_t *p);

typedef struct {
    MPI_Comm comm;
    sched_mode_t mode;
    const long *ids;           /* [n] the runs to do (every rank passes the same list) */
    const double *cost;        /* [n] their estimated costs */
    long n;
    sched_work_fn work;
    void *work_ctx;
    sched_progress_fn progress; /* rank 0 only; may be NULL */
    void *progress_ctx;
    double progress_every;     /* seconds between progress calls */
    /* Non-zero: stop handing out runs (a signal arrived). Runs in flight finish; interrupting
     * them is the work callback's business (train_run's stop flag). */
    const volatile sig_atomic_t *stop;
} sched_config_t;

/* The whole sweep, gathered on rank 0 (other ranks get their own share). */
typedef struct {
    double wall;               /* seconds from start to the last rank finishing its runs */
    int n_workers;             /* ranks that trained runs */
    long finished, by_status[RUN_N_STATUS];
    long n_early;              /* done runs that stopped before their last step */
    double steps_saved;        /* Σ over those runs of the steps they did not take */
    double run_seconds;        /* Σ run time over all ranks */
    double write_seconds;      /* Σ time in the work callback's writes */
    double busy_max, busy_mean; /* per worker: Σ (run + write) */
    int stopped;               /* 1: a stop request ended the sweep before the queue was empty */
    long error_run;            /* first run whose callback failed, -1 if none */
    int error_rank;
} sched_summary_t;

/* Collective over cfg->comm. Returns 0 when every rank finished cleanly (stopped or not), <0 if
 * a work callback failed on some rank (sum->error_run/error_rank say where, on rank 0) or MPI
 * failed. With one rank everything runs serially; dynamic with N > 1 uses N-1 workers (rank 0
 * only coordinates, sleeping between messages; each worker holds its next run while training
 * one, so a stop seen only by rank 0 still lets each worker start that one); static uses all
 * N ranks. */
int sched_run(const sched_config_t *cfg, sched_summary_t *sum);

/* A barrier that sleeps instead of spinning (Open MPI's blocking collectives busy-poll, which
 * would steal a core from ranks still training). 0 ok, <0 MPI error. */
int sched_quiet_barrier(MPI_Comm comm);

/* parallel efficiency = Σ run time / (workers × wall); load imbalance = max busy / mean - 1. */
double sched_efficiency(const sched_summary_t *s);
double sched_imbalance(const sched_summary_t *s);

#endif
