/* sched — LPT order, static partition, and sched_run: the coordinator/worker protocol (sched.h).
 * Rank 0 polls one MPI_Irecv with MPI_Test, sleeping 20 µs..1 ms between polls. A worker sends
 * TAG_REQ {previous run, status, run s, write s, flags} before each run and gets TAG_RUN {its
 * next run, -1 = stop}; a FINAL request ends it. Static mode sends only TAG_STOP on a signal. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/sched.h"

enum { TAG_REQ = 7301, TAG_RUN = 7302, TAG_STOP = 7303 };
enum { FLAG_STOP = 1, FLAG_ERROR = 2, FLAG_FINAL = 4, FLAG_AHEAD = 8 };
enum { REPLY_STOP = -1, REPLY_LATER = -2 }; /* TAG_RUN answers besides a run id */
enum { MSG_ID, MSG_STATUS, MSG_RUN_S, MSG_WRITE_S, MSG_STEPS, MSG_PLANNED, MSG_FLAGS, MSG_LEN };

#define SLEEP_MIN_NS 20000L
#define SLEEP_MAX_NS 1000000L

/* ---- pure part ------------------------------------------------------------------------------ */

typedef struct {
    double cost;
    long id;
    long index;
} lpt_item_t;

static int lpt_cmp(const void *a, const void *b)
{
    const lpt_item_t *x = a, *y = b;
    if (x->cost > y->cost) return -1;
    if (x->cost < y->cost) return 1;
    return (x->id > y->id) - (x->id < y->id);
}

int sched_lpt_order(const double *cost, const long *ids, long n, long *order)
{
    if (n < 0) return -1;
    if (n == 0) return 0;
    lpt_item_t *it = malloc(sizeof *it * (size_t)n);
    if (!it) return -1;
    for (long i = 0; i < n; i++) {
        /* NaN or negative estimates sort last as zero-cost runs (never crash the schedule). */
        it[i].cost = (cost[i] > 0) ? cost[i] : 0.0;
        it[i].id = ids ? ids[i] : i;
        it[i].index = i;
    }
    qsort(it, (size_t)n, sizeof *it, lpt_cmp);
    for (long i = 0; i < n; i++) order[i] = it[i].index;
    free(it);
    return 0;
}

int sched_static_partition(const double *cost, const long *ids, long n, int n_workers,
                           int *owner, double *load)
{
    int rc = -1;
    long *order = NULL;
    double *l = NULL;
    if (n_workers < 1 || n < 0) goto cleanup;
    order = malloc(sizeof *order * (size_t)(n > 0 ? n : 1));
    l = calloc((size_t)n_workers, sizeof *l);
    if (!order || !l) goto cleanup;
    if (sched_lpt_order(cost, ids, n, order) != 0) goto cleanup;
    for (long k = 0; k < n; k++) {
        int best = 0;
        for (int w = 1; w < n_workers; w++)
            if (l[w] < l[best]) best = w;
        long i = order[k];
        owner[i] = best;
        l[best] += (cost[i] > 0) ? cost[i] : 0.0;
    }
    if (load) memcpy(load, l, sizeof *l * (size_t)n_workers);
    rc = 0;
cleanup:
    free(order);
    free(l);
    return rc;
}

double sched_lpt_makespan(const double *cost, long n, int n_workers)
{
    double out = -1.0;
    int *owner = NULL;
    double *load = NULL;
    if (n_workers < 1) return -1.0;
    owner = malloc(sizeof *owner * (size_t)(n > 0 ? n : 1));
    load = malloc(sizeof *load * (size_t)n_workers);
    if (!owner || !load) goto cleanup;
    if (sched_static_partition(cost, NULL, n, n_workers, owner, load) != 0) goto cleanup;
    out = 0.0;
    for (int w = 0; w < n_workers; w++)
        if (load[w] > out) out = load[w];
cleanup:
    free(owner);
    free(load);
    return out;
}

