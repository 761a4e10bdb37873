/* Tests of the lu2021 family (src/models/lu2021/): finite-difference gradients of every parameter
 * group for every classifier and freeze switch (float64), the float32 path against the float64
 * one (gradients at the same weights, whole traces) and its fast paths against its generic code,
 * the update rule, bit-for-bit determinism, the paper's SEN identity and monotone topic attention
 * in both precisions (per word: the worst topic word's traces), mini-batch SGD, bad values
 * rejected with the key named, and runs on a data file (labelled sentences, padded with PAD):
 * gradients, both precisions, PAD trained, the synthetic task's keys refused. The full
 * reproduction of the authors' configuration is tests/lu2021.cmake. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include "attnsweep/grid.h"
#include "attnsweep/rng.h"
#include "attnsweep/spec.h"
#include "attnsweep/train.h"
#include "models/lu2021/lu2021.h"
#include "models/lu2021/lukern32.h"

static const model_family_t *F = &lu2021_family;

enum { F32, F64 }; /* model.precision */
static const char *const precisions[] = {"float32", "float64"};

/* A run's params: train.c's common keys, then the family's, all at their defaults. */
typedef schema_params_t run_params_t;

static void params_default(run_params_t *rp) { cr_assert_eq(schema_defaults(rp, F->params, F->n_params), 0); }

static void set(run_params_t *rp, const char *name, double v)
{
    cr_assert_eq(params_set(&rp->p, name, v), 0, "no key %s", name);
}

/* A tiny instance for gradient checks: V = 3·2 + 12 = 18 words, L = 6, 20 training sentences,
 * D = 4, Dk = 3, embeddings large enough that every gradient is well away from 0; float64 (the
 * finite differences need it). */
static void params_tiny(run_params_t *rp)
{
    params_default(rp);
    set(rp, "precision", F64);
    set(rp, "topics", 3);
    set(rp, "topic_words", 2);
    set(rp, "vocab_size", 12);
    set(rp, "words_per_sentence", 5);
    set(rp, "n_sentences", 40);
    set(rp, "train_frac", 0.5);
    set(rp, "valid_frac", 0.1);
    set(rp, "embed_dim", 4);
    set(rp, "key_dim", 3);
    set(rp, "hidden", 5);
    set(rp, "embed_std", 0.7);
    set(rp, "query_std", 0.8);
    set(rp, "lr", 0.05);
    set(rp, "steps", 20);
    set(rp, "log_every", 5);
}

/* A small topic-word task that trains in well under a second: K = 4, W = 2, V_n = 2000, m = 10,
 * 800 training sentences, D = 10, the authors' initialisation. */
static void params_small(run_params_t *rp)
{
    params_default(rp);
    set(rp, "vocab_size", 2000);
    set(rp, "words_per_sentence", 10);
    set(rp, "n_sentences", 1000);
    set(rp, "steps", 1500);
    set(rp, "log_every", 25);
    set(rp, "lr", 0.1);
}

static void one_thread(void) { openblas_set_num_threads(1); }
TestSuite(lu2021, .init = one_thread);

static int metric_col(const char *name)
{
    int m = model_metric_index(F, name);
    cr_assert(m >= 0, "no metric %s", name);
    return 1 + m;
}

static double at(const trace_t *t, int row, const char *name)
{
    return t->rows[(size_t)row * t->n_cols + metric_col(name)];
}

static void run(const run_params_t *rp, trace_t *t, run_result_t *res)
{
    cr_assert_eq(train_trace_init(t, schema_n_points(&rp->p), 1 + F->n_metrics), 0);
    cr_assert_eq(train_run(F, &rp->p, t, res, NULL), 0);
    cr_assert_eq(res->status, RUN_DONE, "run failed: %s", res->message);
}

/* A model's parameters as doubles (lu2021_get), one allocation per group (NULL if unused). */
typedef struct {
    double *v[LU2021_N_GROUPS];
    size_t n[LU2021_N_GROUPS];
} weights_t;

static void weights_get(void *st, weights_t *w)
{
    lu2021_group_t g[LU2021_N_GROUPS];
    lu2021_groups(st, g);
    for (int k = 0; k < LU2021_N_GROUPS; k++) {
        w->n[k] = g[k].n;
        w->v[k] = g[k].n ? malloc(sizeof(double) * g[k].n) : NULL;
    }
    lu2021_get(st, w->v);
}

static void weights_free(weights_t *w)
{
    for (int k = 0; k < LU2021_N_GROUPS; k++) free(w->v[k]);
}

/* Randomise the keys (they start at 0, where some gradients vanish by symmetry); with spike, also
 * put word 6's score 800 above the rest: sentences without it underflow under the global shift
 * and take the per-sentence path (in float64 the backward then reads A). */
static void randomise_keys(void *state, uint64_t seed, int spike)
{
    weights_t w;
    weights_get(state, &w);
    rng_t r;
    rng_init(&r, seed, 77);
    double *keys = w.v[LU2021_KEYS];
    for (size_t i = 0; i < w.n[LU2021_KEYS]; i++) keys[i] = 0.5 * rng_normal(&r);
    if (spike) {
        const double *q = w.v[LU2021_QUERY];
        size_t dk = w.n[LU2021_QUERY];
        double q2 = 0.0;
        for (size_t k = 0; k < dk; k++) q2 += q[k] * q[k];
        for (size_t k = 0; k < dk; k++) keys[6 * dk + k] += 800.0 * q[k] / q2;
    }
    lu2021_set(state, (const double *const *)w.v);
    weights_free(&w);
}

/* Check every coordinate of every trained group against central differences; frozen groups must
 * report a zero gradient. */
