/* train — runs one model from its params to a convergence trace and a summary: init, then an eval
 * every log_every steps and a step in between, until the last step, a non-finite value (diverged),
 * a stop request (interrupted) or max_seconds (failed). No MPI, no I/O: the sweep engine calls
 * this once per run, `attnsweep train` once for a spec's run. */
#ifndef ATTNSWEEP_TRAIN_H
#define ATTNSWEEP_TRAIN_H
#include <signal.h>
#include "attnsweep/model.h"
#include "attnsweep/schema.h"
#include "attnsweep/util.h"

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

/* A trace of n_points rows × n_cols, all NaN. 0 ok, -1 out of memory. */
int train_trace_init(trace_t *t, int n_points, int n_cols);
void train_trace_free(trace_t *t);

/* Train one run. It ends done at its last step, or earlier by its own rule (stop_when_converged:
 * the first logged step with train_loss < converge_loss; patience: valid_acc without improvement
 * for that many steps), with steps_done saying where and the trace NaN after it; diverged at a
 * non-finite value; failed past max_seconds. stop (may be NULL) is polled between steps: when it
 * becomes non-zero the run ends with RUN_INTERRUPTED. Returns 0 when a result was produced (any status, see res), <0 on
 * an internal error (allocation, a trace too small), with res->message set. */
int train_run(const model_family_t *f, const params_t *p, trace_t *trace, run_result_t *res,
              const volatile sig_atomic_t *stop);

#endif
