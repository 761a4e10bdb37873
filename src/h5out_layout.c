/* h5out_layout — the summary table and the HDF5 helpers the results file's writer (h5out.c) and
 * reader (h5out_read.c) share (h5out_layout.h). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "h5out_layout.h"

/* Write order: status is last, the commit of a run. */
const h5out_summary_def_t h5out_summaries[S_N] = {
    [S_FTL] = {"final_train_loss", K_F64, NAN, "train_loss at the run's last logged step", "1", 1},
    [S_FTA] = {"final_train_acc", K_F64, NAN, "train_acc at the run's last logged step", "1", 1},
    [S_FTE] = {"final_test_acc", K_F64, NAN, "test_acc at the run's last logged step", "1", 1},
    [S_STC] = {"steps_to_converge", K_I64, -1,
               "first logged step with train_loss < converge_loss, -1 if never", "1", 1},
    [S_STEPS] = {"steps_done", K_I64, 0, "optimiser steps the run took", "1", 1},
    [S_NPTS] = {"n_points", K_I32, 0, "trace points the run logged (NaN after them)", "1", 1},
    [S_WALL] = {"wall_seconds", K_F64, NAN, "wall-clock seconds of the run's training", "s", 1},
    [S_RANK] = {"rank", K_I32, -1, "MPI rank that trained the run", NULL, 1},
    [S_HOST] = {"host", K_HOST, 0, "host that trained the run", NULL, 1},
    [S_ATT] = {"attempts", K_I32, 0, "times the run was started for this file", "1", 1},
    [S_CRC] = {"trace_crc32", K_U32, 0,
               "CRC-32 of the run's float32 trace rows, metrics in /traces order, NaN padded",
               NULL, 1},
    [S_MSG] = {"message", K_MSG, 0, "why the run failed or diverged; empty when done", NULL, 1},
    [S_REUSE_ID] = {"reuse_id", K_I64, -1,
                    "run id in the file the run was copied from by --reuse, -1 if trained", NULL, 2},
    [S_REUSE_FILE] = {"reuse_file", K_MSG, 0,
                      "the file the run was copied from by --reuse, empty if trained", NULL, 2},
    [S_STATUS] = {"status", K_I8, 0,
                  "0 pending, 1 done, 2 failed, 3 diverged, 4 interrupted (flag_meanings)", NULL, 1},
};

void h5out_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

char *h5out_attr_str(hid_t loc, const char *name)
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
        if ((mt = h5out_str_like(t, n + 1)) < 0) goto cleanup;
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


hid_t h5out_str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, len > 0 ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

