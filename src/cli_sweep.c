/* cli_sweep — the sweep commands: `run` (MPI: spec → grid → shared HDF5 file via sched_run, with
 * resume, signals, progress lines and an end summary), `plan` (runs, cost, calibrated wall-time
 * estimate, memory and file size; no MPI) and `status` (counts of a results file; no MPI).
 * Everything user-facing is printed here; sched.c and h5out.c only return statuses. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <mpi.h>
#include "attnsweep/grid.h"
#include "attnsweep/h5out.h"
#include "attnsweep/sched.h"
#include "attnsweep/train.h"
#include "cli.h"

#define MAX_SETS 256
#define DEFAULT_GRACE 60.0
#define DEFAULT_PROGRESS 5.0

/* ---- signals ------------------------------------------------------------------------------- */

/* g_signals: stop requests so far (stop dispatching); g_interrupt: runs in flight must stop now
 * (second request, or the grace period after the first ran out). */
static volatile sig_atomic_t g_signals = 0, g_interrupt = 0, g_last_signal = 0;
static unsigned g_grace = (unsigned)DEFAULT_GRACE;

static void on_stop_signal(int sig)
{
    g_last_signal = sig;
    if (g_signals < 1000) g_signals++;
    if (g_signals >= 2)
        g_interrupt = 1;
    else if (g_grace > 0)
        alarm(g_grace);
    else
        g_interrupt = 1;
}

static void on_alarm(int sig)
{
    (void)sig;
    if (g_signals > 0) g_interrupt = 1;
}

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_alarm;
    if (sigaction(SIGALRM, &sa, NULL) != 0) return -1;
    return 0;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

static void fmt_duration(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, n, "?");
    else if (s < 120)
        snprintf(buf, n, "%.1f s", s);
    else if (s < 7200)
        snprintf(buf, n, "%.1f min", s / 60);
    else
        snprintf(buf, n, "%.1f h", s / 3600);
}

static void fmt_bytes(double b, char *buf, size_t n)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

/* Append s to buf, single-quoted for a POSIX shell when it needs quoting. */
static void append_quoted(char *buf, size_t n, const char *s)
{
    size_t u = strlen(buf);
    int plain = *s != '\0';
    for (const char *c = s; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%",
                    *c))
            plain = 0;
    if (plain) {
        snprintf(buf + u, n - u, "%s", s);
        return;
    }
    if (u + 1 < n) buf[u++] = '\'';
    for (const char *c = s; *c && u + 5 < n; c++) {
        if (*c == '\'') {
            memcpy(buf + u, "'\\''", 4);
            u += 4;
        } else {
            buf[u++] = *c;
        }
    }
    if (u + 1 < n) buf[u++] = '\'';
    buf[u < n ? u : n - 1] = '\0';
}

static void join_argv(int argc, char **argv, char *buf, size_t n, int add_resume)
{
    buf[0] = '\0';
    int has_resume = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0) has_resume = 1;
        if (add_resume && strcmp(argv[i], "--overwrite") == 0) continue;
        if (buf[0]) strncat(buf, " ", n - strlen(buf) - 1);
        append_quoted(buf, n, argv[i]);
    }
    if (add_resume && !has_resume) strncat(buf, " --resume", n - strlen(buf) - 1);
}

