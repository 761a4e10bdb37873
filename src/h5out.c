/* h5out — writes the sweep's shared HDF5 file (guarantees in h5out.h, layout in
 * docs/file-format.md). Creation is collective into NAME.partial and ends with one flush, a close
 * and a rename, so a file under its name always has its whole layout; after creation the
 * metadata never changes (contiguous datasets allocated early with fill values, no timestamps),
 * so a kill -9 at any moment leaves a file that reopens with every committed run intact. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include "h5out_layout.h"

#define METADATA_BYTES 640.0 /* object header and attributes of one dataset (measured) */

struct h5out {
    hid_t file;
    int version; /* the file's format version: a version-1 file lacks the later summaries */
    long n_runs;
    int n_points, n_metrics;    /* the file's metrics: those it was created with */
    char *names;                /* its root attribute metrics, while opening */
    int col[MODEL_MAX_METRICS]; /* the trace column of each (1 + the family's metric index) */
    int n_family;               /* the family's metrics */
    h5out_sets_t sets; /* the datasets a run is written into */
    float *buf;        /* [n_family × n_points] one packed trace */
    float *rows;       /* [n_metrics × n_points] the rows the file stores of it */
};

/* ---- attributes and datasets ------------------------------------------------------------------ */

static int attr_str(hid_t loc, const char *name, const char *value)
{
    int rc = -1;
    hid_t t = -1, sp = -1, a = -1;
    if ((t = h5out_str_type(strlen(value) + 1)) < 0) goto cleanup;
    if ((sp = H5Screate(H5S_SCALAR)) < 0) goto cleanup;
    if ((a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto cleanup;
    if (H5Awrite(a, t, value) < 0) goto cleanup;
    rc = 0;
cleanup:
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* An integer attribute of file type ftype: a scalar (n = 0) or n values. */
static int attr_ints(hid_t loc, const char *name, hid_t ftype, const int64_t *v, int n)
{
    int rc = -1;
    hsize_t dims[1] = {(hsize_t)n};
    hid_t sp = -1, a = -1;
    if ((sp = n ? H5Screate_simple(1, dims, NULL) : H5Screate(H5S_SCALAR)) < 0) goto cleanup;
    if ((a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto cleanup;
    if (H5Awrite(a, H5T_NATIVE_INT64, v) < 0) goto cleanup;
    rc = 0;
cleanup:
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int attr_i64(hid_t loc, const char *name, int64_t v, hid_t ftype)
{
    return attr_ints(loc, name, ftype, &v, 0);
}

/* The CF description of a dataset: long_name and help (the same one line), units if any, the
 * swept keys as its coordinates if any. */
static int describe(hid_t ds, const char *what, const char *units, const char *coords)
{
    const char *w = what && what[0] ? what : "(no description)";
    if (attr_str(ds, "long_name", w) < 0 || attr_str(ds, "help", w) < 0) return -1;
    if (units && attr_str(ds, "units", units) < 0) return -1;
    if (coords && coords[0] && attr_str(ds, "coordinates", coords) < 0) return -1;
    return 0;
}

/* A dataset of ftype and dims, allocated now, filled with *fill (memory type mtype). */
static hid_t dataset_new(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                         hid_t mtype, const void *fill)
{
    hid_t sp = -1, dcpl = -1, ds = -1;
    if ((sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR)) < 0) goto cleanup;
    if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) goto cleanup;
    if (H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 ||
        (fill && H5Pset_fill_value(dcpl, mtype, fill) < 0))
        goto cleanup;
    ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
cleanup:
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ds;
}

/* Comma- or space-separated names into a malloc'd string. */
static char *join_names(const char *const *names, int n, const char *sep)
{
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(names[i]) + strlen(sep);
    char *s = malloc(len);
    if (!s) return NULL;
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i) strcat(s, sep);
        strcat(s, names[i]);
    }
    return s;
}

/* Bytes of the fixed-length strings of a text key's column: its longest choice, and its NUL. */
static long enum_len(const param_def_t *d)
{
    size_t len = 1;
    for (int c = 0; d->choices && d->choices[c]; c++)
        if (strlen(d->choices[c]) + 1 > len) len = strlen(d->choices[c]) + 1;
    return (long)len;
}

double h5out_estimate_bytes(const grid_t *g)
{
    const model_family_t *f = g->spec->family;
    double per_run = 4.0 * f->n_metrics * g->n_points + 8; /* float32 traces, the run id */
    for (int i = 0; i < g->n_defs; i++)
        per_run += param_is_text(&g->defs[i]) ? (double)enum_len(&g->defs[i]) : 8.0;
    for (int s = 0; s < S_N; s++) per_run += (double)h5out_kind_bytes(h5out_summaries[s].kind);
    double datasets = g->n_defs + S_N + f->n_metrics + 3;
    return per_run * (double)g->n_runs + 8.0 * g->n_points +
           (double)(g->spec->text ? strlen(g->spec->text) : 0) + METADATA_BYTES * datasets;
}

/* ---- creation ---------------------------------------------------------------------------------- */

/* Everything creation needs, the same on every rank. */
typedef struct {
    const grid_t *g;
    int rank;
    hid_t file, runs, traces, run_scale, step_scale;
    char *swept;  /* the swept keys, space-separated: the datasets' coordinates */
    char err[512];
} build_t;

static int is_swept(const grid_t *g, int def)
{
    for (int k = 0; k < g->n_swept; k++)
        if (g->swept_def[k] == def) return 1;
    return 0;
}

static int fail(build_t *b, const char *fmt, const char *what)
{
    snprintf(b->err, sizeof b->err, fmt, what);
    return -1;
}

static int write_root(build_t *b, const h5out_meta_t *meta)
{
    const spec_t *s = b->g->spec;
    const model_family_t *f = s->family;
    const char *names[PARAM_MAX], *mnames[MODEL_MAX_METRICS];
    for (int k = 0; k < b->g->n_swept; k++) names[k] = b->g->defs[b->g->swept_def[k]].name;
    for (int m = 0; m < f->n_metrics; m++) mnames[m] = f->metrics[m].name;
    char *swept = join_names(names, b->g->n_swept, ","), *metrics = join_names(mnames, f->n_metrics, ",");
    b->swept = join_names(names, b->g->n_swept, " ");
    int rc = swept && metrics && b->swept &&
             attr_i64(b->file, "format_version", H5OUT_FORMAT_VERSION, H5T_STD_I32LE) == 0 &&
             attr_str(b->file, "Conventions", "CF-1.8") == 0 &&
             attr_str(b->file, "title", "attnsweep results") == 0 &&
             attr_str(b->file, "attnsweep_version", ATTNSWEEP_VERSION) == 0 &&
             attr_str(b->file, "spec_sha256", s->sha256) == 0 &&
             attr_str(b->file, "spec_path", s->path ? s->path : "") == 0 &&
             attr_str(b->file, "created_utc", meta->created_utc) == 0 &&
             attr_i64(b->file, "mpi_size", meta->mpi_size, H5T_STD_I32LE) == 0 &&
             attr_str(b->file, "hostname", meta->hostname) == 0 &&
             attr_str(b->file, "command_line", meta->command_line) == 0 &&
             attr_str(b->file, "model", f->name) == 0 &&
             attr_str(b->file, "model_source", s->family_source ? s->family_source : "built-in") == 0 &&
             attr_i64(b->file, "n_runs", b->g->n_runs, H5T_STD_I64LE) == 0 &&
             attr_str(b->file, "swept", swept) == 0 && attr_str(b->file, "metrics", metrics) == 0 &&
             (!s->data_files || !s->data_files[0] ||
              attr_str(b->file, "data_files", s->data_files) == 0)
                 ? 0 : fail(b, "HDF5: cannot write the root attributes%s", "");
    free(swept);
    free(metrics);
    return rc;
}

/* /spec: the canonical spec text, one scalar UTF-8 string (written by rank 0). */
static int write_spec(build_t *b)
{
    const char *text = b->g->spec->text ? b->g->spec->text : "";
    hid_t t = h5out_str_type(strlen(text) + 1), ds = -1;
    int rc = -1;
    if (t >= 0 && (ds = dataset_new(b->file, "spec", t, 0, NULL, t, NULL)) >= 0 &&
        describe(ds, "the spec's canonical text (file, then one '# --set' line per override)",
                 NULL, NULL) == 0 && attr_str(ds, "_Encoding", "utf-8") == 0 &&
        (b->rank != 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) >= 0))
        rc = 0;
    if (ds >= 0) H5Dclose(ds);
    if (t >= 0) H5Tclose(t);
    return rc ? fail(b, "HDF5: cannot write /spec%s", "") : 0;
}

/* /runs/run: the run ids, the dimension scale "run" of every /runs and /traces dataset. */
static int write_run_scale(build_t *b)
{
    hsize_t n = (hsize_t)b->g->n_runs;
    int64_t *ids = NULL;
    int rc = -1;
    b->run_scale = dataset_new(b->runs, "run", H5T_STD_I64LE, 1, &n, H5T_NATIVE_INT64, NULL);
    if (b->run_scale < 0 || H5DSset_scale(b->run_scale, "run") < 0 ||
        describe(b->run_scale, "run id: the run's row-major position in the grid", NULL, NULL) < 0)
        return fail(b, "HDF5: cannot create /runs/run%s", "");
    if (b->rank == 0) {
        if (!(ids = malloc(sizeof *ids * (size_t)(n ? n : 1))))
            return fail(b, "out of memory for the run ids%s", "");
        for (hsize_t i = 0; i < n; i++) ids[i] = (int64_t)i;
        rc = h5out_rows_io(b->run_scale, H5T_NATIVE_INT64, 0, (long)n, 0, ids, 1);
        free(ids);
        if (rc < 0) return fail(b, "HDF5: cannot write /runs/run%s", "");
    }
    return 0;
}

/* Key i's value for every run, as the file stores it (rank 0), into buf (n_runs elements of
 * elem bytes: int64, double, or a string of elem bytes). */
static void param_column(const grid_t *g, int i, size_t elem, void *buf)
{
    const param_def_t *d = &g->defs[i];
    for (long id = 0; id < g->n_runs; id++) {
        params_t p;
        grid_run_params(g, id, &p);
        double v = p.v[i];
        if (param_is_text(d)) {
            int c = (int)v;
            if (c >= 0 && c < param_n_choices(d) && d->choices)
                memcpy((char *)buf + (size_t)id * elem, d->choices[c], strlen(d->choices[c]));
        } else if (d->type == PARAM_REAL) {
            ((double *)buf)[id] = v;
        } else {
            ((int64_t *)buf)[id] = (int64_t)llround(v);
        }
    }
}

/* /runs/<key> for key i: its value for every run, attached to the run scale. */
static int write_param(build_t *b, int i)
{
    const param_def_t *d = &b->g->defs[i];
    hsize_t n = (hsize_t)b->g->n_runs;
    int text = param_is_text(d);
    size_t elem = text ? (size_t)enum_len(d) : 8;
    hid_t ft = text ? h5out_str_type(elem)
               : H5Tcopy(d->type == PARAM_REAL ? H5T_IEEE_F64LE : H5T_STD_I64LE);
    hid_t mt = text ? H5Tcopy(ft)
               : H5Tcopy(d->type == PARAM_REAL ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64);
    hid_t ds = ft < 0 || mt < 0 ? -1 : dataset_new(b->runs, d->name, ft, 1, &n, mt, NULL);
    void *buf = NULL;
    int rc = ds >= 0 && H5DSattach_scale(ds, b->run_scale, 0) >= 0 &&
             describe(ds, d->help, d->units, NULL) == 0 && attr_str(ds, "section", d->section) == 0 &&
             attr_i64(ds, "swept", is_swept(b->g, i), H5T_STD_I32LE) == 0 &&
             (!text || attr_str(ds, "_Encoding", "utf-8") == 0)
                 ? 0 : fail(b, "HDF5: cannot create /runs/%s", d->name);
    if (rc == 0 && b->rank == 0) {
        if (!(buf = calloc((size_t)(n ? n : 1), elem))) rc = fail(b, "out of memory writing /runs/%s", d->name);
        else param_column(b->g, i, elem, buf);
        if (rc == 0 && h5out_rows_io(ds, mt, 0, (long)n, 0, buf, 1) < 0)
            rc = fail(b, "HDF5: cannot write /runs/%s", d->name);
    }
    free(buf);
    if (ds >= 0) H5Dclose(ds);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    return rc;
}

/* A value of kind in an aligned buffer (fill values). */
typedef union {
    int8_t i8;
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    double f64;
    char s[H5OUT_MESSAGE_LEN];
} value_t;

static void value_set(value_t *v, int kind, double x)
{
    memset(v, 0, sizeof *v);
    switch (kind) {
    case K_I8: v->i8 = (int8_t)x; break;
    case K_I32: v->i32 = (int32_t)x; break;
    case K_U32: v->u32 = (uint32_t)x; break;
    case K_I64: v->i64 = (int64_t)x; break;
    case K_F64: v->f64 = x; break;
    default: break;
    }
}

/* /runs/<summary> for summary s, at its fill value; status with its CF flags. */
static int write_summary(build_t *b, int s)
{
    const h5out_summary_def_t *sd = &h5out_summaries[s];
    hsize_t n = (hsize_t)b->g->n_runs;
    value_t fill;
    value_set(&fill, sd->kind, sd->fill);
    hid_t ft = h5out_kind_type(sd->kind, 1), mt = h5out_kind_type(sd->kind, 0);
    /* Strings keep HDF5's default fill (zero bytes, the same empty text): netCDF-C cannot open a
     * file whose fixed-length strings have a fill value of their own. */
    hid_t ds = ft < 0 || mt < 0 ? -1 : dataset_new(b->runs, sd->name, ft, 1, &n, mt,
                                                  sd->kind >= K_HOST ? NULL : &fill);
    static const int64_t flags[RUN_N_STATUS] = {0, 1, 2, 3, 4};
    int rc = ds >= 0 && H5DSattach_scale(ds, b->run_scale, 0) >= 0 &&
             describe(ds, sd->long_name, sd->units, b->swept) == 0 &&
             (sd->kind < K_HOST || attr_str(ds, "_Encoding", "utf-8") == 0) &&
             (s != S_STATUS ||
              (attr_ints(ds, "flag_values", H5T_STD_I8LE, flags, RUN_N_STATUS) == 0 &&
               attr_str(ds, "flag_meanings", H5OUT_STATUS_MEANINGS) == 0))
                 ? 0 : fail(b, "HDF5: cannot create /runs/%s", sd->name);
    if (ds >= 0) H5Dclose(ds);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    return rc;
}

/* /traces: the step scale, links to /runs/run and to the swept keys (so that the group alone
 * has its coordinates), and one float32 [run, step] dataset per metric, all NaN. */
static int write_traces(build_t *b)
{
    const model_family_t *f = b->g->spec->family;
    hsize_t np = (hsize_t)b->g->n_points, dims[2] = {(hsize_t)b->g->n_runs, np};
    int64_t fill_step = -1, *steps = NULL;
    float nan_fill = NAN;
    b->step_scale = dataset_new(b->traces, "step", H5T_STD_I64LE, 1, &np, H5T_NATIVE_INT64, &fill_step);
    if (b->step_scale < 0 || H5DSset_scale(b->step_scale, "step") < 0 ||
        describe(b->step_scale, "optimiser step of each trace point", "1", NULL) < 0 ||
        H5Lcreate_hard(b->runs, "run", b->traces, "run", H5P_DEFAULT, H5P_DEFAULT) < 0)
        return fail(b, "HDF5: cannot create /traces/step%s", "");
    for (int d = 0; d < b->g->n_swept; d++) {
        const char *k = b->g->defs[b->g->swept_def[d]].name;
        if (H5Lcreate_hard(b->runs, k, b->traces, k, H5P_DEFAULT, H5P_DEFAULT) < 0)
            return fail(b, "HDF5: cannot link /traces/%s", k);
    }
    for (int m = 0; m < f->n_metrics; m++) {
        const metric_def_t *md = &f->metrics[m];
        hid_t ds = dataset_new(b->traces, md->name, H5T_IEEE_F32LE, 2, dims, H5T_NATIVE_FLOAT, &nan_fill);
        int ok = ds >= 0 && H5DSattach_scale(ds, b->run_scale, 0) >= 0 &&
                 H5DSattach_scale(ds, b->step_scale, 1) >= 0 &&
                 describe(ds, md->help, md->units, b->swept) == 0;
        if (ds >= 0) H5Dclose(ds);
        if (!ok) return fail(b, "HDF5: cannot create /traces/%s", md->name);
    }
    if (b->rank != 0) return 0;
    long every = lround(b->g->base[param_index(b->g->defs, b->g->n_defs, "log_every")]);
    if (!(steps = malloc(sizeof *steps * (size_t)(np ? np : 1))))
        return fail(b, "out of memory%s", "");
    for (hsize_t i = 0; i < np; i++) steps[i] = (int64_t)i * every;
    int rc = h5out_rows_io(b->step_scale, H5T_NATIVE_INT64, 0, (long)np, 0, steps, 1);
    free(steps);
    return rc < 0 ? fail(b, "HDF5: cannot write /traces/step%s", "") : 0;
}

/* The whole layout into b->file (collective); b->err says what failed. */
static int build_file(build_t *b, const h5out_meta_t *meta)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    int rc = -1;
    if (gcpl < 0 || H5Pset_obj_track_times(gcpl, 0) < 0 ||
        (b->runs = H5Gcreate2(b->file, "runs", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0 ||
        (b->traces = H5Gcreate2(b->file, "traces", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0) {
        fail(b, "HDF5: cannot create the groups /runs and /traces%s", "");
        goto cleanup;
    }
    if (write_root(b, meta) || write_spec(b) || write_run_scale(b)) goto cleanup;
    for (int i = 0; i < b->g->n_defs; i++)
        if (write_param(b, i)) goto cleanup;
    for (int s = 0; s < S_N; s++)
        if (write_summary(b, s)) goto cleanup;
    if (write_traces(b)) goto cleanup;
    if (H5Fflush(b->file, H5F_SCOPE_GLOBAL) < 0) {
        fail(b, "HDF5: cannot flush the new file%s", "");
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (b->step_scale >= 0) H5Dclose(b->step_scale);
    if (b->run_scale >= 0) H5Dclose(b->run_scale);
    if (b->traces >= 0) H5Gclose(b->traces);
    if (b->runs >= 0) H5Gclose(b->runs);
    if (gcpl >= 0) H5Pclose(gcpl);
    return rc;
}

static hid_t mpio_fapl(MPI_Comm comm)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    if (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

/* Broadcast rank 0's string; *out is malloc'd on every rank. */
static int bcast_str(MPI_Comm comm, const char *in, char **out)
{
    int rank;
    unsigned long len = 0;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) return -1;
    if (rank == 0) len = in ? strlen(in) : 0;
    if (MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG, 0, comm) != MPI_SUCCESS) return -1;
    if (!(*out = malloc(len + 1))) return -1;
    if (rank == 0 && len) memcpy(*out, in, len);
    (*out)[len] = '\0';
    return len && MPI_Bcast(*out, (int)len, MPI_CHAR, 0, comm) != MPI_SUCCESS ? -1 : 0;
}

/* Every rank's rc to all: 0 if all are 0, else the smallest. */
static int agree(MPI_Comm comm, int rc)
{
    int all = rc;
    if (MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) return -1;
    return all;
}

void h5out_partial_path(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "%s.partial", path);
}

/* Build path.partial collectively and close it. 0 ok; <0 with err (same on every rank). */
static int create_partial(const char *partial, MPI_Comm comm, const grid_t *g,
                          const h5out_meta_t *meta, char *err, size_t errlen)
{
    build_t b = {.g = g, .file = -1, .runs = -1, .traces = -1, .run_scale = -1, .step_scale = -1};
    h5out_meta_t m = {.mpi_size = meta->mpi_size};
    char *cmd = NULL, *utc = NULL, *host = NULL;
    hid_t fapl = -1;
    int rc = -1;
    if (MPI_Comm_rank(comm, &b.rank) != MPI_SUCCESS || bcast_str(comm, meta->command_line, &cmd) ||
        bcast_str(comm, meta->created_utc, &utc) || bcast_str(comm, meta->hostname, &host)) {
        snprintf(b.err, sizeof b.err, "MPI_Bcast of the file's attributes failed");
        goto cleanup;
    }
    m.command_line = cmd, m.created_utc = utc, m.hostname = host;
    if ((fapl = mpio_fapl(comm)) < 0) {
        snprintf(b.err, sizeof b.err, "HDF5: cannot set up MPI-IO file access");
        goto cleanup;
    }
    if ((b.file = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        snprintf(b.err, sizeof b.err, "cannot create it (directory missing or not writable?)");
        goto cleanup;
    }
    rc = build_file(&b, &m);
cleanup:
    if (b.file >= 0 && H5Fclose(b.file) < 0 && rc == 0) {
        snprintf(b.err, sizeof b.err, "HDF5: closing it failed");
        rc = -1;
    }
    if (fapl >= 0) H5Pclose(fapl);
    free(b.swept);
    free(cmd);
    free(utc);
    free(host);
    if (agree(comm, rc) != 0) {
        snprintf(err, errlen, "creating %s failed%s%s", partial, b.err[0] ? ": " : " on another rank",
                 b.err);
        return -1;
    }
    return 0;
}

int h5out_create(h5out_t **out, const char *path, MPI_Comm comm, const grid_t *g,
                 const h5out_meta_t *meta, char *err, size_t errlen)
{
    char partial[4096];
    int rank, rc;
    h5out_quiet();
    *out = NULL;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Comm_rank failed");
        return -1;
    }
    h5out_partial_path(path, partial, sizeof partial);
    if (g->spec->family->n_metrics > MODEL_MAX_METRICS) {
        snprintf(err, errlen, "model %s has %d metrics, at most %d are supported",
                 g->spec->family->name, g->spec->family->n_metrics, MODEL_MAX_METRICS);
        return -1;
    }
    if (create_partial(partial, comm, g, meta, err, errlen) != 0) {
        if (rank == 0) unlink(partial);
        return -1;
    }
    /* Complete and closed on every rank: only now does the file get its name. */
    rc = rank == 0 && rename(partial, path) != 0 ? -1 : 0;
    if (MPI_Bcast(&rc, 1, MPI_INT, 0, comm) != MPI_SUCCESS || rc != 0) {
        snprintf(err, errlen, "cannot rename %s to %s", partial, path);
        return -1;
    }
    return h5out_open(out, path, comm, g, err, errlen);
}

/* ---- writing ----------------------------------------------------------------------------------- */

static void h5out_free(h5out_t *h)
{
    if (!h) return;
    free(h->names);
    h5out_sets_close(&h->sets);
    if (h->file >= 0) H5Fclose(h->file);
    free(h->buf);
    free(h);
}

static int read_version(hid_t file, int *version)
{
    hid_t a = H5Aopen(file, "format_version", H5P_DEFAULT);
    int rc = a >= 0 && H5Aread(a, H5T_NATIVE_INT, version) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    return rc;
}


/* The metrics the file holds (its root attribute metrics: a file keeps the metrics it was created
 * with, so a file an earlier version wrote goes on without the metrics added since) into names
 * and h->col. 0, or -1 with err when one of them is not the family's. */
static int file_metrics(h5out_t *h, const model_family_t *f, const char *path, const char **names,
                        char *err, size_t errlen)
{
    if (!(h->names = h5out_attr_str(h->file, "metrics"))) {
        snprintf(err, errlen, "%s: no root attribute metrics", path);
        return -1;
    }
    h->n_metrics = 0;
    for (char *save = NULL, *t = strtok_r(h->names, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int m = model_metric_index(f, t);
        if (m < 0 || h->n_metrics == MODEL_MAX_METRICS) {
            snprintf(err, errlen, "%s: it holds the trace %s, which model %s does not trace "
                     "(another version of the model wrote it)", path, t, f->name);
            return -1;
        }
        names[h->n_metrics] = t;
        h->col[h->n_metrics++] = 1 + m;
    }
    return 0;
}

int h5out_open(h5out_t **out, const char *path, MPI_Comm comm, const grid_t *g, char *err,
               size_t errlen)
{
    int rc = -1;
    hid_t fapl = -1;
    h5out_t *h = calloc(1, sizeof *h);
    h5out_quiet();
    *out = NULL;
    err[0] = '\0';
    if (!h) goto done;
    h->file = -1;
    h5out_sets_init(&h->sets);
    h->n_runs = g->n_runs;
    h->n_points = g->n_points;
    if ((fapl = mpio_fapl(comm)) < 0 || (h->file = H5Fopen(path, H5F_ACC_RDWR, fapl)) < 0) {
        snprintf(err, errlen, "cannot open %s for writing", path);
        goto done;
    }
    if (read_version(h->file, &h->version) != 0 || h->version < 1 ||
        h->version > H5OUT_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: no format_version this attnsweep writes (1 to %d)", path,
                 H5OUT_FORMAT_VERSION);
        goto done;
    }
    const char *names[MODEL_MAX_METRICS];
    if (file_metrics(h, g->spec->family, path, names, err, errlen) != 0) goto done;
    h->n_family = g->spec->family->n_metrics;
    if (!(h->buf = malloc(sizeof(float) * (size_t)h->n_family * (size_t)(h->n_points + 1))) ||
        !(h->rows = malloc(sizeof(float) * (size_t)h->n_metrics * (size_t)(h->n_points + 1)))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rc = h5out_sets_open(&h->sets, h->file, h->version, names, h->n_metrics, h->n_runs,
                         h->n_points, path, err, errlen);
    free(h->names);
    h->names = NULL;
done:
    if (fapl >= 0) H5Pclose(fapl);
    if (agree(comm, rc) != 0) {
        if (!err[0]) snprintf(err, errlen, "opening %s failed on another rank", path);
        h5out_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

static int write_one(h5out_t *h, int s, long id, const void *v)
{
    return h5out_rows_io(h->sets.summary[s], h->sets.mtype[s], id, 1, 0, (void *)v, 1);
}

int h5out_write_attempt(h5out_t *h, long id, int attempts, char *err, size_t errlen)
{
    int32_t a = attempts;
    h5out_quiet();
    if (id < 0 || id >= h->n_runs || write_one(h, S_ATT, id, &a) < 0) {
        snprintf(err, errlen, "HDF5: cannot write /runs/attempts[%ld]", id);
        return -1;
    }
    return 0;
}

uint32_t h5out_pack_trace(const trace_t *trace, int n_points, int n_metrics, float *buf)
{
    for (int m = 0; m < n_metrics; m++)
        for (int i = 0; i < n_points; i++) {
            float v = NAN;
            if (i < trace->n_filled && i < trace->n_points && 1 + m < trace->n_cols)
                v = (float)trace->rows[(size_t)i * (size_t)trace->n_cols + 1 + (size_t)m];
            buf[(size_t)m * (size_t)n_points + (size_t)i] = v;
        }
    return util_crc32(buf, sizeof(float) * (size_t)n_points * (size_t)n_metrics);
}

int h5out_write_record(h5out_t *h, long id, const float *trace, const h5out_summary_t *r,
                       char *err, size_t errlen)
{
    size_t np = (size_t)h->n_points;
    h5out_summary_t rec = *r;
    h5out_quiet();
    if (id < 0 || id >= h->n_runs) {
        snprintf(err, errlen, "run id %ld out of range [0, %ld)", id, h->n_runs);
        return -1;
    }
    for (int m = 0; m < h->n_metrics; m++) /* the file's metrics, in its order */
        memcpy(h->rows + (size_t)m * np, trace + (size_t)(h->col[m] - 1) * np, sizeof(float) * np);
    rec.trace_crc32 = util_crc32(h->rows, sizeof(float) * np * (size_t)h->n_metrics);
    for (int m = 0; m < h->n_metrics; m++)
        if (h5out_rows_io(h->sets.traces[m], H5T_NATIVE_FLOAT, id, 1, h->n_points,
                          h->rows + (size_t)m * np, 1) < 0) {
            snprintf(err, errlen, "HDF5: cannot write trace %d of run %ld", m, id);
            return -1;
        }
    for (int s = 0; s < S_N; s++) { /* S_STATUS is last: the commit */
        value_t v;
        if (h5out_summaries[s].since > h->version) continue;
        h5out_summary_get(&rec, s, &v);
        if (write_one(h, s, id, &v) < 0) {
            snprintf(err, errlen, "HDF5: cannot write /runs/%s[%ld]", h5out_summaries[s].name, id);
            return -1;
        }
    }
    return 0;
}

int h5out_write_run(h5out_t *h, long id, const trace_t *trace, const run_result_t *res,
                    int rank, const char *host, int attempts, uint32_t *crc_out, char *err,
                    size_t errlen)
{
    h5out_summary_t r = {
        .status = (int8_t)res->status, .final_train_loss = res->final_train_loss,
        .final_train_acc = res->final_train_acc, .final_test_acc = res->final_test_acc,
        .wall_seconds = res->wall_seconds, .steps_to_converge = res->steps_to_converge,
        .steps_done = res->steps_done, .n_points = trace->n_filled, .rank = rank,
        .attempts = attempts, .reuse_id = -1,
    };
    snprintf(r.host, sizeof r.host, "%s", host ? host : "");
    snprintf(r.message, sizeof r.message, "%s", res->message);
    h5out_pack_trace(trace, h->n_points, h->n_family, h->buf);
    int rc = h5out_write_record(h, id, h->buf, &r, err, errlen);
    if (crc_out) /* the CRC of the rows the file stores */
        *crc_out = util_crc32(h->rows, sizeof(float) * (size_t)h->n_points * (size_t)h->n_metrics);
    return rc;
}

int h5out_close(h5out_t *h, char *err, size_t errlen)
{
    h5out_quiet();
    if (!h) return 0;
    hid_t file = h->file;
    h->file = -1;
    h5out_free(h);
    if (file >= 0 && H5Fclose(file) < 0) {
        snprintf(err, errlen, "HDF5: closing the output file failed");
        return -1;
    }
    return 0;
}
