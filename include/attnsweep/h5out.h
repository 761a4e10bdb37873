/* h5out — the sweep's one shared HDF5 file, a netCDF-4/CF file that h5py, pandas and xarray
 * read directly (layout: docs/file-format.md). The file appears under its name only once its
 * layout is complete (it is created as NAME.partial, flushed, closed and renamed). Every dataset
 * is allocated at full size with fill values; afterwards only raw data is written, with
 * independent MPI-IO by the rank that trained the run, status last as the commit, so a sweep
 * killed at any moment leaves a file whose committed runs are intact. Also the serial, MPI-free
 * reader that `status`, `--resume` and `--reuse` use. */
#ifndef ATTNSWEEP_H5OUT_H
#define ATTNSWEEP_H5OUT_H
#include <stddef.h>
#include <stdint.h>
#include <mpi.h>
#include "attnsweep/grid.h"
#include "attnsweep/train.h"

#define H5OUT_FORMAT_VERSION 2
#define H5OUT_HOST_LEN 64
#define H5OUT_MESSAGE_LEN 256

typedef struct h5out h5out_t;

/* Root attributes that are not derived from the spec/grid. Collective calls need identical
 * values on every rank: rank 0's are broadcast by h5out_create. */
typedef struct {
    const char *command_line;
    const char *created_utc;  /* ISO 8601 */
    const char *hostname;     /* of rank 0 */
    int mpi_size;
} h5out_meta_t;

/* What /runs stores for one run besides its parameters (the summary datasets). */
typedef struct {
    int8_t status;                      /* run_status_t; written last */
    double final_train_loss, final_train_acc, final_test_acc, wall_seconds;
    int64_t steps_to_converge, steps_done;
    int32_t n_points, rank, attempts;
    uint32_t trace_crc32;
    char host[H5OUT_HOST_LEN], message[H5OUT_MESSAGE_LEN];
    int64_t reuse_id;                   /* run id in the file it was copied from, -1 if trained */
    char reuse_file[H5OUT_MESSAGE_LEN]; /* that file, as given to --reuse; "" if trained */
} h5out_summary_t;

/* path + ".partial" into buf: where h5out_create builds the file. */
void h5out_partial_path(const char *path, char *buf, size_t n);

/* Create path collectively over comm with the full layout for grid g: root attributes, /spec,
 * /runs/run and /runs/<key> filled with every run's parameters, summaries at their fill values,
 * /traces/<metric> all NaN, the run and step dimension scales. Built as path.partial (a leftover
 * one is replaced), flushed and closed, then renamed to path (replacing an existing file only
 * then) and opened for writing. 0 ok; <0 with err (same result on every rank). */
int h5out_create(h5out_t **h, const char *path, MPI_Comm comm, const grid_t *g,
                 const h5out_meta_t *meta, char *err, size_t errlen);
/* Reopen an existing sweep file collectively for writing (after h5out_inspect accepted it).
 * Checks that its shape matches g (n_runs, n_points) and that the metrics it holds (those it was
 * created with) are among the family's. 0 ok; <0 with err. */
int h5out_open(h5out_t **h, const char *path, MPI_Comm comm, const grid_t *g, char *err,
               size_t errlen);
/* Independent: record that run id is being started for the attempts-th time. */
int h5out_write_attempt(h5out_t *h, long id, int attempts, char *err, size_t errlen);
/* Independent: write run id's trace rows (NaN padded to the shared step axis), its summary
 * (res, rank, host, attempts, CRC) and then its status. *crc_out (may be NULL) gets the CRC. */
int h5out_write_run(h5out_t *h, long id, const trace_t *trace, const run_result_t *res,
                    int rank, const char *host, int attempts, uint32_t *crc_out, char *err,
                    size_t errlen);
/* Independent: write run id as a record: trace [n_metrics × n_points] of the family's metrics
 * packed as h5out_pack_trace makes it (the file stores the rows of the metrics it holds: a file
 * keeps the metrics it was created with, so one an earlier version wrote may hold fewer; s's
 * trace_crc32 is replaced by the CRC of those rows), then the summary, its status last. */
int h5out_write_record(h5out_t *h, long id, const float *trace, const h5out_summary_t *s,
                       char *err, size_t errlen);
