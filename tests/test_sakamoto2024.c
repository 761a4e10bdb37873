/* Tests of the sakamoto2024 family (src/models/sakamoto2024.c): finite-difference gradients in W
 * and p, BLAS kernels against their plain _ref, the subspace solver against the explicit-W solver,
 * bit-for-bit determinism, and the direction of the paper's result on small instances. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/rng.h"
#include "attnsweep/train.h"
#include "models/sakamoto2024/sakamoto2024.h"

/* A run's params: train.c's common keys, then the family's, all at their defaults. */
typedef schema_params_t run_params_t;

static void params_default(run_params_t *rp)
{
    cr_assert_eq(schema_defaults(rp, sakamoto2024_family.params, sakamoto2024_family.n_params), 0);
}

static void set(run_params_t *rp, const char *name, double v)
{
    cr_assert_eq(params_set(&rp->p, name, v), 0, "no key %s", name);
}

/* A small, fast instance: d = 40, n = 10, T = 5, n_test = 60, 100 steps logged every 10. */
static void params_small(run_params_t *rp)
{
    params_default(rp);
    set(rp, "dim", 40);
    set(rp, "n_train", 10);
    set(rp, "seq_len", 5);
    set(rp, "n_test", 60);
    set(rp, "signal_norm", 6);
    set(rp, "steps", 100);
    set(rp, "log_every", 10);
    set(rp, "lr", 0.5);
}

static void run(const run_params_t *rp, trace_t *t, run_result_t *res)
{
    const model_family_t *f = &sakamoto2024_family;
    cr_assert_eq(train_trace_init(t, schema_n_points(&rp->p), 1 + f->n_metrics), 0);
    cr_assert_eq(train_run(f, &rp->p, t, res, NULL), 0);
    cr_assert_eq(res->status, RUN_DONE, "run failed: %s", res->message);
}

static double metric(const trace_t *t, int row, const char *name)
{
    int m = model_metric_index(&sakamoto2024_family, name);
    cr_assert(m >= 0, "no metric %s", name);
    return t->rows[(size_t)row * t->n_cols + 1 + m];
}

/* Random problem of the kernels' shapes (not the paper's data: any X, z, y will do). */
typedef struct {
    int N, T, D;
    double *X, *z, *y, *W, *p, *work, *dW, *dp, *dW2, *dp2;
} problem_t;

static void problem_init(problem_t *pb, int N, int T, int D, uint64_t seed)
{
    rng_t r;
    rng_init(&r, seed, 1);
    pb->N = N, pb->T = T, pb->D = D;
    size_t nT = (size_t)N * T, d = (size_t)D;
    pb->X = malloc(sizeof(double) * nT * d);
    pb->z = malloc(sizeof(double) * nT);
    pb->y = malloc(sizeof(double) * (size_t)N);
    pb->W = malloc(sizeof(double) * d * d);
    pb->p = malloc(sizeof(double) * d);
    pb->work = malloc(sizeof(double) * (2 * d + 5 * nT));
    pb->dW = malloc(sizeof(double) * d * d);
    pb->dW2 = malloc(sizeof(double) * d * d);
    pb->dp = malloc(sizeof(double) * d);
    pb->dp2 = malloc(sizeof(double) * d);
    for (size_t i = 0; i < nT * d; i++) pb->X[i] = rng_normal(&r);
    for (size_t i = 0; i < nT; i++) pb->z[i] = rng_normal(&r);
    for (int i = 0; i < N; i++) pb->y[i] = (i % 2) ? 1.0 : -1.0;
    for (size_t i = 0; i < d * d; i++) pb->W[i] = rng_normal(&r) / sqrt((double)D);
    for (size_t i = 0; i < d; i++) pb->p[i] = rng_normal(&r) / sqrt((double)D);
}

static void problem_free(problem_t *pb)
{
    free(pb->X), free(pb->z), free(pb->y), free(pb->W), free(pb->p), free(pb->work);
    free(pb->dW), free(pb->dW2), free(pb->dp), free(pb->dp2);
}

static double loss_at(problem_t *pb)
{
    double loss;
    sk_grad_ref(pb->N, pb->T, pb->D, pb->X, pb->z, pb->y, pb->W, pb->p, &loss, pb->dW2, pb->dp2,
                pb->work);
    return loss;
}

