/* refine — proposing the next points of a phase diagram (refine.h). Points live on nested grids:
 * each refinement splits a cell at its midpoints, so the cells of the measured points are found
 * from each point's nearest measured neighbour to the right and above; a cell is kept when its
 * four corners are measured. Cells that cross the level (largest first), or that change most,
 * are split until the budget is spent: centre first, then the edge midpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/h5out.h"
#include "attnsweep/refine.h"

void refine_free(refine_t *rf)
{
    free(rf->ax), free(rf->ay), free(rf->mx), free(rf->my), free(rf->mval), free(rf->mcount);
    free(rf->nx), free(rf->ny), free(rf->spec_text), free(rf->spec_path);
    memset(rf, 0, sizeof *rf);
}

/* ---- the metric of every run ------------------------------------------------------------------ */

/* values [n_runs] of cfg->metric; NaN where a run has none. 0, or -1 with err. */
static int metric_values(h5out_reader_t *r, const char *metric, double *v, char *err,
                         size_t errlen)
{
    const h5out_info_t *in = h5out_reader_info(r);
    if (strcmp(metric, "converged") == 0) {
        if (h5out_reader_column(r, "steps_to_converge", v) != 1) goto unreadable;
        for (long i = 0; i < in->n_runs; i++) v[i] = v[i] >= 0 ? 1.0 : 0.0;
        return 0;
    }
    int got = h5out_reader_column(r, metric, v);
    if (got == 1) return 0;
    if (got < 0) goto unreadable;
    char names[4096];
    int m = 0;
    snprintf(names, sizeof names, "%s", in->metrics);
    for (char *save = NULL, *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save), m++)
        if (strcmp(t, metric) == 0) return h5out_reader_final(r, m, v) == 0 ? 0 : -1;
    snprintf(err, errlen, "--metric %s: not a /runs dataset nor a trace metric of this file "
             "(traces: %s; or converged, final_test_acc, steps_to_converge, ...)", metric,
             in->metrics);
    return -1;
unreadable:
    snprintf(err, errlen, "cannot read %s from the file", metric);
    return -1;
}

/* ---- points ----------------------------------------------------------------------------------- */

static long find(const double *x, const double *y, long n, double px, double py)
{
    for (long i = 0; i < n; i++)
        if (x[i] == px && y[i] == py) return i;
    return -1;
}

static int grow(double **a, double **b, long n)
{
    double *x = realloc(*a, sizeof *x * (size_t)(n + 1)), *y = x ? realloc(*b, sizeof *y * (size_t)(n + 1)) : NULL;
    if (x) *a = x;
    if (y) *b = y;
    return y ? 0 : -1;
}

/* The measured points: mean of the finite values of the finished runs at each (x, y). */
static int aggregate(refine_t *rf, const double *x, const double *y, const double *v,
                     const int8_t *status, long n)
{
    rf->mval = calloc((size_t)(n ? n : 1), sizeof *rf->mval);
    rf->mcount = calloc((size_t)(n ? n : 1), sizeof *rf->mcount);
    rf->mx = malloc(sizeof *rf->mx * (size_t)(n ? n : 1));
    rf->my = malloc(sizeof *rf->my * (size_t)(n ? n : 1));
    if (!rf->mval || !rf->mcount || !rf->mx || !rf->my) return -1;
    for (long i = 0; i < n; i++) {
        if ((status[i] != RUN_DONE && status[i] != RUN_DIVERGED) || !isfinite(v[i])) continue;
        long k = find(rf->mx, rf->my, rf->n_measured, x[i], y[i]);
        if (k < 0) {
            k = rf->n_measured++;
            rf->mx[k] = x[i], rf->my[k] = y[i];
        }
        rf->mval[k] += v[i];
        rf->mcount[k]++;
    }
    for (long k = 0; k < rf->n_measured; k++) rf->mval[k] /= (double)rf->mcount[k];
    return 0;
}

/* Log spacing for a key whose values are positive and span two decades, unless told. */
static int is_log(refine_scale_t s, const double *v, long n)
{
    if (s != REFINE_AUTO) return s == REFINE_LOG;
    double lo = INFINITY, hi = -INFINITY;
    for (long i = 0; i < n; i++) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    return lo > 0 && hi >= 100 * lo;
}

