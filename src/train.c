/* train — one run from params to trace + summary (train.h): the loop that every family's
 * init/step/eval/free is driven by, and the trace buffer it fills. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/train.h"

int train_trace_init(trace_t *t, int n_points, int n_cols)
{
    t->n_points = n_points;
    t->n_cols = n_cols;
    t->n_filled = 0;
    t->rows = malloc(sizeof(double) * (size_t)n_points * (size_t)n_cols);
    if (!t->rows) return -1;
    for (size_t i = 0; i < (size_t)n_points * (size_t)n_cols; i++) t->rows[i] = NAN;
    return 0;
}

void train_trace_free(trace_t *t)
{
    free(t->rows);
    t->rows = NULL;
    t->n_points = t->n_filled = 0;
}

static int all_finite(const double *x, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* Early stopping, checked at every logged step: the first converged step, or no valid_acc
 * improvement for patience steps. */
typedef struct {
    int when_converged, i_valid;
    long patience, best_step;
    double best;
} early_t;

static int early_stop(early_t *e, long step, const double *metrics, const run_result_t *res)
{
    if (e->when_converged && res->steps_to_converge >= 0) return 1;
    if (e->patience <= 0) return 0;
    double v = metrics[e->i_valid];
    if (e->best_step < 0 || v > e->best) {
        e->best = v;
        e->best_step = step;
    }
    return step - e->best_step >= e->patience;
}

int train_run(const model_family_t *f, const params_t *p, trace_t *trace, run_result_t *res,
              const volatile sig_atomic_t *stop)
{
    void *state = NULL;
    int rc = 0;
    double t0 = util_now();
    long steps = params_geti(p, "steps"), log_every = params_geti(p, "log_every");
    double converge = params_get(p, "converge_loss"), max_seconds = params_get(p, "max_seconds");
    int i_loss = model_metric_index(f, "train_loss"), i_tacc = model_metric_index(f, "train_acc");
    int i_test = model_metric_index(f, "test_acc");
    early_t early = {(int)params_geti(p, "stop_when_converged"), model_metric_index(f, "valid_acc"),
                     params_geti(p, "patience"), -1, 0};

    memset(res, 0, sizeof *res);
    res->status = RUN_FAILED;
    res->steps_to_converge = -1;
    res->final_train_loss = res->final_train_acc = res->final_test_acc = NAN;
    if (trace->n_cols != 1 + f->n_metrics || trace->n_points < schema_n_points(p)) {
        snprintf(res->message, sizeof res->message,
                 "trace buffer is %d x %d, the run needs %d x %d", trace->n_points,
                 trace->n_cols, schema_n_points(p), 1 + f->n_metrics);
        return -1;
    }
    trace->n_filled = 0;

    if (f->init(&state, p, res->message, sizeof res->message) != 0) goto done; /* failed */

    for (long s = 0;; s++) {
        if (s % log_every == 0) {
            double *row = trace->rows + (size_t)trace->n_filled * (size_t)trace->n_cols;
            row[0] = (double)s;
            if (f->eval(state, row + 1, res->message, sizeof res->message) != 0) goto done;
            trace->n_filled++;
            res->final_train_loss = row[1 + i_loss];
            res->final_train_acc = i_tacc >= 0 ? row[1 + i_tacc] : NAN;
            res->final_test_acc = i_test >= 0 ? row[1 + i_test] : NAN;
            if (!all_finite(row + 1, f->n_metrics)) {
                res->status = RUN_DIVERGED;
                snprintf(res->message, sizeof res->message, "non-finite metric at step %ld", s);
                goto done;
            }
            if (res->steps_to_converge < 0 && res->final_train_loss < converge)
                res->steps_to_converge = s;
            if (early_stop(&early, s, row + 1, res)) break;
        }
        if (s == steps) break;
        if (stop && *stop) {
            res->status = RUN_INTERRUPTED;
            snprintf(res->message, sizeof res->message, "interrupted at step %ld", s);
            goto done;
        }
        if (max_seconds > 0 && util_now() - t0 > max_seconds) {
            snprintf(res->message, sizeof res->message,
                     "exceeded max_seconds = %g at step %ld", max_seconds, s);
            goto done;
        }
        double loss;
        if (f->step(state, s, &loss, res->message, sizeof res->message) != 0) goto done;
        res->steps_done = s + 1;
        if (!isfinite(loss)) {
            res->status = RUN_DIVERGED;
            snprintf(res->message, sizeof res->message, "non-finite loss at step %ld", s);
            goto done;
        }
    }
    res->status = RUN_DONE;
    res->message[0] = '\0';
done:
    res->wall_seconds = util_now() - t0;
    f->free(state);
    return rc;
}
