/* h5out — writes and reads the sweep's shared HDF5 file (guarantees in h5out.h). Creation is
 * collective and ends with one flush; after it the metadata never changes (contiguous datasets
 * allocated early with fill values, no timestamps, superblock v0), so a kill -9 at any moment
 * leaves a file that reopens with every committed run intact (data first, status last). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include "attnsweep/h5out.h"

#define MAX_METRICS MODEL_MAX_METRICS
#define METADATA_BYTES 640.0 /* object header and attributes of one dataset (measured) */
#define STATUS_CODES "0=pending,1=done,2=failed,3=diverged,4=interrupted"

/* The per-run summary datasets, in write order; status is written last (the commit). */
enum { K_I8, K_I32, K_U32, K_I64, K_F64, K_HOST, K_MSG };
enum {
    S_FTL, S_FTA, S_FTE, S_WALL, S_STC, S_STEPS, S_RANK, S_NPTS, S_ATT, S_CRC, S_HOST, S_MSG,
    S_STATUS, S_N
};
static const struct {
    const char *name;
    int kind;
    double fill;
} summary_sets[S_N] = {
    [S_FTL] = {"final_train_loss", K_F64, NAN},  [S_FTA] = {"final_train_acc", K_F64, NAN},
    [S_FTE] = {"final_test_acc", K_F64, NAN},    [S_WALL] = {"wall_seconds", K_F64, NAN},
    [S_STC] = {"steps_to_converge", K_I64, -1},  [S_STEPS] = {"steps_done", K_I64, 0},
    [S_RANK] = {"rank", K_I32, -1},              [S_NPTS] = {"n_points", K_I32, 0},
    [S_ATT] = {"attempts", K_I32, 0},            [S_CRC] = {"trace_crc32", K_U32, 0},
    [S_HOST] = {"host", K_HOST, 0},              [S_MSG] = {"message", K_MSG, 0},
    [S_STATUS] = {"status", K_I8, 0},
};

struct h5out {
    hid_t file;
    long n_runs;
    int n_points, n_metrics;
    hid_t traces[MAX_METRICS];
    hid_t summary[S_N];
    hid_t t_host, t_msg;
    float *buf; /* [n_metrics * n_points] */
};

static size_t kind_bytes(int kind)
{
    static const size_t bytes[] = {[K_I8] = 1, [K_I32] = 4, [K_U32] = 4, [K_I64] = 8, [K_F64] = 8,
                                   [K_HOST] = H5OUT_HOST_LEN, [K_MSG] = H5OUT_MESSAGE_LEN};
    return bytes[kind];
}

static long enum_len(const param_def_t *d);

double h5out_estimate_bytes(const grid_t *g)
{
    const model_family_t *f = g->spec->family;
    double per_run = 4.0 * f->n_metrics * g->n_points; /* float32 traces */
    for (int i = 0; i < g->n_defs; i++)
        per_run += g->defs[i].type == PARAM_ENUM ? (double)enum_len(&g->defs[i]) : 8.0;
    for (int s = 0; s < S_N; s++) per_run += (double)kind_bytes(summary_sets[s].kind);
    double datasets = g->n_defs + S_N + f->n_metrics + 1;
    return per_run * (double)g->n_runs + 8.0 * g->n_points +
           (double)(g->spec->text ? strlen(g->spec->text) : 0) + METADATA_BYTES * datasets;
}

/* HDF5 prints its error stack by default; library code must not print. */
static void quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static hid_t str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, len > 0 ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t file_type(int kind)
{
    switch (kind) {
    case K_I8: return H5Tcopy(H5T_STD_I8LE);
    case K_I32: return H5Tcopy(H5T_STD_I32LE);
    case K_U32: return H5Tcopy(H5T_STD_U32LE);
    case K_I64: return H5Tcopy(H5T_STD_I64LE);
    case K_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case K_HOST: return str_type(H5OUT_HOST_LEN);
    default: return str_type(H5OUT_MESSAGE_LEN);
    }
}

static hid_t mem_type(int kind)
{
    switch (kind) {
    case K_I8: return H5Tcopy(H5T_NATIVE_INT8);
    case K_I32: return H5Tcopy(H5T_NATIVE_INT32);
    case K_U32: return H5Tcopy(H5T_NATIVE_UINT32);
    case K_I64: return H5Tcopy(H5T_NATIVE_INT64);
    case K_F64: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case K_HOST: return str_type(H5OUT_HOST_LEN);
    default: return str_type(H5OUT_MESSAGE_LEN);
    }
}

/* A value of kind into an 8-byte-aligned buffer (numbers) for fill values and 1-element writes. */
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