/* ||a - b|| / ||b|| */
static double rel_err(const double *a, const double *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
    return sqrt(num / (den > 0 ? den : 1e-300));
}

Test(sakamoto2024, gradient_in_W_and_p_matches_central_finite_differences)
{
    problem_t pb;
    problem_init(&pb, 4, 5, 6, 7);
    double loss;
    sk_grad(pb.N, pb.T, pb.D, pb.X, pb.z, pb.y, pb.W, pb.p, &loss, pb.dW, pb.dp, pb.work);
    size_t d = (size_t)pb.D;
    double *num_W = malloc(sizeof(double) * d * d), *num_p = malloc(sizeof(double) * d);
    const double h = 1e-5;
    for (size_t i = 0; i < d * d; i++) {
        double w = pb.W[i];
        pb.W[i] = w + h;
        double lp = loss_at(&pb);
        pb.W[i] = w - h;
        double lm = loss_at(&pb);
        pb.W[i] = w;
        num_W[i] = (lp - lm) / (2 * h);
    }
    for (size_t i = 0; i < d; i++) {
        double v = pb.p[i];
        pb.p[i] = v + h;
        double lp = loss_at(&pb);
        pb.p[i] = v - h;
        double lm = loss_at(&pb);
        pb.p[i] = v;
        num_p[i] = (lp - lm) / (2 * h);
    }
    double eW = rel_err(pb.dW, num_W, d * d), ep = rel_err(pb.dp, num_p, d);
    cr_log_info("finite differences: relative error %.2e in dW, %.2e in dp", eW, ep);
    cr_expect_leq(eW, 1e-6, "dW relative error %g", eW);
    cr_expect_leq(ep, 1e-6, "dp relative error %g", ep);
    free(num_W), free(num_p);
    problem_free(&pb);
}

Test(sakamoto2024, blas_gradient_equals_plain_loop_reference)
{
    problem_t pb;
    problem_init(&pb, 5, 6, 37, 11);
    double l1, l2;
    sk_grad(pb.N, pb.T, pb.D, pb.X, pb.z, pb.y, pb.W, pb.p, &l1, pb.dW, pb.dp, pb.work);
    sk_grad_ref(pb.N, pb.T, pb.D, pb.X, pb.z, pb.y, pb.W, pb.p, &l2, pb.dW2, pb.dp2, pb.work);
    size_t d = (size_t)pb.D;
    cr_expect_float_eq(l1, l2, 1e-13);
    cr_expect_leq(rel_err(pb.dW, pb.dW2, d * d), 1e-12);
    cr_expect_leq(rel_err(pb.dp, pb.dp2, d), 1e-12);
    problem_free(&pb);
}

Test(sakamoto2024, head_loss_is_log2_and_attention_uniform_at_zero_scores)
{
    double a[6] = {0}, z[6] = {1, 2, 3, -1, -2, -3}, y[2] = {1, -1}, s[6], f[2], dl[6], loss;
    int ok = sk_head(2, 3, a, z, y, s, f, dl, &loss);
    cr_expect_float_eq(f[0], 2.0, 1e-15);
    cr_expect_float_eq(f[1], -2.0, 1e-15);
    cr_expect_eq(ok, 2, "both samples have y f = 2 > 0");
    for (int i = 0; i < 6; i++) cr_expect_float_eq(s[i], 1.0 / 3, 1e-15);
    cr_expect_float_eq(loss, 0.5 * (log1p(exp(-2.0)) + log1p(exp(-2.0))), 1e-14);
}

static void expect_traces_close(const trace_t *a, const trace_t *b, double tol)
{
    cr_assert_eq(a->n_filled, b->n_filled);
    for (int r = 0; r < a->n_filled; r++)
        for (int c = 0; c < a->n_cols; c++) {
            double x = a->rows[r * a->n_cols + c], y = b->rows[r * b->n_cols + c];
            cr_expect_leq(fabs(x - y), tol * (1 + fabs(y)), "row %d col %d (%s): %.15g vs %.15g",
                          r, c, c ? sakamoto2024_family.metrics[c - 1].name : "step", x, y);
        }
}

/* Runs solvers a and b (0 subspace, 1 direct, 2 reference) on the small instance; same trace.
 * labels: 0 balanced, 1 random. */
