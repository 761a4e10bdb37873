/* model — the interface every model family implements, built in or loaded from a plugin, and the
 * registry that maps a spec's `model = NAME` (or `model = plugin:PATH.so`) to a family. A family
 * declares its keys (param_def_t) and its trace metrics; train.c drives
 * init → (eval, step)* → free for one run. A run's result must depend only on its params. */
#ifndef ATTNSWEEP_MODEL_H
#define ATTNSWEEP_MODEL_H
#include <stddef.h>
#include "attnsweep/param.h"

/* The version of this interface (model_family_t and every type and function it uses). A plugin
 * records the version it was built with in model_family_t.abi; attnsweep loads only its own. */
#define ATTNSWEEP_MODEL_ABI 1
/* Most metrics a family may trace. */
#define MODEL_MAX_METRICS 32

/* One trace metric: a column of /traces. */
typedef struct {
    const char *name;  /* "train_loss": the dataset /traces/<name>, a C identifier */
    const char *help;  /* one line: what it measures */
    const char *units; /* CF-style units ("1" for fractions and losses), or NULL */
} metric_def_t;

typedef struct model_family {
    int abi;              /* ATTNSWEEP_MODEL_ABI of the headers it was compiled with; stays the
                           * first field in every version, so any loader can read it */
    const char *name;     /* "lu2021": the value of `model =` in a spec's [model] section */
    const char *summary;  /* one line for --help */
    const param_def_t *params; /* the family's own keys (schema.h adds the common ones) */
    int n_params;
    /* Trace metrics, in column order after "step". Every family has "train_loss", "train_acc"
     * and "test_acc" among them (the sweep's summary columns are taken from these). */
    const metric_def_t *metrics;
    int n_metrics;

    /* Cross-key validation of one run's values (single values were range-checked already),
     * e.g. "m: must be < non_topic_words (got 20 >= 10)". 0 ok, -1 with err naming the key.
     * May be NULL. */
    int (*check)(const params_t *p, char *err, size_t errlen);
    /* Relative cost of the whole run (≈ flops); used for LPT scheduling and `plan`. May be NULL
     * (then the cost is the number of steps). */
    double (*cost)(const params_t *p);
    /* Build data and initial weights from p alone (seed streams of rng.h). 0 ok, <0 error. */
    int (*init)(void **state, const params_t *p, char *err, size_t errlen);
    /* One optimiser step (step counts from 0). *loss: training loss of the batch used, before
     * the update. 0 ok, <0 error (err filled). A non-finite loss is not an error here. */
    int (*step)(void *state, long step, double *loss, char *err, size_t errlen);
    /* All metrics at the current weights into metrics[0..n_metrics). 0 ok, <0 error. */
    int (*eval)(void *state, double *metrics, char *err, size_t errlen);
    /* Bytes of memory the run will hold (parameters + data + activations); for `plan`. May be
     * NULL. */
    size_t (*memory)(const params_t *p);
    void (*free)(void *state); /* unconditional; state may be NULL */
} model_family_t;

/* A plugin is a shared object that defines this symbol (see ATTNSWEEP_MODEL_PLUGIN). */
#define ATTNSWEEP_PLUGIN_SYMBOL "attnsweep_model_family"
/* In a plugin's source: ATTNSWEEP_MODEL_PLUGIN(my_family); exports my_family under the name the
 * loader looks for. */
#define ATTNSWEEP_MODEL_PLUGIN(family) \
    const model_family_t *attnsweep_model_family(void) { return &(family); }

/* The built-in families (NULL-terminated) and lookup by name (NULL if unknown). */
extern const model_family_t *const model_families[];
const model_family_t *model_find(const char *name);

/* The family a spec names: a built-in name, or "plugin:PATH" for a shared object (a relative
 * PATH is taken from base_dir when base_dir is not NULL, else from the working directory). A
 * plugin is loaded once per process and stays loaded; *source gets "built-in" or the plugin's
 * absolute path (static storage). 0 ok; -1 with a one-line err naming the file. */
int model_resolve(const char *name, const char *base_dir, const model_family_t **f,
                  const char **source, char *err, size_t errlen);

/* Check a family's table: ABI, name, functions, metric names (train_loss, train_acc and
 * test_acc present, no duplicates), keys named. 0 ok; -1 with err. */
int model_validate(const model_family_t *f, char *err, size_t errlen);

/* Index of a metric by name in f->metrics, or -1. */
int model_metric_index(const model_family_t *f, const char *name);

#endif