/* Write a scalar string attribute (fixed length, NUL-terminated). */
static int attr_str(hid_t loc, const char *name, const char *value)
{
    int rc = -1;
    hid_t t = -1, sp = -1, a = -1;
    if ((t = str_type(strlen(value) + 1)) < 0) goto cleanup;
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

static int attr_i64(hid_t loc, const char *name, int64_t value, hid_t ftype)
{
    int rc = -1;
    hid_t sp = -1, a = -1;
    if ((sp = H5Screate(H5S_SCALAR)) < 0) goto cleanup;
    if ((a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto cleanup;
    if (H5Awrite(a, H5T_NATIVE_INT64, &value) < 0) goto cleanup;
    rc = 0;
cleanup:
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

/* Create a dataset of ftype and dims, allocated now, filled with *fill (mem type mtype). */
static hid_t dataset_new(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                         hid_t mtype, const void *fill)
{
    hid_t sp = -1, dcpl = -1, ds = -1;
    if ((sp = H5Screate_simple(rank, dims, NULL)) < 0) goto cleanup;
    if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) goto cleanup;
    if (H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0 ||
        H5Pset_obj_track_times(dcpl, 0) < 0 ||
        (fill && H5Pset_fill_value(dcpl, mtype, fill) < 0))
        goto cleanup;
    ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
cleanup:
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ds;
}

/* Read (write = 0) or write elements [start, start+count) of a 1-D dataset, or a
 * [count × n_cols] block of a 2-D one (H5P_DEFAULT transfer: independent I/O under MPI-IO). */
static int rows_io(hid_t ds, hid_t mtype, long start, long count, int n_cols, void *buf, int write)
{
    int rc = -1;
    hid_t fs = -1, ms = -1;
    hsize_t off[2] = {(hsize_t)start, 0}, cnt[2] = {(hsize_t)count, (hsize_t)n_cols};
    int rank = n_cols > 0 ? 2 : 1;
    if ((fs = H5Dget_space(ds)) < 0) goto cleanup;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0) goto cleanup;
    if ((ms = H5Screate_simple(rank, cnt, NULL)) < 0) goto cleanup;
    if ((write ? H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, buf)
               : H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, buf)) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return rc;
}

static int write_rows(hid_t ds, hid_t mtype, long start, long count, int n_cols, const void *buf)
{
    return rows_io(ds, mtype, start, count, n_cols, (void *)buf, 1);
}

static int read_rows(hid_t ds, hid_t mtype, long start, long count, int n_cols, void *buf)
{
    return rows_io(ds, mtype, start, count, n_cols, buf, 0);
}

static void h5out_free(h5out_t *h)
{
    if (!h) return;
    for (int m = 0; m < MAX_METRICS; m++)
        if (h->traces[m] >= 0) H5Dclose(h->traces[m]);
    for (int s = 0; s < S_N; s++)
        if (h->summary[s] >= 0) H5Dclose(h->summary[s]);
    if (h->t_host >= 0) H5Tclose(h->t_host);
    if (h->t_msg >= 0) H5Tclose(h->t_msg);
    free(h->buf);
    free(h);
}

static h5out_t *h5out_alloc(const grid_t *g)
{
    h5out_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->file = -1;
    for (int m = 0; m < MAX_METRICS; m++) h->traces[m] = -1;
    for (int s = 0; s < S_N; s++) h->summary[s] = -1;
    h->t_host = str_type(H5OUT_HOST_LEN);
    h->t_msg = str_type(H5OUT_MESSAGE_LEN);
    h->n_runs = g->n_runs;
    h->n_points = g->n_points;
    h->n_metrics = g->spec->family->n_metrics;
    h->buf = malloc(sizeof(float) * (size_t)h->n_metrics * (size_t)h->n_points);
    if (h->t_host < 0 || h->t_msg < 0 || !h->buf || h->n_metrics > MAX_METRICS) {
        h5out_free(h);
        return NULL;
    }
    return h;
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
    *out = malloc(len + 1);
    if (!*out) return -1;
    if (rank == 0 && len) memcpy(*out, in, len);
    (*out)[len] = '\0';
    if (len && MPI_Bcast(*out, (int)len, MPI_CHAR, 0, comm) != MPI_SUCCESS) return -1;
    return 0;
}

/* Comma-separated list of names. */
static char *join_names(const char *const *names, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(names[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i) strcat(s, ",");
        strcat(s, names[i]);
    }
    return s;
}

static int is_swept(const grid_t *g, int def)
{
    for (int d = 0; d < g->n_dims; d++)
        if (g->dim_def[d] == def) return 1;
    return 0;
}

static long enum_len(const param_def_t *d)
{
    size_t len = 1;
    for (int c = 0; d->choices && d->choices[c]; c++)
        if (strlen(d->choices[c]) + 1 > len) len = strlen(d->choices[c]) + 1;
    return (long)len;
}

/* /runs/<key>: every run's value of every key, written by rank 0 (raw data only). */
static int create_param_sets(hid_t runs, const grid_t *g, int rank, char *err, size_t errlen)
{
    int rc = -1;
    long n = g->n_runs;
    double *vals = NULL;
    void *buf = NULL;
    hid_t ds = -1, ft = -1, mt = -1;
    hsize_t dims[1] = {(hsize_t)n};

    if (rank == 0) {
        vals = malloc(sizeof *vals * (size_t)n * (size_t)g->n_defs);
        if (!vals) {
            snprintf(err, errlen, "out of memory for the parameter table (%ld runs)", n);
            goto cleanup;
        }
        for (long id = 0; id < n; id++) {
            params_t p;
            grid_run_params(g, id, &p);
            for (int i = 0; i < g->n_defs; i++) vals[(size_t)i * (size_t)n + (size_t)id] = p.v[i];
        }
    }
    for (int i = 0; i < g->n_defs; i++) {
        const param_def_t *d = &g->defs[i];
        long slen = d->type == PARAM_ENUM ? enum_len(d) : 0;
        if (d->type == PARAM_ENUM) {
            ft = str_type((size_t)slen);
            mt = str_type((size_t)slen);
        } else if (d->type == PARAM_REAL) {
            ft = H5Tcopy(H5T_IEEE_F64LE);
            mt = H5Tcopy(H5T_NATIVE_DOUBLE);
        } else {
            ft = H5Tcopy(H5T_STD_I64LE);
            mt = H5Tcopy(H5T_NATIVE_INT64);
        }
        if (ft < 0 || mt < 0) {
            snprintf(err, errlen, "HDF5: cannot make the type of /runs/%s", d->name);
            goto cleanup;
        }
        if ((ds = dataset_new(runs, d->name, ft, 1, dims, mt, NULL)) < 0) {
            snprintf(err, errlen, "HDF5: cannot create /runs/%s", d->name);
            goto cleanup;
        }
        if (attr_str(ds, "section", d->section) < 0 ||
            attr_i64(ds, "swept", is_swept(g, i), H5T_STD_I32LE) < 0 ||
            attr_str(ds, "help", d->help ? d->help : "") < 0) {
            snprintf(err, errlen, "HDF5: cannot write the attributes of /runs/%s", d->name);
            goto cleanup;
        }
        if (rank == 0) {
            const double *v = vals + (size_t)i * (size_t)n;
            size_t elem = d->type == PARAM_ENUM ? (size_t)slen : 8;
            buf = calloc((size_t)n, elem);
            if (!buf) {
                snprintf(err, errlen, "out of memory writing /runs/%s", d->name);
                goto cleanup;
            }
            for (long id = 0; id < n; id++) {
                if (d->type == PARAM_ENUM) {
                    int c = (int)v[id];
                    if (c >= 0 && c < param_n_choices(d))
                        memcpy((char *)buf + (size_t)id * elem, d->choices[c],
                               strlen(d->choices[c]));
                } else if (d->type == PARAM_REAL) {
                    ((double *)buf)[id] = v[id];
                } else {
                    ((int64_t *)buf)[id] = (int64_t)llround(v[id]);
                }
            }
            if (write_rows(ds, mt, 0, n, 0, buf) < 0) {
                snprintf(err, errlen, "HDF5: cannot write /runs/%s", d->name);
                goto cleanup;
            }
            free(buf);
            buf = NULL;
        }
        H5Dclose(ds);
        H5Tclose(ft);
        H5Tclose(mt);
        ds = ft = mt = -1;
    }
    rc = 0;
cleanup:
    free(buf);
    free(vals);
    if (ds >= 0) H5Dclose(ds);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    return rc;
}

static int write_root_attrs(hid_t file, const grid_t *g, const h5out_meta_t *meta,
                            const char *cmd, const char *utc, const char *host)
{
    const spec_t *s = g->spec;
    const model_family_t *f = s->family;
    int rc = -1;
    char *swept = NULL, *metrics = NULL;
    const char *names[PARAM_MAX], *mnames[MODEL_MAX_METRICS];
    for (int d = 0; d < g->n_dims && d < PARAM_MAX; d++) names[d] = g->defs[g->dim_def[d]].name;
    for (int m = 0; m < f->n_metrics && m < MODEL_MAX_METRICS; m++) mnames[m] = f->metrics[m].name;
    swept = join_names(names, g->n_dims);
    metrics = join_names(mnames, f->n_metrics);
    if (!swept || !metrics) goto cleanup;
    if (attr_i64(file, "format_version", H5OUT_FORMAT_VERSION, H5T_STD_I32LE) < 0 ||
        attr_str(file, "attnsweep_version", ATTNSWEEP_VERSION) < 0 ||
        attr_str(file, "spec", s->text ? s->text : "") < 0 ||
        attr_str(file, "spec_sha256", s->sha256) < 0 ||
        attr_str(file, "spec_path", s->path ? s->path : "") < 0 ||
        attr_str(file, "created_utc", utc) < 0 ||
        attr_i64(file, "mpi_size", meta->mpi_size, H5T_STD_I32LE) < 0 ||
        attr_str(file, "hostname", host) < 0 ||
        attr_str(file, "command_line", cmd) < 0 ||
        attr_str(file, "model", f->name) < 0 ||
        attr_i64(file, "n_runs", g->n_runs, H5T_STD_I64LE) < 0 ||
        attr_str(file, "swept", swept) < 0 ||
        attr_str(file, "metrics", metrics) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    free(swept);
    free(metrics);
    return rc;
}

static long grid_log_every(const grid_t *g)
{
    int i = param_index(g->defs, g->n_defs, "log_every");
    return i >= 0 ? lround(g->base[i]) : 1;
}

/* The end of a collective create/open: every rank agrees on the outcome (a failure on one rank
 * is a failure everywhere); on success *out = h, else h is closed and freed. */
static int h5out_agree(h5out_t *h, int rc, MPI_Comm comm, const char *doing, const char *path,
                       h5out_t **out, char *err, size_t errlen)
{
    int mine = rc, all = rc;
    if (MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) all = -1;
    if (all != 0) {
        if (rc == 0) snprintf(err, errlen, "%s %s failed on another rank", doing, path);
        if (h) {
            if (h->file >= 0) H5Fclose(h->file);
            h5out_free(h);
        }
        return -1;
    }
    *out = h;
    return 0;
}

int h5out_create(h5out_t **out, const char *path, MPI_Comm comm, const grid_t *g,
                 const h5out_meta_t *meta, char *err, size_t errlen)
{
    int rc = -1, rank;
    h5out_t *h = NULL;
    hid_t fapl = -1, runs = -1, traces = -1, step = -1, ft = -1, mt = -1, gcpl = -1;
    char *cmd = NULL, *utc = NULL, *host = NULL;
    int64_t *steps = NULL;
    const model_family_t *f = g->spec->family;

    quiet();
    *out = NULL;
    err[0] = '\0';
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Comm_rank failed");
        goto done;
    }
    if (f->n_metrics > MAX_METRICS) {
        snprintf(err, errlen, "model %s has %d metrics, at most %d are supported", f->name,
                 f->n_metrics, MAX_METRICS);
        goto done;
    }
    if (g->spec->text && strlen(g->spec->text) > 60000) {
        snprintf(err, errlen, "the spec text is %zu bytes; at most 60000 fit in the file's "
                 "'spec' attribute: shorten the spec", strlen(g->spec->text));
        goto done;
    }
    if (bcast_str(comm, meta->command_line, &cmd) < 0 || bcast_str(comm, meta->created_utc, &utc) < 0 ||
        bcast_str(comm, meta->hostname, &host) < 0) {
        snprintf(err, errlen, "MPI_Bcast of the file's attributes failed");
        goto done;
    }
    if (!(h = h5out_alloc(g))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if ((fapl = mpio_fapl(comm)) < 0) {
        snprintf(err, errlen, "HDF5: cannot set up MPI-IO file access");
        goto done;
    }
    if ((h->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        snprintf(err, errlen, "cannot create %s (directory missing or not writable?)", path);
        goto done;
    }
    if ((gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0 || H5Pset_obj_track_times(gcpl, 0) < 0 ||
        (runs = H5Gcreate2(h->file, "runs", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0 ||
        (traces = H5Gcreate2(h->file, "traces", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0) {
        snprintf(err, errlen, "HDF5: cannot create the groups /runs and /traces in %s", path);
        goto done;
    }
    if (write_root_attrs(h->file, g, meta, cmd, utc, host) < 0) {
        snprintf(err, errlen, "HDF5: cannot write the root attributes of %s", path);
        goto done;
    }
    if (create_param_sets(runs, g, rank, err, errlen) < 0) goto done;

    /* Summaries, at their fill values. */
    hsize_t dims1[1] = {(hsize_t)g->n_runs};
    for (int s = 0; s < S_N; s++) {
        value_t fill;
        value_set(&fill, summary_sets[s].kind, summary_sets[s].fill);
        ft = file_type(summary_sets[s].kind);
        mt = mem_type(summary_sets[s].kind);
        if (ft < 0 || mt < 0 ||
            (h->summary[s] = dataset_new(runs, summary_sets[s].name, ft, 1, dims1, mt, &fill)) < 0) {
            snprintf(err, errlen, "HDF5: cannot create /runs/%s", summary_sets[s].name);
            goto done;
        }
        H5Tclose(ft);
        H5Tclose(mt);
        ft = mt = -1;
    }
    if (attr_str(h->summary[S_STATUS], "codes", STATUS_CODES) < 0 ||
        attr_str(h->summary[S_STC], "help", "first logged step with train_loss < converge_loss, -1 if never") < 0 ||
        attr_str(h->summary[S_CRC], "help", "CRC-32 of the run's float32 trace rows, metrics in /traces order, NaN padded") < 0) {
        snprintf(err, errlen, "HDF5: cannot write the attributes of /runs/status");
        goto done;
    }

    /* Traces and their shared step axis. */
    hsize_t dims_s[1] = {(hsize_t)g->n_points};
    int64_t fill_step = -1;
    if ((step = dataset_new(traces, "step", H5T_STD_I64LE, 1, dims_s, H5T_NATIVE_INT64,
                            &fill_step)) < 0 ||
        H5DSset_scale(step, "step") < 0) {
        snprintf(err, errlen, "HDF5: cannot create /traces/step");
        goto done;
    }
    hsize_t dims2[2] = {(hsize_t)g->n_runs, (hsize_t)g->n_points};
    float nanf_fill = NAN;
    for (int m = 0; m < f->n_metrics; m++) {
        if ((h->traces[m] = dataset_new(traces, f->metrics[m].name, H5T_IEEE_F32LE, 2, dims2,
                                        H5T_NATIVE_FLOAT, &nanf_fill)) < 0 ||
            H5DSattach_scale(h->traces[m], step, 1) < 0) {
            snprintf(err, errlen, "HDF5: cannot create /traces/%s", f->metrics[m].name);
            goto done;
        }
    }
    if (rank == 0) {
        long every = grid_log_every(g);
        steps = malloc(sizeof *steps * (size_t)g->n_points);
        if (!steps) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        for (int i = 0; i < g->n_points; i++) steps[i] = (int64_t)i * every;
        if (write_rows(step, H5T_NATIVE_INT64, 0, g->n_points, 0, steps) < 0) {
            snprintf(err, errlen, "HDF5: cannot write /traces/step");
            goto done;
        }
    }
    /* The setup is complete: put every byte of metadata on disk now, once. */
    if (H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0) {
        snprintf(err, errlen, "HDF5: cannot flush %s after creating it", path);
        goto done;
    }
    rc = 0;
done:
    if (step >= 0) H5Dclose(step);
    if (runs >= 0) H5Gclose(runs);
    if (traces >= 0) H5Gclose(traces);
    if (gcpl >= 0) H5Pclose(gcpl);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    if (fapl >= 0) H5Pclose(fapl);
    free(steps);
    free(cmd);
    free(utc);
    free(host);
    return h5out_agree(h, rc, comm, "creating", path, out, err, errlen);
}

int h5out_open(h5out_t **out, const char *path, MPI_Comm comm, const grid_t *g, char *err,
               size_t errlen)
{
    int rc = -1;
    h5out_t *h = NULL;
    hid_t fapl = -1, sp = -1;
    const model_family_t *f = g->spec->family;
    char name[128];

    quiet();
    *out = NULL;
    err[0] = '\0';
    if (!(h = h5out_alloc(g))) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if ((fapl = mpio_fapl(comm)) < 0) {
        snprintf(err, errlen, "HDF5: cannot set up MPI-IO file access");
        goto done;
    }
    if ((h->file = H5Fopen(path, H5F_ACC_RDWR, fapl)) < 0) {
        snprintf(err, errlen, "cannot open %s for writing", path);
        goto done;
    }
    for (int s = 0; s < S_N; s++) {
        snprintf(name, sizeof name, "/runs/%s", summary_sets[s].name);
        hsize_t dims[2];
        if ((h->summary[s] = H5Dopen2(h->file, name, H5P_DEFAULT)) < 0 ||
            (sp = H5Dget_space(h->summary[s])) < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
            H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || (long)dims[0] != g->n_runs) {
            snprintf(err, errlen, "%s: %s is missing or is not [%ld]", path, name, g->n_runs);
            goto done;
        }
        H5Sclose(sp);
        sp = -1;
    }
    for (int m = 0; m < f->n_metrics; m++) {
        snprintf(name, sizeof name, "/traces/%s", f->metrics[m].name);
        hsize_t dims[2];
        if ((h->traces[m] = H5Dopen2(h->file, name, H5P_DEFAULT)) < 0 ||
            (sp = H5Dget_space(h->traces[m])) < 0 || H5Sget_simple_extent_ndims(sp) != 2 ||
            H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || (long)dims[0] != g->n_runs ||
            (int)dims[1] != g->n_points) {
            snprintf(err, errlen, "%s: %s is missing or is not [%ld, %d]", path, name, g->n_runs,
                     g->n_points);
            goto done;
        }
        H5Sclose(sp);
        sp = -1;
    }
    rc = 0;
done:
    if (sp >= 0) H5Sclose(sp);
    if (fapl >= 0) H5Pclose(fapl);
    return h5out_agree(h, rc, comm, "opening", path, out, err, errlen);
}

static int write_one(h5out_t *h, int s, long id, const void *v)
{
    hid_t mt = summary_sets[s].kind == K_HOST ? H5Tcopy(h->t_host)
             : summary_sets[s].kind == K_MSG  ? H5Tcopy(h->t_msg)
                                              : mem_type(summary_sets[s].kind);
    if (mt < 0) return -1;
    int rc = write_rows(h->summary[s], mt, id, 1, 0, v);
    H5Tclose(mt);
    return rc;
}

int h5out_write_attempt(h5out_t *h, long id, int attempts, char *err, size_t errlen)
{
    quiet();
    int32_t a = attempts;
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

int h5out_write_run(h5out_t *h, long id, const trace_t *trace, const run_result_t *res,
                    int rank, const char *host, int attempts, uint32_t *crc_out, char *err,
                    size_t errlen)
{
    quiet();
    if (id < 0 || id >= h->n_runs) {
        snprintf(err, errlen, "run id %ld out of range [0, %ld)", id, h->n_runs);
        return -1;
    }
    uint32_t crc = h5out_pack_trace(trace, h->n_points, h->n_metrics, h->buf);
    if (crc_out) *crc_out = crc;
    for (int m = 0; m < h->n_metrics; m++)
        if (write_rows(h->traces[m], H5T_NATIVE_FLOAT, id, 1, h->n_points,
                       h->buf + (size_t)m * (size_t)h->n_points) < 0) {
            snprintf(err, errlen, "HDF5: cannot write trace %d of run %ld", m, id);
            return -1;
        }
    double f64[4] = {res->final_train_loss, res->final_train_acc, res->final_test_acc,
                     res->wall_seconds};
    int64_t stc = res->steps_to_converge, steps = res->steps_done;
    int32_t rk = rank, npts = trace->n_filled, att = attempts;
    char hostbuf[H5OUT_HOST_LEN] = {0}, msgbuf[H5OUT_MESSAGE_LEN] = {0};
    snprintf(hostbuf, sizeof hostbuf, "%s", host ? host : "");
    snprintf(msgbuf, sizeof msgbuf, "%s", res->message);
    int8_t status = (int8_t)res->status;
    const void *vals[S_N] = {
        [S_FTL] = &f64[0], [S_FTA] = &f64[1], [S_FTE] = &f64[2], [S_WALL] = &f64[3],
        [S_STC] = &stc,    [S_STEPS] = &steps, [S_RANK] = &rk,   [S_NPTS] = &npts,
        [S_ATT] = &att,    [S_CRC] = &crc,     [S_HOST] = hostbuf, [S_MSG] = msgbuf,
        [S_STATUS] = &status,
    };
    for (int s = 0; s < S_N; s++) /* S_STATUS is last: the commit */
        if (write_one(h, s, id, vals[s]) < 0) {
            snprintf(err, errlen, "HDF5: cannot write /runs/%s[%ld]", summary_sets[s].name, id);
            return -1;
        }
    return 0;
}

int h5out_close(h5out_t *h, char *err, size_t errlen)
{
    quiet();
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

/* ---- serial reader ------------------------------------------------------------------------- */

/* Read a string attribute (fixed or variable length) into a malloc'd string; NULL if absent. */
static char *attr_read_str(hid_t loc, const char *name)
{
    char *out = NULL;
    hid_t a = -1, t = -1, mt = -1;
    if (H5Aexists(loc, name) <= 0) return NULL;
    if ((a = H5Aopen(loc, name, H5P_DEFAULT)) < 0) goto cleanup;
    if ((t = H5Aget_type(a)) < 0 || H5Tget_class(t) != H5T_STRING) goto cleanup;
    if (H5Tis_variable_str(t) > 0) {
        char *v = NULL;
        if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0) goto cleanup;
        if (H5Aread(a, mt, &v) < 0) goto cleanup;
        out = strdup(v ? v : "");
        H5free_memory(v);
    } else {
        size_t n = H5Tget_size(t);
        if ((mt = str_type(n + 1)) < 0) goto cleanup;
        out = calloc(n + 2, 1);
        if (out && H5Aread(a, mt, out) < 0) {
            free(out);
            out = NULL;
        }
    }
cleanup:
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return out;
}

static int attr_read_i64(hid_t loc, const char *name, int64_t *v)
{
    int rc = -1;
    hid_t a = -1;
    if (H5Aexists(loc, name) <= 0) return -1;
    if ((a = H5Aopen(loc, name, H5P_DEFAULT)) < 0) goto cleanup;
    if (H5Aread(a, H5T_NATIVE_INT64, v) < 0) goto cleanup;
    rc = 0;
cleanup:
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* Open a 1-D dataset of n elements and read it as mtype. */
static int read_column(hid_t file, const char *name, long n, hid_t mtype, void *buf)
{
    int rc = -1;
    hid_t ds = -1, sp = -1;
    hsize_t dims[2];
    if ((ds = H5Dopen2(file, name, H5P_DEFAULT)) < 0) goto cleanup;
    if ((sp = H5Dget_space(ds)) < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || (long)dims[0] != n)
        goto cleanup;
    if (n > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) goto cleanup;
    rc = 0;
cleanup:
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Recompute the CRC of every done or diverged run from /traces, block by block. */
static int verify_traces(hid_t file, h5out_info_t *in, char *err, size_t errlen)
{
    int rc = -1, nm = 0;
    hid_t ds[MAX_METRICS];
    float *blk = NULL, *run = NULL;
    char *names = NULL;
    const long B = 256;
    for (int m = 0; m < MAX_METRICS; m++) ds[m] = -1;

    names = strdup(in->metrics ? in->metrics : "");
    if (!names) goto cleanup;
    for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char path[128];
        hid_t sp = -1;
        hsize_t dims[2];
        if (nm >= MAX_METRICS) {
            snprintf(err, errlen, "more than %d metrics", MAX_METRICS);
            goto cleanup;
        }
        snprintf(path, sizeof path, "/traces/%s", tok);
        if ((ds[nm] = H5Dopen2(file, path, H5P_DEFAULT)) < 0) {
            snprintf(err, errlen, "the dataset %s is missing", path);
            goto cleanup;
        }
        int ok = (sp = H5Dget_space(ds[nm])) >= 0 && H5Sget_simple_extent_ndims(sp) == 2 &&
                 H5Sget_simple_extent_dims(sp, dims, NULL) >= 0;
        if (sp >= 0) H5Sclose(sp);
        if (ok && nm == 0) in->n_points = (int)dims[1];
        if (!ok || (long)dims[0] != in->n_runs || (int)dims[1] != in->n_points) {
            snprintf(err, errlen, "%s does not have the shape [n_runs, n_points]", path);
            goto cleanup;
        }
        nm++;
    }
    in->n_metrics = nm;
    blk = malloc(sizeof(float) * (size_t)nm * (size_t)B * (size_t)(in->n_points ? in->n_points : 1));
    run = malloc(sizeof(float) * (size_t)nm * (size_t)(in->n_points ? in->n_points : 1));
    if (!blk || !run) {
        snprintf(err, errlen, "out of memory reading the traces");
        goto cleanup;
    }
    size_t np = (size_t)in->n_points;
    for (long start = 0; start < in->n_runs; start += B) {
        long cnt = in->n_runs - start < B ? in->n_runs - start : B;
        int any = 0;
        for (long i = 0; i < cnt; i++)
            any |= in->status[start + i] == RUN_DONE || in->status[start + i] == RUN_DIVERGED;
        if (!any) continue;
        for (int m = 0; m < nm; m++)
            if (read_rows(ds[m], H5T_NATIVE_FLOAT, start, cnt, in->n_points,
                          blk + (size_t)m * (size_t)B * np) < 0) {
                snprintf(err, errlen, "cannot read the traces of runs %ld..%ld", start,
                         start + cnt - 1);
                goto cleanup;
            }
        for (long i = 0; i < cnt; i++) {
            long id = start + i;
            if (in->status[id] != RUN_DONE && in->status[id] != RUN_DIVERGED) continue;
            for (int m = 0; m < nm; m++)
                memcpy(run + (size_t)m * np, blk + ((size_t)m * (size_t)B + (size_t)i) * np,
                       sizeof(float) * np);
            uint32_t c = util_crc32(run, sizeof(float) * np * (size_t)nm);
            in->crc_ok[id] = c == in->crc[id];
            if (!in->crc_ok[id]) in->n_bad_crc++;
        }
    }
    rc = 0;
cleanup:
    for (int m = 0; m < MAX_METRICS; m++)
        if (ds[m] >= 0) H5Dclose(ds[m]);
    free(blk);
    free(run);
    free(names);
    return rc;
}

int h5out_inspect(const char *path, int verify, h5out_info_t *in, char *err, size_t errlen)
{
    int rc = -1;
    hid_t fapl = -1, file = -1, step = -1, sp = -1;
    int64_t v;
    char why[512] = "";

    quiet();
    memset(in, 0, sizeof *in);
    err[0] = '\0';
    htri_t is = H5Fis_hdf5(path);
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        snprintf(err, errlen, "%s: cannot open it (no such file, or not readable)", path);
        goto cleanup;
    }
    fclose(probe);
    if (is <= 0) {
        snprintf(err, errlen, "%s: not an HDF5 file", path);
        goto cleanup;
    }
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_file_locking(fapl, 0, 1) < 0) {
        snprintf(err, errlen, "HDF5: cannot set up file access");
        goto cleanup;
    }
    if ((file = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0) {
        snprintf(err, errlen, "%s: HDF5 cannot open it (damaged? a sweep killed while creating "
                 "the file leaves it unreadable: delete it and start again)", path);
        goto cleanup;
    }
    if (attr_read_i64(file, "format_version", &v) < 0) {
        snprintf(err, errlen, "%s: an HDF5 file, but not attnsweep output (no format_version "
                 "attribute)", path);
        goto cleanup;
    }
    in->format_version = (int)v;
    if (in->format_version != H5OUT_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: format_version %d, this attnsweep reads version %d", path,
                 in->format_version, H5OUT_FORMAT_VERSION);
        goto cleanup;
    }
    if (attr_read_i64(file, "n_runs", &v) < 0 || v < 0) {
        snprintf(why, sizeof why, "attribute n_runs");
        goto cleanup;
    }
    in->n_runs = (long)v;
    if (attr_read_i64(file, "mpi_size", &v) == 0) in->mpi_size = (int)v;
    in->spec = attr_read_str(file, "spec");
    in->spec_path = attr_read_str(file, "spec_path");
    in->spec_sha256 = attr_read_str(file, "spec_sha256");
    in->created_utc = attr_read_str(file, "created_utc");
    in->attnsweep_version = attr_read_str(file, "attnsweep_version");
    in->command_line = attr_read_str(file, "command_line");
    in->model = attr_read_str(file, "model");
    in->swept = attr_read_str(file, "swept");
    in->metrics = attr_read_str(file, "metrics");
    in->hostname = attr_read_str(file, "hostname");
    if (!in->spec || !in->spec_sha256 || !in->metrics || !in->model) {
        snprintf(why, sizeof why, "root attributes spec/spec_sha256/metrics/model");
        goto cleanup;
    }
    size_t n = (size_t)(in->n_runs > 0 ? in->n_runs : 1);
    in->status = calloc(n, sizeof *in->status);
    in->attempts = calloc(n, sizeof *in->attempts);
    in->crc = calloc(n, sizeof *in->crc);
    in->crc_ok = calloc(n, sizeof *in->crc_ok);
    in->messages = calloc(n, H5OUT_MESSAGE_LEN);
    if (!in->status || !in->attempts || !in->crc || !in->crc_ok || !in->messages) {
        snprintf(err, errlen, "out of memory (%ld runs)", in->n_runs);
        goto cleanup;
    }
    if (read_column(file, "/runs/status", in->n_runs, H5T_NATIVE_INT8, in->status) < 0) {
        snprintf(why, sizeof why, "/runs/status");
        goto cleanup;
    }
    if (read_column(file, "/runs/attempts", in->n_runs, H5T_NATIVE_INT32, in->attempts) < 0) {
        snprintf(why, sizeof why, "/runs/attempts");
        goto cleanup;
    }
    if (read_column(file, "/runs/trace_crc32", in->n_runs, H5T_NATIVE_UINT32, in->crc) < 0) {
        snprintf(why, sizeof why, "/runs/trace_crc32");
        goto cleanup;
    }
    hid_t mt = str_type(H5OUT_MESSAGE_LEN);
    int mrc = mt < 0 ? -1 : read_column(file, "/runs/message", in->n_runs, mt, in->messages);
    if (mt >= 0) H5Tclose(mt);
    if (mrc < 0) {
        snprintf(why, sizeof why, "/runs/message");
        goto cleanup;
    }
    for (long i = 0; i < in->n_runs; i++) {
        in->messages[(size_t)i * H5OUT_MESSAGE_LEN + H5OUT_MESSAGE_LEN - 1] = '\0';
        int s = in->status[i];
        if (s >= 0 && s < RUN_N_STATUS) in->counts[s]++;
        in->n_finished += run_status_finished(s);
        in->n_started += in->attempts[i] > 0;
        if (in->attempts[i] > in->max_attempts) in->max_attempts = in->attempts[i];
        in->crc_ok[i] = 1;
    }
    hsize_t dims[1];
    if ((step = H5Dopen2(file, "/traces/step", H5P_DEFAULT)) < 0 ||
        (sp = H5Dget_space(step)) < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
        snprintf(why, sizeof why, "/traces/step");
        goto cleanup;
    }
    in->n_points = (int)dims[0];
    in->n_metrics = 1;
    for (const char *c = in->metrics; *c; c++) in->n_metrics += *c == ',';
    if (verify && verify_traces(file, in, why, sizeof why) < 0) goto cleanup;
    rc = 0;
cleanup:
    if (rc != 0 && why[0])
        snprintf(err, errlen, "%s: an attnsweep file, but damaged or incomplete (%s)", path, why);
    if (sp >= 0) H5Sclose(sp);
    if (step >= 0) H5Dclose(step);
    if (file >= 0) H5Fclose(file);
    if (fapl >= 0) H5Pclose(fapl);
    if (rc != 0) h5out_info_free(in);
    return rc;
}

void h5out_info_free(h5out_info_t *in)
{
    free(in->spec);
    free(in->spec_path);
    free(in->spec_sha256);
    free(in->created_utc);
    free(in->attnsweep_version);
    free(in->command_line);
    free(in->model);
    free(in->swept);
    free(in->metrics);
    free(in->hostname);
    free(in->status);
    free(in->attempts);
    free(in->crc);
    free(in->crc_ok);
    free(in->messages);
    memset(in, 0, sizeof *in);
}