static void solvers_agree(int a, int b, int train_w, int labels)
{
    run_params_t rp;
    params_small(&rp);
    set(&rp, "train_w", train_w);
    set(&rp, "labels", labels);
    trace_t t1, t2;
    run_result_t r1, r2;
    set(&rp, "solver", a);
    run(&rp, &t1, &r1);
    set(&rp, "solver", b);
    run(&rp, &t2, &r2);
    /* the run must have moved: otherwise agreement would prove nothing */
    cr_assert_gt(metric(&t2, t2.n_filled - 1, "p_norm"), 0.1);
    cr_assert_lt(metric(&t2, t2.n_filled - 1, "train_loss"), metric(&t2, 0, "train_loss") - 0.01);
    expect_traces_close(&t1, &t2, 1e-9);
    train_trace_free(&t1), train_trace_free(&t2);
}

Test(sakamoto2024, subspace_solver_follows_the_explicit_W_trajectory)
{
    solvers_agree(0, 1, 1, 0);
}

Test(sakamoto2024, subspace_solver_follows_the_explicit_trajectory_with_W_fixed_to_identity)
{
    solvers_agree(0, 1, 0, 0);
    solvers_agree(0, 1, 0, 1); /* the v1 settings: random labels, W = I */
}

Test(sakamoto2024, blas_direct_solver_follows_the_plain_loop_reference_solver)
{
    solvers_agree(1, 2, 1, 0);
    solvers_agree(1, 2, 0, 1);
}

Test(sakamoto2024, same_seed_gives_a_bit_identical_trace_and_another_seed_differs)
{
    run_params_t rp;
    params_small(&rp);
    trace_t t1, t2, t3;
    run_result_t r1, r2, r3;
    set(&rp, "seed", 3);
    run(&rp, &t1, &r1);
    run(&rp, &t2, &r2);
    set(&rp, "seed", 4);
    run(&rp, &t3, &r3);
    size_t bytes = sizeof(double) * (size_t)t1.n_filled * (size_t)t1.n_cols;
    cr_expect_eq(memcmp(t1.rows, t2.rows, bytes), 0, "same seed, different trace");
    cr_expect_neq(memcmp(t1.rows, t3.rows, bytes), 0, "seeds 3 and 4 gave the same trace");
    train_trace_free(&t1), train_trace_free(&t2), train_trace_free(&t3);
}

Test(sakamoto2024, starts_from_uniform_attention_and_counts_round_eta_n_flipped_labels)
{
    run_params_t rp;
    params_small(&rp);
    set(&rp, "steps", 0);
    set(&rp, "n_train", 20);
    set(&rp, "label_noise", 0.2);
    set(&rp, "signal_norm", 1000); /* z of token 1 dominates: f has the clean label's sign */
    trace_t t;
    run_result_t r;
    run(&rp, &t, &r);
    cr_expect_float_eq(metric(&t, 0, "clean_attention"), 0.2, 1e-12, "1/T at p = 0");
    cr_expect_float_eq(metric(&t, 0, "noisy_attention"), 0.2, 1e-12);
    cr_expect_float_eq(metric(&t, 0, "train_acc"), 0.8, 1e-12, "4 of 20 labels flipped");
    cr_expect_float_eq(metric(&t, 0, "test_acc"), 1.0, 1e-12, "the test set is clean");
    cr_expect_float_eq(metric(&t, 0, "p_norm"), 0.0, 0.0);
    train_trace_free(&t);
}

