/* model — the interface every model family implements (DESIGN.md §5), and the registry that maps
 * a spec's `model = NAME` to a family. A family declares its keys (param_def_t) and its trace
 * metrics; train.c drives init → (eval, step)* → free. Families live in src/models/NAME.c. */
#ifndef ATTNSWEEP_MODEL_H
#define ATTNSWEEP_MODEL_H
#include <stddef.h>
#include "attnsweep/param.h"

typedef struct model_family {
    const char *name;     /* "lu2021": the value of `model =` in a spec's [model] section */
    const char *summary;  /* one line for --help */
    const param_def_t *params; /* the family's own keys (train.c adds the common ones) */
    int n_params;
    /* Trace metrics, in column order after "step". Every family has "train_loss", "train_acc"
     * and "test_acc" among them (the sweep's summary columns are taken from these). */
    const char *const *metrics;
    int n_metrics;

    /* Cross-key validation of one run's values (single values were range-checked already),
     * e.g. "m: must be < non_topic_words (got 20 >= 10)". 0 ok, -1 with err naming the key. */
    int (*check)(const params_t *p, char *err, size_t errlen);
    /* Relative cost of the whole run (≈ flops); used for LPT scheduling and `plan`. */
    double (*cost)(const params_t *p);
    /* Build data and initial weights from p alone (seed streams of rng.h). 0 ok, <0 error. */
    int (*init)(void **state, const params_t *p, char *err, size_t errlen);
    /* One optimiser step (step counts from 0). *loss: training loss of the batch used, before
     * the update. 0 ok, <0 error (err filled). A non-finite loss is not an error here. */
    int (*step)(void *state, long step, double *loss, char *err, size_t errlen);
    /* All metrics at the current weights into metrics[0..n_metrics). 0 ok, <0 error. */
    int (*eval)(void *state, double *metrics, char *err, size_t errlen);
    /* Bytes of memory the run will hold (parameters + data + activations); for `plan`. */
    size_t (*memory)(const params_t *p);
    void (*free)(void *state); /* unconditional; state may be NULL */
} model_family_t;

/* The registered families (NULL-terminated) and lookup by name (NULL if unknown). */
extern const model_family_t *const model_families[];
const model_family_t *model_find(const char *name);
/* Index of a metric by name in f->metrics, or -1. */
int model_metric_index(const model_family_t *f, const char *name);

#endif