/* An MPI call failed outside the library (the default handler usually aborts first). */
static void mpi_fatal(int rank, const char *what)
{
    fprintf(stderr, "attnsweep run: rank %d: %s failed; aborting the job\n", rank, what);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(CLI_ERROR);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- run ------------------------------------------------------------------------------------ */

typedef struct {
    const char *spec_path, *out, *sets[MAX_SETS];
    int n_sets, resume, overwrite, rerun_diverged;
    sched_mode_t mode;
    double grace, progress_every;
} run_args_t;

static int parse_run_args(int argc, char **argv, run_args_t *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->out = "results.h5";
    a->mode = SCHED_DYNAMIC;
    a->grace = DEFAULT_GRACE;
    a->progress_every = DEFAULT_PROGRESS;
    for (int i = 2; i < argc; i++) {
        int t = cli_take_set(argc, argv, &i, a->sets, &a->n_sets, MAX_SETS);
        if (t < 0) {
            snprintf(err, errlen, "--set needs section.key=value");
            return -1;
        }
        if (t) continue;
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--out") == 0 && v) {
            a->out = v;
            i++;
        } else if (strcmp(o, "--resume") == 0) {
            a->resume = 1;
        } else if (strcmp(o, "--overwrite") == 0) {
            a->overwrite = 1;
        } else if (strcmp(o, "--rerun-diverged") == 0) {
            a->rerun_diverged = 1;
        } else if (strcmp(o, "--schedule") == 0 && v) {
            if (strcmp(v, "dynamic") == 0)
                a->mode = SCHED_DYNAMIC;
            else if (strcmp(v, "static") == 0)
                a->mode = SCHED_STATIC;
            else {
                snprintf(err, errlen, "--schedule expects dynamic or static, got '%s'", v);
                return -1;
            }
            i++;
        } else if ((strcmp(o, "--grace") == 0 || strcmp(o, "--progress") == 0) && v) {
            char *end;
            double x = strtod(v, &end);
            if (*end || !(x >= 0) || x > 1e6) {
                snprintf(err, errlen, "%s expects seconds >= 0, got '%s'", o, v);
                return -1;
            }
            if (o[2] == 'g')
                a->grace = x;
            else
                a->progress_every = x;
            i++;
        } else if (!a->spec_path && o[0] != '-') {
            a->spec_path = o;
        } else {
            snprintf(err, errlen, "unexpected argument '%s' (see attnsweep --help)", o);
            return -1;
        }
    }
    if (!a->spec_path) {
        snprintf(err, errlen, "usage: mpirun -np N attnsweep run SPEC [--out FILE] [--resume] "
                 "[--overwrite] [--set section.key=value]... [--schedule dynamic|static] "
                 "[--grace SECONDS] [--progress SECONDS] [--rerun-diverged]");
        return -1;
    }
    if (a->resume && a->overwrite) {
        snprintf(err, errlen, "--resume and --overwrite exclude each other");
        return -1;
    }
    return 0;
}

/* What the work callback needs on every rank. */
typedef struct {
    const grid_t *grid;
    const model_family_t *family;
    h5out_t *out;
    trace_t trace;
    int32_t *attempts; /* [n_runs] as in the file */
    int rank;
    char host[H5OUT_HOST_LEN];
    char err[512];
} worker_t;

static int work_one(void *ctx, long id, sched_result_t *r)
{
    worker_t *w = ctx;
    params_t p;
    run_result_t res;
    char e[384];
    double t0 = now_seconds();

    w->attempts[id]++;
    if (h5out_write_attempt(w->out, id, w->attempts[id], e, sizeof e) != 0) {
        snprintf(w->err, sizeof w->err, "rank %d, run %ld: %s", w->rank, id, e);
        return -1;
    }
    double t_write = now_seconds() - t0;
    grid_run_params(w->grid, id, &p);
    if (train_run(w->family, &p, &w->trace, &res, &g_interrupt) != 0) {
        /* An internal error of this run (e.g. out of memory): a failed run, not a failed sweep. */
        res.status = RUN_FAILED;
    }
    double t1 = now_seconds();
    if (h5out_write_run(w->out, id, &w->trace, &res, w->rank, w->host, w->attempts[id], NULL, e,
                        sizeof e) != 0) {
        snprintf(w->err, sizeof w->err, "rank %d, run %ld: %s", w->rank, id, e);
        return -1;
    }
    t_write += now_seconds() - t1;
    r->status = res.status;
    r->run_seconds = res.wall_seconds;
    r->write_seconds = t_write;
    return 0;
}

typedef struct {
    long n_total_file, n_before; /* runs in the file; done before this invocation */
} progress_ctx_t;

static void print_progress(void *ctx, const sched_progress_t *p)
{
    const progress_ctx_t *c = ctx;
    char eta[32], el[32];
    double rate = p->elapsed > 0 ? p->finished / p->elapsed : 0;
    /* ETA from the estimated cost still to do (LPT hands out the long runs first, so counting
     * runs would be too optimistic early on). */
    double eta_s = (p->cost_done > 0 && p->cost_total >= p->cost_done)
                       ? p->elapsed * (p->cost_total - p->cost_done) / p->cost_done
                       : NAN;
    fmt_duration(eta_s, eta, sizeof eta);
    fmt_duration(p->elapsed, el, sizeof el);
    printf("progress: %ld/%ld runs%s (%.1f %%) after %s, %.2f runs/s, ETA %s | done %ld, "
           "diverged %ld, failed %ld%s\n",
           p->finished, p->total, p->local_only ? " of rank 0's share" : "",
           p->total ? 100.0 * (double)p->finished / (double)p->total : 100.0, el, rate,
           p->stopping ? "(stopping)" : eta, p->by_status[RUN_DONE], p->by_status[RUN_DIVERGED],
           p->by_status[RUN_FAILED], c->n_before ? " (+ earlier runs)" : "");
    fflush(stdout);
}

