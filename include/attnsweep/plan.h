/* plan — what a sweep will cost before it runs: per-run cost and memory from the families'
 * models, a calibration on this machine (a few shortened runs timed in CPU seconds, fitted as
 * seconds = a + b·cost), the LPT makespan on N ranks and the output file's size. `attnsweep plan`
 * prints it; `run` uses the same fit for its ETA. No MPI, no output. */
#ifndef ATTNSWEEP_PLAN_H
#define ATTNSWEEP_PLAN_H
#include <stddef.h>
#include "attnsweep/grid.h"
#include "attnsweep/sched.h"

/* The grid at a glance, from the cost and memory models alone (cheap: no training). */
typedef struct {
    long n_runs;
    long id_cheapest, id_costliest; /* runs with the smallest and largest estimated cost */
    double cost_min, cost_max, cost_total;
    size_t memory_max;              /* peak bytes of one run (0 if the family has no model) */
    double output_bytes;            /* estimated size of the results file */
} plan_info_t;

int plan_describe(const grid_t *g, plan_info_t *info, char *err, size_t errlen);

/* seconds(run) ≈ a + b·cost(run)^p through two calibration runs on this machine (CPU time of one
 * process, so a loaded machine does not inflate it): the line (p = 1) when its intercept a is not
 * negative, else the power law through both (a = 0), which a cost model that underrates how fast
 * seconds grow with cost needs (lu2021 float32: the gathers miss the cache at large vocabularies).
 * p = 0 reads as 1. */
typedef struct {
    double a, b, p;
    long id_lo, id_hi;      /* the runs timed */
    double secs_lo, secs_hi; /* their estimated full-run seconds */
} plan_calib_t;

/* Time shortened copies of the cheapest and the costliest run (init + k steps, k growing until
 * the steps take > 0.1 s) and fit the line: about a second for small models. budget > 0 caps the
 * CPU seconds it may spend (one timed piece may overrun it; a run whose set-up alone uses it up
 * cannot be calibrated); <= 0: no cap. 0 ok; <0 with err (a run that fails during calibration,
 * the budget spent before a per-step time was measured). */
int plan_calibrate(const grid_t *g, const plan_info_t *info, double budget, plan_calib_t *c,
                   char *err, size_t errlen);
/* The fit of c->secs_lo and c->secs_hi at costs lo_c and hi_c into c->a, b, p (as above). */
void plan_fit(plan_calib_t *c, double lo_c, double hi_c);
double plan_seconds(const plan_calib_t *c, double cost);

/* Seconds until a running sweep ends: every run's calibrated seconds scaled by f = (measured
 * seconds of the finished runs, training and writing) / (their calibrated seconds) — 1 before
 * any run finished — the runs in
 * training counted for what they have left, and the rest scheduled LPT over p->n_workers.
 * NAN if p says nothing about what is left. */
double plan_eta(const plan_calib_t *c, const sched_progress_t *p);

/* Estimated wall seconds of the whole grid on np ranks with the given schedule: the LPT makespan
 * of the calibrated per-run seconds (dynamic: np - 1 workers; static: np; np = 1: serial).
 * Negative on allocation failure. */
double plan_makespan(const grid_t *g, const plan_calib_t *c, int np, sched_mode_t mode);

#endif
