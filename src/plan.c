/* plan — the cost of a sweep before it runs (plan.h): a pass over the grid's cost and memory
 * models, then a calibration that trains two shortened runs in this process and fits
 * seconds = a + b·cost through them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "attnsweep/h5out.h"
#include "attnsweep/plan.h"
#include "attnsweep/train.h"

#define CALIB_MIN_SECONDS 0.1 /* steps are timed until they take at least this long */
#define CALIB_REPEAT_SECONDS 0.05 /* shorter timings are repeated (best of two) */

int plan_describe(const grid_t *g, plan_info_t *info, char *err, size_t errlen)
{
    const model_family_t *f = g->spec->family;
    *info = (plan_info_t){.n_runs = g->n_runs};
    for (long id = 0; id < g->n_runs; id++) {
        params_t p;
        grid_run_params(g, id, &p);
        double c = grid_run_cost(g, id);
        if (id == 0 || c < info->cost_min) info->cost_min = c, info->id_cheapest = id;
        if (id == 0 || c > info->cost_max) info->cost_max = c, info->id_costliest = id;
        info->cost_total += c;
        size_t m = f->memory ? f->memory(&p) : 0;
        if (m > info->memory_max) info->memory_max = m;
    }
    info->output_bytes = h5out_estimate_bytes(g);
    if (!(info->output_bytes > 0)) {
        snprintf(err, errlen, "cannot estimate the output size");
        return -1;
    }
    return 0;
}

/* What a calibration may spend: CPU seconds so far and the limit (<= 0: none). */
typedef struct {
    double spent, budget;
} spend_t;

static int over(const spend_t *s) { return s->budget > 0 && s->spent > s->budget; }

/* CPU seconds of run id cut to its first `steps` steps: best of two when a run is short enough
 * for timer noise to matter, else one (and one when that used the budget up). -1 with err if it
 * fails. */
static double time_run(const grid_t *g, long id, long steps, spend_t *sp, char *err,
                       size_t errlen)
{
    params_t p;
    trace_t tr = {0};
    run_result_t res;
    double best = INFINITY;
    grid_run_params(g, id, &p);
    params_set(&p, "steps", (double)steps);
    if (train_trace_init(&tr, schema_n_points(&p), 1 + g->spec->family->n_metrics) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int rep = 0; rep < 2 && (rep == 0 || (best < CALIB_REPEAT_SECONDS && !over(sp))); rep++) {
        double t = util_cpu_seconds();
        int rc = train_run(g->spec->family, &p, &tr, &res, NULL);
        t = util_cpu_seconds() - t;
        sp->spent += t;
        if (rc != 0 || res.status == RUN_FAILED) {
            snprintf(err, errlen, "run %ld failed during calibration: %s", id, res.message);
            best = -1;
            break;
        }
        if (t < best) best = t;
    }
    train_trace_free(&tr);
    return best;
}

/* Full-run seconds of run id: t(0) + steps/k × (t(k) - t(0)), where t(k) is the time of init + k
 * steps (+ their evals); k grows ×4 from 10 until t(k) - t(0) > CALIB_MIN_SECONDS or k = steps,
 * or the budget is spent (the last complete t(k) is used). */
static double estimate_run(const grid_t *g, long id, spend_t *sp, char *err, size_t errlen)
{
    params_t p;
    grid_run_params(g, id, &p);
    long steps = params_geti(&p, "steps"), k = 0;
    double t0 = time_run(g, id, 0, sp, err, errlen), tk = t0;
    if (t0 < 0) return -1;
    while (k < steps && !over(sp)) { /* over budget: the last complete measurement serves */
        k = k == 0 ? 10 : 4 * k;
        if (k > steps) k = steps;
        if ((tk = time_run(g, id, k, sp, err, errlen)) < 0) return -1;
        if (tk - t0 > CALIB_MIN_SECONDS) break;
    }
    if (k == 0 && steps > 0) { /* set-up alone used the budget: no time per step */
        snprintf(err, errlen, "run %ld: its set-up alone took %.3g CPU seconds, past the "
                 "calibration's budget of %.3g", id, t0, sp->budget);
        return -1;
    }
    if (k == 0) return t0;
    double per = (tk - t0) / (double)k;
    return t0 + (per > 0 ? per : 0) * (double)steps;
}