static void utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Rank 0 decides what a resume has to do; the others receive it. */
static int resume_plan(const run_args_t *a, const grid_t *g, int rank, MPI_Comm comm,
                       int32_t *attempts, long *todo, long *n_todo, long *n_done_before,
                       long *n_diverged_kept, long *n_bad_crc, char *err, size_t errlen)
{
    int ok = 0;
    long hdr[4] = {0, 0, 0, 0};
    if (rank == 0) {
        h5out_info_t in;
        char e[1024];
        if (h5out_inspect(a->out, 1, &in, e, sizeof e) != 0) {
            snprintf(err, errlen, "cannot resume: %s", e);
            ok = -1;
        } else {
            if (strcmp(in.spec_sha256, g->spec->sha256) != 0) {
                snprintf(err, errlen,
                         "cannot resume %s: it was written by a different spec (spec_sha256 "
                         "%.12s…, from %s) than %s%s (%.12s…). The file is left untouched. "
                         "Resume with the original spec and the same --set options (the file's "
                         "'spec' attribute holds its text), or write to a new --out file.",
                         a->out, in.spec_sha256, in.spec_path ? in.spec_path : "?",
                         a->spec_path, a->n_sets ? " with these --set options" : "",
                         g->spec->sha256);
                ok = -1;
            } else if (in.n_runs != g->n_runs || in.n_points != g->n_points ||
                       in.n_metrics != g->spec->family->n_metrics) {
                snprintf(err, errlen,
                         "cannot resume %s: same spec, but its shape (%ld runs × %d points × %d "
                         "metrics) differs from this build's (%ld × %d × %d): another attnsweep "
                         "version wrote it", a->out, in.n_runs, in.n_points, in.n_metrics,
                         g->n_runs, g->n_points, g->spec->family->n_metrics);
                ok = -1;
            } else {
                /* Done runs stay; so do diverged ones (a deterministic result: rerunning
                 * gives the same bytes) unless --rerun-diverged; a CRC mismatch reruns. */
                long k = 0;
                for (long id = 0; id < in.n_runs; id++) {
                    int keep_div = in.status[id] == RUN_DIVERGED && !a->rerun_diverged;
                    attempts[id] = in.attempts[id];
                    if ((in.status[id] != RUN_DONE && !keep_div) || !in.crc_ok[id])
                        todo[k++] = id;
                    else if (keep_div)
                        hdr[3]++;
                    else
                        hdr[1]++;
                }
                hdr[0] = k;
                hdr[2] = in.n_bad_crc;
            }
            h5out_info_free(&in);
        }
    }
    long msg[5] = {ok, hdr[0], hdr[1], hdr[2], hdr[3]};
    if (MPI_Bcast(msg, 5, MPI_LONG, 0, comm) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Bcast failed");
        return -1;
    }
    if (msg[0] != 0) {
        if (rank != 0) snprintf(err, errlen, "resume refused on rank 0");
        return -1;
    }
    *n_todo = msg[1];
    *n_done_before = msg[2];
    *n_bad_crc = msg[3];
    *n_diverged_kept = msg[4];
    if ((*n_todo > 0 && MPI_Bcast(todo, (int)*n_todo, MPI_LONG, 0, comm) != MPI_SUCCESS) ||
        MPI_Bcast(attempts, (int)g->n_runs, MPI_INT32_T, 0, comm) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Bcast failed");
        return -1;
    }
    return 0;
}

