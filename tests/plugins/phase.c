/* phase — a test family with a known phase boundary, for `attnsweep refine`: a run at (x, y)
 * "learns" (test_acc 1) iff it lies inside the circle of centre (cx, cy) and radius r, in each
 * key's spacing (log10 of x when log_x is true). No training: every step is free. */
#include <math.h>
#include <stdlib.h>
#include <attnsweep/model.h>

static const param_def_t params[] = {
    {.name = "x", .section = "task", .type = PARAM_REAL, .def = 1, .min = 0, .max = 1e6,
     .help = "first coordinate"},
    {.name = "y", .section = "task", .type = PARAM_REAL, .def = 1, .min = -1e6, .max = 1e6,
     .help = "second coordinate"},
    {.name = "cx", .section = "task", .type = PARAM_REAL, .def = 0, .min = -1e6, .max = 1e6,
     .help = "centre, first coordinate (log10 of x when log_x)"},
    {.name = "cy", .section = "task", .type = PARAM_REAL, .def = 0, .min = -1e6, .max = 1e6,
     .help = "centre, second coordinate"},
    {.name = "r", .section = "task", .type = PARAM_REAL, .def = 1, .min = 0, .max = 1e6,
     .help = "radius"},
    {.name = "log_x", .section = "task", .type = PARAM_BOOL, .def = 0, .help = "x in log10"},
};
static const metric_def_t metrics[] = {{"train_loss", "0", "1"},
                                       {"train_acc", "1 inside the circle, else 0", "1"},
                                       {"test_acc", "1 inside the circle, else 0", "1"}};

static int init(void **s, const params_t *p, char *e, size_t n)
{
    double *in = malloc(sizeof *in);
    (void)e, (void)n;
    if (!in) return -1;
    double x = params_geti(p, "log_x") ? log10(params_get(p, "x")) : params_get(p, "x");
    double dx = x - params_get(p, "cx"), dy = params_get(p, "y") - params_get(p, "cy");
    *in = dx * dx + dy * dy < params_get(p, "r") * params_get(p, "r") ? 1.0 : 0.0;
    *s = in;
    return 0;
}
static int step(void *s, long k, double *loss, char *e, size_t n)
{
    (void)s, (void)k, (void)e, (void)n;
    *loss = 0;
    return 0;
}
static int eval(void *s, double *m, char *e, size_t n)
{
    (void)e, (void)n;
    m[0] = 0, m[1] = m[2] = *(double *)s;
    return 0;
}
static void done(void *s) { free(s); }

static const model_family_t family = {
    .abi = ATTNSWEEP_MODEL_ABI, .name = "phase", .summary = "a known phase boundary (tests)",
    .params = params, .n_params = sizeof params / sizeof params[0],
    .metrics = metrics, .n_metrics = 3, .init = init, .step = step, .eval = eval, .free = done,
};
ATTNSWEEP_MODEL_PLUGIN(family)
