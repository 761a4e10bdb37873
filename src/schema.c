/* schema — the common keys and the combined schema of a family (schema.h). Adding a key that
 * every family understands means a row here and its use in train.c. */
#include <stdio.h>
#include <string.h>
#include "attnsweep/schema.h"

const param_def_t schema_common[] = {
    {.name = "seed", .section = "train", .type = PARAM_INT, .def = 0, .min = 0,
     .max = 9007199254740991.0, /* 2^53 - 1: every seed is exact in the double params hold */
     .help = "run seed: the data and initial weights come from it alone"},
    {.name = "steps", .section = "train", .type = PARAM_INT, .def = 1000, .min = 0, .max = 1e9,
     .help = "optimiser steps"},
    {.name = "lr", .section = "train", .type = PARAM_REAL, .def = 0.1, .min = 0, .max = 1e6,
     .min_exclusive = 1,
     .help = "learning rate (> 0)"},
    {.name = "log_every", .section = "train", .type = PARAM_INT, .def = 10, .min = 1, .max = 1e9,
     .one_value = 1,
     .help = "steps between trace points (one value per spec: the step axis is shared)"},
    {.name = "converge_loss", .section = "train", .type = PARAM_REAL, .def = 0.01, .min = 0,
     .max = 1e300, .min_exclusive = 1,
     .help = "a run has converged at the first logged step with train_loss below this"},
    {.name = "max_seconds", .section = "train", .type = PARAM_REAL, .def = 0, .min = 0, .max = 1e9,
     .help = "wall-clock limit of one run, 0 for none; a run past it is 'failed'", .units = "s"},
    {.name = "stop_when_converged", .section = "train", .type = PARAM_BOOL, .def = 0,
     .help = "stop a run at its first logged step with train_loss < converge_loss (it is done)"},
    {.name = "patience", .section = "train", .type = PARAM_INT, .def = 0, .min = 0, .max = 1e9,
     .help = "if > 0: stop a run when valid_acc has not improved for this many steps (it is "
             "done); for families with a valid_acc metric"},
};
const int schema_n_common = sizeof schema_common / sizeof schema_common[0];

int schema_build(const param_def_t *own, int n_own, param_def_t *defs, int max, char *err,
                 size_t errlen)
{
    int n = schema_n_common + n_own;
    if (n > max) {
        snprintf(err, errlen, "%d keys (%d common + %d of the family), at most %d are supported",
                 n, schema_n_common, n_own, max);
        return -1;
    }
    memcpy(defs, schema_common, sizeof *defs * (size_t)schema_n_common);
    if (n_own) memcpy(defs + schema_n_common, own, sizeof *defs * (size_t)n_own);
    for (int i = 0; i < n; i++) {
        if (!defs[i].name || !defs[i].section) {
            snprintf(err, errlen, "key %d has no name or section", i);
            return -1;
        }
        if (param_index(defs, i, defs[i].name) >= 0) {
            snprintf(err, errlen, "the key '%s' is defined twice%s", defs[i].name,
                     i >= schema_n_common && param_index(schema_common, schema_n_common,
                                                         defs[i].name) >= 0
                         ? " (it is a key common to every family)" : "");
            return -1;
        }
    }
    return n;
}

int schema_defaults(schema_params_t *r, const param_def_t *own, int n_own)
{
    char err[160];
    int n = schema_build(own, n_own, r->defs, PARAM_MAX, err, sizeof err);
    if (n < 0) return -1;
    params_defaults(&r->p, r->defs, n);
    return 0;
}

int schema_n_points(const params_t *p)
{
    return (int)(params_geti(p, "steps") / params_geti(p, "log_every")) + 1;
}