int sched_queue_init(sched_queue_t *q, const long *ids, const double *cost, long n)
{
    int rc = -1;
    long *order = NULL;
    q->ids = NULL;
    q->cost = NULL;
    q->n = q->next = 0;
    if (n < 0) goto cleanup;
    order = malloc(sizeof *order * (size_t)(n > 0 ? n : 1));
    q->ids = malloc(sizeof *q->ids * (size_t)(n > 0 ? n : 1));
    q->cost = malloc(sizeof *q->cost * (size_t)(n > 0 ? n : 1));
    if (!order || !q->ids || !q->cost) goto cleanup;
    if (sched_lpt_order(cost, ids, n, order) != 0) goto cleanup;
    for (long k = 0; k < n; k++) {
        q->ids[k] = ids[order[k]];
        q->cost[k] = cost[order[k]];
    }
    q->n = n;
    rc = 0;
cleanup:
    free(order);
    if (rc != 0) sched_queue_free(q);
    return rc;
}

long sched_next_run(sched_queue_t *q, double *cost)
{
    if (q->next >= q->n) return -1;
    if (cost) *cost = q->cost[q->next];
    return q->ids[q->next++];
}

void sched_queue_free(sched_queue_t *q)
{
    free(q->ids);
    free(q->cost);
    q->ids = NULL;
    q->cost = NULL;
    q->n = q->next = 0;
}

double sched_efficiency(const sched_summary_t *s)
{
    return (s->n_workers > 0 && s->wall > 0) ? s->run_seconds / (s->n_workers * s->wall) : NAN;
}

double sched_imbalance(const sched_summary_t *s)
{
    return s->busy_mean > 0 ? s->busy_max / s->busy_mean - 1.0 : 0.0;
}

/* ---- MPI part ------------------------------------------------------------------------------- */

/* Per-rank tallies, reduced onto rank 0 at the end. */
typedef struct {
    long finished, by_status[RUN_N_STATUS], n_early;
    double run_seconds, write_seconds, busy, cost_done, steps_saved;
    long error_run;
} tally_t;

static void tally_add(tally_t *t, const sched_result_t *r)
{
    t->finished++;
    if (r->status >= 0 && r->status < RUN_N_STATUS) t->by_status[r->status]++;
    if (r->status == RUN_DONE && r->steps_done < r->steps_planned) {
        t->n_early++;
        t->steps_saved += (double)(r->steps_planned - r->steps_done);
    }
    t->run_seconds += r->run_seconds;
    t->write_seconds += r->write_seconds;
    t->busy += r->run_seconds + r->write_seconds;
}

/* What is left for an ETA (filled by the caller's left_fn, lazily, only when progress fires). */
typedef void (*left_fn)(const void *ctx, double now, sched_progress_t *p, double *buf);

static void progress_call(const sched_config_t *cfg, const tally_t *t, long total,
                          double cost_total, double t0, int n_workers, int stopping,
                          int local_only, double *last, left_fn left, const void *left_ctx)
{
    double now = util_now();
    if (!cfg->progress || now - *last < cfg->progress_every) return;
    *last = now;
    sched_progress_t p = {0};
    double *buf = malloc(sizeof *buf * (size_t)(total + 4 * n_workers + 4));
    if (left && buf) left(left_ctx, now, &p, buf);
    p.total = total;
    p.finished = t->finished;
    memcpy(p.by_status, t->by_status, sizeof p.by_status);
    p.elapsed = now - t0;
    p.run_seconds = t->run_seconds;
    p.busy_seconds = t->run_seconds + t->write_seconds;
    p.cost_total = cost_total;
    p.cost_done = t->cost_done;
    p.n_workers = n_workers;
    p.stopping = stopping;
    p.local_only = local_only;
    cfg->progress(cfg->progress_ctx, &p);
    free(buf);
}

/* The queue's runs not handed out yet. */
static void queue_left(const void *ctx, double now, sched_progress_t *p, double *buf)
{
    const sched_queue_t *q = ctx;
    (void)now;
    p->n_pending = q->n - q->next;
    memcpy(buf, q->cost + q->next, sizeof *buf * (size_t)p->n_pending);
    p->pending_cost = buf;
    p->all_cost = q->cost, p->n_all = q->n;
}

