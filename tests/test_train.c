/* Tests of the training loop (src/train.c): the logged steps, the summary (final values, steps to
 * converge), and how a run ends — done, diverged with the trace so far, interrupted by the stop
 * flag, failed past max_seconds or when init fails. A scripted mock family makes every case
 * exact; lu2021 with a huge learning rate shows a real divergence. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/train.h"
#include "models/lu2021/lu2021.h"

/* ---- a scripted family: loss(step) = 1 / (1 + step); NaN from step nan_at on ------------- */

static const param_def_t mock_params[] = {
    {.name = "nan_at", .section = "model", .type = PARAM_INT, .def = -1, .min = -1, .max = 1e9,
     .help = "first step whose loss is NaN"},
    {.name = "fail_init", .section = "model", .type = PARAM_BOOL, .def = 0,
     .help = "init reports an error"},
};
static const metric_def_t mock_metrics[] = {{"train_loss", NULL, NULL}, {"train_acc", NULL, NULL},
                                           {"test_acc", NULL, NULL}, {"valid_acc", NULL, NULL}};

typedef struct {
    long step, nan_at, steps_called, evals;
} mock_t;

static int mock_init(void **state, const params_t *p, char *err, size_t errlen)
{
    if (params_geti(p, "fail_init")) {
        snprintf(err, errlen, "fail_init: asked to fail");
        return -1;
    }
    mock_t *m = calloc(1, sizeof *m);
    m->nan_at = params_geti(p, "nan_at");
    *state = m;
    return 0;
}

static double mock_loss(const mock_t *m)
{
    return (m->nan_at >= 0 && m->step >= m->nan_at) ? NAN : 1.0 / (1.0 + (double)m->step);
}

static int mock_step(void *state, long step, double *loss, char *err, size_t errlen)
{
    mock_t *m = state;
    (void)err, (void)errlen;
    cr_expect_eq(step, m->step, "steps are numbered from 0 in order");
    *loss = mock_loss(m);
    m->step++;
    m->steps_called++;
    return 0;
}

static int mock_eval(void *state, double *metrics, char *err, size_t errlen)
{
    mock_t *m = state;
    (void)err, (void)errlen;
    m->evals++;
    metrics[0] = mock_loss(m);
    metrics[1] = 0.5;
    metrics[2] = (double)m->step;
    metrics[3] = m->step < 12 ? 0.05 * (double)m->step : 0.55; /* improves until step 12 */
    return 0;
}

static double mock_cost(const params_t *p) { (void)p; return 1; }
static size_t mock_memory(const params_t *p) { (void)p; return 1; }
static int mock_check(const params_t *p, char *err, size_t n) { (void)p, (void)err, (void)n; return 0; }
static void mock_free(void *s) { free(s); }

static const model_family_t mock_family = {
    .abi = ATTNSWEEP_MODEL_ABI, .name = "mock", .summary = "scripted", .params = mock_params, .n_params = 2,
    .metrics = mock_metrics, .n_metrics = 4, .check = mock_check, .cost = mock_cost,
    .init = mock_init, .step = mock_step, .eval = mock_eval, .memory = mock_memory,
    .free = mock_free,
};

typedef schema_params_t run_params_t;

static void params_for(run_params_t *rp, const model_family_t *f)
{
    cr_assert_eq(schema_defaults(rp, f->params, f->n_params), 0, "%s has too many keys", f->name);
}

static void set(run_params_t *rp, const char *name, double v)
{
    cr_assert_eq(params_set(&rp->p, name, v), 0, "no key %s", name);
}

static double cell(const trace_t *t, int row, int col) { return t->rows[(size_t)row * t->n_cols + col]; }

Test(train, rows_are_logged_at_every_log_every_steps_including_0_and_the_last)
{
    run_params_t rp;
    params_for(&rp, &mock_family);
    set(&rp, "steps", 23);
    set(&rp, "log_every", 5);
    cr_expect_eq(schema_n_points(&rp.p), 5); /* 0, 5, 10, 15, 20 */
    trace_t t;
    run_result_t res;
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_DONE, "%s", res.message);
    cr_expect_eq(t.n_filled, 5);
    for (int r = 0; r < 5; r++) {
        cr_expect_eq(cell(&t, r, 0), 5.0 * r);
        cr_expect_float_eq(cell(&t, r, 1), 1.0 / (1 + 5 * r), 1e-15);
        cr_expect_eq(cell(&t, r, 3), 5.0 * r, "eval sees the weights after exactly that many steps");
    }
    cr_expect_eq(res.steps_done, 23);
    cr_expect_str_empty(res.message);
    cr_expect_float_eq(res.final_train_loss, 1.0 / 21, 1e-15, "final values are the last row");
    cr_expect_float_eq(res.final_train_acc, 0.5, 1e-15);
    /* first logged step with loss < 0.01 (the default converge_loss): none */
    cr_expect_eq(res.steps_to_converge, -1);
    train_trace_free(&t);

    set(&rp, "converge_loss", 0.1); /* 1/(1+s) < 0.1 from s = 10 on: logged at 10 */
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.steps_to_converge, 10, "1/(1+10) = 0.0909 is the first logged loss < 0.1");
    train_trace_free(&t);
}