static void check_gradients_at(const run_params_t *rp, const char *what, int spike, size_t sample)
{
    void *st = NULL;
    char err[256];
    cr_assert_eq(F->init(&st, &rp->p, err, sizeof err), 0, "%s: %s", what, err);
    randomise_keys(st, 5, spike);
    lu2021_group_t g[LU2021_N_GROUPS];
    lu2021_groups(st, g);
    double *grads[LU2021_N_GROUPS] = {0};
    for (int k = 0; k < LU2021_N_GROUPS; k++)
        if (g[k].n) grads[k] = malloc(sizeof(double) * g[k].n);
    double loss;
    cr_assert_eq(lu2021_loss_and_grad(st, &loss, grads), 0);
    int checked = 0;
    for (int k = 0; k < LU2021_N_GROUPS; k++) {
        if (!g[k].n) continue;
        if (!g[k].trained) {
            for (size_t i = 0; i < g[k].n; i++)
                cr_expect_eq(grads[k][i], 0.0, "%s: frozen %s has a gradient", what, g[k].name);
            continue;
        }
        double num = 0.0, den = 0.0, worst = 0.0;
        /* every coordinate, or about `sample` of them spread over the group (topic words
         * first, then every stride-th) */
        size_t stride = sample && g[k].n > sample ? g[k].n / sample : 1;
        for (size_t i = 0; i < g[k].n; i += (i < sample / 2 ? 1 : stride)) {
            double x0 = g[k].values[i], h = 1e-5, lp, lm;
            g[k].values[i] = x0 + h;
            lu2021_loss_and_grad(st, &lp, NULL);
            g[k].values[i] = x0 - h;
            lu2021_loss_and_grad(st, &lm, NULL);
            g[k].values[i] = x0;
            double fd = (lp - lm) / (2 * h), e = fabs(fd - grads[k][i]);
            num += e * e;
            den += fd * fd;
            if (e > worst) worst = e;
        }
        double rel = sqrt(num / den);
        cr_expect_leq(rel, 1e-6, "%s: %s gradient relative error %.3g (worst |diff| %.3g)", what,
                      g[k].name, rel, worst);
        cr_expect_gt(den, 1e-12, "%s: %s gradient is ~0, the check proves nothing", what,
                     g[k].name);
        checked++;
    }
    cr_expect_gt(checked, 0, "%s: nothing trained", what);
    for (int k = 0; k < LU2021_N_GROUPS; k++) free(grads[k]);
    F->free(st);
}

static void check_gradients(const run_params_t *rp, const char *what)
{
    check_gradients_at(rp, what, 0, 0);
}

static const char *const classifiers[] = {"fixed", "linear", "mlp"};
static const struct {
    const char *name;
    int freeze_keys, freeze_embeddings, train_query;
} switches[] = {
    {"defaults", 0, 0, 0},     {"freeze_keys", 1, 0, 0}, {"freeze_embeddings", 0, 1, 0},
    {"train_query", 0, 0, 1},  {"keys frozen, query trained", 1, 0, 1},
    {"embeddings frozen, query trained", 0, 1, 1},
};

/* Classifier c and the freeze/train switches of switches[s]. */
static void set_switches(run_params_t *rp, int c, size_t s)
{
    set(rp, "classifier", c);
    set(rp, "freeze_keys", switches[s].freeze_keys);
    set(rp, "freeze_embeddings", switches[s].freeze_embeddings);
    set(rp, "train_query", switches[s].train_query);
}

Test(lu2021, gradients_match_finite_differences_for_every_classifier_and_switch)
{
    for (int c = 0; c < 3; c++)
        for (size_t s = 0; s < sizeof switches / sizeof switches[0]; s++) {
            run_params_t rp;
            params_tiny(&rp);
            set_switches(&rp, c, s);
            char what[128];
            snprintf(what, sizeof what, "%s classifier, %s", classifiers[c], switches[s].name);
            check_gradients(&rp, what);
        }
}

Test(lu2021, gradients_match_when_the_embedding_is_narrower_or_wider_than_the_classes)
{
    int dims[][2] = {{2, 0}, {2, 5}, {7, 2}, {1, 1}}; /* (embed_dim, key_dim) with K = 3 */
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 3; c++) {
            run_params_t rp;
            params_tiny(&rp);
            set(&rp, "classifier", c);
            set(&rp, "embed_dim", dims[i][0]);
            set(&rp, "key_dim", dims[i][1]);
            set(&rp, "train_query", 1);
            char what[128];
            snprintf(what, sizeof what, "%s, D=%d Dk=%d", classifiers[c], dims[i][0], dims[i][1]);
            check_gradients(&rp, what);
        }
}

Test(lu2021, gradients_match_when_some_sentences_need_their_own_softmax_shift)
{
    for (int c = 0; c < 3; c++) {
        run_params_t rp;
        params_tiny(&rp);
        set(&rp, "classifier", c);
        set(&rp, "train_query", 1);
        char what[128];
        snprintf(what, sizeof what, "%s classifier, one score 800 above the rest", classifiers[c]);
        check_gradients_at(&rp, what, 1, 0);
    }
}

Test(lu2021, gradients_match_when_the_backward_runs_in_several_blocks)
{
    /* D = 256: blocks of 2,048 sentences, so 2,500 training sentences make two (the mlp is left
     * out: with thousands of hidden pre-activations some sit within h of a ReLU kink) */
    for (int c = 0; c < 2; c++) {
        run_params_t rp;
        params_tiny(&rp);
        set(&rp, "classifier", c);
        set(&rp, "embed_dim", 256);
        set(&rp, "key_dim", 4);
        set(&rp, "embed_std", 0.1);
        set(&rp, "n_sentences", 5000);
        set(&rp, "train_query", 1);
        char what[128];
        snprintf(what, sizeof what, "%s classifier, D = 256, 2500 sentences", classifiers[c]);
        check_gradients_at(&rp, what, 0, 20);
    }
}

Test(lu2021, a_step_moves_the_trained_groups_by_minus_lr_times_the_gradient)
{
    /* float64: to 1e-14; float32: to the rounding of the weight and of the update (the low-rank
     * embeddings and κ = β q are written out as doubles from their float parts) */
    for (int prec = 0; prec < 2; prec++)
        for (int c = 0; c < 3; c++)
            for (size_t s = 0; s < sizeof switches / sizeof switches[0]; s++) {
                run_params_t rp;
                params_tiny(&rp);
                set(&rp, "precision", prec);
                set_switches(&rp, c, s);
                void *st = NULL;
                char err[256];
                cr_assert_eq(F->init(&st, &rp.p, err, sizeof err), 0, "%s", err);
                if (prec == F64) randomise_keys(st, 9, 0); /* float32: keys 0, κ = β q */
                weights_t before, grad, after;
                weights_get(st, &before);
                weights_get(st, &grad);
                double loss, steploss;
                cr_assert_eq(lu2021_loss_and_grad(st, &loss, grad.v), 0);
                cr_assert_eq(F->step(st, 0, &steploss, err, sizeof err), 0);
                cr_expect_eq(steploss, loss, "the step reports the loss before its update");
                weights_get(st, &after);
                lu2021_group_t g[LU2021_N_GROUPS];
                lu2021_groups(st, g);
                for (int k = 0; k < LU2021_N_GROUPS; k++)
                    for (size_t i = 0; i < g[k].n; i++) {
                        double x = after.v[k][i], x0 = before.v[k][i];
                        double want = x0 - 0.05 * grad.v[k][i];
                        double tol = prec == F64 ? 1e-14 * fmax(1.0, fabs(want))
                                                 : 2e-7 * (fabs(x0) + fabs(0.05 * grad.v[k][i])) + 1e-30;
                        if (!g[k].trained)
                            cr_expect_eq(x, x0, "%s %s/%s: frozen %s moved", precisions[prec],
                                         classifiers[c], switches[s].name, g[k].name);
                        else
                            cr_expect_leq(fabs(x - want), tol, "%s %s/%s: %s[%zu] %.9g, want %.9g",
                                          precisions[prec], classifiers[c], switches[s].name,
                                          g[k].name, i, x, want);
                    }
                weights_free(&before), weights_free(&grad), weights_free(&after);
                F->free(st);
            }
}