int sched_quiet_barrier(MPI_Comm comm)
{
    MPI_Request req;
    int done = 0;
    long ns = SLEEP_MIN_NS;
    if (MPI_Ibarrier(comm, &req) != MPI_SUCCESS) return -1;
    for (;;) {
        if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
        if (done) return 0;
        util_sleep_ns(ns);
        if (ns < SLEEP_MAX_NS) ns *= 2;
    }
}

/* One run on this rank: callback, tally, error bookkeeping. */
static int do_work(const sched_config_t *cfg, long id, double cost, tally_t *t,
                   sched_result_t *r)
{
    memset(r, 0, sizeof *r);
    int rc = cfg->work(cfg->work_ctx, id, r);
    if (rc != 0) {
        if (t->error_run < 0) t->error_run = id;
        return rc;
    }
    tally_add(t, r);
    t->cost_done += cost;
    return 0;
}

static double sum_cost(const double *cost, long n)
{
    double s = 0;
    for (long i = 0; i < n; i++) s += cost[i] > 0 ? cost[i] : 0.0;
    return s;
}

static int run_serial(const sched_config_t *cfg, tally_t *t, double t0, int *stopped)
{
    sched_queue_t q;
    double last = t0;
    int rc = 0;
    double c, total = sum_cost(cfg->cost, cfg->n);
    if (sched_queue_init(&q, cfg->ids, cfg->cost, cfg->n) != 0) return -1;
    for (long id; (id = sched_next_run(&q, &c)) >= 0;) {
        if (cfg->stop && *cfg->stop) {
            *stopped = 1;
            break;
        }
        sched_result_t r;
        if ((rc = do_work(cfg, id, c, t, &r)) != 0) break;
        progress_call(cfg, t, cfg->n, total, t0, 1, 0, 0, &last, queue_left, &q);
    }
    sched_queue_free(&q);
    return rc;
}

/* Wait for reqs without hogging the core: a short spin, then sleeps (Open MPI's blocking waits
 * busy-poll, which on an oversubscribed node steals the CPU rank 0 needs to answer). */
static int quiet_waitall(int n, MPI_Request *reqs)
{
    long ns = SLEEP_MIN_NS / 4;
    for (int spin = 0;; spin++) {
        int done = 0;
        if (MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS) return -1;
        if (done) return 0;
        if (spin < 50) continue;
        util_sleep_ns(ns);
        if (ns < SLEEP_MAX_NS / 4) ns *= 2;
    }
}

/* Runs handed to each worker and not yet reported back (at most 2: one training, one held
 * ahead): their costs, and when each started (-1: held, not started). */
#define FIFO 4
typedef struct {
    double cost[FIFO], start[FIFO];
    int head, len;
} inflight_t;

static void fifo_push(inflight_t *f, double c, double start)
{
    if (f->len == FIFO) return;
    f->cost[(f->head + f->len) % FIFO] = c;
    f->start[(f->head + f->len++) % FIFO] = start;
}

static double fifo_pop(inflight_t *f)
{
    if (f->len == 0) return 0.0;
    double c = f->cost[f->head];
    f->head = (f->head + 1) % FIFO;
    f->len--;
    return c;
}

/* Rank 0 of a dynamic sweep. Every TAG_REQ is answered with a run id or -1, except a FINAL one
 * (the worker's last report); the loop ends when every worker has sent its FINAL. */
/* Rank 0's state in dynamic mode. */
typedef struct {
    const sched_config_t *cfg;
    int size, n_final, stopping;
    sched_queue_t q;
    inflight_t *inflight; /* [size] costs of the runs each worker holds */
    tally_t *t;
} coord_t;

