/* schema — the keys every model family shares (seed, steps, lr, log_every, converge_loss,
 * max_seconds, stop_when_converged, patience) and a family's combined schema: the common keys, then the family's own, with their
 * defaults and the trace axis they imply. What spec, grid, train and the families agree on; it
 * sits just above param.h and knows nothing of models, files or MPI. */
#ifndef ATTNSWEEP_SCHEMA_H
#define ATTNSWEEP_SCHEMA_H
#include <stddef.h>
#include "attnsweep/param.h"

extern const param_def_t schema_common[];
extern const int schema_n_common;

/* defs = schema_common, then own[0..n_own) (a family's keys), for at most max keys. Returns the
 * number of keys, or -1 with err when they do not fit or a key is defined twice (a family that
 * redefines a common key, or lists one twice). */
int schema_build(const param_def_t *own, int n_own, param_def_t *defs, int max, char *err,
                 size_t errlen);

/* One run with every key of a combined schema at its default, for tests and tools that train
 * without a spec. p.defs points into the struct itself: initialise it in place, never copy it. */
typedef struct {
    param_def_t defs[PARAM_MAX];
    params_t p;
} schema_params_t;
int schema_defaults(schema_params_t *r, const param_def_t *own, int n_own); /* 0, or -1 */

/* Trace points of a run: one at step 0 and every log_every steps up to steps,
 * floor(steps / log_every) + 1 in all. */
int schema_n_points(const params_t *p);

#endif