Test(sakamoto2024, token_trajectories_follow_the_first_clean_and_the_first_flipped_sample)
{
    run_params_t rp;
    params_small(&rp); /* seq_len 5: tokens 6..8 are not there */
    set(&rp, "n_train", 20);
    trace_t t;
    run_result_t r;
    run(&rp, &t, &r);
    static const char *const who[2] = {"clean", "flipped"};
    for (int row = 0; row < t.n_filled; row++) {
        /* 20 samples, 4 flipped: 0, 1 (class +1) and 10, 11 (class -1); first clean: 2 */
        cr_expect_eq(metric(&t, row, "clean_index"), 2.0);
        cr_expect_eq(metric(&t, row, "flipped_index"), 0.0);
        for (int w = 0; w < 2; w++) {
            double sum = 0;
            char name[32];
            for (int k = 1; k <= 8; k++) {
                snprintf(name, sizeof name, "%s_token_%d", who[w], k);
                double v = metric(&t, row, name);
                if (k > 5) cr_expect_eq(v, 0.0, "row %d %s: past seq_len", row, name);
                if (row == 0) cr_expect_float_eq(v, k <= 5 ? 0.2 : 0.0, 1e-15, "%s", name);
                sum += v;
            }
            cr_expect_float_eq(sum, 1.0, 1e-12, "row %d: %s weights sum to 1", row, who[w]);
        }
    }
    int last = t.n_filled - 1;
    cr_expect_gt(metric(&t, last, "clean_token_1"), 0.5, "the clean sample selects its signal");
    cr_expect_gt(metric(&t, last, "clean_margin"), 0.0, "the clean sample is fitted");
    train_trace_free(&t);

    /* one flipped label (sample 5 of 10): its trace is the population's noisy_attention */
    params_small(&rp);
    set(&rp, "label_noise", 0.1);
    run(&rp, &t, &r);
    for (int row = 0; row < t.n_filled; row++) {
        cr_expect_eq(metric(&t, row, "flipped_index"), 5.0);
        cr_expect_eq(metric(&t, row, "flipped_token_1"), metric(&t, row, "noisy_attention"));
    }
    train_trace_free(&t);
}

Test(sakamoto2024, trace_keys_pick_the_kth_sample_and_a_missing_one_traces_zeros)
{
    run_params_t rp;
    params_small(&rp);
    set(&rp, "n_train", 20);
    set(&rp, "seq_len", 12); /* more tokens than traced: tokens 1..8 are */
    set(&rp, "signal_norm", 1000);
    set(&rp, "steps", 0);
    set(&rp, "trace_clean", 5);   /* clean: 2..9, 12..19 -> sample 7 */
    set(&rp, "trace_flipped", 3); /* flipped: 0, 1, 10, 11 -> sample 11 */
    trace_t t;
    run_result_t r;
    run(&rp, &t, &r);
    cr_expect_eq(metric(&t, 0, "clean_index"), 7.0);
    cr_expect_eq(metric(&t, 0, "flipped_index"), 11.0);
    cr_expect_float_eq(metric(&t, 0, "clean_token_8"), 1.0 / 12, 1e-15);
    /* at p = 0, f = mean_t z_t ~ z_1 / T = 1/(sqrt 2 T): the flipped label disagrees */
    cr_expect_float_eq(metric(&t, 0, "clean_margin"), 1 / (sqrt(2.0) * 12), 1e-2);
    cr_expect_float_eq(metric(&t, 0, "flipped_margin"), -1 / (sqrt(2.0) * 12), 1e-2);
    train_trace_free(&t);

    set(&rp, "trace_flipped", 4); /* only 4 flipped samples */
    run(&rp, &t, &r);
    cr_expect_eq(metric(&t, 0, "flipped_index"), -1.0);
    cr_expect_eq(metric(&t, 0, "flipped_token_1"), 0.0);
    cr_expect_eq(metric(&t, 0, "flipped_margin"), 0.0);
    cr_expect_eq(metric(&t, 0, "clean_index"), 7.0);
    train_trace_free(&t);
}

Test(sakamoto2024, random_labels_flip_ceil_eta_n_samples_that_the_seed_chooses)
{
    run_params_t rp;
    params_small(&rp); /* n_train 10 */
    set(&rp, "label_noise", 0.21);
    set(&rp, "signal_norm", 1000); /* f has the clean label's sign at p = 0 */
    set(&rp, "steps", 0);
    trace_t t;
    run_result_t r;
    run(&rp, &t, &r);
    cr_expect_float_eq(metric(&t, 0, "train_acc"), 0.8, 1e-12, "balanced: round(2.1) = 2 flips");
    train_trace_free(&t);
    set(&rp, "labels", 1);
    double first[8];
    int distinct = 0;
    for (int seed = 0; seed < 8; seed++) {
        set(&rp, "seed", seed);
        run(&rp, &t, &r);
        cr_expect_float_eq(metric(&t, 0, "train_acc"), 0.7, 1e-12, "random: ceil(2.1) = 3 flips");
        cr_expect_float_eq(metric(&t, 0, "test_acc"), 1.0, 1e-12, "the test set is clean");
        first[seed] = metric(&t, 0, "flipped_index");
        int seen = 0;
        for (int k = 0; k < seed; k++) seen |= first[k] == first[seed];
        distinct += !seen;
        train_trace_free(&t);
    }
    cr_expect_geq(distinct, 3, "the first flipped sample moves with the seed (%d distinct in 8)",
                  distinct);
}