/* One worker's request: tally the run it reports, answer with its next run (or stop). */
static int coord_answer(coord_t *c, const double *msg, int src)
{
    int flags = (int)msg[MSG_FLAGS];
    if (msg[MSG_ID] >= 0) {
        double cost = fifo_pop(&c->inflight[src]);
        if (!(flags & FLAG_ERROR)) {
            sched_result_t r = {(int)msg[MSG_STATUS], msg[MSG_RUN_S], msg[MSG_WRITE_S],
                                (long)msg[MSG_STEPS], (long)msg[MSG_PLANNED]};
            tally_add(c->t, &r);
            c->t->cost_done += cost;
        }
    }
    if (flags & FLAG_ERROR) {
        c->stopping = 1;
        if (c->t->error_run < 0) c->t->error_run = (long)msg[MSG_ID];
    }
    if (flags & FLAG_STOP) c->stopping = 1;
    if (flags & FLAG_FINAL) {
        c->n_final++;
        return 0;
    }
    inflight_t *f = &c->inflight[src];
    double now = util_now();
    if ((flags & FLAG_AHEAD) && f->len && f->start[f->head] < 0) /* it starts its held run */
        f->start[f->head] = now;
    /* A request ahead of time (the worker is busy) gets a run only while more runs remain than
     * workers: the last ones go to whoever is idle first, as in LPT. */
    double cost = 0;
    long remaining = c->q.n - c->q.next;
    long long next = (c->stopping || remaining == 0) ? REPLY_STOP
                     : ((flags & FLAG_AHEAD) && remaining < c->size - 1) ? REPLY_LATER
                                                                          : sched_next_run(&c->q, &cost);
    if (next >= 0) fifo_push(f, cost, (flags & FLAG_AHEAD) ? -1.0 : now);
    return MPI_Send(&next, 1, MPI_LONG_LONG, src, TAG_RUN, c->cfg->comm) == MPI_SUCCESS ? 0 : -1;
}

/* Rank 0 of a dynamic sweep: what is left is the queue, the runs held ahead (pending) and each
 * worker's run in training. buf: room for the queue and 2 entries per worker. */
static void coord_left(const void *ctx, double now, sched_progress_t *p, double *buf)
{
    const coord_t *c = ctx;
    long np = 0;
    int nr = 0;
    double *rc = buf + (c->q.n - c->q.next) + c->size, *re = rc + c->size;
    for (long k = c->q.next; k < c->q.n; k++) buf[np++] = c->q.cost[k];
    for (int w = 1; w < c->size; w++) {
        const inflight_t *f = &c->inflight[w];
        for (int i = 0; i < f->len; i++) {
            int k = (f->head + i) % FIFO;
            if (f->start[k] < 0) {
                buf[np++] = f->cost[k];
            } else {
                rc[nr] = f->cost[k];
                re[nr++] = now - f->start[k];
            }
        }
    }
    p->pending_cost = buf, p->n_pending = np;
    p->running_cost = rc, p->running_elapsed = re, p->n_running = nr;
    p->all_cost = c->q.cost, p->n_all = c->q.n;
}

static int run_coordinator(const sched_config_t *cfg, int size, tally_t *t, double t0,
                           int *stopped)
{
    coord_t c = {.cfg = cfg, .size = size, .t = t};
    double msg[MSG_LEN], last = t0, total = sum_cost(cfg->cost, cfg->n);
    MPI_Request req = MPI_REQUEST_NULL;
    MPI_Status st;
    int rc = -1;
    long ns = SLEEP_MIN_NS;

    if (!(c.inflight = calloc((size_t)size, sizeof *c.inflight))) return -1;
    if (sched_queue_init(&c.q, cfg->ids, cfg->cost, cfg->n) != 0) {
        free(c.inflight);
        return -1;
    }
    if (MPI_Irecv(msg, MSG_LEN, MPI_DOUBLE, MPI_ANY_SOURCE, TAG_REQ, cfg->comm, &req) !=
        MPI_SUCCESS)
        goto cleanup;
    while (c.n_final < size - 1) {
        int flag = 0;
        if (MPI_Test(&req, &flag, &st) != MPI_SUCCESS) goto cleanup;
        if (cfg->stop && *cfg->stop) c.stopping = 1;
        if (!flag) {
            progress_call(cfg, t, cfg->n, total, t0, size - 1, c.stopping, 0, &last, coord_left, &c);
            util_sleep_ns(ns);
            if (ns < SLEEP_MAX_NS) ns *= 2;
            continue;
        }
        ns = SLEEP_MIN_NS;
        if (coord_answer(&c, msg, st.MPI_SOURCE) != 0) goto cleanup;
        if (c.n_final < size - 1 &&
            MPI_Irecv(msg, MSG_LEN, MPI_DOUBLE, MPI_ANY_SOURCE, TAG_REQ, cfg->comm, &req) !=
                MPI_SUCCESS)
            goto cleanup;
        progress_call(cfg, t, cfg->n, total, t0, size - 1, c.stopping, 0, &last, coord_left, &c);
    }
    *stopped = c.stopping && t->finished < cfg->n;
    rc = 0;
cleanup:
    free(c.inflight);
    if (rc != 0 && req != MPI_REQUEST_NULL) {
        MPI_Cancel(&req);
        MPI_Request_free(&req);
    }
    sched_queue_free(&c.q);
    return rc;
}