/* The midpoint of a and b in the key's spacing; integers rounded. */
static double mid(double a, double b, int log_scale, int integer)
{
    double m = log_scale ? sqrt(a * b) : 0.5 * (a + b);
    return integer ? round(m) : m;
}

/* ---- cells ----------------------------------------------------------------------------------- */

typedef struct {
    double x0, x1, y0, y1; /* the corners' coordinates (key values) */
    double size, change;   /* area (or length) in the keys' spacing, range of the metric */
    int crossing;
} cell_t;

/* Coordinate in the key's spacing. */
static double at(double v, int log_scale) { return log_scale ? log(v) : v; }

static void score(cell_t *c, const double *vals, int n, const refine_config_t *cfg)
{
    double lo = INFINITY, hi = -INFINITY;
    int below = 0, above = 0;
    for (int i = 0; i < n; i++) {
        lo = fmin(lo, vals[i]), hi = fmax(hi, vals[i]);
        below += cfg->has_level && vals[i] < cfg->level;
        above += cfg->has_level && vals[i] >= cfg->level;
    }
    c->change = hi - lo;
    c->crossing = below && above;
}

/* The cells of the measured points: for each point, the smallest rectangle with it as lower-left
 * corner whose four corners are measured (along x alone: the interval to the next point). */
static long find_cells(const refine_t *rf, const refine_config_t *cfg, cell_t *cells)
{
    long n = 0;
    const double *x = rf->mx, *y = rf->my, *v = rf->mval;
    for (long p = 0; p < rf->n_measured; p++) {
        cell_t best = {.size = INFINITY};
        for (long r = 0; r < rf->n_measured; r++) {
            if (y[r] != y[p] || x[r] <= x[p]) continue;
            if (!rf->two_d) {
                double w = at(x[r], rf->x_log) - at(x[p], rf->x_log);
                if (w < best.size) {
                    best = (cell_t){x[p], x[r], y[p], y[p], w, 0, 0};
                    score(&best, (double[]){v[p], v[r]}, 2, cfg);
                }
                continue;
            }
            for (long u = 0; u < rf->n_measured; u++) {
                if (x[u] != x[p] || y[u] <= y[p]) continue;
                long c = find(x, y, rf->n_measured, x[r], y[u]);
                double a = (at(x[r], rf->x_log) - at(x[p], rf->x_log)) *
                           (at(y[u], rf->y_log) - at(y[p], rf->y_log));
                if (c < 0 || a >= best.size) continue;
                best = (cell_t){x[p], x[r], y[p], y[u], a, 0, 0};
                score(&best, (double[]){v[p], v[r], v[u], v[c]}, 4, cfg);
            }
        }
        if (isfinite(best.size)) cells[n++] = best;
    }
    return n;
}

static const refine_config_t *g_cfg; /* qsort's comparison has no context */

/* Crossing cells first, the largest first; without a level, the largest change first. */
static int cell_cmp(const void *a, const void *b)
{
    const cell_t *p = a, *q = b;
    if (g_cfg->has_level && p->crossing != q->crossing) return q->crossing - p->crossing;
    double kp = g_cfg->has_level ? p->size : p->change, kq = g_cfg->has_level ? q->size : q->change;
    if (kp != kq) return kp > kq ? -1 : 1;
    double sp = g_cfg->has_level ? p->change : p->size, sq = g_cfg->has_level ? q->change : q->size;
    return (sp < sq) - (sp > sq);
}

/* Add (x, y) unless it is an old point or already proposed; -1 out of memory. */
static int propose(refine_t *rf, double x, double y)
{
    if (find(rf->ax, rf->ay, rf->n_all, x, y) >= 0 || find(rf->nx, rf->ny, rf->n_new, x, y) >= 0)
        return 0;
    if (grow(&rf->nx, &rf->ny, rf->n_new) != 0) return -1;
    rf->nx[rf->n_new] = x, rf->ny[rf->n_new++] = y;
    return 0;
}

