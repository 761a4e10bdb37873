/* model — the registry of model families: the built-in ones (one line each below, their code in
 * src/models/) and plugins loaded with dlopen from `model = plugin:PATH.so`; plus the checks a
 * family's table must pass before a sweep uses it. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/model.h"

extern const model_family_t lu2021_family;
extern const model_family_t sakamoto2024_family;
extern const model_family_t snell2021_family;
extern const model_family_t snell2021_gate_family;

const model_family_t *const model_families[] = {
    &lu2021_family,
    &sakamoto2024_family,
    &snell2021_family,
    &snell2021_gate_family,
    NULL,
};

#define PLUGIN_PREFIX "plugin:"
#define MAX_PLUGINS 16

/* Plugins loaded so far (never unloaded: their tables are referenced until exit). */
static struct {
    char path[PATH_MAX];
    const model_family_t *family;
} plugins[MAX_PLUGINS];
static int n_plugins;

const model_family_t *model_find(const char *name)
{
    for (int i = 0; model_families[i]; i++)
        if (strcmp(model_families[i]->name, name) == 0) return model_families[i];
    return NULL;
}

int model_metric_index(const model_family_t *f, const char *name)
{
    for (int i = 0; i < f->n_metrics; i++)
        if (strcmp(f->metrics[i].name, name) == 0) return i;
    return -1;
}

static int is_identifier(const char *s)
{
    if (!s || !*s || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

int model_validate(const model_family_t *f, char *err, size_t errlen)
{
    if (f->abi != ATTNSWEEP_MODEL_ABI) {
        snprintf(err, errlen, "built for model ABI %d, this attnsweep has ABI %d: rebuild it "
                 "against this version's headers", f->abi, ATTNSWEEP_MODEL_ABI);
        return -1;
    }
    if (!is_identifier(f->name) || strncmp(f->name, "plugin", 6) == 0) {
        snprintf(err, errlen, "the family's name '%s' is not an identifier (or starts with "
                 "'plugin')", f->name ? f->name : "(null)");
        return -1;
    }
    if (!f->init || !f->step || !f->eval || !f->free) {
        snprintf(err, errlen, "family %s lacks one of init, step, eval, free", f->name);
        return -1;
    }
    if (f->n_params < 0 || (f->n_params > 0 && !f->params) || f->n_metrics < 1 ||
        f->n_metrics > MODEL_MAX_METRICS || !f->metrics) {
        snprintf(err, errlen, "family %s: %d keys and %d metrics (1 to %d metrics expected)",
                 f->name, f->n_params, f->n_metrics, MODEL_MAX_METRICS);
        return -1;
    }
    for (int m = 0; m < f->n_metrics; m++) {
        const char *n = f->metrics[m].name;
        if (!is_identifier(n) || strcmp(n, "step") == 0) {
            snprintf(err, errlen, "family %s: metric %d is named '%s' (a C identifier other than "
                     "'step' expected)", f->name, m, n ? n : "(null)");
            return -1;
        }
        for (int k = 0; k < m; k++)
            if (strcmp(f->metrics[k].name, n) == 0) {
                snprintf(err, errlen, "family %s: metric '%s' is listed twice", f->name, n);
                return -1;
            }
    }
    static const char *const needed[] = {"train_loss", "train_acc", "test_acc"};
    for (int i = 0; i < 3; i++)
        if (model_metric_index(f, needed[i]) < 0) {
            snprintf(err, errlen, "family %s has no '%s' metric (every family traces "
                     "train_loss, train_acc and test_acc)", f->name, needed[i]);
            return -1;
        }
    for (int i = 0; i < f->n_params; i++)
        if (!is_identifier(f->params[i].name) || !f->params[i].section) {
            snprintf(err, errlen, "family %s: key %d has no valid name or section", f->name, i);
            return -1;
        }
    return 0;
}

/* Load the plugin at path (already resolved) or find it among those loaded. */
static int load_plugin(const char *path, const model_family_t **f, const char **source,
                       char *err, size_t errlen)
{
    char real[PATH_MAX], why[256];
    if (!realpath(path, real)) {
        snprintf(err, errlen, "plugin %s: no such file", path);
        return -1;
    }
    for (int i = 0; i < n_plugins; i++)
        if (strcmp(plugins[i].path, real) == 0) {
            *f = plugins[i].family;
            *source = plugins[i].path;
            return 0;
        }
    if (n_plugins == MAX_PLUGINS) {
        snprintf(err, errlen, "plugin %s: more than %d plugins in one process", path, MAX_PLUGINS);
        return -1;
    }
    void *h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(err, errlen, "plugin %s: cannot load it: %s", path, e ? e : "dlopen failed");
        return -1;
    }
    dlerror();
    const model_family_t *(*get)(void) = NULL;
    *(void **)&get = dlsym(h, ATTNSWEEP_PLUGIN_SYMBOL);
    if (!get) {
        snprintf(err, errlen, "plugin %s: not an attnsweep model (no symbol %s; define it with "
                 "ATTNSWEEP_MODEL_PLUGIN)", path, ATTNSWEEP_PLUGIN_SYMBOL);
        dlclose(h);
        return -1;
    }
    const model_family_t *fam = get();
    if (!fam || model_validate(fam, why, sizeof why) != 0) {
        snprintf(err, errlen, "plugin %s: %s", path, fam ? why : "it returned no family");
        dlclose(h);
        return -1;
    }
    if (model_find(fam->name)) {
        snprintf(err, errlen, "plugin %s: its family is named '%s' like a built-in one: rename it",
                 path, fam->name);
        dlclose(h);
        return -1;
    }
    snprintf(plugins[n_plugins].path, sizeof plugins[n_plugins].path, "%s", real);
    plugins[n_plugins].family = fam;
    *f = fam;
    *source = plugins[n_plugins++].path;
    return 0;
}

int model_resolve(const char *name, const char *base_dir, const model_family_t **f,
                  const char **source, char *err, size_t errlen)
{
    *f = NULL;
    *source = "built-in";
    if (strncmp(name, PLUGIN_PREFIX, strlen(PLUGIN_PREFIX)) != 0) {
        if ((*f = model_find(name))) return 0;
        int u = snprintf(err, errlen, "unknown model '%s'; built-in models:", name);
        for (int i = 0; model_families[i] && u >= 0 && (size_t)u < errlen; i++)
            u += snprintf(err + u, errlen - (size_t)u, "%s %s", i ? "," : "",
                          model_families[i]->name);
        if (u >= 0 && (size_t)u < errlen)
            snprintf(err + u, errlen - (size_t)u, "; or plugin:PATH.so for a plugin");
        return -1;
    }
    const char *path = name + strlen(PLUGIN_PREFIX);
    if (!*path) {
        snprintf(err, errlen, "plugin: needs the path of a shared object (plugin:PATH.so)");
        return -1;
    }
    char full[PATH_MAX];
    if (path[0] != '/' && base_dir && base_dir[0]) {
        if (snprintf(full, sizeof full, "%s/%s", base_dir, path) >= (int)sizeof full) {
            snprintf(err, errlen, "plugin %s: path too long", path);
            return -1;
        }
        path = full;
    }
    return load_plugin(path, f, source, err, errlen);
}
