/* grid — expands a spec into runs. The swept keys (those with more than one value) form the
 * grid's dimensions in the order they first appear in the spec, after the spec's [points] table
 * when it has one (one dimension whose values are tuples); runs are numbered row-major (the last
 * swept key varies fastest) and run id = position. Every run's values are checked by
 * the family's check() before anything starts, so a bad cell is an error, not a failed run. */
#ifndef ATTNSWEEP_GRID_H
#define ATTNSWEEP_GRID_H
#include <stddef.h>
#include "attnsweep/spec.h"

typedef struct {
    const spec_t *spec;
    const param_def_t *defs; /* = spec->defs */
    int n_defs;
    double *base;       /* [n_defs] value of every key (defaults, then the spec's single values) */
    int n_dims;
    int *dim_def;       /* [n_dims] index into defs of each swept key; -1: the [points] table */
    int *dim_len;       /* [n_dims] number of values (of points) */
    const double **dim_values; /* [n_dims] the values (owned by the spec) */
    int n_swept;        /* the keys that vary across runs: point keys, then swept keys */
    int swept_def[PARAM_MAX]; /* [n_swept] their indices into defs */
    long n_runs;
    int n_points;       /* max trace points over all runs (shared step axis) */
    double total_cost;  /* sum of run costs */
} grid_t;

/* Build the grid and check every run. 0 ok; <0 with err naming the run's values and the key. */
int grid_init(grid_t *g, const spec_t *s, char *err, size_t errlen);
void grid_free(grid_t *g);
/* The params of run id (0 <= id < n_runs). */
void grid_run_params(const grid_t *g, long id, params_t *p);
/* The index of run id along each dimension, into idx[n_dims]. */
void grid_run_index(const grid_t *g, long id, int *idx);
double grid_run_cost(const grid_t *g, long id);

#endif
