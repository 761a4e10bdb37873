/* train — runs one model from its params to a convergence trace and a summary. Owns the keys
 * every family shares (seed, steps, lr, log_every, converge_loss, max_seconds) and the run
 * status codes that /runs/status stores. No MPI, no I/O: the sweep engine calls this per run. */
#ifndef ATTNSWEEP_TRAIN_H
#define ATTNSWEEP_TRAIN_H
#include <signal.h>
#include <stdint.h>
#include "attnsweep/model.h"

typedef enum {
    RUN_PENDING = 0,
    RUN_DONE = 1,
    RUN_FAILED = 2,
    RUN_DIVERGED = 3,   /* NaN/Inf loss or metric: a result, the trace so far is kept */
    RUN_INTERRUPTED = 4 /* stopped by a signal before the end; requeued by --resume */
} run_status_t;

extern const param_def_t train_common_params[];
extern const int train_n_common_params;

/* Trace: n_points rows of n_cols values; column 0 is "step", then the family's metrics.
 * Rows are logged at steps 0, log_every, 2·log_every, … ≤ steps. Unfilled rows are NaN. */
typedef struct {
    int n_points, n_cols, n_filled;
    double *rows; /* [n_points][n_cols] */
} trace_t;

typedef struct {
    run_status_t status;
    double final_train_loss, final_train_acc, final_test_acc;
    long steps_to_converge;  /* first logged step with train_loss < converge_loss, -1 if never */
    long steps_done;
    double wall_seconds;
    char message[256];       /* why it failed/diverged; empty when done */
} run_result_t;

/* The combined schema of family f — train_common_params, then f->params — copied into defs,
 * which has room for max keys. Returns the number of keys, or -1 if there are more than max. */
int train_schema(const model_family_t *f, param_def_t *defs, int max);

/* One run of family f with every key at its default, for tests and tools that train without a
 * spec. p.defs points into the struct itself: initialise it in place, never copy it. */
typedef struct {
    param_def_t defs[PARAM_MAX];
    params_t p;
} train_params_t;
int train_params_init(train_params_t *r, const model_family_t *f); /* 0, or -1: > PARAM_MAX keys */

/* Number of logged points of a run with these params: floor(steps / log_every) + 1. */
int train_n_points(const params_t *p);
int train_trace_init(trace_t *t, int n_points, int n_cols);
void train_trace_free(trace_t *t);

/* Train one run. stop (may be NULL) is polled between steps: when it becomes non-zero the run
 * ends with RUN_INTERRUPTED. Returns 0 when a result was produced (any status, see res), <0 on
 * an internal error (allocation), with res->message set. */
int train_run(const model_family_t *f, const params_t *p, trace_t *trace, run_result_t *res,
              const volatile sig_atomic_t *stop);

/* CRC-32 (IEEE) of a buffer; the sweep engine stores the CRC of each run's float32 trace. */
uint32_t train_crc32(const void *buf, size_t len);

#endif