/* Split the cells in priority order until the budget is spent. */
static int split_cells(refine_t *rf, const refine_config_t *cfg, int x_int, int y_int)
{
    cell_t *cells = malloc(sizeof *cells * (size_t)(rf->n_measured ? rf->n_measured : 1));
    if (!cells) return -1;
    rf->n_cells = find_cells(rf, cfg, cells);
    for (long i = 0; i < rf->n_cells; i++) rf->n_crossing += cells[i].crossing;
    g_cfg = cfg;
    qsort(cells, (size_t)rf->n_cells, sizeof *cells, cell_cmp);
    for (long i = 0; i < rf->n_cells && rf->n_new < cfg->budget; i++) {
        const cell_t *c = &cells[i];
        if (cfg->has_level && !c->crossing) break;
        double mx = mid(c->x0, c->x1, rf->x_log, x_int);
        double my = rf->two_d ? mid(c->y0, c->y1, rf->y_log, y_int) : c->y0;
        int split_x = mx != c->x0 && mx != c->x1, split_y = rf->two_d && my != c->y0 && my != c->y1;
        double cand[5][2] = {{mx, my}, {mx, c->y0}, {mx, c->y1}, {c->x0, my}, {c->x1, my}};
        int ok[5] = {split_x && (split_y || !rf->two_d), split_x && rf->two_d, split_x && rf->two_d,
                     split_y, split_y};
        for (int k = 0; k < 5 && rf->n_new < cfg->budget; k++)
            if (ok[k] && propose(rf, cand[k][0], cand[k][1]) != 0) {
                free(cells);
                return -1;
            }
    }
    free(cells);
    return 0;
}

/* Points per axis of a product grid at the finest spacing of v [n] (in the key's spacing). */
static long finest_count(const double *v, long n, int log_scale)
{
    double lo = INFINITY, hi = -INFINITY, step = INFINITY;
    for (long i = 0; i < n; i++) {
        lo = fmin(lo, at(v[i], log_scale)), hi = fmax(hi, at(v[i], log_scale));
        for (long j = 0; j < n; j++) {
            double d = fabs(at(v[i], log_scale) - at(v[j], log_scale));
            if (d > 1e-12 * (fabs(hi) + 1) && d < step) step = d;
        }
    }
    return isfinite(step) ? lround((hi - lo) / step) + 1 : 1;
}

/* Which of the grid's varying keys name is; -1 with err if it is not one. */
static int varying_key(const grid_t *g, const char *opt, const char *name, char *err,
                       size_t errlen)
{
    for (int k = 0; k < g->n_swept; k++) {
        const param_def_t *d = &g->defs[g->swept_def[k]];
        if (strcmp(d->name, name) != 0) continue;
        if (d->type == PARAM_INT || d->type == PARAM_REAL) return g->swept_def[k];
        snprintf(err, errlen, "%s %s: refine needs a numeric key (an integer or a number), not "
                 "one whose values are %s", opt, name, d->type == PARAM_BOOL ? "true/false"
                 : d->type == PARAM_FILE ? "files" : "names");
        return -1;
    }
    int u = snprintf(err, errlen, "%s %s: not a key that varies in the file's spec (they are:",
                     opt, name);
    for (int k = 0; k < g->n_swept && u >= 0 && (size_t)u < errlen; k++)
        u += snprintf(err + u, errlen - (size_t)u, " %s", g->defs[g->swept_def[k]].name);
    if (u >= 0 && (size_t)u < errlen) snprintf(err + u, errlen - (size_t)u, ")");
    return -1;
}

/* Every run's (x, y) and every distinct point of the grid, in grid order. */
static int read_points(refine_t *rf, const grid_t *g, int ix, int iy, double *x, double *y)
{
    for (long id = 0; id < g->n_runs; id++) {
        params_t p;
        grid_run_params(g, id, &p);
        x[id] = p.v[ix];
        y[id] = iy >= 0 ? p.v[iy] : 0.0;
        if (find(rf->ax, rf->ay, rf->n_all, x[id], y[id]) >= 0) continue;
        if (grow(&rf->ax, &rf->ay, rf->n_all) != 0) return -1;
        rf->ax[rf->n_all] = x[id], rf->ay[rf->n_all++] = y[id];
    }
    return 0;
}

