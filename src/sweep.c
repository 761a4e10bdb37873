/* sweep — the sweep engine (sweep.h): signals as stop requests, rank 0's todo for the output file,
 * the per-run work (train, then write the run with its status last), progress events with an
 * ETA, and the collective start and end around sched_run. */
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "attnsweep/h5out.h"
#include "attnsweep/lock.h"
#include "attnsweep/sweep.h"
#include "attnsweep/train.h"

#define SWEEP_CALIB_BUDGET 2.0 /* CPU seconds the ETA's calibration may take on rank 0 */

/* ---- signals ------------------------------------------------------------------------------- */

static sweep_stop_t *g_stop;
static unsigned g_grace;

static void on_stop_signal(int sig)
{
    if (!g_stop) return;
    g_stop->signal = sig;
    if (g_stop->stop)
        g_stop->interrupt = 1;
    else if (g_grace > 0)
        alarm(g_grace);
    else
        g_stop->interrupt = 1;
    g_stop->stop = 1;
}

static void on_alarm(int sig)
{
    (void)sig;
    if (g_stop && g_stop->stop) g_stop->interrupt = 1;
}

int sweep_process_setup(sweep_stop_t *st, double grace)
{
    struct sigaction sa;
    setenv("OMPI_MCA_io", "romio321", 0);
    if (getenv("OMPI_COMM_WORLD_SIZE") && prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    g_stop = st;
    g_grace = grace > 0 ? (unsigned)ceil(grace) : 0;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_alarm;
    return sigaction(SIGALRM, &sa, NULL) != 0 ? -1 : 0;
}

/* Append s to buf, single-quoted for a POSIX shell when it needs quoting. */
static void append_quoted(char *buf, size_t n, const char *s)
{
    size_t u = strlen(buf);
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
                  == strlen(s)) {
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

void sweep_command_line(int argc, char *const *argv, int with_resume, char *buf, size_t n)
{
    int has_resume = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--resume") == 0) has_resume = 1;
        if (with_resume && strcmp(argv[i], "--overwrite") == 0) continue;
        if (buf[0]) strncat(buf, " ", n - strlen(buf) - 1);
        append_quoted(buf, n, argv[i]);
    }
    if (with_resume && !has_resume) strncat(buf, " --resume", n - strlen(buf) - 1);
}

/* ---- what to do (rank 0) ---------------------------------------------------------------------- */

void sweep_todo_free(sweep_todo_t *todo)
{
    free(todo->todo);
    free(todo->attempts);
    reuse_free(&todo->reuse);
    memset(todo, 0, sizeof *todo);
}

static int todo_alloc(sweep_todo_t *todo, long n_runs)
{
    todo->n_runs = n_runs;
    todo->todo = malloc(sizeof *todo->todo * (size_t)(n_runs > 0 ? n_runs : 1));
    todo->attempts = calloc((size_t)(n_runs > 0 ? n_runs : 1), sizeof *todo->attempts);
    return todo->todo && todo->attempts ? 0 : -1;
}

/* The line of data_files (spec.h) for path: its SHA-256 into sha[65]; 1 found, 0 not. */
static int data_sha(const char *data_files, const char *path, char sha[65])
{
    size_t n = strlen(path);
    for (const char *l = data_files ? data_files : ""; *l;) {
        size_t len = strcspn(l, "\n");
        if (len == 66 + n && strncmp(l + 66, path, n) == 0) {
            snprintf(sha, 65, "%.64s", l);
            return 1;
        }
        l += len + (l[len] == '\n');
    }
    return 0;
}

/* --resume trains on the data the file's runs were trained on: 0 if then (the file's attribute)
 * and now (the spec's) name the same files with the same contents, else -1 with err naming the
 * first file that changed, appeared or went. */
static int todo_same_data(const char *out, const char *then, const char *now, char *err,
                          size_t errlen)
{
    char a[65], b[65], path[PATH_MAX];
    static const char *const tail = "The file is left untouched. Resume with the data it was "
        "trained on, or write to a new --out file and add --reuse %s: runs on unchanged data are "
        "copied, not trained again.";
    char how[512];
    if (!strcmp(then ? then : "", now ? now : "")) return 0;
    snprintf(how, sizeof how, tail, out);
    for (int pass = 0; pass < 2; pass++) /* the files read now, then the files read then */
        for (const char *l = pass ? (then ? then : "") : (now ? now : ""); *l;) {
            size_t len = strcspn(l, "\n");
            snprintf(path, sizeof path, "%.*s", len > 66 ? (int)(len - 66) : 0, l + 66);
            l += len + (l[len] == '\n');
            int in_then = data_sha(then, path, a), in_now = data_sha(now, path, b);
            if (in_then && in_now && strcmp(a, b) != 0)
                snprintf(err, errlen, "cannot resume %s: the data file %s changed since its sweep "
                         "started (SHA-256 %.12s… then, %.12s… now). %s", out, path, a, b, how);
            else if (!in_then)
                snprintf(err, errlen, "cannot resume %s: this spec reads the data file %s, which "
                         "its sweep did not (a relative path is taken from the spec file's folder, "
                         "or, in a --set, from the working directory). %s", out, path, how);
            else if (!in_now)
                snprintf(err, errlen, "cannot resume %s: its sweep read the data file %s, which "
                         "this spec does not. %s", out, path, how);
            else
                continue;
            return -1;
        }
    snprintf(err, errlen, "cannot resume %s: its data files differ from this spec's. %s", out, how);
    return -1;
}

/* Which runs of an existing file are still to do: all but the done ones and (unless
 * rerun_diverged) the diverged ones; a kept run whose trace fails its CRC is done again. */
static int todo_continue(const grid_t *g, const sweep_config_t *cfg, sweep_todo_t *todo,
                         char *err, size_t errlen)
{
    h5out_info_t in;
    char e[1024];
    int rc = -1;
    if (h5out_inspect(cfg->out, 1, &in, e, sizeof e) != 0) {
        snprintf(err, errlen, "cannot resume: %s", e);
        return -1;
    }
    if (strcmp(in.spec_sha256, g->spec->sha256) != 0) {
        snprintf(err, errlen, "cannot resume %s: it was written by a different spec (spec_sha256 "
                 "%.12s…, from %s) than %s (%.12s…). The file is left untouched. Resume with the "
                 "original spec and the same --set options (the file's /spec holds its text), or "
                 "write to a new --out file and add --reuse %s: its finished runs are copied, not "
                 "trained again.", cfg->out, in.spec_sha256,
                 in.spec_path ? in.spec_path : "?", g->spec->path, g->spec->sha256, cfg->out);
        goto cleanup;
    }
    if (todo_same_data(cfg->out, in.data_files, g->spec->data_files, err, errlen) != 0)
        goto cleanup;
    const char *alien = NULL; /* a trace of the file the family no longer has */
    char names[4096];
    snprintf(names, sizeof names, "%s", in.metrics);
    for (char *save = NULL, *t = strtok_r(names, ",", &save); t && !alien;
         t = strtok_r(NULL, ",", &save))
        if (model_metric_index(g->spec->family, t) < 0) alien = t;
    if (in.n_runs != g->n_runs || in.n_points != g->n_points || alien) {
        snprintf(err, errlen, "cannot resume %s: same spec, but its shape (%ld runs × %d points, "
                 "traces %s) does not fit this build's (%ld × %d%s%s): another attnsweep version "
                 "wrote it", cfg->out, in.n_runs, in.n_points, in.metrics, g->n_runs, g->n_points,
                 alien ? ", which has no trace " : "", alien ? alien : "");
        goto cleanup;
    }
    if (todo_alloc(todo, g->n_runs) != 0) {
        snprintf(err, errlen, "out of memory for %ld runs", g->n_runs);
        goto cleanup;
    }
    for (long id = 0; id < in.n_runs; id++) {
        int keep_div = in.status[id] == RUN_DIVERGED && !cfg->rerun_diverged;
        todo->attempts[id] = in.attempts[id];
        if ((in.status[id] != RUN_DONE && !keep_div) || !in.crc_ok[id])
            todo->todo[todo->n_todo++] = id;
        else if (keep_div)
            todo->n_diverged_kept++;
        else
            todo->n_done_before++;
    }
    todo->n_bad_crc = in.n_bad_crc;
    rc = 0;
cleanup:
    h5out_info_free(&in);
    return rc;
}

static int todo_decide(const grid_t *g, const sweep_config_t *cfg, sweep_todo_t *todo, char *err,
                    size_t errlen)
{
    struct stat st;
    int exists = stat(cfg->out, &st) == 0;
    memset(todo, 0, sizeof *todo);
    if (cfg->resume && cfg->overwrite) {
        snprintf(err, errlen, "--resume and --overwrite exclude each other");
        return -1;
    }
    if (exists && !cfg->resume && !cfg->overwrite) {
        snprintf(err, errlen, "%s already exists: add --resume to continue that sweep, "
                 "--overwrite to replace it, or choose another --out", cfg->out);
        return -1;
    }
    if (cfg->resume && exists) return todo_continue(g, cfg, todo, err, errlen);
    todo->fresh = 1;
    todo->missing = cfg->resume;
    if (todo_alloc(todo, g->n_runs) != 0) {
        snprintf(err, errlen, "out of memory for %ld runs", g->n_runs);
        return -1;
    }
    for (long id = 0; id < g->n_runs; id++) todo->todo[id] = id;
    todo->n_todo = g->n_runs;
    return 0;
}

/* The runs --reuse copies leave todo. Overwriting a file while copying from it would lose it. */
static int todo_reuse(const sweep_config_t *cfg, const grid_t *g, sweep_todo_t *todo, char *err,
                      size_t errlen)
{
    char a[4096], b[4096];
    if (cfg->n_reuse == 0) return 0;
    if (reuse_files(&todo->reuse, cfg->reuse, cfg->n_reuse, err, errlen) != 0) return -1;
    for (int f = 0; cfg->overwrite && f < todo->reuse.n_files; f++)
        if (realpath(todo->reuse.files[f], a) && realpath(cfg->out, b) && !strcmp(a, b)) {
            snprintf(err, errlen, "--reuse %s: it is the file --overwrite replaces; write to "
                     "another --out", cfg->out);
            return -1;
        }
    return reuse_match(&todo->reuse, g, todo->todo, &todo->n_todo, err, errlen);
}

int sweep_todo_make(const grid_t *g, const sweep_config_t *cfg, sweep_todo_t *todo, char *err,
                    size_t errlen)
{
    if (todo_decide(g, cfg, todo, err, errlen) != 0) return -1;
    return todo_reuse(cfg, g, todo, err, errlen);
}

/* Broadcast a string (rank 0's s) into *s (malloc'd on the other ranks). */
static int bcast_string(MPI_Comm comm, int rank, char **s)
{
    int len = rank == 0 ? (int)strlen(*s) : 0;
    if (MPI_Bcast(&len, 1, MPI_INT, 0, comm) != MPI_SUCCESS) return -1;
    if (rank != 0 && !(*s = calloc((size_t)len + 1, 1))) return -1;
    return MPI_Bcast(*s, len + 1, MPI_CHAR, 0, comm) == MPI_SUCCESS ? 0 : -1;
}

/* Rank 0's runs to copy (files, ids) to every rank. */
static int reuse_bcast(MPI_Comm comm, int rank, reuse_t *rp)
{
    long hdr[2] = {rp->n_files, rp->n};
    if (MPI_Bcast(hdr, 2, MPI_LONG, 0, comm) != MPI_SUCCESS) return -1;
    if (hdr[1] == 0) return 0; /* nothing to copy: the other ranks need nothing */
    size_t nf = (size_t)hdr[0], n = (size_t)hdr[1];
    if (rank != 0) {
        rp->n_files = (int)nf, rp->n = (long)n;
        rp->files = calloc(nf, sizeof *rp->files);
        rp->per_file = calloc(nf, sizeof *rp->per_file);
        rp->new_id = malloc(sizeof *rp->new_id * n);
        rp->old_id = malloc(sizeof *rp->old_id * n);
        rp->file = malloc(sizeof *rp->file * n);
        if (!rp->files || !rp->per_file || !rp->new_id || !rp->old_id || !rp->file) return -1;
    }
    for (size_t f = 0; f < nf; f++)
        if (bcast_string(comm, rank, &rp->files[f]) != 0) return -1;
    return MPI_Bcast(rp->per_file, (int)nf, MPI_LONG, 0, comm) == MPI_SUCCESS &&
                   MPI_Bcast(rp->new_id, (int)n, MPI_LONG, 0, comm) == MPI_SUCCESS &&
                   MPI_Bcast(rp->old_id, (int)n, MPI_LONG, 0, comm) == MPI_SUCCESS &&
                   MPI_Bcast(rp->file, (int)n, MPI_INT, 0, comm) == MPI_SUCCESS
               ? 0 : -1;
}

/* What rank 0 decided (or that it refused) to every rank. */
static int todo_bcast(MPI_Comm comm, int rank, int ok, const grid_t *g, sweep_todo_t *todo)
{
    long hdr[7] = {ok, todo->fresh, todo->missing, todo->n_todo, todo->n_done_before,
                   todo->n_diverged_kept, todo->n_bad_crc};
    if (MPI_Bcast(hdr, 7, MPI_LONG, 0, comm) != MPI_SUCCESS) return -1;
    if (hdr[0] != 0) return 1; /* rank 0 refused: its message says why */
    if (rank != 0) {
        if (todo_alloc(todo, g->n_runs) != 0) return -1;
        todo->fresh = (int)hdr[1];
        todo->missing = (int)hdr[2];
        todo->n_todo = hdr[3];
        todo->n_done_before = hdr[4];
        todo->n_diverged_kept = hdr[5];
        todo->n_bad_crc = hdr[6];
    }
    if ((todo->n_todo > 0 &&
         MPI_Bcast(todo->todo, (int)todo->n_todo, MPI_LONG, 0, comm) != MPI_SUCCESS) ||
        MPI_Bcast(todo->attempts, (int)g->n_runs, MPI_INT32_T, 0, comm) != MPI_SUCCESS)
        return -1;
    return reuse_bcast(comm, rank, &todo->reuse);
}

/* ---- the work of one run --------------------------------------------------------------------- */

typedef struct {
    const grid_t *grid;
    h5out_t *out;
    trace_t trace;
    int32_t *attempts; /* [n_runs], as in the file */
    const volatile sig_atomic_t *interrupt;
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
    double t0 = util_now();

    w->attempts[id]++;
    if (h5out_write_attempt(w->out, id, w->attempts[id], e, sizeof e) != 0) {
        snprintf(w->err, sizeof w->err, "rank %d, run %ld: %s", w->rank, id, e);
        return -1;
    }
    double t_write = util_now() - t0;
    grid_run_params(w->grid, id, &p);
    /* An internal error of this run (e.g. out of memory) is a failed run, not a failed sweep. */
    if (train_run(w->grid->spec->family, &p, &w->trace, &res, w->interrupt) != 0)
        res.status = RUN_FAILED;
    double t1 = util_now();
    if (h5out_write_run(w->out, id, &w->trace, &res, w->rank, w->host, w->attempts[id], NULL, e,
                        sizeof e) != 0) {
        snprintf(w->err, sizeof w->err, "rank %d, run %ld: %s", w->rank, id, e);
        return -1;
    }
    r->status = res.status;
    r->steps_done = res.steps_done;
    r->steps_planned = params_geti(&p, "steps");
    r->run_seconds = res.wall_seconds;
    r->write_seconds = t_write + util_now() - t1;
    return 0;
}

/* ---- progress ------------------------------------------------------------------------------- */

typedef struct {
    sweep_event_fn fn;
    void *ctx;
    sweep_event_t ev;
    const grid_t *grid;
    int calibrated;    /* 1 ok, -1 failed: then the ETA comes from the cost fractions alone */
    plan_calib_t calib;
} progress_t;

/* The ETA: plan's calibration (made at the first progress event, on rank 0, which hands out no
 * runs meanwhile: so at most about SWEEP_CALIB_BUDGET CPU seconds) corrected by the measured run
 * times; without it (runs too big to time within the budget), the finished runs' seconds per
 * unit of cost; before any run finished, elapsed time × cost left / cost done. */
static double eta_of(progress_t *pg, const sched_progress_t *p)
{
    if (!pg->calibrated) {
        plan_info_t in;
        char err[256];
        pg->calibrated = plan_describe(pg->grid, &in, err, sizeof err) == 0 &&
                                 plan_calibrate(pg->grid, &in, SWEEP_CALIB_BUDGET, &pg->calib,
                                                err, sizeof err) == 0
                             ? 1 : -1;
    }
    static const plan_calib_t by_cost = {.a = 0, .b = 1}; /* scaled by the measured runs */
    if (pg->calibrated > 0 || p->finished > 0) {
        double e = plan_eta(pg->calibrated > 0 ? &pg->calib : &by_cost, p);
        if (isfinite(e)) return e;
    }
    return (p->cost_done > 0 && p->cost_total >= p->cost_done)
               ? p->elapsed * (p->cost_total - p->cost_done) / p->cost_done
               : NAN;
}

static void on_progress(void *ctx, const sched_progress_t *p)
{
    progress_t *pg = ctx;
    pg->ev.eta = eta_of(pg, p);
    pg->ev.kind = SWEEP_EVENT_PROGRESS;
    pg->ev.progress = p;
    pg->fn(pg->ctx, &pg->ev);
}

/* ---- the sweep -------------------------------------------------------------------------------- */

/* Every rank's rc to all: 0 if all are 0, else the smallest (an error somewhere is everywhere's). */
static int agree(MPI_Comm comm, int rc)
{
    int all = rc;
    if (MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) return -1;
    return all;
}

static void utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Create or open the file as the todo says (collective). */
static int open_output(MPI_Comm comm, const grid_t *g, const sweep_config_t *cfg,
                       const sweep_todo_t *todo, worker_t *w, int size, char *err, size_t errlen)
{
    if (!todo->fresh) return h5out_open(&w->out, cfg->out, comm, g, err, errlen);
    char utc[32];
    utc_now(utc, sizeof utc);
    h5out_meta_t meta = {cfg->command_line ? cfg->command_line : "", utc, w->host, size};
    return h5out_create(&w->out, cfg->out, comm, g, &meta, err, errlen);
}

/* One invocation's state on this rank. */
typedef struct {
    MPI_Comm comm;
    int rank, size;
    const grid_t *grid;
    const sweep_config_t *cfg;
    sweep_todo_t todo;
    worker_t w;
    double *cost; /* [n_todo] estimated cost of each run to do */
    lock_t *lock; /* rank 0: the output file's writer lock */
} sweep_t;

/* Every rank read the same data: rank 0's data_files (spec.h) against this rank's. 0, or -1
 * everywhere (err on the ranks that differ, which set *local). */
static int sweep_same_data(sweep_t *s, int *local, char *err, size_t errlen)
{
    const char *mine = s->grid->spec->data_files ? s->grid->spec->data_files : "";
    char *root = s->rank == 0 ? (char *)mine : NULL;
    int same = bcast_string(s->comm, s->rank, &root) == 0 && !strcmp(root, mine) ? 0 : -1;
    if (same != 0) {
        *local = 1;
        snprintf(err, errlen, "rank %d (host %s): the data files it reads differ from rank 0's "
                 "(\"SHA-256  path\" here: %.300s; on rank 0: %.300s); every rank must read the "
                 "same files", s->rank, s->w.host, mine, root ? root : "?");
    }
    if (s->rank != 0) free(root);
    if (agree(s->comm, same) == 0) return 0;
    if (same == 0) snprintf(err, errlen, "the data files differ on another rank (message above)");
    return -1;
}

/* Rank 0 decides what to do, every rank learns it and gets its buffers. */
static int sweep_prepare(sweep_t *s, char *err, size_t errlen)
{
    const grid_t *g = s->grid;
    char notice[sizeof s->todo.notice] = "";
    int ok = 0;
    if (s->rank == 0) /* one writer at a time: take the lock before reading the file */
        ok = lock_acquire(s->cfg->out, &s->lock, notice, sizeof notice, err, errlen) != 0
                 ? -1 : sweep_todo_make(g, s->cfg, &s->todo, err, errlen);
    snprintf(s->todo.notice, sizeof s->todo.notice, "%s", notice);
    int b = todo_bcast(s->comm, s->rank, ok, g, &s->todo);
    if (b != 0) {
        if (b < 0) snprintf(err, errlen, "rank %d: MPI_Bcast of the runs to do failed (or out of "
                            "memory)", s->rank);
        return -1;
    }
    s->w.attempts = s->todo.attempts;
    s->cost = malloc(sizeof *s->cost * (size_t)(s->todo.n_todo > 0 ? s->todo.n_todo : 1));
    int local = s->cost && train_trace_init(&s->w.trace, g->n_points,
                                            1 + g->spec->family->n_metrics) == 0 ? 0 : -1;
    if (agree(s->comm, local) != 0) {
        snprintf(err, errlen, "rank %d: out of memory for %ld runs", s->rank, g->n_runs);
        return -1;
    }
    for (long k = 0; k < s->todo.n_todo; k++) s->cost[k] = grid_run_cost(g, s->todo.todo[k]);
    return 0;
}

/* The start event, then every run through sched_run. Returns sched_run's status. */
static int sweep_dispatch(sweep_t *s, sweep_event_fn on_event, void *event_ctx,
                          sweep_report_t *rep)
{
    const sweep_config_t *cfg = s->cfg;
    progress_t pg = {.fn = on_event, .ctx = event_ctx, .grid = s->grid,
                     .ev = {.todo = &s->todo, .n_ranks = s->size,
                            .n_workers = s->size == 1 ? 1 : cfg->schedule == SCHED_STATIC
                                                                ? s->size : s->size - 1}};
    if (s->rank == 0 && on_event) {
        pg.ev.kind = SWEEP_EVENT_START;
        on_event(event_ctx, &pg.ev);
    }
    sched_config_t sc = {
        .comm = s->comm, .mode = cfg->schedule, .ids = s->todo.todo, .cost = s->cost,
        .n = s->todo.n_todo, .work = work_one, .work_ctx = &s->w,
        .progress = on_event && cfg->progress_every > 0 ? on_progress : NULL, .progress_ctx = &pg,
        .progress_every = cfg->progress_every, .stop = cfg->stop ? &cfg->stop->stop : NULL,
    };
    return sched_run(&sc, &rep->sched);
}

/* Close the file, agree on the outcome, fill the report. */
static int sweep_finish(sweep_t *s, int sched_rc, sweep_report_t *rep, char *err, size_t errlen)
{
    const sweep_config_t *cfg = s->cfg;
    char cerr[256] = "";
    double t = util_now();
    int crc = h5out_close(s->w.out, cerr, sizeof cerr);
    s->w.out = NULL;
    rep->close_seconds = util_now() - t;
    if (agree(s->comm, sched_rc == 0 && crc == 0 ? 0 : -1) != 0) {
        rep->local_error = (sched_rc != 0 && s->w.err[0]) || crc != 0;
        if (sched_rc != 0 && s->w.err[0])
            snprintf(err, errlen, "%s", s->w.err);
        else if (crc != 0)
            snprintf(err, errlen, "rank %d: %s", s->rank, cerr);
        else if (rep->sched.error_run >= 0)
            snprintf(err, errlen, "stopped by an error on rank %d at run %ld (message above); the "
                     "file holds every run done so far: fix the cause and add --resume",
                     rep->sched.error_rank, rep->sched.error_run);
        else
            snprintf(err, errlen, "the sweep failed on another rank (message above)");
        return -1;
    }
    /* Rank 0 has the sweep's totals: every rank reports the same outcome (and exit code). */
    sched_summary_t *ss = &rep->sched;
    long tot[RUN_N_STATUS + 3];
    memcpy(tot, ss->by_status, sizeof ss->by_status);
    tot[RUN_N_STATUS] = ss->finished, tot[RUN_N_STATUS + 1] = ss->n_early;
    tot[RUN_N_STATUS + 2] = ss->stopped;
    if (MPI_Bcast(tot, RUN_N_STATUS + 3, MPI_LONG, 0, s->comm) != MPI_SUCCESS ||
        MPI_Bcast(&ss->steps_saved, 1, MPI_DOUBLE, 0, s->comm) != MPI_SUCCESS) {
        snprintf(err, errlen, "rank %d: MPI_Bcast of the outcome failed", s->rank);
        return -1;
    }
    memcpy(ss->by_status, tot, sizeof ss->by_status);
    ss->finished = tot[RUN_N_STATUS], ss->n_early = tot[RUN_N_STATUS + 1];
    ss->stopped = (int)tot[RUN_N_STATUS + 2];
    const long *bs = ss->by_status;
    rep->n_done_total = s->todo.n_done_before + bs[RUN_DONE];
    rep->n_left = s->todo.n_todo - bs[RUN_DONE] - bs[RUN_DIVERGED];
    rep->stopped = rep->sched.stopped || (cfg->stop && cfg->stop->stop) ||
                   bs[RUN_INTERRUPTED] > 0;
    return 0;
}

int sweep_run(MPI_Comm comm, const grid_t *g, const sweep_config_t *cfg, sweep_event_fn on_event,
              void *event_ctx, sweep_report_t *rep, char *err, size_t errlen)
{
    sweep_t s = {.comm = comm, .grid = g, .cfg = cfg, .w = {.grid = g}};
    int rc = -1;

    memset(rep, 0, sizeof *rep);
    err[0] = '\0';
    if (MPI_Comm_rank(comm, &s.rank) != MPI_SUCCESS || MPI_Comm_size(comm, &s.size) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Comm_rank/size failed");
        return -1;
    }
    rep->n_ranks = s.size;
    s.w.rank = s.rank;
    s.w.interrupt = cfg->stop ? &cfg->stop->interrupt : NULL;
    gethostname(s.w.host, sizeof s.w.host - 1);
    if (sweep_same_data(&s, &rep->local_error, err, errlen) != 0 ||
        sweep_prepare(&s, err, errlen) != 0)
        goto cleanup;
    double t_open = util_now();
    if (open_output(comm, g, cfg, &s.todo, &s.w, s.size, err, errlen) != 0) goto cleanup;
    rep->open_seconds = util_now() - t_open;
    double t_copy = util_now();
    int copied = reuse_copy(&s.todo.reuse, g, s.w.out, s.rank, s.size, err, errlen);
    if (agree(comm, copied) != 0) {
        rep->local_error = copied != 0;
        if (copied == 0) snprintf(err, errlen, "copying the --reuse runs failed on another rank");
        goto cleanup;
    }
    rep->reuse_seconds = util_now() - t_copy;
    rep->n_reused = s.todo.reuse.n;
    rep->match_seconds = s.todo.reuse.match_seconds;
    rc = sweep_finish(&s, sweep_dispatch(&s, on_event, event_ctx, rep), rep, err, errlen);
cleanup:
    if (s.w.out) {
        char e[256];
        h5out_close(s.w.out, e, sizeof e);
    }
    train_trace_free(&s.w.trace);
    free(s.cost);
    sweep_todo_free(&s.todo);
    lock_release(s.lock);
    return rc;
}