/* A worker of a dynamic sweep. It asks for its next run before training the current one (the
 * request carries the previous run's result), so the answer is waiting when the run ends and
 * dispatch latency is hidden. A run received but not started (stop, error) stays pending. */
static int run_worker(const sched_config_t *cfg, tally_t *t)
{
    double msg[MSG_LEN] = {-1};
    long long cur = -1, next = -1;
    MPI_Request rq[2];
    int rc = 0, flags = 0;

    if (cfg->stop && *cfg->stop) flags |= FLAG_STOP;
    msg[MSG_FLAGS] = flags;
    if (MPI_Send(msg, MSG_LEN, MPI_DOUBLE, 0, TAG_REQ, cfg->comm) != MPI_SUCCESS) return -1;
    rq[0] = MPI_REQUEST_NULL;
    if (MPI_Irecv(&cur, 1, MPI_LONG_LONG, 0, TAG_RUN, cfg->comm, &rq[1]) != MPI_SUCCESS ||
        quiet_waitall(2, rq) != 0)
        return -1;
    while (cur >= 0) {
        if (cfg->stop && *cfg->stop) flags |= FLAG_STOP;
        msg[MSG_FLAGS] = flags | FLAG_AHEAD;
        if (MPI_Isend(msg, MSG_LEN, MPI_DOUBLE, 0, TAG_REQ, cfg->comm, &rq[0]) != MPI_SUCCESS ||
            MPI_Irecv(&next, 1, MPI_LONG_LONG, 0, TAG_RUN, cfg->comm, &rq[1]) != MPI_SUCCESS)
            return -1;
        sched_result_t r;
        int w = do_work(cfg, (long)cur, 0.0, t, &r);
        if (quiet_waitall(2, rq) != 0) return -1;
        msg[MSG_ID] = (double)cur;
        msg[MSG_STATUS] = r.status;
        msg[MSG_RUN_S] = r.run_seconds;
        msg[MSG_WRITE_S] = r.write_seconds;
        msg[MSG_STEPS] = (double)r.steps_done;
        msg[MSG_PLANNED] = (double)r.steps_planned;
        if (w != 0) {
            rc = w;
            flags |= FLAG_ERROR;
            break;
        }
        if (cfg->stop && *cfg->stop) {
            flags |= FLAG_STOP;
            break;
        }
        if (next == REPLY_LATER) { /* no run held for us: ask now, reporting this one */
            msg[MSG_FLAGS] = flags;
            rq[0] = MPI_REQUEST_NULL;
            if (MPI_Send(msg, MSG_LEN, MPI_DOUBLE, 0, TAG_REQ, cfg->comm) != MPI_SUCCESS ||
                MPI_Irecv(&next, 1, MPI_LONG_LONG, 0, TAG_RUN, cfg->comm, &rq[1]) != MPI_SUCCESS ||
                quiet_waitall(2, rq) != 0)
                return -1;
            msg[MSG_ID] = -1; /* reported */
        }
        cur = next;
    }
    msg[MSG_FLAGS] = flags | FLAG_FINAL;
    if (MPI_Send(msg, MSG_LEN, MPI_DOUBLE, 0, TAG_REQ, cfg->comm) != MPI_SUCCESS) return -1;
    return rc;
}

/* Static: this rank's LPT share; between runs, a local stop request is broadcast (TAG_STOP) and
 * any other rank's is picked up with MPI_Iprobe. */
