/* Tests of the snell2021_gate family (the two-stage gated toy): gradient descent at small lr
 * follows the closed form of the gradient flow from each of the three starts, with the first-order
 * error of an Euler discretisation; and the toy's qualitative story at its first steps. */
#include <criterion/criterion.h>
#include <math.h>
#include "attnsweep/train.h"

extern const model_family_t snell2021_gate_family;

enum { START_EQUAL, START_REVERSED, START_KNOWN };

/* Trace of one run traced at every step (columns: step, then the family's metrics). */
static void run(int start, double lr, long steps, trace_t *t)
{
    const model_family_t *f = &snell2021_gate_family;
    schema_params_t s;
    cr_assert_eq(schema_defaults(&s, f->params, f->n_params), 0);
    cr_assert_eq(params_set(&s.p, "start", start), 0);
    cr_assert_eq(params_set(&s.p, "lr", lr), 0);
    cr_assert_eq(params_set(&s.p, "steps", (double)steps), 0);
    cr_assert_eq(params_set(&s.p, "log_every", 1), 0);
    cr_assert_eq(params_set(&s.p, "converge_loss", 1e300), 0);
    run_result_t res;
    cr_assert_eq(train_trace_init(t, schema_n_points(&s.p), 1 + f->n_metrics), 0);
    cr_assert_eq(train_run(f, &s.p, t, &res, NULL), 0);
    cr_assert_eq(res.status, RUN_DONE, "%s", res.message);
    cr_assert_eq(t->n_filled, steps + 1, "one trace row per step");
}

static double col(const trace_t *t, long row, const char *metric)
{
    int i = model_metric_index(&snell2021_gate_family, metric);
    cr_assert_geq(i, 0, "no metric %s", metric);
    return t->rows[row * t->n_cols + 1 + i];
}

/* Largest error of p and of b1 − b0 against the closed form over the trace, each divided by the
 * Euler bound t·lr·(|p0| + |u0|/√2)·cosh(√2 t) (×√2 for the gap): per eigenmode e^{±√2 t} the
 * steps give (1 ± √2 lr)^n, off by a factor e^{−t·lr} to first order. */
static double worst_vs_bound(const trace_t *t, double lr)
{
    double p0 = col(t, 0, "p"), u0 = col(t, 0, "gap"), worst = 0;
    for (long r = 1; r < t->n_filled; r++) {
        double tt = col(t, r, "flow_time");
        double bound = tt * lr * (fabs(p0) + fabs(u0) / sqrt(2.0)) * cosh(sqrt(2.0) * tt);
        worst = fmax(worst, fabs(col(t, r, "p") - col(t, r, "p_flow")) / bound);
        worst = fmax(worst, fabs(col(t, r, "gap") - col(t, r, "gap_flow")) / (sqrt(2.0) * bound));
    }
    return worst;
}

/* Up to t = 2 at lr = 1e-3 and 5e-4: within 1.2× the first-order bound, and halving lr halves
 * the largest absolute error of p (ratio 1.9–2.1: the steps converge to the flow). */
static void follows_the_flow(int start)
{
    trace_t a, b;
    run(start, 1e-3, 2000, &a);
    run(start, 5e-4, 4000, &b);
    double wa = worst_vs_bound(&a, 1e-3), wb = worst_vs_bound(&b, 5e-4);
    cr_expect_leq(wa, 1.2, "lr 1e-3: error %.3g of the Euler bound", wa);
    cr_expect_leq(wb, 1.2, "lr 5e-4: error %.3g of the Euler bound", wb);
    double ea = fabs(col(&a, 2000, "p") - col(&a, 2000, "p_flow"));
    double eb = fabs(col(&b, 4000, "p") - col(&b, 4000, "p_flow"));
    cr_log_info("start %d: worst/bound %.3g (lr 1e-3), %.3g (lr 5e-4); |p - p_flow| at t = 2: "
                "%.3g, %.3g (p_flow %.6g)", start, wa, wb, ea, eb, col(&a, 2000, "p_flow"));
    cr_expect(ea / eb > 1.9 && ea / eb < 2.1, "error at t = 2: %.3g (lr 1e-3), %.3g (lr 5e-4)",
              ea, eb);
    train_trace_free(&a);
    train_trace_free(&b);
}

Test(snell2021_gate, equal_start_follows_p_half_cosh_and_gap_sinh_over_root_two)
{
    follows_the_flow(START_EQUAL);
    trace_t t;
    run(START_EQUAL, 1e-3, 2000, &t);
    double tt = col(&t, 2000, "flow_time"), w = sqrt(2.0);
    cr_expect_float_eq(col(&t, 2000, "p_flow"), 0.5 * cosh(w * tt), 1e-12);
    cr_expect_float_eq(col(&t, 2000, "gap_flow"), sinh(w * tt) / w, 1e-12);
    train_trace_free(&t);
}

Test(snell2021_gate, reversed_start_follows_the_flow)
{
    follows_the_flow(START_REVERSED);
}

Test(snell2021_gate, known_start_follows_the_flow)
{
    follows_the_flow(START_KNOWN);
}

Test(snell2021_gate, the_gate_waits_for_knowledge_in_the_first_steps)
{
    trace_t e, r, k;
    run(START_EQUAL, 1e-2, 3, &e);
    run(START_REVERSED, 1e-2, 3, &r);
    run(START_KNOWN, 1e-2, 3, &k);
    /* b0 = b1: p has no gradient at first (it moves only once b1 > b0), b1 - b0 grows at 2p */
    cr_expect_eq(col(&e, 1, "p"), 0.5);
    cr_expect_float_eq(col(&e, 1, "gap"), 2 * 1e-2 * 0.5, 1e-15);
    cr_expect_gt(col(&e, 2, "p"), 0.5);
    /* b0 > b1: p decreases */
    cr_expect_lt(col(&r, 1, "p"), 0.5);
    cr_expect_lt(col(&r, 2, "p"), col(&r, 1, "p"));
    /* b0 = -K, b1 = 3K (K = 1): loss -2K at uniform attention, and p rises at once */
    cr_expect_float_eq(col(&k, 0, "train_loss"), -2.0, 1e-15);
    cr_expect_float_eq(col(&k, 1, "p"), 0.5 + 1e-2 * 4, 1e-15);
    cr_expect_eq(col(&k, 0, "train_acc"), 1.0);
    cr_expect_eq(col(&e, 0, "train_acc"), 0.0);
    train_trace_free(&e);
    train_trace_free(&r);
    train_trace_free(&k);
}
