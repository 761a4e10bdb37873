/* reuse — copying finished runs of older results files into a new sweep (reuse.h). A run's
 * configuration is the vector of its keys' values as params_t holds them (enums as choice
 * indices, a file key as its path's index); OLD runs are put in a hash table by that vector, the new
 * runs looked up in it. A file key's path matches only when the file's content (its SHA-256, and
 * its companions', in the OLD file's data_files attribute) is the same as now. */
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/reuse.h"

/* Keys that may be absent from an OLD file: it was written before they existed, when their
 * default (off, no data file) was the only behaviour. */
static const char *const keys_off_before[] = {"stop_when_converged", "patience", "data_file",
                                              NULL};

void reuse_free(reuse_t *rp)
{
    for (int f = 0; f < rp->n_files; f++) free(rp->files[f]);
    free(rp->files);
    free(rp->per_file);
    free(rp->new_id);
    free(rp->old_id);
    free(rp->file);
    memset(rp, 0, sizeof *rp);
}

int reuse_files(reuse_t *rp, const char *const *patterns, int n_patterns, char *err,
                size_t errlen)
{
    for (int p = 0; p < n_patterns; p++) {
        glob_t gl;
        int rc = glob(patterns[p], GLOB_NOCHECK, NULL, &gl);
        if (rc != 0) {
            snprintf(err, errlen, "--reuse %s: cannot expand the pattern", patterns[p]);
            return -1;
        }
        char **more = realloc(rp->files, sizeof *more * (size_t)(rp->n_files + (int)gl.gl_pathc));
        if (!more) {
            globfree(&gl);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        rp->files = more;
        for (size_t i = 0; i < gl.gl_pathc; i++)
            if (!(rp->files[rp->n_files++] = strdup(gl.gl_pathv[i]))) {
                globfree(&gl);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        globfree(&gl);
    }
    if (!(rp->per_file = calloc((size_t)(rp->n_files ? rp->n_files : 1), sizeof *rp->per_file))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void note(reuse_t *rp, const char *file, const char *why)
{
    size_t u = strlen(rp->notes);
    snprintf(rp->notes + u, sizeof rp->notes - u, "%s%s: %s; none of its runs is reused",
             u ? "\n" : "", file, why);
}

/* ---- a hash table of configurations ----------------------------------------------------------- */

typedef struct {
    int n_defs;
    long cap;
    double *vec;      /* [cap][n_defs] */
    long *old_id;     /* [cap], -1 empty */
    int *file;        /* [cap] */
    long n;
} table_t;

static uint64_t hash(const double *v, int n)
{
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *b = (const unsigned char *)v;
    for (size_t i = 0; i < sizeof(double) * (size_t)n; i++) h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static long slot(const table_t *t, const double *v)
{
    long i = (long)(hash(v, t->n_defs) % (uint64_t)t->cap);
    while (t->old_id[i] >= 0 &&
           memcmp(t->vec + (size_t)i * (size_t)t->n_defs, v, sizeof(double) * (size_t)t->n_defs))
        i = (i + 1) % t->cap;
    return i;
}

/* Add (file, id) under v unless v is there already (an earlier file, or a lower id, wins). */
static void put(table_t *t, const double *v, int file, long id)
{
    long i = slot(t, v);
    if (t->old_id[i] >= 0) return;
    memcpy(t->vec + (size_t)i * (size_t)t->n_defs, v, sizeof(double) * (size_t)t->n_defs);
    t->old_id[i] = id;
    t->file[i] = file;
    t->n++;
}

/* The configuration vector of params p: -0 and 0 are one value. */
static void config_of(const params_t *p, double *v)
{
    for (int i = 0; i < p->n; i++) v[i] = p->v[i] == 0 ? 0.0 : p->v[i];
}

/* 1 if OLD file r can give runs to the sweep g, else 0 with the reason noted. */
static int compatible(reuse_t *rp, int f, h5out_reader_t *r, const grid_t *g)
{
    const h5out_info_t *in = h5out_reader_info(r);
    const model_family_t *fam = g->spec->family;
    char why[512], extra[128], metrics[4096] = "";
    for (int m = 0; m < fam->n_metrics; m++) {
        size_t u = strlen(metrics);
        snprintf(metrics + u, sizeof metrics - u, "%s%s", m ? "," : "", fam->metrics[m].name);
    }
    if (strcmp(in->model, fam->name) != 0)
        snprintf(why, sizeof why, "model %s, not %s", in->model, fam->name);
    else if (strcmp(in->metrics, metrics) != 0)
        snprintf(why, sizeof why, "its traces are %s, this build's are %s", in->metrics, metrics);
    else if (h5out_reader_extra_key(r, g->defs, g->n_defs, extra, sizeof extra))
        snprintf(why, sizeof why, "it has a key this build does not know ('%s')", extra);
    else
        return 1;
    note(rp, rp->files[f], why);
    return 0;
}

/* Every key's value for every run of r into vals [n_defs][n_runs]; 1 ok, 0 a key is missing
 * (noted), -1 a read error. */
static int read_keys(reuse_t *rp, int f, h5out_reader_t *r, const grid_t *g, double *vals)
{
    long n = h5out_reader_info(r)->n_runs;
    for (int d = 0; d < g->n_defs; d++) {
        double *v = vals + (size_t)d * (size_t)n;
        int got = h5out_reader_key(r, &g->defs[d], v);
        if (got < 0) return -1;
        if (got == 1) continue;
        int off = 0;
        for (int k = 0; keys_off_before[k]; k++) off |= strcmp(keys_off_before[k], g->defs[d].name) == 0;
        if (!off) {
            char why[256];
            snprintf(why, sizeof why, "it has no key '%s' (an older attnsweep wrote it)",
                     g->defs[d].name);
            note(rp, rp->files[f], why);
            return 0;
        }
        for (long i = 0; i < n; i++) v[i] = 0.0;
    }
    return 1;
}

/* A file key's values whose data an OLD file's runs did not train on (another SHA-256, or none
 * recorded) become NaN in vals [n_defs][n_runs]: those runs are not reused (noted). */
static void drop_changed_files(reuse_t *rp, int f, const h5out_info_t *in, const grid_t *g,
                               double *vals)
{
    char now[16384], then[16384];
    long n = in->n_runs;
    for (int d = 0; d < g->n_defs; d++) {
        const param_def_t *def = &g->defs[d];
        for (int c = 1; def->type == PARAM_FILE && c < param_n_choices(def); c++) {
            spec_data_lines(g->spec->data_files, def->choices[c], now, sizeof now);
            spec_data_lines(in->data_files, def->choices[c], then, sizeof then);
            if (!strcmp(now, then)) continue;
            long dropped = 0;
            for (long i = 0; i < n; i++)
                if (vals[(size_t)d * (size_t)n + (size_t)i] == c) {
                    vals[(size_t)d * (size_t)n + (size_t)i] = NAN;
                    dropped++;
                }
            if (!dropped) continue;
            char why[PATH_MAX + 160];
            snprintf(why, sizeof why, "its %ld runs with %s = %s trained on other content of "
                     "that data (SHA-256 differs)", dropped, def->name, def->choices[c]);
            size_t u = strlen(rp->notes);
            snprintf(rp->notes + u, sizeof rp->notes - u, "%s%s: %s; they are trained again",
                     u ? "\n" : "", rp->files[f], why);
        }
    }
}

/* File f's finished, intact runs into the table. 0 ok (or the file noted and skipped), -1 err. */
static int add_file(reuse_t *rp, int f, const grid_t *g, table_t *t, char *err, size_t errlen)
{
    h5out_reader_t *r = NULL;
    double *vals = NULL, *v = NULL;
    char e[1024];
    int rc = -1;
    if (h5out_reader_open(&r, rp->files[f], e, sizeof e) != 0) {
        snprintf(err, errlen, "--reuse %s", e);
        return -1;
    }
    const h5out_info_t *in = h5out_reader_info(r);
    long n = in->n_runs;
    if (!compatible(rp, f, r, g)) {
        rc = 0;
        goto cleanup;
    }
    vals = malloc(sizeof *vals * (size_t)g->n_defs * (size_t)(n > 0 ? n : 1));
    v = malloc(sizeof *v * (size_t)g->n_defs);
    if (!vals || !v) {
        snprintf(err, errlen, "out of memory reading %s", rp->files[f]);
        goto cleanup;
    }
    int got = read_keys(rp, f, r, g, vals);
    if (got < 0) snprintf(err, errlen, "--reuse %s: cannot read its parameters", rp->files[f]);
    if (got <= 0) {
        rc = got;
        goto cleanup;
    }
    drop_changed_files(rp, f, in, g, vals);
    for (long id = 0; id < n; id++) {
        int ok = (in->status[id] == RUN_DONE || in->status[id] == RUN_DIVERGED) && in->crc_ok[id];
        for (int d = 0; d < g->n_defs && ok; d++) {
            v[d] = vals[(size_t)d * (size_t)n + (size_t)id];
            if (v[d] == 0) v[d] = 0.0; /* -0 */
            ok = !isnan(v[d]);
        }
        if (ok) put(t, v, f, id);
    }
    rc = 0;
cleanup:
    free(vals);
    free(v);
    h5out_reader_close(r);
    return rc;
}

static int push(reuse_t *rp, long new_id, long old_id, int file)
{
    long *a = realloc(rp->new_id, sizeof *a * (size_t)(rp->n + 1)),
         *b = a ? realloc(rp->old_id, sizeof *b * (size_t)(rp->n + 1)) : NULL;
    if (a) rp->new_id = a;
    if (b) rp->old_id = b;
    int *c = b ? realloc(rp->file, sizeof *c * (size_t)(rp->n + 1)) : NULL;
    if (!c) return -1;
    rp->file = c;
    rp->new_id[rp->n] = new_id, rp->old_id[rp->n] = old_id, rp->file[rp->n] = file;
    rp->n++;
    rp->per_file[file]++;
    return 0;
}

int reuse_match(reuse_t *rp, const grid_t *g, long *todo, long *n_todo, char *err,
                size_t errlen)
{
    table_t t = {.n_defs = g->n_defs};
    double *v = malloc(sizeof *v * (size_t)g->n_defs);
    long total = 0, kept = 0;
    int rc = -1;
    double t0 = util_now();
    for (int f = 0; f < rp->n_files; f++) {
        h5out_info_t in;
        char e[1024];
        if (h5out_inspect(rp->files[f], 0, &in, e, sizeof e) != 0) {
            snprintf(err, errlen, "--reuse %s", e);
            goto cleanup;
        }
        total += in.n_runs;
        h5out_info_free(&in);
    }
    t.cap = 2 * total + 1;
    t.vec = malloc(sizeof *t.vec * (size_t)t.cap * (size_t)g->n_defs);
    t.old_id = malloc(sizeof *t.old_id * (size_t)t.cap);
    t.file = malloc(sizeof *t.file * (size_t)t.cap);
    if (!v || !t.vec || !t.old_id || !t.file) {
        snprintf(err, errlen, "out of memory for the runs of the --reuse files");
        goto cleanup;
    }
    for (long i = 0; i < t.cap; i++) t.old_id[i] = -1;
    for (int f = 0; f < rp->n_files; f++)
        if (add_file(rp, f, g, &t, err, errlen) != 0) goto cleanup;
    for (long k = 0; k < *n_todo; k++) {
        params_t p;
        grid_run_params(g, todo[k], &p);
        config_of(&p, v);
        long s = t.n ? slot(&t, v) : -1;
        if (s >= 0 && t.old_id[s] >= 0) {
            if (push(rp, todo[k], t.old_id[s], t.file[s]) != 0) {
                snprintf(err, errlen, "out of memory");
                goto cleanup;
            }
        } else {
            todo[kept++] = todo[k];
        }
    }
    *n_todo = kept;
    rp->match_seconds = util_now() - t0;
    rc = 0;
cleanup:
    free(v);
    free(t.vec);
    free(t.old_id);
    free(t.file);
    return rc;
}

int reuse_copy(const reuse_t *rp, const grid_t *g, h5out_t *out, int rank, int size, char *err,
               size_t errlen)
{
    int nm = g->spec->family->n_metrics, rc = 0;
    h5out_reader_t **rd = calloc((size_t)(rp->n_files ? rp->n_files : 1), sizeof *rd);
    float *trace = malloc(sizeof *trace * (size_t)nm * (size_t)(g->n_points ? g->n_points : 1));
    char e[1024];
    if (!rd || !trace) {
        snprintf(err, errlen, "rank %d: out of memory copying runs", rank);
        rc = -1;
    }
    for (long k = rank; rc == 0 && k < rp->n; k += size) {
        int f = rp->file[k];
        h5out_summary_t s;
        if (!rd[f] && h5out_reader_open(&rd[f], rp->files[f], e, sizeof e) != 0) {
            snprintf(err, errlen, "rank %d: --reuse %s", rank, e);
            rc = -1;
        } else if (h5out_reader_record(rd[f], rp->old_id[k], g->n_points, trace, &s, e, sizeof e)) {
            snprintf(err, errlen, "rank %d: %s: %s", rank, rp->files[f], e);
            rc = -1;
        } else {
            s.trace_crc32 = util_crc32(trace, sizeof(float) * (size_t)nm * (size_t)g->n_points);
            s.reuse_id = rp->old_id[k];
            snprintf(s.reuse_file, sizeof s.reuse_file, "%s", rp->files[f]);
            if (h5out_write_record(out, rp->new_id[k], trace, &s, e, sizeof e) != 0) {
                snprintf(err, errlen, "rank %d, run %ld: %s", rank, rp->new_id[k], e);
                rc = -1;
            }
        }
    }
    for (int f = 0; rd && f < rp->n_files; f++) h5out_reader_close(rd[f]);
    free(rd);
    free(trace);
    return rc;
}