/* Bitwise equality of every parameter group of two models. */
static int same_weights(void *a, void *b)
{
    weights_t wa, wb;
    weights_get(a, &wa);
    weights_get(b, &wb);
    int same = 1;
    for (int k = 0; k < LU2021_N_GROUPS; k++)
        if (wa.n[k] != wb.n[k] ||
            (wa.n[k] && memcmp(wa.v[k], wb.v[k], sizeof(double) * wa.n[k]) != 0))
            same = 0;
    weights_free(&wa);
    weights_free(&wb);
    return same;
}

Test(lu2021, an_eval_before_each_step_leaves_the_steps_bit_identical)
{
    /* the eval runs the next step's training pass and leaves it the gradient: tiny (every word
     * in the training set) and small (some words missing, so the step's scores differ from the
     * eval's), mlp with the query trained and the fixed classifier; then weights written after
     * an eval must not reuse its gradient */
    for (int cfg = 0; cfg < 4; cfg++) {
        run_params_t rp;
        if (cfg % 2 == 0) {
            params_tiny(&rp);
            set(&rp, "classifier", 2);
            set(&rp, "train_query", 1);
        } else {
            params_small(&rp);
        }
        set(&rp, "precision", cfg < 2 ? F64 : F32);
        void *a = NULL, *b = NULL;
        char err[256];
        cr_assert_eq(F->init(&a, &rp.p, err, sizeof err), 0, "%s", err);
        cr_assert_eq(F->init(&b, &rp.p, err, sizeof err), 0, "%s", err);
        double metrics[32], la, lb;
        int i_loss = metric_col("train_loss") - 1;
        for (int s = 0; s < 4; s++) {
            cr_assert_eq(F->eval(a, metrics, err, sizeof err), 0);
            if (s == 2) cr_assert_eq(F->eval(a, metrics, err, sizeof err), 0); /* twice */
            cr_assert_eq(F->step(a, s, &la, err, sizeof err), 0);
            cr_assert_eq(F->step(b, s, &lb, err, sizeof err), 0);
            cr_expect_eq(la, lb, "cfg %d step %d: loss %.17g after an eval, %.17g without", cfg,
                         s, la, lb);
            cr_expect_eq(metrics[i_loss], la, "cfg %d step %d: the eval's train_loss is the "
                         "step's loss", cfg, s);
        }
        cr_expect(same_weights(a, b), "cfg %d: an eval changed the trajectory", cfg);
        cr_assert_eq(F->eval(a, metrics, err, sizeof err), 0);
        weights_t wa, wb;
        weights_get(a, &wa);
        weights_get(b, &wb);
        wa.v[LU2021_EMBED][3] += 0.5;
        wb.v[LU2021_EMBED][3] += 0.5;
        lu2021_set(a, (const double *const *)wa.v);
        lu2021_set(b, (const double *const *)wb.v);
        weights_free(&wa);
        weights_free(&wb);
        cr_assert_eq(F->step(a, 4, &la, err, sizeof err), 0);
        cr_assert_eq(F->step(b, 4, &lb, err, sizeof err), 0);
        cr_expect_eq(la, lb, "cfg %d: a step after new weights used the eval's gradient", cfg);
        cr_expect(same_weights(a, b), "cfg %d: a step after new weights used the eval's "
                  "gradient", cfg);
        F->free(a);
        F->free(b);
    }
}

/* How close a float32 run's attention 1/L can be (float rounding of 1/z). */
static double att_tol(int prec) { return prec == F32 ? 2e-7 : 1e-12; }

Test(lu2021, initial_weights_follow_the_paper_in_both_precisions)
{
    void *st[2] = {NULL, NULL};
    weights_t w[2];
    for (int prec = 0; prec < 2; prec++) {
        run_params_t rp;
        params_default(&rp);
        set(&rp, "embed_dim", 3); /* D < K: U_kk = 1 for k < 3 only */
        set(&rp, "precision", prec);
        char err[256];
        cr_assert_eq(F->init(&st[prec], &rp.p, err, sizeof err), 0, "%s", err);
        cr_expect_eq(lu2021_is_f32(st[prec]), prec == F32);
        lu2021_group_t g[LU2021_N_GROUPS];
        lu2021_groups(st[prec], g);
        weights_get(st[prec], &w[prec]);
        for (size_t i = 0; i < g[LU2021_KEYS].n; i++) cr_expect_eq(w[prec].v[LU2021_KEYS][i], 0.0);
        const double *U = w[prec].v[LU2021_CLS1];
        cr_expect_eq(g[LU2021_CLS1].n, 3u * 4u);
        for (int k = 0; k < 3; k++) cr_expect_eq(U[k * 4 + k], 1.0);
        cr_expect_eq(g[LU2021_CLS1].trained, 0);
        double s2 = 0.0; /* embeddings ~ N(0, 1e-12): their sample variance */
        for (size_t i = 0; i < g[LU2021_EMBED].n; i++) s2 += w[prec].v[LU2021_EMBED][i] * w[prec].v[LU2021_EMBED][i];
        s2 /= (double)g[LU2021_EMBED].n;
        cr_expect(s2 > 0.9e-12 && s2 < 1.1e-12, "embedding variance %g, expected 1e-12", s2);
        double metrics[32];
        cr_assert_eq(F->eval(st[prec], metrics, err, sizeof err), 0);
        /* keys 0: uniform attention over the 21 words, score 0, loss ≈ log K */
        cr_expect_float_eq(metrics[metric_col("topic_attention") - 1], 1.0 / 21.0, att_tol(prec));
        cr_expect_eq(metrics[metric_col("topic_score") - 1], 0.0);
        cr_expect_float_eq(metrics[metric_col("train_loss") - 1], log(4.0), 1e-5);
    }
    /* float32 draws are the float64 draws, rounded */
    for (int k = 0; k < LU2021_N_GROUPS; k++)
        for (size_t i = 0; i < w[F64].n[k]; i++)
            cr_expect_eq(w[F32].v[k][i], (double)(float)w[F64].v[k][i], "group %d [%zu]", k, i);
    for (int prec = 0; prec < 2; prec++) {
        weights_free(&w[prec]);
        F->free(st[prec]);
    }
}

