/* snell2021_gate — the two-stage gated toy of Snell et al. (2021): two training examples, {0, 0}
 * negative and {0, 1} positive, scored s0 = b0 and s1 = (1 − p) b0 + p b1 with per-word knowledge
 * b0, b1 and an unconstrained gate p (the weight of word 1 when both occur). The loss
 * L = s0 − s1 = p (b0 − b1) is minimised by plain gradient descent, an Euler discretisation of the
 * flow db0/dt = −p, db1/dt = p, dp/dt = b1 − b0, whose closed form the trace carries beside it:
 * with ω = √2 and u = b1 − b0, p(t) = p0 cosh ωt + (u0/ω) sinh ωt, u(t) = p0 ω sinh ωt + u0 cosh ωt
 * (b0 + b1 stays constant). A model family of its own (no randomness: seed is unused). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "attnsweep/model.h"

static const char *const start_choices[] = {"equal", "reversed", "known", "custom", NULL};
enum { START_EQUAL, START_REVERSED, START_KNOWN, START_CUSTOM };

static const param_def_t gate_params[] = {
    {.name = "start", .section = "task", .type = PARAM_ENUM, .choices = start_choices,
     .def = START_EQUAL,
     .help = "equal: b0 = b1 = 0, p = 1/2; reversed: b0 = 10, b1 = -10, p = 1/2; known: "
             "b0 = -K, b1 = 3K, p = 1/2 (K = knowledge); custom: b0_init, b1_init, p_init"},
    {.name = "knowledge", .section = "task", .type = PARAM_REAL, .def = 1, .min = -1e12,
     .max = 1e12, .help = "K of start = known"},
    {.name = "b0_init", .section = "task", .type = PARAM_REAL, .def = 0, .min = -1e12, .max = 1e12,
     .help = "b0 at step 0 (start = custom)"},
    {.name = "b1_init", .section = "task", .type = PARAM_REAL, .def = 0, .min = -1e12, .max = 1e12,
     .help = "b1 at step 0 (start = custom)"},
    {.name = "p_init", .section = "task", .type = PARAM_REAL, .def = 0.5, .min = -1e12,
     .max = 1e12, .help = "gate p at step 0 (start = custom)"},
};

static const metric_def_t gate_metrics[] = {
    {"train_loss", "L = s0 - s1 = p (b0 - b1)", "1"},
    {"train_acc", "1 when the positive example outscores the negative one (s1 > s0), else 0", "1"},
    {"test_acc", "= train_acc (the two examples are the whole distribution)", "1"},
    {"b0", "knowledge of word 0 (score of {0, 0})", "1"},
    {"b1", "knowledge of word 1", "1"},
    {"p", "gate: weight of word 1 in s1", "1"},
    {"gap", "b1 - b0", "1"},
    {"flow_time", "t = lr * step, the time of the gradient flow the steps discretise", "1"},
    {"p_flow", "closed-form p(t) of the gradient flow from the same start", "1"},
    {"gap_flow", "closed-form (b1 - b0)(t) of the gradient flow from the same start", "1"},
};
enum { M_LOSS, M_TRAIN_ACC, M_TEST_ACC, M_B0, M_B1, M_P, M_GAP, M_TIME, M_PFLOW, M_GFLOW, M_N };

typedef struct {
    double b0, b1, p;    /* current values */
    double b00, b10, p0; /* start */
    double lr;
    long steps;          /* steps taken */
} gate_t;

static int gate_init(void **state, const params_t *prm, char *err, size_t errlen)
{
    gate_t *s = calloc(1, sizeof *s);
    *state = s;
    if (!s) {
        snprintf(err, errlen, "snell2021_gate: out of memory");
        return -1;
    }
    double K = params_get(prm, "knowledge");
    switch ((int)params_geti(prm, "start")) {
    case START_EQUAL: s->b00 = 0, s->b10 = 0, s->p0 = 0.5; break;
    case START_REVERSED: s->b00 = 10, s->b10 = -10, s->p0 = 0.5; break;
    case START_KNOWN: s->b00 = -K, s->b10 = 3 * K, s->p0 = 0.5; break;
    default:
        s->b00 = params_get(prm, "b0_init");
        s->b10 = params_get(prm, "b1_init");
        s->p0 = params_get(prm, "p_init");
    }
    s->b0 = s->b00, s->b1 = s->b10, s->p = s->p0;
    s->lr = params_get(prm, "lr");
    return 0;
}

/* One gradient step on L = p (b0 − b1): all three from the old values. */
static int gate_step(void *state, long step, double *loss, char *err, size_t errlen)
{
    gate_t *s = state;
    (void)step, (void)err, (void)errlen;
    double b0 = s->b0, b1 = s->b1, p = s->p;
    *loss = p * (b0 - b1);
    s->b0 = b0 - s->lr * p;
    s->b1 = b1 + s->lr * p;
    s->p = p - s->lr * (b0 - b1);
    s->steps++;
    return 0;
}

static int gate_eval(void *state, double *m, char *err, size_t errlen)
{
    const gate_t *s = state;
    (void)err, (void)errlen;
    const double w = sqrt(2.0), t = s->lr * (double)s->steps, u0 = s->b10 - s->b00;
    double s0 = s->b0, s1 = (1 - s->p) * s->b0 + s->p * s->b1;
    m[M_LOSS] = s0 - s1;
    m[M_TRAIN_ACC] = m[M_TEST_ACC] = s1 > s0 ? 1.0 : 0.0;
    m[M_B0] = s->b0;
    m[M_B1] = s->b1;
    m[M_P] = s->p;
    m[M_GAP] = s->b1 - s->b0;
    m[M_TIME] = t;
    m[M_PFLOW] = s->p0 * cosh(w * t) + u0 / w * sinh(w * t);
    m[M_GFLOW] = s->p0 * w * sinh(w * t) + u0 * cosh(w * t);
    return 0;
}

static double gate_cost(const params_t *p) { return (double)params_geti(p, "steps") + 1; }
static size_t gate_memory(const params_t *p) { (void)p; return sizeof(gate_t); }
static void gate_free(void *state) { free(state); }

const model_family_t snell2021_gate_family = {
    .abi = ATTNSWEEP_MODEL_ABI,
    .name = "snell2021_gate",
    .summary = "two-stage gated toy: knowledge b0, b1 and gate p under gradient descent (Snell "
               "et al. 2021)",
    .params = gate_params,
    .n_params = sizeof gate_params / sizeof gate_params[0],
    .metrics = gate_metrics,
    .n_metrics = M_N,
    .cost = gate_cost,
    .init = gate_init,
    .step = gate_step,
    .eval = gate_eval,
    .memory = gate_memory,
    .free = gate_free,
};