Test(sakamoto2024, check_rejects_more_flipped_labels_than_a_class_holds_and_too_many_tokens)
{
    run_params_t rp;
    params_default(&rp);
    set(&rp, "n_train", 5);
    set(&rp, "label_noise", 1.0);
    char err[256] = "";
    cr_expect_neq(sakamoto2024_family.check(&rp.p, err, sizeof err), 0);
    cr_expect(strstr(err, "label_noise") != NULL, "message names the key: %s", err);
    set(&rp, "label_noise", 0.4);
    cr_expect_eq(sakamoto2024_family.check(&rp.p, err, sizeof err), 0, "%s", err);
    set(&rp, "n_train", 2000);
    set(&rp, "seq_len", 8);
    cr_expect_neq(sakamoto2024_family.check(&rp.p, err, sizeof err), 0, "16000 tokens, subspace");
    cr_expect(strstr(err, "solver = direct") != NULL, "message says what to do: %s", err);
    set(&rp, "solver", 1);
    cr_expect_eq(sakamoto2024_family.check(&rp.p, err, sizeof err), 0, "%s", err);
}

Test(sakamoto2024, defaults_pass_their_own_range_checks)
{
    const model_family_t *f = &sakamoto2024_family;
    char err[256];
    for (int i = 0; i < f->n_params; i++)
        cr_expect_eq(param_check(&f->params[i], f->params[i].def, err, sizeof err), 0, "%s", err);
    cr_expect_geq(model_metric_index(f, "train_loss"), 0);
    cr_expect_geq(model_metric_index(f, "train_acc"), 0);
    cr_expect_geq(model_metric_index(f, "test_acc"), 0);
    cr_expect(model_find("sakamoto2024") == f, "registered in model_families[]");
}

/* The paper's direction on small instances (d = 250 / 400, 1000 steps at lr 0.005: ~0.2 s each). */
static void run_regime(trace_t *t, double dim, double mu, double seed)
{
    run_params_t rp;
    params_default(&rp);
    set(&rp, "dim", dim);
    set(&rp, "signal_norm", mu);
    set(&rp, "n_test", 200);
    set(&rp, "lr", 0.005);
    set(&rp, "steps", 1000);
    set(&rp, "log_every", 100);
    set(&rp, "seed", seed);
    run_result_t r;
    run(&rp, t, &r);
}

Test(sakamoto2024, high_signal_to_noise_ignores_the_flipped_samples)
{
    for (int seed = 0; seed < 2; seed++) {
        trace_t t;
        run_regime(&t, 250, 60, seed);
        int last = t.n_filled - 1;
        cr_expect_float_eq(metric(&t, last, "train_acc"), 0.8, 1e-12,
                           "seed %d: the 4 flipped labels stay unfitted", seed);
        cr_expect_geq(metric(&t, last, "test_acc"), 0.97, "seed %d", seed);
        cr_expect_gt(metric(&t, last, "noisy_attention"), 0.5,
                     "seed %d: flipped samples still attend to their relevant token", seed);
        cr_expect_gt(metric(&t, last, "clean_attention"), 0.9, "seed %d", seed);
        train_trace_free(&t);
    }
}

Test(sakamoto2024, low_signal_to_noise_fits_the_flipped_samples_and_generalises_worse)
{
    for (int seed = 0; seed < 2; seed++) {
        trace_t t;
        run_regime(&t, 400, 3, seed);
        int last = t.n_filled - 1;
        cr_expect_float_eq(metric(&t, last, "train_acc"), 1.0, 1e-12, "seed %d: memorised", seed);
        cr_expect_lt(metric(&t, last, "noisy_attention"), 0.05,
                     "seed %d: flipped samples attend away from their relevant token", seed);
        cr_expect_lt(metric(&t, last, "test_acc"), 0.85, "seed %d: harmful overfitting", seed);
        train_trace_free(&t);
    }
}