Test(lu2021, same_seed_gives_a_bit_identical_trace_and_another_seed_does_not)
{
    for (int mini = 0; mini < 4; mini++) {
        run_params_t rp;
        params_small(&rp);
        set(&rp, "steps", 200);
        set(&rp, "classifier", 2); /* mlp: every group but the keys' init is random */
        set(&rp, "precision", mini / 2);
        if (mini % 2) set(&rp, "batch_size", 64);
        trace_t a = {0}, b = {0}, c = {0};
        run_result_t ra, rb, rc;
        run(&rp, &a, &ra);
        run(&rp, &b, &rb);
        set(&rp, "seed", 1);
        run(&rp, &c, &rc);
        size_t bytes = sizeof(double) * (size_t)a.n_points * a.n_cols;
        cr_expect(memcmp(a.rows, b.rows, bytes) == 0, "same seed, different traces (mini=%d)", mini);
        cr_expect(memcmp(a.rows, c.rows, bytes) != 0, "seeds 0 and 1 gave the same trace");
        cr_expect_neq(at(&a, a.n_filled - 1, "train_loss"), at(&c, c.n_filled - 1, "train_loss"));
        train_trace_free(&a), train_trace_free(&b), train_trace_free(&c);
    }
}

Test(lu2021, the_sen_identity_holds_along_a_small_learning_rate_run_in_both_precisions)
{
    /* ||q||²||v_t||² = 2 s_t + (2/m)(e^{s_t} − 1) under gradient flow from keys 0: a small lr
     * keeps gradient descent close to the flow. */
    for (int prec = 0; prec < 2; prec++) {
    run_params_t rp;
    params_small(&rp);
    set(&rp, "precision", prec);
    set(&rp, "lr", 0.05);
    set(&rp, "steps", 3000);
    set(&rp, "log_every", 50);
    trace_t t = {0};
    run_result_t res;
    run(&rp, &t, &res);
    double worst = 0.0;
    int checked = 0;
    for (int r = 0; r < t.n_filled; r++) {
        if (at(&t, r, "topic_score") < 0.05) continue;
        double e = at(&t, r, "sen_residual");
        if (e > worst) worst = e;
        checked++;
        double lhs = at(&t, r, "topic_embed_norm2"), rhs = at(&t, r, "sen_rhs");
        cr_expect_leq(fabs(lhs - rhs), 0.02 * rhs + 1e-3, "step %g", t.rows[(size_t)r * t.n_cols]);
    }
    cr_expect_gt(checked, 20, "the topic score never grew");
    cr_expect_gt(at(&t, t.n_filled - 1, "topic_score"), 1.0);
    cr_expect_leq(worst, 0.02, "%s: SEN residual reached %g", precisions[prec], worst);
    train_trace_free(&t);
    }
}

Test(lu2021, the_sen_identity_holds_per_topic_word_on_the_authors_configuration)
{
    /* examples/lu2021.ini (K = 4, W = 2, V_n = 5,000, m = 20, N = 5,000, D = 10, lr 0.1, FC),
     * 5,000 steps in each precision: every topic word's |q|²|v_t|² against 2 s_t + (2/m)(e^s_t − 1)
     * within 1 % once its score passes 0.5, checked every 100 steps */
    for (int prec = 0; prec < 2; prec++) {
        run_params_t rp;
        params_default(&rp);
        set(&rp, "precision", prec);
        void *st = NULL;
        char err[256];
        cr_assert_eq(F->init(&st, &rp.p, err, sizeof err), 0, "%s", err);
        const int n_topic = 8, D = 10, m = 20;
        weights_t w;
        double worst = 0.0, loss, metrics[64];
        int checked = 0;
        for (long step = 0; step <= 5000; step++) {
            if (step % 100 == 0) {
                weights_get(st, &w);
                const double *q = w.v[LU2021_QUERY];
                double q2 = 0.0, res_max = 0.0, gap_max = 0.0;
                for (int k = 0; k < D; k++) q2 += q[k] * q[k];
                for (int t = 0; t < n_topic; t++) {
                    double s = 0.0, v2 = 0.0;
                    for (int k = 0; k < D; k++) {
                        s += q[k] * w.v[LU2021_KEYS][t * D + k];
                        v2 += w.v[LU2021_EMBED][t * D + k] * w.v[LU2021_EMBED][t * D + k];
                    }
                    double rhs = 2.0 * s + 2.0 / m * expm1(s);
                    res_max = fmax(res_max, fabs(q2 * v2 - rhs) / fmax(rhs, 1e-3));
                    gap_max = fmax(gap_max, fabs(sqrt(q2 * v2) - sqrt(fmax(rhs, 0.0))));
                    if (s < 0.5) continue;
                    double e = fabs(q2 * v2 - rhs) / rhs;
                    if (e > worst) worst = e;
                    checked++;
                }
                weights_free(&w);
                /* the trace's per-word columns: the largest residual, and the worst word's pair
                 * (score, |q|²|v|²) at the largest distance from the curve */
                cr_assert_eq(F->eval(st, metrics, err, sizeof err), 0);
                double ws = metrics[metric_col("sen_worst_score") - 1];
                double wl = metrics[metric_col("sen_worst_norm2") - 1];
                double wr = metrics[metric_col("sen_worst_rhs") - 1];
                cr_expect_float_eq(metrics[metric_col("sen_residual_max") - 1], res_max,
                                   1e-4 * res_max + 1e-9, "%s, step %ld", precisions[prec], step);
                cr_expect_float_eq(wr, 2.0 * ws + 2.0 / m * expm1(ws), 1e-9 * (1 + fabs(wr)));
                cr_expect_float_eq(fabs(sqrt(wl) - sqrt(fmax(wr, 0.0))), gap_max,
                                   1e-4 * gap_max + 1e-7, "%s, step %ld: worst word's gap",
                                   precisions[prec], step);
                cr_expect_geq(metrics[metric_col("sen_residual_max") - 1],
                              metrics[metric_col("sen_residual") - 1]);
            }
            if (step < 5000) cr_assert_eq(F->step(st, step, &loss, err, sizeof err), 0);
        }
        cr_expect_gt(checked, 8 * 30, "%s: the topic scores never grew", precisions[prec]);
        cr_expect_leq(worst, 0.01, "%s: a topic word's SEN residual reached %.4f",
                      precisions[prec], worst);
        F->free(st);
    }
}

Test(lu2021, topic_attention_rises_monotonically_with_the_fixed_classifier_in_both_precisions)
{
    for (int prec = 0; prec < 2; prec++) {
        run_params_t rp;
        params_small(&rp);
        set(&rp, "log_every", 5);
        set(&rp, "precision", prec);
        trace_t t = {0};
        run_result_t res;
        run(&rp, &t, &res);
        for (int r = 1; r < t.n_filled; r++)
            cr_expect_geq(at(&t, r, "topic_attention"), at(&t, r - 1, "topic_attention"),
                          "%s: attention fell at step %g", precisions[prec],
                          t.rows[(size_t)r * t.n_cols]);
        double first = at(&t, 0, "topic_attention"), last = at(&t, t.n_filled - 1, "topic_attention");
        cr_expect_float_eq(first, 1.0 / 11.0, att_tol(prec));
        cr_expect_gt(last, 0.5, "attention only reached %g", last);
        cr_expect_geq(at(&t, t.n_filled - 1, "test_acc"), 0.99);
        train_trace_free(&t);
    }
}