static int run_static(const sched_config_t *cfg, int rank, int size, tally_t *t, double t0,
                      int *stopped)
{
    int rc = 0, told = 0, stop_seen = 0;
    int *owner = NULL;
    long *mine = NULL, n_mine = 0;
    double *mine_cost = NULL, last = t0;
    MPI_Request *sends = NULL;
    sched_queue_t q = {0};
    char dummy = 0;

    owner = malloc(sizeof *owner * (size_t)(cfg->n > 0 ? cfg->n : 1));
    mine = calloc((size_t)(cfg->n > 0 ? cfg->n : 1), sizeof *mine);
    mine_cost = calloc((size_t)(cfg->n > 0 ? cfg->n : 1), sizeof *mine_cost);
    sends = malloc(sizeof *sends * (size_t)size);
    if (!owner || !mine || !mine_cost || !sends) {
        rc = -1;
        goto cleanup;
    }
    for (int r = 0; r < size; r++) sends[r] = MPI_REQUEST_NULL;
    if (sched_static_partition(cfg->cost, cfg->ids, cfg->n, size, owner, NULL) != 0) {
        rc = -1;
        goto cleanup;
    }
    for (long i = 0; i < cfg->n; i++)
        if (owner[i] == rank) {
            mine[n_mine] = cfg->ids[i];
            mine_cost[n_mine++] = cfg->cost[i];
        }
    if (sched_queue_init(&q, mine, mine_cost, n_mine) != 0) {
        rc = -1;
        goto cleanup;
    }
    double c, total = sum_cost(mine_cost, n_mine);
    for (long id; (id = sched_next_run(&q, &c)) >= 0;) {
        int local = cfg->stop && *cfg->stop;
        if (!stop_seen && size > 1) {
            int flag = 0;
            if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_STOP, cfg->comm, &flag, MPI_STATUS_IGNORE) !=
                MPI_SUCCESS) {
                rc = -1;
                goto cleanup;
            }
            if (flag) stop_seen = 1;
        }
        if (local && !told) {
            for (int r = 0; r < size; r++)
                if (r != rank && MPI_Isend(&dummy, 1, MPI_CHAR, r, TAG_STOP, cfg->comm,
                                           &sends[r]) != MPI_SUCCESS) {
                    rc = -1;
                    goto cleanup;
                }
            told = 1;
        }
        if (local || stop_seen) {
            *stopped = 1;
            break;
        }
        sched_result_t r;
        if ((rc = do_work(cfg, id, c, t, &r)) != 0) break;
        if (rank == 0) progress_call(cfg, t, n_mine, total, t0, 1, 0, 1, &last, queue_left, &q);
    }
    if (MPI_Waitall(size, sends, MPI_STATUSES_IGNORE) != MPI_SUCCESS) rc = -1;
cleanup:
    sched_queue_free(&q);
    free(owner);
    free(mine);
    free(mine_cost);
    free(sends);
    return rc;
}

/* After the quiet barrier every TAG_STOP sent has completed on its sender; drain them so no
 * message is left unmatched. */
static int drain_stops(MPI_Comm comm)
{
    for (;;) {
        int flag = 0;
        MPI_Status st;
        char dummy;
        if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_STOP, comm, &flag, &st) != MPI_SUCCESS) return -1;
        if (!flag) return 0;
        if (MPI_Recv(&dummy, 1, MPI_CHAR, st.MPI_SOURCE, TAG_STOP, comm, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS)
            return -1;
    }
}

/* Reduce the ranks' tallies into sum (complete on rank 0; others keep their own). rc: this rank's
 * outcome. Returns rc, -2 when another rank failed, -1 on an MPI error. */