Test(train, a_nan_loss_ends_the_run_as_diverged_with_the_trace_so_far)
{
    run_params_t rp;
    params_for(&rp, &mock_family);
    set(&rp, "steps", 100);
    set(&rp, "log_every", 10);
    set(&rp, "nan_at", 34);
    trace_t t;
    run_result_t res;
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_DIVERGED);
    cr_expect_eq(t.n_filled, 4, "rows 0, 10, 20, 30 were logged before the NaN");
    cr_expect(strstr(res.message, "34") != NULL, "message: %s", res.message);
    cr_expect_eq(res.steps_done, 35, "steps 0..34 ran; step 34 returned the NaN");
    cr_expect(isnan(cell(&t, 4, 0)), "unfilled rows stay NaN");
    train_trace_free(&t);
}

Test(train, the_stop_flag_interrupts_the_run)
{
    run_params_t rp;
    params_for(&rp, &mock_family);
    set(&rp, "steps", 50);
    trace_t t;
    run_result_t res;
    volatile sig_atomic_t stop = 1;
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, &stop), 0);
    cr_expect_eq(res.status, RUN_INTERRUPTED);
    cr_expect_eq(t.n_filled, 1, "step 0 is logged before the flag is polled");
    cr_expect_eq(res.steps_done, 0);
    train_trace_free(&t);
}

Test(train, max_seconds_fails_the_run_and_a_failing_init_is_reported)
{
    run_params_t rp;
    params_for(&rp, &mock_family);
    set(&rp, "steps", 1000000000);
    set(&rp, "log_every", 1000000000);
    set(&rp, "max_seconds", 0.05);
    trace_t t;
    run_result_t res;
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_FAILED);
    cr_expect(strstr(res.message, "max_seconds") != NULL, "%s", res.message);
    train_trace_free(&t);

    set(&rp, "max_seconds", 0);
    set(&rp, "fail_init", 1);
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_FAILED);
    cr_expect(strstr(res.message, "fail_init") != NULL, "%s", res.message);
    train_trace_free(&t);
}

Test(train, a_trace_buffer_of_the_wrong_shape_is_an_error)
{
    run_params_t rp;
    params_for(&rp, &mock_family);
    trace_t t;
    run_result_t res;
    cr_assert_eq(train_trace_init(&t, 2, 4), 0);
    cr_expect_lt(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect(strstr(res.message, "trace") != NULL, "%s", res.message);
    train_trace_free(&t);
}

Test(train, lu2021_with_a_huge_learning_rate_diverges_and_keeps_its_trace)
{
    run_params_t rp;
    params_for(&rp, &lu2021_family);
    set(&rp, "vocab_size", 200);
    set(&rp, "words_per_sentence", 5);
    set(&rp, "n_sentences", 300);
    set(&rp, "train_frac", 0.6);
    set(&rp, "valid_frac", 0.1);
    set(&rp, "classifier", 2); /* mlp */
    set(&rp, "embed_std", 1.0);
    set(&rp, "lr", 1e150);
    set(&rp, "steps", 100);
    set(&rp, "log_every", 1);
    trace_t t;
    run_result_t res;
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 1 + lu2021_family.n_metrics), 0);
    cr_assert_eq(train_run(&lu2021_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_DIVERGED, "status %d: %s", res.status, res.message);
    cr_expect_geq(t.n_filled, 1);
    cr_expect_lt(t.n_filled, t.n_points);
    cr_expect(isfinite(cell(&t, 0, 1)), "step 0 was logged with finite values");
    cr_expect_neq(res.message[0], '\0');
    train_trace_free(&t);
}

Test(train, stop_when_converged_ends_the_run_done_at_the_first_converged_logged_step)
{
    run_params_t rp;
    trace_t t, full;
    run_result_t res, ref;
    params_for(&rp, &mock_family);
    set(&rp, "steps", 40);
    set(&rp, "log_every", 2);
    set(&rp, "converge_loss", 0.1); /* loss 1/(1 + step) < 0.1 from step 10 (1/11) */
    cr_assert_eq(train_trace_init(&full, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &full, &ref, NULL), 0);
    set(&rp, "stop_when_converged", 1);
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_DONE);
    cr_expect_eq(res.steps_to_converge, 10, "the first logged step below 0.1");
    cr_expect_eq(res.steps_done, 10);
    cr_expect_eq(t.n_filled, 6, "steps 0, 2, ..., 10 logged");
    cr_expect_eq(memcmp(t.rows, full.rows, sizeof(double) * 6 * 5), 0, "the same prefix, bit for bit");
    cr_expect(isnan(cell(&t, 6, 0)), "nothing after the stop");
    cr_expect_eq(res.final_train_loss, cell(&t, 5, 1), "final values are those at the stop");
    cr_expect_eq(ref.steps_done, 40);
    train_trace_free(&t);
    train_trace_free(&full);
}

Test(train, patience_stops_when_valid_acc_has_not_improved_for_that_many_steps)
{
    run_params_t rp;
    trace_t t;
    run_result_t res;
    params_for(&rp, &mock_family);
    set(&rp, "steps", 100);
    set(&rp, "log_every", 4);
    set(&rp, "patience", 10); /* valid_acc last improves at step 12 (logged), so stop at 24 */
    cr_assert_eq(train_trace_init(&t, schema_n_points(&rp.p), 5), 0);
    cr_assert_eq(train_run(&mock_family, &rp.p, &t, &res, NULL), 0);
    cr_expect_eq(res.status, RUN_DONE);
    cr_expect_eq(res.steps_done, 24, "12 + 10 rounded up to a logged step");
    cr_expect_eq(t.n_filled, 7);
    train_trace_free(&t);
}