int refine_propose(const char *file, const refine_config_t *cfg, refine_t *rf, char *err,
                   size_t errlen)
{
    h5out_reader_t *r = NULL;
    spec_t spec = {0};
    grid_t g = {0};
    double *x = NULL, *y = NULL, *v = NULL;
    int rc = -1, ix, iy = -1;
    memset(rf, 0, sizeof *rf);
    if (h5out_reader_open(&r, file, err, errlen) != 0) return -1;
    const h5out_info_t *in = h5out_reader_info(r);
    rf->spec_text = strdup(in->spec);
    rf->spec_path = strdup(in->spec_path && in->spec_path[0] ? in->spec_path : file);
    if (!rf->spec_text || !rf->spec_path) goto oom;
    if (spec_load_canonical(&spec, rf->spec_path, in->spec, err, errlen) != 0 ||
        grid_init(&g, &spec, err, errlen) != 0)
        goto cleanup;
    if (g.n_runs != in->n_runs) {
        snprintf(err, errlen, "%s: its spec gives %ld runs but it holds %ld", file, g.n_runs,
                 in->n_runs);
        goto cleanup;
    }
    if ((ix = varying_key(&g, "--x", cfg->x, err, errlen)) < 0 ||
        (cfg->y && (iy = varying_key(&g, "--y", cfg->y, err, errlen)) < 0))
        goto cleanup;
    if (spec.n_points && (spec.n_point_keys != (iy >= 0 ? 2 : 1) ||
                          (spec.point_def[0] != ix && spec.point_def[0] != iy) ||
                          (iy >= 0 && spec.point_def[1] != ix && spec.point_def[1] != iy))) {
        snprintf(err, errlen, "%s: its [points] keys are not the --x/--y keys; refine rewrites "
                 "[points] with those", file);
        goto cleanup;
    }
    x = malloc(sizeof *x * (size_t)(g.n_runs ? g.n_runs : 1));
    y = malloc(sizeof *y * (size_t)(g.n_runs ? g.n_runs : 1));
    v = malloc(sizeof *v * (size_t)(g.n_runs ? g.n_runs : 1));
    if (!x || !y || !v || read_points(rf, &g, ix, iy, x, y) != 0) goto oom;
    if (metric_values(r, cfg->metric, v, err, errlen) != 0) goto cleanup;
    if (aggregate(rf, x, y, v, in->status, g.n_runs) != 0) goto oom;
    rf->two_d = iy >= 0;
    rf->xdef = g.defs[ix];
    if (iy >= 0) rf->ydef = g.defs[iy];
    rf->x_log = is_log(cfg->x_scale, rf->ax, rf->n_all);
    rf->y_log = rf->two_d && is_log(cfg->y_scale, rf->ay, rf->n_all);
    if (split_cells(rf, cfg, g.defs[ix].type == PARAM_INT, iy >= 0 && g.defs[iy].type == PARAM_INT))
        goto oom;
    long n = rf->n_all + rf->n_new;
    double *ux = malloc(sizeof *ux * (size_t)n), *uy = malloc(sizeof *uy * (size_t)n);
    if (ux && uy) {
        memcpy(ux, rf->ax, sizeof *ux * (size_t)rf->n_all);
        memcpy(ux + rf->n_all, rf->nx, sizeof *ux * (size_t)rf->n_new);
        memcpy(uy, rf->ay, sizeof *uy * (size_t)rf->n_all);
        memcpy(uy + rf->n_all, rf->ny, sizeof *uy * (size_t)rf->n_new);
        rf->full_grid = finest_count(ux, n, rf->x_log) *
                        (rf->two_d ? finest_count(uy, n, rf->y_log) : 1) * (g.n_runs / rf->n_all);
    }
    free(ux), free(uy);
    rc = 0;
    goto cleanup;
oom:
    snprintf(err, errlen, "out of memory");
cleanup:
    free(x), free(y), free(v);
    grid_free(&g);
    spec_free(&spec);
    h5out_reader_close(r);
    if (rc != 0) refine_free(rf);
    return rc;
}

/* ---- the next spec --------------------------------------------------------------------------- */

/* Whether line (up to its end) sets key: "key =" after optional blanks. */
static int sets_key(const char *line, const char *key)
{
    line += strspn(line, " \t");
    size_t n = strlen(key);
    return strncmp(line, key, n) == 0 && line[n + strspn(line + n, " \t")] == '=';
}