int plan_calibrate(const grid_t *g, const plan_info_t *info, double budget, plan_calib_t *c,
                   char *err, size_t errlen)
{
    char scratch[256];
    long lo = info->id_cheapest, hi = info->id_costliest;
    spend_t sp = {.budget = lo == hi ? budget : budget / 2}; /* half for each run */
    *c = (plan_calib_t){.id_lo = lo, .id_hi = hi};
    (void)time_run(g, lo, 1, &sp, scratch, sizeof scratch); /* warm up: page faults, BLAS set-up */
    sp.spent = 0;
    c->secs_lo = estimate_run(g, lo, &sp, err, errlen);
    sp = (spend_t){.budget = budget / 2};
    c->secs_hi = lo == hi || c->secs_lo < 0 ? c->secs_lo : estimate_run(g, hi, &sp, err, errlen);
    if (c->secs_lo < 0 || c->secs_hi < 0) return -1;
    plan_fit(c, info->cost_min, info->cost_max);
    return 0;
}

void plan_fit(plan_calib_t *c, double lo_c, double hi_c)
{
    double dc = hi_c - lo_c;
    c->p = 1;
    c->b = dc > 0 ? (c->secs_hi - c->secs_lo) / dc : 0;
    if (c->b < 0) c->b = 0;
    c->a = c->secs_lo - c->b * lo_c;
    if (c->a < 0 && lo_c > 0 && c->secs_lo > 0) { /* seconds grow faster than cost: power law */
        c->p = log(c->secs_hi / c->secs_lo) / log(hi_c / lo_c);
        c->b = c->secs_lo / pow(lo_c, c->p);
        c->a = 0;
    }
    if (c->a < 0) c->a = 0;
    if (dc <= 0 && lo_c > 0) { /* one cost for every run: all of it is per-cost */
        c->b = c->secs_lo / lo_c;
        c->a = 0;
    }
}

double plan_seconds(const plan_calib_t *c, double cost)
{
    return c->a + c->b * (c->p > 0 && c->p != 1 ? pow(cost, c->p) : cost);
}

double plan_eta(const plan_calib_t *c, const sched_progress_t *p)
{
    int nw = p->n_workers > 0 ? p->n_workers : 1;
    double done_pred = c->a * (double)p->finished + c->b * p->cost_done;
    if (c->p > 0 && c->p != 1 && p->all_cost) { /* not linear: all − pending − running */
        done_pred = 0;
        for (long k = 0; k < p->n_all; k++) done_pred += plan_seconds(c, p->all_cost[k]);
        for (long k = 0; k < p->n_pending; k++) done_pred -= plan_seconds(c, p->pending_cost[k]);
        for (int r = 0; r < p->n_running; r++) done_pred -= plan_seconds(c, p->running_cost[r]);
    }
    double f = p->finished > 0 && done_pred > 0 ? p->busy_seconds / done_pred : 1.0;
    double *load = calloc((size_t)nw, sizeof *load), eta = 0;
    if (!load || (!p->pending_cost && !p->running_cost)) {
        free(load);
        return NAN;
    }
    for (int r = 0; r < p->n_running; r++) { /* what the runs in training have left */
        double want = f * plan_seconds(c, p->running_cost[r]);
        load[r % nw] += fmax(want - p->running_elapsed[r], 0.05 * want);
    }
    for (long k = 0; k < p->n_pending; k++) { /* the rest: to the least loaded worker (LPT) */
        int best = 0;
        for (int w = 1; w < nw; w++)
            if (load[w] < load[best]) best = w;
        load[best] += f * plan_seconds(c, p->pending_cost[k]);
    }
    for (int w = 0; w < nw; w++) eta = fmax(eta, load[w]);
    free(load);
    return eta;
}

double plan_makespan(const grid_t *g, const plan_calib_t *c, int np, sched_mode_t mode)
{
    double *secs = malloc(sizeof *secs * (size_t)(g->n_runs > 0 ? g->n_runs : 1));
    if (!secs) return -1;
    for (long id = 0; id < g->n_runs; id++) secs[id] = plan_seconds(c, grid_run_cost(g, id));
    int workers = np <= 1 ? 1 : mode == SCHED_STATIC ? np : np - 1;
    double m = sched_lpt_makespan(secs, g->n_runs, workers);
    free(secs);
    return m;
}
