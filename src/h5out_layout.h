/* h5out_layout (private to h5out.c and h5out_read.c) — the results file's layout as data: the
 * per-run summary datasets with their types, fill values and descriptions, in write order
 * (status last: the commit), and the small HDF5 helpers both the writer and the reader use.
 * docs/file-format.md describes the same layout for users. */
#ifndef ATTNSWEEP_H5OUT_LAYOUT_H
#define ATTNSWEEP_H5OUT_LAYOUT_H
#include <hdf5.h>
#include "attnsweep/h5out.h"

/* Value kinds of the summary datasets. */
enum { K_I8, K_I32, K_U32, K_I64, K_F64, K_HOST, K_MSG };

enum {
    S_FTL, S_FTA, S_FTE, S_STC, S_STEPS, S_NPTS, S_WALL, S_RANK, S_HOST, S_ATT, S_CRC, S_MSG,
    S_REUSE_ID, S_REUSE_FILE, S_STATUS, S_N
};

typedef struct {
    const char *name;
    int kind;
    double fill;
    const char *long_name, *units; /* units NULL: none applies (a code, an id, a text) */
    int since;                     /* the format version that added it */
} h5out_summary_def_t;

extern const h5out_summary_def_t h5out_summaries[S_N];

#define H5OUT_STATUS_MEANINGS "pending done failed diverged interrupted"

/* Quiet HDF5's error stack (library code must not print). */
void h5out_quiet(void);
/* A string attribute (fixed or variable length) as a malloc'd string; NULL if absent. */
char *h5out_attr_str(hid_t loc, const char *name);
/* A fixed-length UTF-8 string type of len bytes (NUL-terminated), or -1. */
hid_t h5out_str_type(size_t len);
/* A memory string type of len bytes in the character set of ftype (HDF5 does not convert between
 * ASCII and UTF-8; version-1 files are ASCII), or -1. */
hid_t h5out_str_like(hid_t ftype, size_t len);
/* File and memory types of a kind, or -1. */
hid_t h5out_kind_type(int kind, int file);
size_t h5out_kind_bytes(int kind);
/* Read or write elements [start, start+count) of a 1-D dataset, or a [count × n_cols] block of a
 * 2-D one (independent I/O under MPI-IO). 0 or -1. */
int h5out_rows_io(hid_t ds, hid_t mtype, long start, long count, int n_cols, void *buf, int write);
/* The datasets a run is written into or read from: every trace and every summary the file's
 * format version has (-1 for the others), with the summaries' memory types. */
typedef struct {
    int n_metrics;
    hid_t traces[MODEL_MAX_METRICS];
    hid_t summary[S_N], mtype[S_N];
} h5out_sets_t;

void h5out_sets_init(h5out_sets_t *s);
/* Open /traces/<metrics[m]> ([n_runs, n_points] each) and the summaries ([n_runs]) in file. 0, or
 * -1 with err naming the first missing or misshapen one (path in the message). */
int h5out_sets_open(h5out_sets_t *s, hid_t file, int version, const char *const *metrics,
                    int n_metrics, long n_runs, int n_points, const char *path, char *err,
                    size_t errlen);
void h5out_sets_close(h5out_sets_t *s);

/* A summary record's field s as the bytes the dataset holds (into v), and back. */
void h5out_summary_get(const h5out_summary_t *r, int s, void *v);
void h5out_summary_set(h5out_summary_t *r, int s, const void *v);

#endif