static int gather_summary(const sched_config_t *cfg, int rank, int size, int rc, int stopped,
                          const tally_t *t, sched_summary_t *sum)
{
    /* Dynamic: rank 0 tallied every finished run from the messages, so the workers contribute
     * only their busy time (and rank 0, which trains nothing, none). */
    int dyn = size > 1 && cfg->mode == SCHED_DYNAMIC, counts_here = !dyn || rank == 0;
    double busy = (dyn && rank == 0) ? 0.0 : t->busy, busy_max = busy, busy_sum = busy;
    struct {
        double v;
        int rank;
    } err_in = {rc != 0 ? (double)t->error_run : -1.0, rc != 0 ? rank : size}, err_out = err_in;
    double local[6] = {0, 0, 0, (double)stopped, 0, 0}, glob[6];
    long st_local[RUN_N_STATUS] = {0}, st_sum[RUN_N_STATUS];
    if (counts_here) {
        local[0] = (double)t->finished;
        local[1] = t->run_seconds;
        local[2] = t->write_seconds;
        local[4] = (double)t->n_early;
        local[5] = t->steps_saved;
        memcpy(st_local, t->by_status, sizeof st_local);
    }
    memcpy(glob, local, sizeof glob);
    memcpy(st_sum, st_local, sizeof st_sum);
    if (size > 1 &&
        (MPI_Reduce(&busy, &busy_max, 1, MPI_DOUBLE, MPI_MAX, 0, cfg->comm) != MPI_SUCCESS ||
         MPI_Reduce(&busy, &busy_sum, 1, MPI_DOUBLE, MPI_SUM, 0, cfg->comm) != MPI_SUCCESS ||
         MPI_Reduce(local, glob, 6, MPI_DOUBLE, MPI_SUM, 0, cfg->comm) != MPI_SUCCESS ||
         MPI_Reduce(st_local, st_sum, RUN_N_STATUS, MPI_LONG, MPI_SUM, 0, cfg->comm) != MPI_SUCCESS ||
         MPI_Allreduce(&err_in, &err_out, 1, MPI_DOUBLE_INT, MPI_MINLOC, cfg->comm) != MPI_SUCCESS))
        return -1;
    if (rank == 0) {
        sum->finished = (long)glob[0];
        memcpy(sum->by_status, st_sum, sizeof st_sum);
        sum->run_seconds = glob[1];
        sum->write_seconds = glob[2];
        sum->busy_max = busy_max;
        sum->busy_mean = busy_sum / sum->n_workers;
        sum->stopped = glob[3] > 0;
        sum->n_early = (long)glob[4];
        sum->steps_saved = glob[5];
    } else {
        sum->finished = t->finished;
        memcpy(sum->by_status, t->by_status, sizeof t->by_status);
        sum->run_seconds = t->run_seconds;
        sum->write_seconds = t->write_seconds;
        sum->busy_max = sum->busy_mean = t->busy;
        sum->stopped = stopped;
        sum->n_early = t->n_early;
        sum->steps_saved = t->steps_saved;
    }
    if (err_out.rank < size) {
        sum->error_rank = err_out.rank;
        sum->error_run = (long)err_out.v;
        return rc != 0 ? rc : -2;
    }
    return rc;
}

int sched_run(const sched_config_t *cfg, sched_summary_t *sum)
{
    int rank, size, rc = 0, stopped = 0;
    tally_t t = {.error_run = -1};
    memset(sum, 0, sizeof *sum);
    sum->error_run = -1;
    sum->error_rank = -1;
    if (MPI_Comm_rank(cfg->comm, &rank) != MPI_SUCCESS ||
        MPI_Comm_size(cfg->comm, &size) != MPI_SUCCESS)
        return -1;
    double t0 = util_now();
    if (size == 1) {
        sum->n_workers = 1;
        rc = run_serial(cfg, &t, t0, &stopped);
    } else if (cfg->mode == SCHED_STATIC) {
        sum->n_workers = size;
        rc = run_static(cfg, rank, size, &t, t0, &stopped);
    } else {
        sum->n_workers = size - 1;
        rc = rank == 0 ? run_coordinator(cfg, size, &t, t0, &stopped) : run_worker(cfg, &t);
    }
    /* Sleep until everyone is done, then reduce the tallies on rank 0. */
    if (size > 1) {
        if (sched_quiet_barrier(cfg->comm) != 0) return -1;
        if (cfg->mode == SCHED_STATIC && drain_stops(cfg->comm) != 0) return -1;
    }
    sum->wall = util_now() - t0;
    return gather_summary(cfg, rank, size, rc, stopped, &t, sum);
}
