/* refine — phase diagrams at a fraction of the runs. From a (possibly partial) results file it
 * aggregates a metric over the seeds (and every other varying key) at each (x, y) point of two
 * swept keys (or along x alone), finds the grid cells where the metric crosses a level (or
 * changes most), and proposes at most `budget` new points there: the cells' midpoints in each
 * key's own spacing (log for keys that span two decades or more, or as told; integers stay
 * integers). It writes the next spec: the old one with the x/y values moved into [points] plus
 * the new points; `run NEXT.ini --reuse FILE` then trains only the new ones. No MPI. */
#ifndef ATTNSWEEP_REFINE_H
#define ATTNSWEEP_REFINE_H
#include <stddef.h>
#include "attnsweep/param.h"

typedef enum { REFINE_AUTO = 0, REFINE_LINEAR, REFINE_LOG } refine_scale_t;

typedef struct {
    const char *x, *y;          /* swept keys; y NULL: along x alone */
    const char *metric;         /* a numeric /runs dataset (final_test_acc, steps_to_converge,
                                 * ...), a trace metric (its last logged value), or "converged"
                                 * (1 if the run reached converge_loss, else 0) */
    int has_level;
    double level;               /* with has_level: refine where the metric crosses it */
    long budget;                /* most new points */
    refine_scale_t x_scale, y_scale;
} refine_config_t;

typedef struct {
    int two_d, x_log, y_log;
    long n_all;                 /* the old spec's (x, y) points, in grid order */
    double *ax, *ay;
    long n_measured;            /* points with at least one finished run: their mean metric */
    double *mx, *my, *mval;
    long *mcount;
    long n_cells, n_crossing;   /* cells examined; with a level, cells that cross it */
    long n_new;                 /* proposed points */
    double *nx, *ny;
    long full_grid;             /* points a product grid at the finest spacing would have */
    char *spec_text;            /* the old spec's canonical text */
    char *spec_path;
    param_def_t xdef, ydef;     /* the keys' definitions (formatting the new values) */
} refine_t;

/* Propose new points from file. 0 ok; <0 with err (unreadable file, unknown key or metric). */
int refine_propose(const char *file, const refine_config_t *cfg, refine_t *rf, char *err,
                   size_t errlen);
/* The next spec into out (overwritten). 0 ok; <0 with err. */
int refine_write_spec(const refine_t *rf, const refine_config_t *cfg, const char *file,
                      const char *out, char *err, size_t errlen);
void refine_free(refine_t *rf);

#endif
