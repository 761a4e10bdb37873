/* h5out_read — the serial, read-only side of the results file (h5out.h): h5out_inspect opens a
 * file without locking (it may be being written), reads its attributes, spec and per-run status,
 * and optionally recomputes every finished run's trace CRC. Reads format versions 1 and 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>
#include <hdf5.h>
#include "h5out_layout.h"

/* ---- serial reader ------------------------------------------------------------------------- */

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

/* Open a 1-D dataset of n elements and read it as mtype (a string mtype takes the dataset's
 * character set). */
static int read_column(hid_t file, const char *name, long n, hid_t mtype, void *buf)
{
    int rc = -1;
    hid_t ds = -1, sp = -1, ft = -1, mt = -1;
    hsize_t dims[2];
    if ((ds = H5Dopen2(file, name, H5P_DEFAULT)) < 0) goto cleanup;
    if ((sp = H5Dget_space(ds)) < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0 || (long)dims[0] != n)
        goto cleanup;
    if (H5Tget_class(mtype) == H5T_STRING &&
        ((ft = H5Dget_type(ds)) < 0 || (mt = h5out_str_like(ft, H5Tget_size(mtype))) < 0))
        goto cleanup;
    if (n > 0 && H5Dread(ds, mt >= 0 ? mt : mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Recompute the CRC of every done or diverged run from /traces, block by block. */
static int verify_traces(hid_t file, h5out_info_t *in, char *err, size_t errlen)
{
    int rc = -1, nm = 0;
    hid_t ds[MODEL_MAX_METRICS];
    float *blk = NULL, *run = NULL;
    char *names = NULL;
    const long B = 256;
    for (int m = 0; m < MODEL_MAX_METRICS; m++) ds[m] = -1;

    names = strdup(in->metrics ? in->metrics : "");
    if (!names) goto cleanup;
    for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char path[128];
        hid_t sp = -1;
        hsize_t dims[2];
        if (nm >= MODEL_MAX_METRICS) {
            snprintf(err, errlen, "more than %d metrics", MODEL_MAX_METRICS);
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
            if (h5out_rows_io(ds[m], H5T_NATIVE_FLOAT, start, cnt, in->n_points,
                              blk + (size_t)m * (size_t)B * np, 0) < 0) {
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
    for (int m = 0; m < MODEL_MAX_METRICS; m++)
        if (ds[m] >= 0) H5Dclose(ds[m]);
    free(blk);
    free(run);
    free(names);
    return rc;
}

/* The text of a scalar string dataset (the v2 /spec), malloc'd; NULL if absent. */
static char *read_text(hid_t file, const char *name)
{
    char *out = NULL;
    hid_t ds = -1, t = -1, mt = -1;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return NULL;
    if ((ds = H5Dopen2(file, name, H5P_DEFAULT)) < 0 || (t = H5Dget_type(ds)) < 0 ||
        H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0)
        goto cleanup;
    size_t n = H5Tget_size(t);
    if ((mt = h5out_str_like(t, n + 1)) < 0 || !(out = calloc(n + 2, 1))) goto cleanup;
    if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        free(out);
        out = NULL;
    }
cleanup:
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    return out;
}

/* Open path read-only after checking it is there and is HDF5; -1 with err otherwise. */
static hid_t open_readonly(const char *path, char *err, size_t errlen)
{
    struct stat st;
    char partial[4096];
    hid_t fapl = -1, file = -1;
    h5out_partial_path(path, partial, sizeof partial);
    if (stat(path, &st) != 0 && stat(partial, &st) == 0) {
        snprintf(err, errlen, "%s does not exist: %s is a file whose creation was interrupted; "
                 "run the sweep again (with or without --resume): it replaces it", path, partial);
        return -1;
    }
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        snprintf(err, errlen, "%s: cannot open it (no such file, or not readable)", path);
        return -1;
    }
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0) {
        snprintf(err, errlen, "%s: not an HDF5 file", path);
        return -1;
    }
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_file_locking(fapl, 0, 1) < 0 ||
        (file = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0)
        snprintf(err, errlen, "%s: HDF5 cannot open it (damaged?)", path);
    if (fapl >= 0) H5Pclose(fapl);
    return file;
}

/* The root attributes and the spec; 0, or -1 with err (not ours, unknown version) or why. */
static int read_root(hid_t file, const char *path, h5out_info_t *in, char *err, size_t errlen,
                     char *why, size_t whylen)
{
    int64_t v;
    if (attr_read_i64(file, "format_version", &v) < 0) {
        snprintf(err, errlen, "%s: an HDF5 file, but not attnsweep output (no format_version "
                 "attribute)", path);
        return -1;
    }
    in->format_version = (int)v;
    if (in->format_version < 1 || in->format_version > H5OUT_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: format_version %d, this attnsweep reads versions 1 to %d", path,
                 in->format_version, H5OUT_FORMAT_VERSION);
        return -1;
    }
    if (attr_read_i64(file, "n_runs", &v) < 0 || v < 0) {
        snprintf(why, whylen, "attribute n_runs");
        return -1;
    }
    in->n_runs = (long)v;
    if (attr_read_i64(file, "mpi_size", &v) == 0) in->mpi_size = (int)v;
    in->spec = in->format_version >= 2 ? read_text(file, "spec") : h5out_attr_str(file, "spec");
    in->spec_path = h5out_attr_str(file, "spec_path");
    in->spec_sha256 = h5out_attr_str(file, "spec_sha256");
    in->created_utc = h5out_attr_str(file, "created_utc");
    in->attnsweep_version = h5out_attr_str(file, "attnsweep_version");
    in->command_line = h5out_attr_str(file, "command_line");
    in->model = h5out_attr_str(file, "model");
    in->model_source = h5out_attr_str(file, "model_source");
    in->swept = h5out_attr_str(file, "swept");
    in->metrics = h5out_attr_str(file, "metrics");
    in->hostname = h5out_attr_str(file, "hostname");
    in->data_files = h5out_attr_str(file, "data_files");
    if (!in->spec || !in->spec_sha256 || !in->metrics || !in->model) {
        snprintf(why, whylen, "the spec, or root attributes spec_sha256/metrics/model");
        return -1;
    }
    return 0;
}

/* Per-run status, attempts, CRCs and messages, and the counts; 0, or -1 with why. */
static int read_runs(hid_t file, h5out_info_t *in, char *why, size_t whylen)
{
    size_t n = (size_t)(in->n_runs > 0 ? in->n_runs : 1);
    in->status = calloc(n, sizeof *in->status);
    in->attempts = calloc(n, sizeof *in->attempts);
    in->crc = calloc(n, sizeof *in->crc);
    in->crc_ok = calloc(n, sizeof *in->crc_ok);
    in->messages = calloc(n, H5OUT_MESSAGE_LEN);
    hid_t mt = h5out_str_type(H5OUT_MESSAGE_LEN);
    const char *bad = !in->status || !in->attempts || !in->crc || !in->crc_ok || !in->messages ||
                              mt < 0 ? "memory"
        : read_column(file, "/runs/status", in->n_runs, H5T_NATIVE_INT8, in->status) < 0
            ? "/runs/status"
        : read_column(file, "/runs/attempts", in->n_runs, H5T_NATIVE_INT32, in->attempts) < 0
            ? "/runs/attempts"
        : read_column(file, "/runs/trace_crc32", in->n_runs, H5T_NATIVE_UINT32, in->crc) < 0
            ? "/runs/trace_crc32"
        : read_column(file, "/runs/message", in->n_runs, mt, in->messages) < 0 ? "/runs/message"
                                                                                : NULL;
    if (mt >= 0) H5Tclose(mt);
    if (bad) {
        snprintf(why, whylen, "%s", bad);
        return -1;
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
    return 0;
}

/* The step axis's length and the metrics' count. */
static int read_axis(hid_t file, h5out_info_t *in)
{
    hsize_t dims[1];
    hid_t step = H5Dopen2(file, "/traces/step", H5P_DEFAULT), sp = step >= 0 ? H5Dget_space(step) : -1;
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
             H5Sget_simple_extent_dims(sp, dims, NULL) >= 0;
    if (sp >= 0) H5Sclose(sp);
    if (step >= 0) H5Dclose(step);
    if (!ok) return -1;
    in->n_points = (int)dims[0];
    in->n_metrics = 1;
    for (const char *c = in->metrics; *c; c++) in->n_metrics += *c == ',';
    return 0;
}

int h5out_inspect(const char *path, int verify, h5out_info_t *in, char *err, size_t errlen)
{
    int rc = -1;
    char why[512] = "";
    hid_t file;
    h5out_quiet();
    memset(in, 0, sizeof *in);
    err[0] = '\0';
    if ((file = open_readonly(path, err, errlen)) < 0) return -1;
    if (read_root(file, path, in, err, errlen, why, sizeof why) == 0 &&
        read_runs(file, in, why, sizeof why) == 0) {
        if (read_axis(file, in) < 0)
            snprintf(why, sizeof why, "/traces/step");
        else if (!verify || verify_traces(file, in, why, sizeof why) == 0)
            rc = 0;
    }
    if (rc != 0 && why[0])
        snprintf(err, errlen, "%s: an attnsweep file, but damaged or incomplete (%s)", path, why);
    H5Fclose(file);
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
    free(in->model_source);
    free(in->swept);
    free(in->metrics);
    free(in->hostname);
    free(in->data_files);
    free(in->status);
    free(in->attempts);
    free(in->crc);
    free(in->crc_ok);
    free(in->messages);
    memset(in, 0, sizeof *in);
}

/* ---- copying runs out of a file ------------------------------------------------------------- */

struct h5out_reader {
    hid_t file;
    h5out_info_t info;
    h5out_sets_t sets;
    float *row; /* [info.n_points] */
};

void h5out_reader_close(h5out_reader_t *r)
{
    if (!r) return;
    h5out_sets_close(&r->sets);
    if (r->file >= 0) H5Fclose(r->file);
    h5out_info_free(&r->info);
    free(r->row);
    free(r);
}

const h5out_info_t *h5out_reader_info(const h5out_reader_t *r) { return &r->info; }

int h5out_reader_open(h5out_reader_t **out, const char *path, char *err, size_t errlen)
{
    h5out_reader_t *r = calloc(1, sizeof *r);
    char names[4096];
    const char *metric[MODEL_MAX_METRICS];
    int nm = 0;
    *out = NULL;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->file = -1;
    h5out_sets_init(&r->sets);
    if (h5out_inspect(path, 1, &r->info, err, errlen) != 0 ||
        (r->file = open_readonly(path, err, errlen)) < 0 ||
        !(r->row = malloc(sizeof(float) * (size_t)(r->info.n_points + 1)))) {
        if (!err[0]) snprintf(err, errlen, "out of memory");
        h5out_reader_close(r);
        return -1;
    }
    snprintf(names, sizeof names, "%s", r->info.metrics);
    for (char *save = NULL, *t = strtok_r(names, ",", &save); t && nm < MODEL_MAX_METRICS;
         t = strtok_r(NULL, ",", &save))
        metric[nm++] = t;
    if (h5out_sets_open(&r->sets, r->file, r->info.format_version, metric, nm, r->info.n_runs,
                        r->info.n_points, path, err, errlen) != 0) {
        h5out_reader_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* Bytes of the fixed-length strings of dataset name (0 if it holds none). */
static size_t str_size(hid_t file, const char *name)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT), t = ds >= 0 ? H5Dget_type(ds) : -1;
    size_t n = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) <= 0
                   ? H5Tget_size(t) : 0;
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    return n;
}

int h5out_reader_key(h5out_reader_t *r, const param_def_t *d, double *values)
{
    char name[160];
    long n = r->info.n_runs;
    int rc = -1;
    snprintf(name, sizeof name, "/runs/%s", d->name);
    if (H5Lexists(r->file, name, H5P_DEFAULT) <= 0) return 0;
    if (!param_is_text(d))
        return read_column(r->file, name, n, H5T_NATIVE_DOUBLE, values) == 0 ? 1 : -1;
    size_t w = str_size(r->file, name) + 1; /* a file key's paths may be long */
    hid_t mt = h5out_str_type(w < 256 ? 256 : w);
    w = w < 256 ? 256 : w;
    char *s = calloc((size_t)(n > 0 ? n : 1), w);
    if (mt >= 0 && s && read_column(r->file, name, n, mt, s) == 0) {
        for (long i = 0; i < n; i++) {
            values[i] = NAN;
            for (int c = 0; c < param_n_choices(d); c++)
                if (strcmp(s + (size_t)i * w, d->choices ? d->choices[c] : "") == 0) values[i] = c;
        }
        rc = 1;
    }
    free(s);
    if (mt >= 0) H5Tclose(mt);
    return rc;
}

/* H5Literate callback: stop at the first parameter dataset not among the defs. */
typedef struct {
    hid_t runs;
    const param_def_t *defs;
    int n;
    char *name;
    size_t len;
} extra_t;

static herr_t find_extra(hid_t g, const char *name, const H5L_info_t *info, void *arg)
{
    extra_t *e = arg;
    (void)g, (void)info;
    if (param_index(e->defs, e->n, name) >= 0) return 0;
    hid_t ds = H5Dopen2(e->runs, name, H5P_DEFAULT);
    int param = ds >= 0 && H5Aexists(ds, "section") > 0;
    if (ds >= 0) H5Dclose(ds);
    if (!param) return 0;
    snprintf(e->name, e->len, "%s", name);
    return 1;
}

int h5out_reader_extra_key(h5out_reader_t *r, const param_def_t *defs, int n, char *name,
                           size_t namelen)
{
    extra_t e = {H5Gopen2(r->file, "runs", H5P_DEFAULT), defs, n, name, namelen};
    hsize_t idx = 0;
    int found = e.runs >= 0 &&
                H5Literate(e.runs, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, find_extra, &e) > 0;
    if (e.runs >= 0) H5Gclose(e.runs);
    return found;
}

int h5out_reader_record(h5out_reader_t *r, long id, int n_points, float *trace,
                        h5out_summary_t *s, char *err, size_t errlen)
{
    const h5out_info_t *in = &r->info;
    int keep = n_points < in->n_points ? n_points : in->n_points;
    memset(s, 0, sizeof *s);
    s->reuse_id = -1;
    for (int m = 0; m < in->n_metrics; m++) {
        if (h5out_rows_io(r->sets.traces[m], H5T_NATIVE_FLOAT, id, 1, in->n_points, r->row, 0) < 0) {
            snprintf(err, errlen, "cannot read trace %d of run %ld", m, id);
            return -1;
        }
        float *dst = trace + (size_t)m * (size_t)n_points;
        memcpy(dst, r->row, sizeof(float) * (size_t)keep);
        for (int i = keep; i < n_points; i++) dst[i] = NAN;
    }
    for (int k = 0; k < S_N; k++) {
        char v[H5OUT_MESSAGE_LEN];
        if (r->sets.summary[k] < 0) continue;
        if (h5out_rows_io(r->sets.summary[k], r->sets.mtype[k], id, 1, 0, v, 0) < 0) {
            snprintf(err, errlen, "cannot read /runs/%s[%ld]", h5out_summaries[k].name, id);
            return -1;
        }
        h5out_summary_set(s, k, v);
    }
    return 0;
}

int h5out_reader_column(h5out_reader_t *r, const char *name, double *values)
{
    char path[160];
    snprintf(path, sizeof path, "/runs/%s", name);
    if (H5Lexists(r->file, path, H5P_DEFAULT) <= 0) return 0;
    return read_column(r->file, path, r->info.n_runs, H5T_NATIVE_DOUBLE, values) == 0 ? 1 : -1;
}

int h5out_reader_final(h5out_reader_t *r, int m, double *values)
{
    const long B = 256, n = r->info.n_runs;
    const int np = r->info.n_points;
    float *blk = malloc(sizeof *blk * (size_t)B * (size_t)(np ? np : 1));
    int rc = blk && m >= 0 && m < r->sets.n_metrics ? 0 : -1;
    for (long start = 0; rc == 0 && start < n; start += B) {
        long cnt = n - start < B ? n - start : B;
        if (h5out_rows_io(r->sets.traces[m], H5T_NATIVE_FLOAT, start, cnt, np, blk, 0) < 0) {
            rc = -1;
            break;
        }
        for (long i = 0; i < cnt; i++) {
            values[start + i] = NAN;
            for (int k = np - 1; k >= 0; k--)
                if (!isnan(blk[(size_t)i * (size_t)np + (size_t)k])) {
                    values[start + i] = blk[(size_t)i * (size_t)np + (size_t)k];
                    break;
                }
        }
    }
    free(blk);
    return rc;
}