/* Whether the line sets one of the keys the next spec sets elsewhere: x, y or an override's. */
static int replaced(const char *line, const refine_config_t *cfg, const char *const *ov, int n)
{
    if (sets_key(line, cfg->x) || (cfg->y && sets_key(line, cfg->y))) return 1;
    for (int i = 0; i < n; i++) {
        const char *dot = strchr(ov[i], '.'), *eq = strchr(ov[i], '=');
        char key[128];
        if (!dot || !eq || eq < dot) continue;
        snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
        char *e = key + strlen(key);
        while (e > key && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (sets_key(line, key)) return 1;
    }
    return 0;
}

static void point_line(FILE *f, const refine_t *rf, double x, double y)
{
    char a[64], b[64];
    param_format(&rf->xdef, x, a, sizeof a);
    if (rf->two_d) param_format(&rf->ydef, y, b, sizeof b);
    fprintf(f, "point = %s%s%s\n", a, rf->two_d ? ", " : "", rf->two_d ? b : "");
}

/* The old text, x/y and overridden lines commented out (with their indented continuations), and
 * an old [points] section (the new one lists its points again). */
static void write_body(FILE *f, const char *body, const refine_config_t *cfg, const char *const *ov,
                       int n_ov)
{
    int dropping = 0, in_points = 0;
    for (const char *l = body; *l;) {
        size_t len = strcspn(l, "\n");
        char line[4096];
        snprintf(line, sizeof line, "%.*s", (int)len, l);
        const char *t = line + strspn(line, " \t");
        int cont = (line[0] == ' ' || line[0] == '\t') && *t != '\0';
        if (*t == '[') in_points = strncmp(t, "[points]", 8) == 0;
        dropping = in_points || (cont ? dropping : replaced(line, cfg, ov, n_ov));
        fprintf(f, "%s%s\n", dropping ? "# refine: " : "", line);
        l += len + (l[len] == '\n');
    }
}

int refine_write_spec(const refine_t *rf, const refine_config_t *cfg, const char *file,
                      const char *out, char *err, size_t errlen)
{
    char *body = NULL;
    const char **ov = NULL;
    int n_ov = 0, rc = -1;
    FILE *f = NULL;
    if (spec_canonical_split(rf->spec_text, &body, &ov, &n_ov) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!(f = fopen(out, "w"))) {
        snprintf(err, errlen, "cannot write %s", out);
        goto cleanup;
    }
    /* The command line in full (scales resolved): analysis reads it to draw the phase diagram. */
    char level[40] = "";
    if (cfg->has_level) {
        int digits = 15; /* the shortest text that reads back as the same double */
        do snprintf(level, sizeof level, " --level %.*g", digits, cfg->level);
        while (strtod(level + 9, NULL) != cfg->level && ++digits <= 17);
    }
    fprintf(f, "# refined by `attnsweep refine %s --x %s --x-scale %s", file, cfg->x,
            rf->x_log ? "log" : "linear");
    if (cfg->y) fprintf(f, " --y %s --y-scale %s", cfg->y, rf->y_log ? "log" : "linear");
    fprintf(f, " --metric %s%s --budget %ld`: %ld new points\n", cfg->metric, level, cfg->budget,
            rf->n_new);
    write_body(f, body, cfg, ov, n_ov);
    for (int i = 0; i < n_ov; i++) {
        const char *dot = strchr(ov[i], '.');
        if (!dot || replaced(dot + 1, cfg, NULL, 0)) continue; /* x and y are points now */
        fprintf(f, "[%.*s]\n%s\n", (int)(dot - ov[i]), ov[i], dot + 1);
    }
    fprintf(f, "[points]\nkeys = %s%s%s\n", cfg->x, cfg->y ? ", " : "", cfg->y ? cfg->y : "");
    for (long i = 0; i < rf->n_all; i++) point_line(f, rf, rf->ax[i], rf->ay[i]);
    for (long i = 0; i < rf->n_new; i++) point_line(f, rf, rf->nx[i], rf->ny[i]);
    rc = fclose(f) == 0 ? 0 : -1;
    f = NULL;
    if (rc) snprintf(err, errlen, "cannot write %s", out);
cleanup:
    if (f) fclose(f);
    free(ov);
    free(body);
    return rc;
}