Test(lu2021, every_classifier_learns_the_small_task_in_both_precisions)
{
    for (int c = 0; c < 6; c++) {
        run_params_t rp;
        params_small(&rp);
        set(&rp, "precision", c / 3);
        set(&rp, "classifier", c % 3);
        set(&rp, "steps", 3000);
        set(&rp, "log_every", 100);
        trace_t t = {0};
        run_result_t res;
        run(&rp, &t, &res);
        cr_expect_geq(res.final_test_acc, 0.99, "%s: test acc %g", classifiers[c % 3], res.final_test_acc);
        cr_expect_lt(res.final_train_loss, 0.05, "%s: loss %g", classifiers[c % 3], res.final_train_loss);
        cr_expect_gt(at(&t, t.n_filled - 1, "topic_attention"), 0.3, "%s", classifiers[c % 3]);
        train_trace_free(&t);
    }
}

Test(lu2021, mini_batch_sgd_learns_and_a_batch_as_large_as_the_training_set_is_full_batch)
{
    for (int prec = 0; prec < 2; prec++) {
    run_params_t rp;
    params_small(&rp);
    set(&rp, "precision", prec);
    set(&rp, "steps", 300);
    trace_t full = {0}, big = {0}, mini = {0};
    run_result_t r1, r2, r3;
    run(&rp, &full, &r1);
    set(&rp, "batch_size", 800); /* = n_train */
    run(&rp, &big, &r2);
    cr_expect(memcmp(full.rows, big.rows, sizeof(double) * (size_t)full.n_points * full.n_cols) == 0);
    set(&rp, "batch_size", 50);
    set(&rp, "steps", 1500);
    set(&rp, "lr", 0.1);
    run(&rp, &mini, &r3);
    cr_expect_geq(r3.final_test_acc, 0.99, "%s mini-batch SGD: test acc %g", precisions[prec],
                  r3.final_test_acc);
    cr_expect_lt(r3.final_train_loss, 0.05);
    train_trace_free(&full), train_trace_free(&big), train_trace_free(&mini);
    }
}

Test(lu2021, frozen_keys_keep_the_score_at_zero)
{
    for (int prec = 0; prec < 2; prec++) {
        run_params_t rp;
        params_small(&rp);
        set(&rp, "precision", prec);
        set(&rp, "freeze_keys", 1);
        set(&rp, "steps", 200);
        trace_t t = {0};
        run_result_t res;
        run(&rp, &t, &res);
        for (int r = 0; r < t.n_filled; r++) {
            cr_expect_eq(at(&t, r, "topic_score"), 0.0);
            cr_expect_float_eq(at(&t, r, "topic_attention"), 1.0 / 11.0, att_tol(prec));
        }
        train_trace_free(&t);
    }
}

/* ---- the float32 path against the float64 one ------------------------------------------ */