/* Collective close; h is freed whatever happens. 0 ok. */
int h5out_close(h5out_t *h, char *err, size_t errlen);

/* Pack a trace into what the file stores for one run: buf[m * n_points + i] = float of metric m
 * (trace column 1 + m) at point i, NaN past the run's filled rows. Returns the CRC-32 of buf
 * (n_metrics * n_points floats): the value of /runs/trace_crc32. Pure. */
uint32_t h5out_pack_trace(const trace_t *trace, int n_points, int n_metrics, float *buf);

/* Bytes of the file h5out_create makes for g (data of every dataset plus metadata). Pure. */
double h5out_estimate_bytes(const grid_t *g);

/* ---- serial, read-only (no MPI needed) ----------------------------------------------------- */

typedef struct {
    long n_runs;
    int n_points, n_metrics, format_version, mpi_size;
    char *spec, *spec_path, *spec_sha256, *created_utc, *attnsweep_version, *command_line,
        *model, *model_source, *swept, *metrics, *hostname;
    char *data_files;    /* "SHA256  PATH" lines of the data files (spec.h), NULL if none */
    int8_t *status;      /* [n_runs] */
    int32_t *attempts;   /* [n_runs] */
    uint32_t *crc;       /* [n_runs] stored CRCs */
    char *messages;      /* [n_runs][H5OUT_MESSAGE_LEN] /runs/message, NUL-terminated */
    int8_t *crc_ok;      /* [n_runs] with verify: 0 for a done or diverged run whose trace rows
                            do not match the stored CRC, else 1 */
    long counts[RUN_N_STATUS]; /* runs by status */
    long n_bad_crc;      /* done or diverged runs whose trace does not match (with verify) */
    long n_started;      /* runs with at least one attempt */
    long n_finished;     /* done, diverged or failed */
    int max_attempts;
} h5out_info_t;

/* Open path read-only (no file locking: works while a sweep writes it), read the root attributes,
 * the spec and the per-run status/attempts/CRC. Reads format versions 1 and 2. verify: also
 * recompute the CRC of every done or diverged run's trace.
 * <0 with err for a missing, non-HDF5, non-attnsweep or damaged file, or a leftover .partial. */
int h5out_inspect(const char *path, int verify, h5out_info_t *info, char *err, size_t errlen);
void h5out_info_free(h5out_info_t *info);

/* A file opened read-only to copy runs out of it (`run --reuse`). */
typedef struct h5out_reader h5out_reader_t;

/* Open path (format 1 or 2) and inspect it with verify: info's crc_ok says which finished runs'
 * traces are intact. 0 ok; <0 with err. */
int h5out_reader_open(h5out_reader_t **r, const char *path, char *err, size_t errlen);
const h5out_info_t *h5out_reader_info(const h5out_reader_t *r);
/* Key d's value for every run into values [n_runs], as params_t holds them (an enum or a file
 * key as its index into d->choices, NaN for a string d does not know). 1 read, 0 the file has no such key, -1 error. */
int h5out_reader_key(h5out_reader_t *r, const param_def_t *d, double *values);
/* 1 if the file has a parameter dataset (a /runs dataset with a section) named none of
 * defs[0..n); its name into name. 0 if not. */
int h5out_reader_extra_key(h5out_reader_t *r, const param_def_t *defs, int n, char *name,
                           size_t namelen);
/* The numeric /runs dataset name (a summary such as final_test_acc) for every run into values
 * [n_runs]. 1 read, 0 no such dataset, -1 error. */
int h5out_reader_column(h5out_reader_t *r, const char *name, double *values);
/* Trace metric m's last logged (non-NaN) value of every run into values [n_runs] (NaN if none). 0
 * ok, -1 error. */
int h5out_reader_final(h5out_reader_t *r, int m, double *values);
/* Run id's trace packed as h5out_pack_trace does for n_points points (the file's row, cut or
 * NaN-padded) and its summary (format 1: reuse_id -1). 0 ok; <0 with err. */
int h5out_reader_record(h5out_reader_t *r, long id, int n_points, float *trace,
                        h5out_summary_t *s, char *err, size_t errlen);
void h5out_reader_close(h5out_reader_t *r);

#endif