int cli_run(int argc, char **argv)
{
    run_args_t a;
    char err[2048] = "";
    int rank = 0, size = 1, status = CLI_ERROR, mpi_up = 0, rc;
    spec_t spec = {0};
    grid_t grid = {0};
    worker_t w = {0};
    long *todo = NULL, n_todo = 0, n_before = 0, n_div_kept = 0, n_bad_crc = 0;
    double *cost = NULL;
    char cmdline[8192], resume_cmd[8192];

    if (parse_run_args(argc, argv, &a, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep run: %s\n", err);
        return CLI_USAGE;
    }
    /* Open MPI's default MPI-IO component (OMPIO) hangs in collective writes on some setups;
     * ROMIO is the safe choice. The user's own choice (env or --mca io) wins. */
    setenv("OMPI_MCA_io", "romio321", 0);
    /* Under mpirun, die with it: after a kill -9 of mpirun, orphaned ranks would otherwise go on
     * writing for a few seconds, racing a quick --resume. (Linux; the launcher is our parent.) */
    if (getenv("OMPI_COMM_WORLD_SIZE")) prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Handlers before MPI_Init: a walltime signal that arrives during start-up is a stop
     * request like any other, not the default action (death) of a rank without a handler. */
    g_grace = (unsigned)ceil(a.grace);
    if (install_signals() != 0) {
        fprintf(stderr, "attnsweep run: cannot install signal handlers\n");
        return CLI_ERROR;
    }
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "attnsweep run: MPI_Init failed\n");
        return CLI_ERROR;
    }
    mpi_up = 1;
    if (MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS ||
        MPI_Comm_size(MPI_COMM_WORLD, &size) != MPI_SUCCESS)
        mpi_fatal(0, "MPI_Comm_rank/size");
    double t_start = now_seconds();

    /* Every rank reads the spec and expands the grid: both are deterministic. */
    rc = spec_load(&spec, a.spec_path, a.sets, a.n_sets, err, sizeof err);
    if (rc == 0) rc = grid_init(&grid, &spec, err, sizeof err);
    if (rc != 0) {
        if (rank == 0) fprintf(stderr, "attnsweep: %s\n", err);
        goto cleanup;
    }
    w.grid = &grid;
    w.family = spec.family;
    w.rank = rank;
    gethostname(w.host, sizeof w.host - 1);
    todo = malloc(sizeof *todo * (size_t)grid.n_runs);
    cost = malloc(sizeof *cost * (size_t)grid.n_runs);
    w.attempts = calloc((size_t)grid.n_runs, sizeof *w.attempts);
    if (!todo || !cost || !w.attempts ||
        train_trace_init(&w.trace, grid.n_points, 1 + spec.family->n_metrics) != 0) {
        fprintf(stderr, "attnsweep run: rank %d: out of memory for %ld runs\n", rank, grid.n_runs);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    /* Fresh or resumed? Rank 0 looks at the file; everyone follows. */
    int mode = a.resume ? 1 : 0; /* 0 create, 1 resume, -1 refuse */
    if (rank == 0) {
        int exists = file_exists(a.out);
        if (a.resume && !exists) {
            printf("attnsweep: %s does not exist yet: starting a fresh sweep\n", a.out);
            mode = 0;
        } else if (!a.resume && exists && !a.overwrite) {
            snprintf(err, sizeof err, "%s already exists: add --resume to continue that sweep, "
                     "--overwrite to replace it, or choose another --out", a.out);
            mode = -1;
        }
    }
    if (MPI_Bcast(&mode, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        mpi_fatal(rank, "MPI_Bcast of the start mode");
    if (mode < 0) {
        if (rank == 0) fprintf(stderr, "attnsweep run: %s\n", err);
        goto cleanup;
    }
    double t_h5 = now_seconds();
    if (mode == 1) {
        if (resume_plan(&a, &grid, rank, MPI_COMM_WORLD, w.attempts, todo, &n_todo, &n_before,
                        &n_div_kept, &n_bad_crc, err, sizeof err) != 0) {
            if (rank == 0) fprintf(stderr, "attnsweep run: %s\n", err);
            goto cleanup;
        }
        if (h5out_open(&w.out, a.out, MPI_COMM_WORLD, &grid, err, sizeof err) != 0) {
            if (rank == 0) fprintf(stderr, "attnsweep run: %s\n", err);
            goto cleanup;
        }
    } else {
        char utc[32];
        utc_now(utc, sizeof utc);
        join_argv(argc, argv, cmdline, sizeof cmdline, 0);
        h5out_meta_t meta = {cmdline, utc, w.host, size};
        if (h5out_create(&w.out, a.out, MPI_COMM_WORLD, &grid, &meta, err, sizeof err) != 0) {
            if (rank == 0) fprintf(stderr, "attnsweep run: %s\n", err);
            goto cleanup;
        }
        for (long id = 0; id < grid.n_runs; id++) todo[id] = id;
        n_todo = grid.n_runs;
    }
    double t_open = now_seconds() - t_h5;
    for (long k = 0; k < n_todo; k++) cost[k] = grid_run_cost(&grid, todo[k]);

    if (rank == 0) {
        int workers = size == 1 ? 1 : a.mode == SCHED_STATIC ? size : size - 1;
        if (mode == 1) {
            char div[128] = "";
            if (n_div_kept)
                snprintf(div, sizeof div, ", %ld diverged kept (--rerun-diverged reruns them)",
                         n_div_kept);
            printf("attnsweep: resuming %s: %ld of %ld runs done%s, %ld to run\n", a.out,
                   n_before, grid.n_runs, div, n_todo);
        }
        printf("attnsweep: %ld runs on %d rank%s (%d worker%s, %s schedule) → %s\n", n_todo,
               size, size > 1 ? "s" : "", workers, workers > 1 ? "s" : "",
               size == 1 ? "serial" : a.mode == SCHED_STATIC ? "static" : "dynamic", a.out);
        if (n_bad_crc)
            printf("attnsweep: %ld done or diverged runs had a trace that did not match its CRC: "
                   "rerunning them\n", n_bad_crc);
        fflush(stdout);
    }

    progress_ctx_t pc = {grid.n_runs, n_before};
    sched_config_t cfg = {
        .comm = MPI_COMM_WORLD, .mode = a.mode, .ids = todo, .cost = cost, .n = n_todo,
        .work = work_one, .work_ctx = &w,
        .progress = a.progress_every > 0 ? print_progress : NULL, .progress_ctx = &pc,
        .progress_every = a.progress_every, .stop = &g_signals,
    };
    sched_summary_t sum;
    int src = sched_run(&cfg, &sum);
    if (src != 0 && w.err[0]) fprintf(stderr, "attnsweep run: %s\n", w.err);

    double t_close = now_seconds();
    char cerr[256] = "";
    int crc = h5out_close(w.out, cerr, sizeof cerr);
    w.out = NULL;
    t_close = now_seconds() - t_close;
    if (crc != 0) fprintf(stderr, "attnsweep run: rank %d: %s\n", rank, cerr);
    int all_ok = (src == 0 && crc == 0) ? 0 : 1, any_bad = all_ok;
    if (MPI_Allreduce(&all_ok, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        mpi_fatal(rank, "MPI_Allreduce of the outcome");

    if (rank == 0 && n_todo == 0 && !any_bad) {
        printf("attnsweep: nothing to do: every run of %s is done or diverged\n", a.out);
    } else if (rank == 0) {
        double wall = sum.wall;
        char tot[32];
        fmt_duration(now_seconds() - t_start, tot, sizeof tot);
        double worker_time = sum.n_workers * wall;
        printf("summary: %ld runs in %.2f s (%.2f runs/s) on %d rank%s, %d worker%s, %s "
               "schedule\n", sum.finished, wall, wall > 0 ? sum.finished / wall : 0.0, size,
               size > 1 ? "s" : "", sum.n_workers, sum.n_workers > 1 ? "s" : "",
               size == 1 ? "serial" : a.mode == SCHED_STATIC ? "static" : "dynamic");
        printf("summary: done %ld, diverged %ld, failed %ld, interrupted %ld, not started %ld\n",
               sum.by_status[RUN_DONE], sum.by_status[RUN_DIVERGED], sum.by_status[RUN_FAILED],
               sum.by_status[RUN_INTERRUPTED], n_todo - sum.finished);
        printf("summary: parallel efficiency %.3f (Σ run time %.2f s / (%d × %.2f s)), load "
               "imbalance %.1f %% (max/mean worker busy time - 1)\n",
               sched_efficiency(&sum), sum.run_seconds, sum.n_workers, wall,
               100 * sched_imbalance(&sum));
        printf("summary: HDF5: %s %.3f s, per-run writes %.3f s (%.2f %% of worker time), "
               "close %.3f s; total %s\n",
               mode == 1 ? "open+check" : "create", t_open, sum.write_seconds,
               worker_time > 0 ? 100 * sum.write_seconds / worker_time : 0.0, t_close, tot);
        if (any_bad) {
            if (sum.error_run >= 0)
                fprintf(stderr, "attnsweep run: stopped by an error on rank %d at run %ld "
                        "(message above); the file holds every run done so far: fix the cause "
                        "and add --resume\n", sum.error_rank, sum.error_run);
        } else if (sum.stopped || g_signals || sum.by_status[RUN_INTERRUPTED] > 0) {
            join_argv(argc, argv, resume_cmd, sizeof resume_cmd, 1);
            printf("attnsweep: stopped by %s: %ld runs done in total, %ld still to run. "
                   "Resume with:\n  mpirun -np %d %s\n",
                   g_last_signal == SIGUSR1  ? "SIGUSR1"
                   : g_last_signal == SIGINT ? "SIGINT"
                   : g_last_signal == SIGTERM ? "SIGTERM"
                                              : "a signal to another rank",
                   n_before + sum.by_status[RUN_DONE],
                   n_todo - sum.by_status[RUN_DONE] -
                       (a.rerun_diverged ? 0 : sum.by_status[RUN_DIVERGED]),
                   size, resume_cmd);
        }
        fflush(stdout);
    }
    status = any_bad ? CLI_ERROR : CLI_OK;
cleanup:
    if (w.out) {
        char e[256];
        h5out_close(w.out, e, sizeof e);
    }
    train_trace_free(&w.trace);
    free(w.attempts);
    free(todo);
    free(cost);
    grid_free(&grid);
    spec_free(&spec);
    if (mpi_up) MPI_Finalize();
    return status;
}

/* ---- plan ----------------------------------------------------------------------------------- */

/* Seconds of a shortened copy of run id (its first `steps` steps), best of two. */
static double time_run(const grid_t *g, long id, long steps, char *err, size_t n)
{
    params_t p;
    trace_t tr = {0};
    run_result_t res;
    double best = INFINITY;
    grid_run_params(g, id, &p);
    params_set(&p, "steps", (double)steps);
    if (train_trace_init(&tr, schema_n_points(&p), 1 + g->spec->family->n_metrics) != 0) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    /* CPU time of this (single-threaded) process: on a loaded machine wall time would charge
     * the calibration with other processes' work and the extrapolation would multiply it. */
    for (int rep = 0; rep < 2; rep++) {
        double t = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        int rc = train_run(g->spec->family, &p, &tr, &res, NULL);
        t = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - t;
        if (rc != 0 || res.status == RUN_FAILED) {
            snprintf(err, n, "run %ld failed during calibration: %s", id, res.message);
            best = -1;
            break;
        }
        if (t < best) best = t;
    }
    train_trace_free(&tr);
    return best;
}

/* Estimated full-run seconds of run id: t(0) + steps/k × (t(k) - t(0)), where t(k) is the time
 * of init + k steps (+ their evals); k grows ×4 from 10 until t(k) - t(0) > 0.1 s or k = steps. */
static double estimate_run(const grid_t *g, long id, char *err, size_t n)
{
    params_t p;
    grid_run_params(g, id, &p);
    long steps = params_geti(&p, "steps");
    double t0 = time_run(g, id, 0, err, n), tk = t0;
    long k = 0;
    if (t0 < 0) return -1;
    while (k < steps) {
        k = k == 0 ? 10 : 4 * k;
        if (k > steps) k = steps;
        if ((tk = time_run(g, id, k, err, n)) < 0) return -1;
        if (tk - t0 > 0.1) break;
    }
    if (k == 0) return t0;
    double per = (tk - t0) / (double)k;
    return t0 + (per > 0 ? per : 0) * (double)steps;
}

int cli_plan(int argc, char **argv)
{
    const char *spec_path = NULL, *sets[MAX_SETS];
    int n_sets = 0, np = 0, calibrate = 1, status = CLI_ERROR;
    char err[1024];
    spec_t spec = {0};
    grid_t grid = {0};
    double *cost = NULL, *secs = NULL;

    for (int i = 2; i < argc; i++) {
        int t = cli_take_set(argc, argv, &i, sets, &n_sets, MAX_SETS);
        if (t < 0) {
            fprintf(stderr, "attnsweep plan: --set needs section.key=value\n");
            return CLI_USAGE;
        }
        if (t) continue;
        if ((strcmp(argv[i], "--np") == 0 || strcmp(argv[i], "-np") == 0) && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "attnsweep plan: --np expects a rank count >= 1, got '%s'\n",
                        argv[i]);
                return CLI_USAGE;
            }
            np = (int)v;
        } else if (strcmp(argv[i], "--no-calibrate") == 0) {
            calibrate = 0;
        } else if (!spec_path && argv[i][0] != '-') {
            spec_path = argv[i];
        } else {
            fprintf(stderr, "attnsweep plan: unexpected argument '%s' (usage: attnsweep plan "
                    "SPEC [--set section.key=value]... [--np N] [--no-calibrate])\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!spec_path) {
        fprintf(stderr, "usage: attnsweep plan SPEC [--set section.key=value]... [--np N] "
                "[--no-calibrate]\n");
        return CLI_USAGE;
    }
    if (spec_load(&spec, spec_path, sets, n_sets, err, sizeof err) != 0 ||
        grid_init(&grid, &spec, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep: %s\n", err);
        goto cleanup;
    }
    const model_family_t *f = spec.family;
    long n = grid.n_runs;
    cost = malloc(sizeof *cost * (size_t)n);
    secs = malloc(sizeof *secs * (size_t)n);
    if (!cost || !secs) {
        fprintf(stderr, "attnsweep plan: out of memory for %ld runs\n", n);
        goto cleanup;
    }
    long lo = 0, hi = 0;
    size_t mem_max = 0;
    for (long id = 0; id < n; id++) {
        cost[id] = grid_run_cost(&grid, id);
        if (cost[id] < cost[lo]) lo = id;
        if (cost[id] > cost[hi]) hi = id;
        if (f->memory) {
            params_t p;
            grid_run_params(&grid, id, &p);
            size_t m = f->memory(&p);
            if (m > mem_max) mem_max = m;
        }
    }
    printf("plan: %s (sha256 %.12s…), model %s\n", spec_path, spec.sha256, f->name);
    printf("runs: %ld", n);
    for (int d = 0; d < grid.n_dims; d++)
        printf("%s%d %s", d ? " × " : " = ", grid.dim_len[d], grid.defs[grid.dim_def[d]].name);
    printf("  (run id = row-major position, the last key varies fastest)\n");
    for (int d = 0; d < grid.n_dims; d++) {
        const param_def_t *def = &grid.defs[grid.dim_def[d]];
        printf("  %-18s", def->name);
        for (int k = 0; k < grid.dim_len[d]; k++) {
            char v[64];
            if (k == 8 && grid.dim_len[d] > 10) {
                printf(" … (%d values)", grid.dim_len[d]);
                k = grid.dim_len[d] - 2;
                continue;
            }
            param_format(def, grid.dim_values[d][k], v, sizeof v);
            printf("%s%s", k ? ", " : " ", v);
        }
        printf("\n");
    }
    printf("trace: %d points × %d metrics (step", grid.n_points, f->n_metrics);
    for (int m = 0; m < f->n_metrics; m++) printf(", %s", f->metrics[m].name);
    printf(")\n");
    printf("cost: total %.4g (relative units ≈ flops), per run %.4g (run %ld) .. %.4g (run %ld)\n",
           grid.total_cost, cost[lo], lo, cost[hi], hi);

    /* Seconds per cost unit: time the cheapest and the costliest run (shortened), fit
     * seconds = a + b·cost through the two points, apply it to every run. */
    if (calibrate) {
        char scratch[256];
        (void)time_run(&grid, lo, 1, scratch, sizeof scratch); /* warm up (page faults, BLAS) */
        double s_lo = estimate_run(&grid, lo, err, sizeof err);
        double s_hi = lo == hi ? s_lo : estimate_run(&grid, hi, err, sizeof err);
        if (s_lo < 0 || s_hi < 0) {
            fprintf(stderr, "attnsweep plan: %s\n", err);
            goto cleanup;
        }
        double b = cost[hi] > cost[lo] ? (s_hi - s_lo) / (cost[hi] - cost[lo]) : 0;
        if (b < 0) b = 0;
        double a0 = s_lo - b * cost[lo];
        if (a0 < 0) a0 = 0;
        double total = 0;
        for (long id = 0; id < n; id++) total += secs[id] = a0 + b * cost[id];
        char t1[32], t2[32], t3[32];
        fmt_duration(s_lo, t1, sizeof t1);
        fmt_duration(s_hi, t2, sizeof t2);
        fmt_duration(total, t3, sizeof t3);
        printf("time: calibrated on this machine: run %ld ≈ %s, run %ld ≈ %s; all runs ≈ %s on "
               "one core\n", lo, t1, hi, t2, t3);
        int nps[] = {np, 2, 4, 8, 16, 64};
        for (int k = 0; k < 6; k++) {
            int N = nps[k];
            if (N < 1 || (k > 0 && N == np)) continue;
            if (k > 0 && np) break;
            int wd = N > 1 ? N - 1 : 1;
            double dyn = sched_lpt_makespan(secs, n, wd), sta = sched_lpt_makespan(secs, n, N);
            char d1[32], d2[32];
            fmt_duration(dyn, d1, sizeof d1);
            fmt_duration(sta, d2, sizeof d2);
            printf("  mpirun -np %-3d ≈ %s (dynamic, %d worker%s), %s (static, %d)\n", N, d1, wd,
                   wd > 1 ? "s" : "", d2, N);
        }
        printf("  (LPT schedule of the calibrated estimates; a core per rank assumed; rank 0 only "
               "coordinates in dynamic mode)\n");
    } else {
        printf("time: not calibrated (--no-calibrate)\n");
    }
    char mb[32], ob[32];
    fmt_bytes((double)mem_max, mb, sizeof mb);
    /* Per run: traces (float32) + parameters (8 B each) + summaries (4×8 + 2×8 + 4×4 + 1 + host
     * 64 + message 256); plus the step axis, the spec text and ~2 KiB of metadata per dataset. */
    double per_run = 4.0 * f->n_metrics * grid.n_points + 8.0 * grid.n_defs + 32 + 16 + 16 + 1 +
                     H5OUT_HOST_LEN + H5OUT_MESSAGE_LEN;
    double bytes = per_run * (double)n + 8.0 * grid.n_points + (spec.text ? strlen(spec.text) : 0) +
                   2048.0 * (grid.n_defs + f->n_metrics + 16);
    fmt_bytes(bytes, ob, sizeof ob);
    if (f->memory)
        printf("memory: peak %s per run (one run per rank at a time)\n", mb);
    printf("output: ≈ %s\n", ob);
    status = CLI_OK;
cleanup:
    free(cost);
    free(secs);
    grid_free(&grid);
    spec_free(&spec);
    return status;
}

/* ---- status --------------------------------------------------------------------------------- */

int cli_status(int argc, char **argv)
{
    const char *path = NULL;
    int verify = 0;
    char err[1024];
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--verify") == 0)
            verify = 1;
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "attnsweep status: unexpected argument '%s' (usage: attnsweep status "
                    "FILE [--verify])\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: attnsweep status FILE [--verify]\n");
        return CLI_USAGE;
    }
    h5out_info_t in;
    if (h5out_inspect(path, verify, &in, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep status: %s\n", err);
        return CLI_ERROR;
    }
    long started = 0, max_att = 0;
    for (long i = 0; i < in.n_runs; i++) {
        if (in.attempts[i] > 0) started++;
        if (in.attempts[i] > max_att) max_att = in.attempts[i];
    }
    long finished = in.counts[RUN_DONE] + in.counts[RUN_FAILED] + in.counts[RUN_DIVERGED];
    printf("%s: attnsweep %s output, model %s, created %s on %s by %d rank%s\n", path,
           in.attnsweep_version ? in.attnsweep_version : "?", in.model,
           in.created_utc ? in.created_utc : "?", in.hostname ? in.hostname : "?", in.mpi_size,
           in.mpi_size == 1 ? "" : "s");
    printf("spec: %s (sha256 %s)\n", in.spec_path ? in.spec_path : "?", in.spec_sha256);
    printf("swept: %s; trace: %d points × %d metrics (%s)\n",
           in.swept && in.swept[0] ? in.swept : "(nothing)", in.n_points, in.n_metrics,
           in.metrics);
    printf("runs: %ld total: done %ld, diverged %ld, failed %ld, interrupted %ld, pending %ld\n",
           in.n_runs, in.counts[RUN_DONE], in.counts[RUN_DIVERGED], in.counts[RUN_FAILED],
           in.counts[RUN_INTERRUPTED], in.counts[RUN_PENDING]);
    printf("progress: %.1f %% finished (done, diverged or failed); %ld runs started at least "
           "once, at most %ld attempts\n",
           in.n_runs ? 100.0 * (double)finished / (double)in.n_runs : 100.0, started, max_att);
    int shown = 0;
    for (long i = 0; i < in.n_runs && shown < 5; i++)
        if (in.status[i] == RUN_FAILED) {
            printf("failed: run %ld (attempt %d): %s\n", i, in.attempts[i],
                   in.messages + (size_t)i * H5OUT_MESSAGE_LEN);
            shown++;
        }
    if (in.counts[RUN_FAILED] > shown)
        printf("failed: … %ld more (see /runs/message)\n", in.counts[RUN_FAILED] - shown);
    if (verify)
        printf("verify: %ld done or diverged run%s with a trace that does not match its CRC%s\n",
               in.n_bad_crc, in.n_bad_crc == 1 ? "" : "s",
               in.n_bad_crc ? " (--resume reruns them)" : "");
    if (in.counts[RUN_PENDING] + in.counts[RUN_INTERRUPTED] > 0)
        printf("to finish: mpirun -np N attnsweep run %s --out %s --resume  (with the same --set "
               "options as the original command)\n", in.spec_path ? in.spec_path : "SPEC", path);
    int bad = verify && in.n_bad_crc > 0;
    h5out_info_free(&in);
    return bad ? CLI_ERROR : CLI_OK;
}