/* Relative L2 distance of x from the reference y (n values). */
static double rel_l2(const double *x, const double *y, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += (x[i] - y[i]) * (x[i] - y[i]);
        den += y[i] * y[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

/* Loss and gradient of rp's model in float32 and in float64 at the same weights (the float64
 * model's initial ones after how = 1: random keys, 2: random keys and one score 800 above the
 * rest, rounded to float for both): loss within 1e-6 relative, each gradient group within 1e-4
 * (relative L2). */
static void check_f32_gradients(run_params_t *rp, int how, const char *what)
{
    void *st[2] = {NULL, NULL};
    char err[256];
    for (int prec = 0; prec < 2; prec++) {
        set(rp, "precision", prec);
        cr_assert_eq(F->init(&st[prec], &rp->p, err, sizeof err), 0, "%s: %s", what, err);
    }
    if (how >= 1) randomise_keys(st[F64], 5, how == 2);
    weights_t w;
    weights_get(st[F64], &w);
    for (int k = 0; k < LU2021_N_GROUPS; k++)
        for (size_t i = 0; i < w.n[k]; i++) w.v[k][i] = (float)w.v[k][i];
    weights_t g[2];
    double loss[2];
    for (int prec = 0; prec < 2; prec++) {
        lu2021_set(st[prec], (const double *const *)w.v);
        weights_get(st[prec], &g[prec]); /* only for the sizes: overwritten below */
        cr_assert_eq(lu2021_loss_and_grad(st[prec], &loss[prec], g[prec].v), 0);
    }
    cr_expect_leq(fabs(loss[F32] - loss[F64]), 1e-6 * fmax(1.0, fabs(loss[F64])),
                  "%s: loss %.9g (float32) vs %.9g", what, loss[F32], loss[F64]);
    lu2021_group_t gr[LU2021_N_GROUPS];
    lu2021_groups(st[F64], gr);
    for (int k = 0; k < LU2021_N_GROUPS; k++) {
        if (!gr[k].n || !gr[k].trained) continue;
        double e = rel_l2(g[F32].v[k], g[F64].v[k], gr[k].n);
        cr_expect_leq(e, 1e-4, "%s: %s gradient, float32 vs float64: relative error %.3g", what,
                      gr[k].name, e);
    }
    weights_free(&w);
    for (int prec = 0; prec < 2; prec++) {
        weights_free(&g[prec]);
        F->free(st[prec]);
    }
}

Test(lu2021, float32_gradients_agree_with_float64_at_the_same_weights)
{
    char what[160];
    for (int c = 0; c < 3; c++)
        for (size_t s = 0; s < sizeof switches / sizeof switches[0]; s++)
            for (int how = 0; how < 3; how++) {
                run_params_t rp;
                params_tiny(&rp);
                set_switches(&rp, c, s);
                snprintf(what, sizeof what, "%s classifier, %s, %s", classifiers[c],
                         switches[s].name, how == 0 ? "keys 0" : how == 1 ? "random keys" :
                         "one score 800 above the rest");
                check_f32_gradients(&rp, how, what);
            }
    /* row widths: D ≤ F (the unprojected rows), K + 1 > 8 (two vectors), D + 1 = 21 (three);
     * and a training set of several 256-sentence blocks */
    static const struct { int topics, D, hidden, n; } shapes[] = {
        {3, 2, 5, 40}, {9, 12, 5, 40}, {3, 20, 30, 40}, {3, 7, 5, 1200}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int c = 0; c < 3; c++) {
            run_params_t rp;
            params_tiny(&rp);
            set(&rp, "classifier", c);
            set(&rp, "topics", shapes[i].topics);
            set(&rp, "embed_dim", shapes[i].D);
            set(&rp, "hidden", shapes[i].hidden);
            set(&rp, "n_sentences", shapes[i].n);
            set(&rp, "train_query", 1);
            snprintf(what, sizeof what, "%s classifier, K = %d, D = %d, hidden %d, N = %d",
                     classifiers[c], shapes[i].topics, shapes[i].D, shapes[i].hidden, shapes[i].n);
            check_f32_gradients(&rp, 1, what);
        }
}

/* Trace column name of run t, row r, as a relative or absolute difference from u's. */
static double trace_diff(const trace_t *t, const trace_t *u, int r, const char *name, int rel)
{
    double x = at(t, r, name), y = at(u, r, name);
    return rel ? fabs(x - y) / fmax(fabs(y), 1e-3) : fabs(x - y);
}

Test(lu2021, float32_traces_follow_float64_traces)
{
    /* every classifier on the small task for 1,500 steps, and mini-batch SGD: the trace columns
     * agree to 1e-4 (relative; absolute for the attention and accuracies) */
    static const char *const rel_cols[] = {"train_loss", "test_loss", "valid_loss",
                                           "topic_score", "topic_embed_norm2", "sen_rhs",
                                           "query_norm", "nontopic_norm"};
    static const char *const abs_cols[] = {"topic_attention", "train_acc", "test_acc",
                                           "sen_residual", "sen_residual_max", "nontopic_score"};
    for (int c = 0; c < 4; c++) {
        trace_t t[2] = {{0}, {0}};
        run_result_t res;
        for (int prec = 0; prec < 2; prec++) {
            run_params_t rp;
            params_small(&rp);
            set(&rp, "precision", prec);
            set(&rp, "classifier", c % 3);
            if (c == 3) set(&rp, "batch_size", 100);
            run(&rp, &t[prec], &res);
        }
        cr_assert_eq(t[F32].n_filled, t[F64].n_filled);
        for (int r = 0; r < t[F64].n_filled; r++) {
            for (size_t k = 0; k < sizeof rel_cols / sizeof rel_cols[0]; k++)
                cr_expect_leq(trace_diff(&t[F32], &t[F64], r, rel_cols[k], 1), 1e-4,
                              "%s%s: %s at row %d: %.9g vs %.9g", classifiers[c % 3],
                              c == 3 ? " (mini-batch)" : "", rel_cols[k], r,
                              at(&t[F32], r, rel_cols[k]), at(&t[F64], r, rel_cols[k]));
            for (size_t k = 0; k < sizeof abs_cols / sizeof abs_cols[0]; k++)
                cr_expect_leq(trace_diff(&t[F32], &t[F64], r, abs_cols[k], 0), 1e-4,
                              "%s%s: %s at row %d: %.9g vs %.9g", classifiers[c % 3],
                              c == 3 ? " (mini-batch)" : "", abs_cols[k], r,
                              at(&t[F32], r, abs_cols[k]), at(&t[F64], r, abs_cols[k]));
        }
        train_trace_free(&t[0]), train_trace_free(&t[1]);
    }
}

/* Run rp twice, the second time with set_mode(0) instead of set_mode(1): same bits? */
static void expect_same_trace_both_ways(run_params_t *rp, int (*set_mode)(int), const char *what)
{
    trace_t t[2] = {{0}, {0}};
    run_result_t res;
    int old = set_mode(-1);
    for (int mode = 1; mode >= 0; mode--) {
        set_mode(mode);
        run(rp, &t[mode], &res);
    }
    set_mode(old);
    size_t bytes = sizeof(double) * (size_t)t[0].n_points * t[0].n_cols;
    cr_expect(t[0].n_filled == t[1].n_filled && memcmp(t[0].rows, t[1].rows, bytes) == 0,
              "%s: the traces differ", what);
    train_trace_free(&t[0]), train_trace_free(&t[1]);
}

Test(lu2021, float32_fast_paths_and_avx2_give_the_generic_bits)
{
    /* the one-vector fast paths (fixed: cross-entropy kernel and low-rank word update; linear:
     * the kernel) against the generic code, full batch and mini-batch; then the AVX2 kernels
     * against the SSE ones (where the CPU has AVX2) */
    for (int c = 0; c < 4; c++) {
        run_params_t rp;
        params_small(&rp);
        set(&rp, "steps", 300);
        set(&rp, "classifier", c % 2);
        if (c >= 2) set(&rp, "batch_size", 128);
        expect_same_trace_both_ways(&rp, lu2021_fast, classifiers[c % 2]);
        expect_same_trace_both_ways(&rp, lukern32_avx, "AVX2");
    }
}

/* ---- bad values ------------------------------------------------------------------------- */

static void expect_check_fails(run_params_t *rp, const char *key)
{
    char err[512] = "";
    cr_expect_neq(F->check(&rp->p, err, sizeof err), 0, "check accepted a bad %s", key);
    cr_expect(strstr(err, key) != NULL, "the message does not name %s: %s", key, err);
    void *st = NULL;
    err[0] = '\0';
    cr_expect_neq(F->init(&st, &rp->p, err, sizeof err), 0, "init accepted a bad %s", key);
    cr_expect_null(st);
    cr_expect(strstr(err, key) != NULL, "init's message does not name %s: %s", key, err);
}

Test(lu2021, cross_key_errors_name_the_key)
{
    run_params_t rp;
    params_default(&rp);
    char err[512];
    cr_expect_eq(F->check(&rp.p, err, sizeof err), 0, "defaults rejected: %s", err);
    set(&rp, "words_per_sentence", 5000); /* m >= V_n */
    expect_check_fails(&rp, "words_per_sentence");
    params_default(&rp);
    set(&rp, "train_frac", 0.99);
    set(&rp, "valid_frac", 0.01);
    expect_check_fails(&rp, "valid_frac");
    params_default(&rp);
    set(&rp, "valid_frac", 0.0);
    expect_check_fails(&rp, "valid_frac");
    params_default(&rp);
    set(&rp, "n_sentences", 10);
    set(&rp, "train_frac", 0.05);
    expect_check_fails(&rp, "train_frac");
    params_default(&rp);
    set(&rp, "classifier", 7);
    expect_check_fails(&rp, "classifier");
    params_default(&rp);
    set(&rp, "topics", 1e6); /* 10^12 topic words: the vocabulary does not fit an int32 */
    set(&rp, "topic_words", 1e6);
    expect_check_fails(&rp, "vocab_size");
}

static void expect_value_rejected(const char *key, double v)
{
    run_params_t rp;
    params_default(&rp);
    int i = param_index(rp.defs, rp.p.n, key);
    cr_assert(i >= 0);
    char err[256] = "";
    cr_expect_neq(param_check(&rp.defs[i], v, err, sizeof err), 0, "%s = %g accepted", key, v);
    cr_expect(strstr(err, key) != NULL, "message does not name %s: %s", key, err);
}

Test(lu2021, out_of_range_values_are_rejected_naming_the_key)
{
    expect_value_rejected("vocab_size", -5);
    expect_value_rejected("topics", 0);
    expect_value_rejected("topic_words", -1);
    expect_value_rejected("words_per_sentence", 0);
    expect_value_rejected("n_sentences", -100);
    expect_value_rejected("embed_dim", 0);
    expect_value_rejected("embed_dim", 2.5);
    expect_value_rejected("key_dim", -1);
    expect_value_rejected("hidden", 0);
    expect_value_rejected("embed_std", -1e-3);
    expect_value_rejected("query_std", NAN);
    expect_value_rejected("train_frac", 0.0);
    expect_value_rejected("train_frac", 1.5);
    expect_value_rejected("first_class_ratio", 0.0);
    expect_value_rejected("batch_size", -1);
    expect_value_rejected("freeze_keys", 2);
    expect_value_rejected("lr", 0.0);
    expect_value_rejected("lr", -0.1);
    run_params_t rp;
    params_default(&rp);
    int i = param_index(rp.defs, rp.p.n, "classifier");
    double v;
    char err[256] = "";
    cr_expect_neq(param_parse(&rp.defs[i], "cnn", &v, err, sizeof err), 0);
    cr_expect(strstr(err, "classifier") != NULL && strstr(err, "mlp") != NULL, "%s", err);
}

/* Through the spec parser and the grid, as `attnsweep train` sees them. */
static void expect_spec_error(const char *body, const char *key)
{
    char text[2048], err[1024] = "";
    snprintf(text, sizeof text, "[model]\nmodel = lu2021\n%s\n", body);
    spec_t s = {0};
    grid_t g = {0};
    int rc = spec_load_text(&s, "bad.ini", text, NULL, 0, err, sizeof err);
    if (rc == 0) rc = grid_init(&g, &s, err, sizeof err);
    cr_expect_neq(rc, 0, "spec accepted:\n%s", text);
    cr_expect(strstr(err, key) != NULL, "error does not name %s: %s", key, err);
    grid_free(&g);
    spec_free(&s);
}

Test(lu2021, bad_specs_give_errors_naming_the_key)
{
    expect_spec_error("classifier = cnn", "classifier");
    expect_spec_error("[task]\nvocab_size = -3", "vocab_size");
    expect_spec_error("[task]\nvocab_size = 10\nwords_per_sentence = 10", "words_per_sentence");
    expect_spec_error("[task]\nvocab_size = 100, 10\nwords_per_sentence = 20", "words_per_sentence");
    expect_spec_error("[train]\nlr = 0", "lr");
    expect_spec_error("[train]\nlr = -1", "lr");
    expect_spec_error("embed_dim = 0", "embed_dim");
    expect_spec_error("[task]\ntrain_frac = 0.9\nvalid_frac = 0.2", "valid_frac");

    char err[1024] = "";
    spec_t s = {0};
    grid_t g = {0};
    cr_expect_eq(spec_load_text(&s, "ok.ini", "[model]\nmodel = lu2021\n[train]\nsteps = 5\n", NULL,
                                0, err, sizeof err), 0, "%s", err);
    cr_expect_eq(grid_init(&g, &s, err, sizeof err), 0, "%s", err);
    grid_free(&g);
    spec_free(&s);
}

Test(lu2021, memory_and_cost_grow_with_the_run)
{
    for (int prec = 0; prec < 2; prec++) {
        run_params_t a, b;
        params_default(&a);
        params_default(&b);
        set(&a, "precision", prec);
        set(&b, "precision", prec);
        set(&b, "embed_dim", 100);
        cr_expect_gt(F->memory(&b.p), F->memory(&a.p));
        cr_expect_gt(F->cost(&b.p), F->cost(&a.p), "%s", precisions[prec]);
        /* the default run holds 5008 x (10 + 10) parameters, per-word rows, the data and
         * 4000 x 21 positions of index: more than 1 MB, less than 8 MB */
        cr_expect_gt(F->memory(&a.p), 1u << 20);
        cr_expect_lt(F->memory(&a.p), 8u << 20);
    }
    /* float32 never needs more memory than float64 */
    for (int big = 0; big < 2; big++) {
        run_params_t a, b;
        params_default(&a);
        params_default(&b);
        set(&b, "precision", F64);
        if (big) {
            set(&a, "embed_dim", 512), set(&a, "n_sentences", 20000);
            set(&b, "embed_dim", 512), set(&b, "n_sentences", 20000);
        }
        cr_expect_leq(F->memory(&a.p), F->memory(&b.p), "float32 %zu bytes, float64 %zu",
                      F->memory(&a.p), F->memory(&b.p));
    }
    run_params_t b;
    params_default(&b);
    set(&b, "steps", 2 * params_get(&b.p, "steps"));
    double c1 = F->cost(&b.p);
    set(&b, "steps", params_get(&b.p, "steps") / 2);
    cr_expect_float_eq(c1 / F->cost(&b.p), 2.0, 0.02);
}

/* ---- runs on a data file ----------------------------------------------------------------- */

static char text_dir[48], text_path[96];
static const char *text_files[3] = {"", text_path, NULL}; /* the spec's table of data_file */

/* A small labelled corpus, TEXT_DIR/c.train, .dev, .test (80, 20, 20 sentences): a class-1
 * sentence holds "good" or "great", a class-0 one "bad" or "awful", among 2..11 of 40 filler
 * words, so sentences have many lengths and are padded. */
static void text_setup(void)
{
    one_thread();
    snprintf(text_dir, sizeof text_dir, "/tmp/attnsweep-test-lutext-%d", (int)getpid());
    snprintf(text_path, sizeof text_path, "%s/c.train", text_dir);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", text_dir);
    cr_assert_eq(system(cmd), 0);
    static const char *const key[2][2] = {{"bad", "awful"}, {"good", "great"}};
    static const char *const ext[3] = {"train", "dev", "test"};
    static const int lines[3] = {80, 20, 20};
    rng_t r;
    rng_init(&r, 11, 99);
    for (int f = 0; f < 3; f++) {
        char path[160];
        snprintf(path, sizeof path, "%s/c.%s", text_dir, ext[f]);
        FILE *fp = fopen(path, "w");
        cr_assert_not_null(fp);
        for (int l = 0; l < lines[f]; l++) {
            int y = (int)rng_below(&r, 2), n = 2 + (int)rng_below(&r, 10);
            int at_ = (int)rng_below(&r, (uint64_t)n + 1);
            fprintf(fp, "%d", y);
            for (int i = 0; i <= n; i++)
                if (i == at_) fprintf(fp, " %s", key[y][rng_below(&r, 2)]);
                else fprintf(fp, " w%d", (int)rng_below(&r, 40));
            fprintf(fp, " .\n");
        }
        fclose(fp);
    }
}

static void text_teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", text_dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(lu2021_text, .init = text_setup, .fini = text_teardown);

/* A run on the corpus: K = 2, 2 topic words per class, D = 6, Dk = 4, lr 0.5, 300 steps. */
static void params_text(run_params_t *rp)
{
    params_default(rp);
    rp->defs[param_index(rp->defs, rp->p.n, "data_file")].choices = text_files;
    set(rp, "data_file", 1);
    set(rp, "topics", 2);
    set(rp, "embed_dim", 6);
    set(rp, "key_dim", 4);
    set(rp, "lr", 0.5);
    set(rp, "steps", 300);
    set(rp, "log_every", 20);
}

Test(lu2021_text, gradients_match_finite_differences_on_padded_sentences)
{
    char what[96];
    for (int c = 0; c < 3; c++)
        for (size_t s = 0; s < 4; s++) {
            run_params_t rp;
            params_text(&rp);
            set(&rp, "precision", F64);
            set(&rp, "embed_std", 0.7);
            set(&rp, "query_std", 0.8);
            set_switches(&rp, c, s);
            snprintf(what, sizeof what, "data file, %s classifier, %s", classifiers[c],
                     switches[s].name);
            check_gradients_at(&rp, what, 0, 0);
            check_f32_gradients(&rp, 1, what);
        }
}

Test(lu2021_text, pad_is_an_ordinary_word_whose_embedding_and_key_are_trained)
{
    for (int prec = 0; prec < 2; prec++) {
        run_params_t rp;
        params_text(&rp);
        set(&rp, "precision", prec);
        set(&rp, "embed_std", 0.7);
        void *st = NULL;
        char err[256];
        cr_assert_eq(F->init(&st, &rp.p, err, sizeof err), 0, "%s", err);
        const task_data_t *d = lu2021_data(st);
        cr_expect_eq(d->text, 1);
        long pads = 0;
        for (long i = 0; i < d->n_train * d->len; i++) pads += d->tokens[i] == 0;
        cr_expect_gt(pads, 0, "no sentence is padded: the test proves nothing");
        weights_t g;
        weights_get(st, &g);
        double loss;
        cr_assert_eq(lu2021_loss_and_grad(st, &loss, g.v), 0);
        double e = 0.0, k = 0.0; /* PAD is word 0 */
        for (int i = 0; i < 6; i++) e += fabs(g.v[LU2021_EMBED][i]);
        for (int i = 0; i < 4; i++) k += fabs(g.v[LU2021_KEYS][i]);
        cr_expect_gt(e, 1e-9, "%s: PAD's embedding gets no gradient", precisions[prec]);
        cr_expect_gt(k, 1e-9, "%s: PAD's key gets no gradient (masked?)", precisions[prec]);
        weights_free(&g);
        F->free(st);
    }
}

Test(lu2021_text, both_precisions_learn_the_corpus_and_agree)
{
    static const char *const rel_cols[] = {"train_loss", "test_loss", "valid_loss",
                                           "topic_score", "topic_embed_norm2", "query_norm",
                                           "nontopic_norm"};
    static const char *const abs_cols[] = {"topic_attention", "train_acc", "test_acc",
                                           "sen_residual_max", "nontopic_score"};
    for (int c = 0; c < 4; c++) {
        trace_t t[2] = {{0}, {0}};
        run_result_t res;
        for (int prec = 0; prec < 2; prec++) {
            run_params_t rp;
            params_text(&rp);
            set(&rp, "precision", prec);
            set(&rp, "classifier", c % 3);
            if (c == 3) set(&rp, "batch_size", 16);
            run(&rp, &t[prec], &res);
        }
        int last = t[F64].n_filled - 1;
        cr_assert_eq(t[F32].n_filled, t[F64].n_filled);
        cr_expect_geq(at(&t[F64], last, "train_acc"), 0.99, "%s", classifiers[c % 3]);
        cr_expect_geq(at(&t[F64], last, "test_acc"), 0.9, "%s", classifiers[c % 3]);
        cr_expect_gt(at(&t[F64], last, "topic_attention"), at(&t[F64], 0, "topic_attention"));
        cr_expect_gt(at(&t[F64], last, "topic_score"), 0.1);
        for (int r = 0; r <= last; r++) {
            for (size_t k = 0; k < sizeof rel_cols / sizeof rel_cols[0]; k++)
                cr_expect_leq(trace_diff(&t[F32], &t[F64], r, rel_cols[k], 1), 1e-4,
                              "%s: %s at row %d", classifiers[c % 3], rel_cols[k], r);
            for (size_t k = 0; k < sizeof abs_cols / sizeof abs_cols[0]; k++)
                cr_expect_leq(trace_diff(&t[F32], &t[F64], r, abs_cols[k], 0), 1e-4,
                              "%s: %s at row %d", classifiers[c % 3], abs_cols[k], r);
        }
        train_trace_free(&t[0]), train_trace_free(&t[1]);
    }
}

Test(lu2021_text, float32_fast_paths_give_the_generic_bits)
{
    for (int c = 0; c < 2; c++) {
        run_params_t rp;
        params_text(&rp);
        set(&rp, "classifier", c);
        expect_same_trace_both_ways(&rp, lu2021_fast, classifiers[c]);
    }
}

Test(lu2021_text, the_synthetic_task_s_keys_and_labels_beyond_topics_are_refused)
{
    static const struct { const char *key; double v; } unused[] = {
        {"vocab_size", 10}, {"words_per_sentence", 3}, {"n_sentences", 100},
        {"first_class_ratio", 2}, {"train_frac", 0.5}, {"valid_frac", 0.2}};
    run_params_t rp;
    char err[512];
    params_text(&rp);
    cr_expect_eq(F->check(&rp.p, err, sizeof err), 0, "%s", err);
    for (size_t k = 0; k < sizeof unused / sizeof unused[0]; k++) {
        params_text(&rp);
        set(&rp, unused[k].key, unused[k].v);
        expect_check_fails(&rp, unused[k].key);
    }
    params_text(&rp);
    set(&rp, "topics", 1);
    expect_check_fails(&rp, "topics");
    cr_expect_neq(F->check(&rp.p, err, sizeof err), 0);
    char where[128];
    snprintf(where, sizeof where, "%s:", text_path); /* the first line with the label 1 */
    cr_expect(strstr(err, where) != NULL, "the message names no file:line: %s", err);
}
