/* grid — expands a loaded spec into runs (grid.h). The keys with more than one value are the
 * dimensions, in spec order; run id ↔ index vector is row-major with the last dimension fastest.
 * grid_init checks every run (param_check, then the family's cross-key check) and sums costs,
 * so that nothing starts when one cell of the grid is invalid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/grid.h"
#include "attnsweep/schema.h"

#define GRID_MAX_RUNS 10000000L

void grid_free(grid_t *g)
{
    if (!g) return;
    free(g->base);
    free(g->dim_def);
    free(g->dim_len);
    free((void *)g->dim_values);
    memset(g, 0, sizeof *g);
}

void grid_run_index(const grid_t *g, long id, int *idx)
{
    for (int d = g->n_dims - 1; d >= 0; d--) {
        idx[d] = (int)(id % g->dim_len[d]);
        id /= g->dim_len[d];
    }
}

void grid_run_params(const grid_t *g, long id, params_t *p)
{
    p->defs = g->defs;
    p->n = g->n_defs;
    memcpy(p->v, g->base, sizeof(double) * (size_t)g->n_defs);
    for (int d = g->n_dims - 1; d >= 0; d--) {
        int i = (int)(id % g->dim_len[d]);
        id /= g->dim_len[d];
        if (g->dim_def[d] >= 0) {
            p->v[g->dim_def[d]] = g->dim_values[d][i];
            continue;
        }
        const spec_t *s = g->spec; /* a point: a tuple of the point keys */
        for (int k = 0; k < s->n_point_keys; k++)
            p->v[s->point_def[k]] = g->dim_values[d][(size_t)i * (size_t)s->n_point_keys + k];
    }
}

static double grid_cost_of(const grid_t *g, const params_t *p)
{
    const model_family_t *f = g->spec->family;
    return f->cost ? f->cost(p) : params_get(p, "steps");
}

double grid_run_cost(const grid_t *g, long id)
{
    params_t p;
    grid_run_params(g, id, &p);
    return grid_cost_of(g, &p);
}

/* "run 17 (vocab_size=10, embed_dim=20)" into buf. */
static void grid_describe_run(const grid_t *g, long id, char *buf, size_t len)
{
    params_t p;
    grid_run_params(g, id, &p);
    int u = snprintf(buf, len, "run %ld", id);
    for (int k = 0; k < g->n_swept && u >= 0 && (size_t)u < len; k++) {
        char v[64];
        const param_def_t *def = &g->defs[g->swept_def[k]];
        param_format(def, p.v[g->swept_def[k]], v, sizeof v);
        u += snprintf(buf + u, len - (size_t)u, "%s%s=%s", k ? ", " : " (", def->name, v);
    }
    if (g->n_swept && u >= 0 && (size_t)u < len) snprintf(buf + u, len - (size_t)u, ")");
}

/* The common keys' cross-key rule (the family's own are its check()): patience stops on
 * valid_acc, so the family must trace it. */
static int grid_check_common(const model_family_t *f, const params_t *p, char *err, size_t errlen)
{
    if (params_geti(p, "patience") > 0 && model_metric_index(f, "valid_acc") < 0) {
        snprintf(err, errlen, "patience: stops on valid_acc, which model %s does not trace; use "
                 "stop_when_converged, or patience = 0", f->name);
        return -1;
    }
    return 0;
}

/* Check every run (each value, then the family's cross-key rules) and sum the costs and the
 * trace length. 0, or -1 with err naming the first bad run and how many there are. */
static int grid_check_runs(grid_t *g, char *err, size_t errlen)
{
    const spec_t *s = g->spec;
    long n_bad = 0, first_bad = -1;
    char first_msg[512] = "";
    for (long id = 0; id < g->n_runs; id++) {
        params_t p;
        char msg[512];
        int bad = 0;
        grid_run_params(g, id, &p);
        for (int i = 0; i < g->n_defs && !bad; i++)
            bad = param_check(&g->defs[i], p.v[i], msg, sizeof msg) != 0;
        if (!bad) bad = grid_check_common(s->family, &p, msg, sizeof msg) != 0;
        if (!bad && s->family->check) {
            msg[0] = '\0';
            bad = s->family->check(&p, msg, sizeof msg) != 0;
        }
        if (bad) {
            if (first_bad < 0) {
                first_bad = id;
                snprintf(first_msg, sizeof first_msg, "%s", msg);
            }
            n_bad++;
            continue;
        }
        int np = schema_n_points(&p);
        if (np > g->n_points) g->n_points = np;
        g->total_cost += grid_cost_of(g, &p);
    }
    if (!n_bad) return 0;
    char run[512];
    grid_describe_run(g, first_bad, run, sizeof run);
    int u = snprintf(err, errlen, "%s: %s: %s", s->path, run, first_msg);
    if (n_bad > 1 && u >= 0 && (size_t)u < errlen)
        snprintf(err + u, errlen - (size_t)u, " (%ld of the %ld runs are invalid; this is the "
                 "first)", n_bad, g->n_runs);
    return -1;
}

int grid_init(grid_t *g, const spec_t *s, char *err, size_t errlen)
{
    int rc = -1;
    memset(g, 0, sizeof *g);
    g->spec = s;
    g->defs = s->defs;
    g->n_defs = s->n_defs;
    if (!s->family || !s->defs || s->n_defs > PARAM_MAX) {
        snprintf(err, errlen, "%s: the spec is not loaded", s->path ? s->path : "grid");
        goto cleanup;
    }
    g->base = malloc(sizeof(double) * (size_t)s->n_defs);
    g->dim_def = malloc(sizeof(int) * (size_t)(s->n_entries + 1));
    g->dim_len = malloc(sizeof(int) * (size_t)(s->n_entries + 1));
    g->dim_values = malloc(sizeof(double *) * (size_t)(s->n_entries + 1));
    if (!g->base || !g->dim_def || !g->dim_len || !g->dim_values) {
        snprintf(err, errlen, "%s: out of memory expanding the grid", s->path);
        goto cleanup;
    }
    for (int i = 0; i < s->n_defs; i++) g->base[i] = s->defs[i].def;
    g->n_runs = 1;
    if (s->n_points) { /* the [points] table is the first dimension */
        g->dim_def[0] = -1;
        g->dim_len[0] = s->n_points;
        g->dim_values[0] = s->points;
        g->n_dims = 1;
        g->n_runs = s->n_points;
        for (int k = 0; k < s->n_point_keys; k++) g->swept_def[g->n_swept++] = s->point_def[k];
    }
    for (int e = 0; e < s->n_entries; e++) {
        const spec_entry_t *en = &s->entries[e];
        if (en->n_values == 1) {
            g->base[en->def] = en->values[0];
            continue;
        }
        if (g->n_runs > GRID_MAX_RUNS / en->n_values) {
            snprintf(err, errlen, "%s: the grid has more than %ld runs (at key %s, %s); split "
                     "the sweep into several specs", s->path, GRID_MAX_RUNS, en->key, en->where);
            goto cleanup;
        }
        g->n_runs *= en->n_values;
        g->swept_def[g->n_swept++] = en->def;
        g->dim_def[g->n_dims] = en->def;
        g->dim_len[g->n_dims] = en->n_values;
        g->dim_values[g->n_dims] = en->values;
        g->n_dims++;
    }

    if (grid_check_runs(g, err, errlen) != 0) goto cleanup;
    rc = 0;
cleanup:
    if (rc) {
        grid_free(g);
        g->spec = s;
    }
    return rc;
}
