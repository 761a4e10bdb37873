/* train — one run from params to trace + summary: init, then eval every log_every steps and
 * step in between, stopping early on NaN/Inf (diverged), on a stop request (interrupted) or at
 * max_seconds (failed, with a message). Also owns the keys common to every family. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "attnsweep/train.h"

const param_def_t train_common_params[] = {
    {"seed", "train", PARAM_INT, 0, 0, 9007199254740991.0, 0, NULL, 1,
     "run seed: the data and initial weights come from it alone"},
    {"steps", "train", PARAM_INT, 1000, 0, 1e9, 0, NULL, 1, "optimiser steps"},
    {"lr", "train", PARAM_REAL, 0.1, 0, 1e6, 1, NULL, 1, "learning rate (> 0)"},
    {"log_every", "train", PARAM_INT, 10, 1, 1e9, 0, NULL, 0,
     "steps between trace points (one value per spec: the step axis is shared)"},
    {"converge_loss", "train", PARAM_REAL, 0.01, 0, 1e300, 1, NULL, 1,
     "a run has converged at the first logged step with train_loss below this"},
    {"max_seconds", "train", PARAM_REAL, 0, 0, 1e9, 0, NULL, 1,
     "wall-clock limit of one run, 0 for none; a run past it is 'failed'"},
};
const int train_n_common_params = sizeof train_common_params / sizeof train_common_params[0];

int train_schema(const model_family_t *f, param_def_t *defs, int max)
{
    int n = train_n_common_params + f->n_params;
    if (n > max) return -1;
    memcpy(defs, train_common_params, sizeof *defs * (size_t)train_n_common_params);
    if (f->n_params) memcpy(defs + train_n_common_params, f->params, sizeof *defs * (size_t)f->n_params);
    return n;
}

int train_params_init(train_params_t *r, const model_family_t *f)
{
    int n = train_schema(f, r->defs, PARAM_MAX);
    if (n < 0) return -1;
    params_defaults(&r->p, r->defs, n);
    return 0;
}

int train_n_points(const params_t *p)
{
    return (int)(params_geti(p, "steps") / params_geti(p, "log_every")) + 1;
}

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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int all_finite(const double *x, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int train_run(const model_family_t *f, const params_t *p, trace_t *trace, run_result_t *res,
              const volatile sig_atomic_t *stop)
{
    void *state = NULL;
    int rc = 0;
    double t0 = now_seconds();
    long steps = params_geti(p, "steps"), log_every = params_geti(p, "log_every");
    double converge = params_get(p, "converge_loss"), max_seconds = params_get(p, "max_seconds");
    int i_loss = model_metric_index(f, "train_loss"), i_tacc = model_metric_index(f, "train_acc");
    int i_test = model_metric_index(f, "test_acc");

    memset(res, 0, sizeof *res);
    res->status = RUN_FAILED;
    res->steps_to_converge = -1;
    res->final_train_loss = res->final_train_acc = res->final_test_acc = NAN;
    if (trace->n_cols != 1 + f->n_metrics || trace->n_points < train_n_points(p)) {
        snprintf(res->message, sizeof res->message,
                 "trace buffer is %d x %d, the run needs %d x %d", trace->n_points,
                 trace->n_cols, train_n_points(p), 1 + f->n_metrics);
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
        }
        if (s == steps) break;
        if (stop && *stop) {
            res->status = RUN_INTERRUPTED;
            snprintf(res->message, sizeof res->message, "interrupted at step %ld", s);
            goto done;
        }
        if (max_seconds > 0 && now_seconds() - t0 > max_seconds) {
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
    res->wall_seconds = now_seconds() - t0;
    f->free(state);
    return rc;
}

uint32_t train_crc32(const void *buf, size_t len)
{
    static uint32_t table[256];
    static int ready = 0;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const unsigned char *b = buf;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) c = table[(c ^ b[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}