hid_t h5out_str_like(hid_t ftype, size_t len)
{
    hid_t t = h5out_str_type(len);
    H5T_cset_t cset = H5Tget_cset(ftype);
    if (t >= 0 && (cset < 0 || H5Tset_cset(t, cset) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

hid_t h5out_kind_type(int kind, int file)
{
    switch (kind) {
    case K_I8: return H5Tcopy(file ? H5T_STD_I8LE : H5T_NATIVE_INT8);
    case K_I32: return H5Tcopy(file ? H5T_STD_I32LE : H5T_NATIVE_INT32);
    case K_U32: return H5Tcopy(file ? H5T_STD_U32LE : H5T_NATIVE_UINT32);
    case K_I64: return H5Tcopy(file ? H5T_STD_I64LE : H5T_NATIVE_INT64);
    case K_F64: return H5Tcopy(file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
    case K_HOST: return h5out_str_type(H5OUT_HOST_LEN);
    default: return h5out_str_type(H5OUT_MESSAGE_LEN);
    }
}

size_t h5out_kind_bytes(int kind)
{
    static const size_t bytes[] = {[K_I8] = 1, [K_I32] = 4, [K_U32] = 4, [K_I64] = 8,
                                   [K_F64] = 8, [K_HOST] = H5OUT_HOST_LEN,
                                   [K_MSG] = H5OUT_MESSAGE_LEN};
    return bytes[kind];
}

int h5out_rows_io(hid_t ds, hid_t mtype, long start, long count, int n_cols, void *buf, int write)
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

/* Open dataset name of the expected rank and dims (dims[1] ignored for rank 1). */
static hid_t open_checked(hid_t file, const char *name, int rank, long n0, int n1)
{
    hsize_t dims[2];
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT), sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == rank &&
             H5Sget_simple_extent_dims(sp, dims, NULL) >= 0 && (long)dims[0] == n0 &&
             (rank == 1 || (int)dims[1] == n1);
    if (sp >= 0) H5Sclose(sp);
    if (!ok && ds >= 0) {
        H5Dclose(ds);
        ds = -1;
    }
    return ds;
}

void h5out_sets_init(h5out_sets_t *s)
{
    s->n_metrics = 0;
    for (int m = 0; m < MODEL_MAX_METRICS; m++) s->traces[m] = -1;
    for (int k = 0; k < S_N; k++) s->summary[k] = s->mtype[k] = -1;
}

void h5out_sets_close(h5out_sets_t *s)
{
    for (int m = 0; m < MODEL_MAX_METRICS; m++)
        if (s->traces[m] >= 0) H5Dclose(s->traces[m]);
    for (int k = 0; k < S_N; k++) {
        if (s->summary[k] >= 0) H5Dclose(s->summary[k]);
        if (s->mtype[k] >= 0) H5Tclose(s->mtype[k]);
    }
    h5out_sets_init(s);
}

int h5out_sets_open(h5out_sets_t *s, hid_t file, int version, const char *const *metrics,
                    int n_metrics, long n_runs, int n_points, const char *path, char *err,
                    size_t errlen)
{
    char name[160];
    h5out_sets_init(s);
    if (n_metrics > MODEL_MAX_METRICS) {
        snprintf(err, errlen, "%s: %d metrics, at most %d", path, n_metrics, MODEL_MAX_METRICS);
        return -1;
    }
    for (int k = 0; k < S_N; k++) {
        int kind = h5out_summaries[k].kind;
        hid_t ft = -1;
        if (h5out_summaries[k].since > version) continue;
        snprintf(name, sizeof name, "/runs/%s", h5out_summaries[k].name);
        if ((s->summary[k] = open_checked(file, name, 1, n_runs, 0)) < 0 ||
            (ft = H5Dget_type(s->summary[k])) < 0 ||
            (s->mtype[k] = kind >= K_HOST ? h5out_str_like(ft, h5out_kind_bytes(kind))
                                          : h5out_kind_type(kind, 0)) < 0) {
            if (ft >= 0) H5Tclose(ft);
            snprintf(err, errlen, "%s: %s is missing or is not [%ld]", path, name, n_runs);
            return -1;
        }
        H5Tclose(ft);
    }
    for (int m = 0; m < n_metrics; m++) {
        snprintf(name, sizeof name, "/traces/%s", metrics[m]);
        if ((s->traces[m] = open_checked(file, name, 2, n_runs, n_points)) < 0) {
            snprintf(err, errlen, "%s: %s is missing or is not [%ld, %d]", path, name, n_runs,
                     n_points);
            return -1;
        }
        s->n_metrics = m + 1;
    }
    return 0;
}

/* Where field s lives in a record, and its size. */
static void *field(const h5out_summary_t *r, int s, size_t *n)
{
    h5out_summary_t *w = (h5out_summary_t *)r;
    void *p[S_N] = {
        [S_FTL] = &w->final_train_loss, [S_FTA] = &w->final_train_acc,
        [S_FTE] = &w->final_test_acc, [S_STC] = &w->steps_to_converge,
        [S_STEPS] = &w->steps_done, [S_NPTS] = &w->n_points, [S_WALL] = &w->wall_seconds,
        [S_RANK] = &w->rank, [S_HOST] = w->host, [S_ATT] = &w->attempts,
        [S_CRC] = &w->trace_crc32, [S_MSG] = w->message, [S_REUSE_ID] = &w->reuse_id,
        [S_REUSE_FILE] = w->reuse_file, [S_STATUS] = &w->status,
    };
    *n = h5out_kind_bytes(h5out_summaries[s].kind);
    return p[s];
}

void h5out_summary_get(const h5out_summary_t *r, int s, void *v)
{
    size_t n;
    const void *f = field(r, s, &n);
    memcpy(v, f, n);
}

void h5out_summary_set(h5out_summary_t *r, int s, const void *v)
{
    size_t n;
    void *f = field(r, s, &n);
    memcpy(f, v, n);
    if (h5out_summaries[s].kind >= K_HOST) ((char *)f)[n - 1] = '\0';
}
