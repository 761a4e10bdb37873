/* model — the registry of model families (one line per family in src/models/) and small helpers
 * over the interface in model.h. Adding a family: declare it here and list it below. */
#include <string.h>
#include "attnsweep/model.h"

extern const model_family_t lu2021_family;
extern const model_family_t sakamoto2024_family;
extern const model_family_t snell2021_family;

const model_family_t *const model_families[] = {
    &lu2021_family,
    &sakamoto2024_family,
    &snell2021_family,
    NULL,
};

const model_family_t *model_find(const char *name)
{
    for (int i = 0; model_families[i]; i++)
        if (strcmp(model_families[i]->name, name) == 0) return model_families[i];
    return NULL;
}

int model_metric_index(const model_family_t *f, const char *name)
{
    for (int i = 0; i < f->n_metrics; i++)
        if (strcmp(f->metrics[i], name) == 0) return i;
    return -1;
}
