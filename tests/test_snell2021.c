/* Tests of the snell2021 family: finite-difference gradients (float64) of every parameter tensor
 * for both cells, one and several heads, with and without the uniform-attention ablation and for
 * both attention targets; CBLAS kernels against their plain references; the float32 network
 * against the float64 one; per-head init seeds; Adam against hand-computed values; the data
 * modes; the probes; bit-identical training per seed; and a tiny copy task that must be
 * learned. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/train.h"
#include "models/snell2021/snell2021.h"

extern const model_family_t snell2021_family;

static const char *tensor_name[SNELL_N_TENSORS] = {
    "embedding", "enc_Wx", "enc_Wh", "enc_b", "dec_Wx", "dec_Wh", "dec_b", "out_W",
    "out_b",     "out_U",  "out_u",  "att_A", "att_a",  "att_O",  "att_o",
};

/* What varies between the small test nets. */
typedef struct {
    int uniform, attend_embed, dbl, cell, heads;
} variant_t;

static snell_cfg_t small_cfg(variant_t v)
{
    snell_cfg_t c = {.V = 6, .L = 4, .E = 3, .H = 5, .B = 3, .uniform = v.uniform,
                     .attend_embed = v.attend_embed, .dbl = v.dbl, .cell = v.cell,
                     .heads = v.heads ? v.heads : 1, .embed_std = 1.0, .init_scale = 1.0,
                     .base_seed = -1};
    for (int k = 0; k < SNELL_SEEDED_HEADS; k++) c.head_seed[k] = -1;
    return c;
}

/* A small net and a batch of 3 sequences (4 of 6 distinct tokens). */
static void small_net(snell_net_t *m, int *seq, variant_t v)
{
    snell_cfg_t c = small_cfg(v);
    cr_assert_eq(snell_net_init(m, &c, 11), 0);
    rng_t r;
    rng_init(&r, 5, RNG_STREAM_DATA);
    for (int i = 0; i < 3; i++) snell_sample(SNELL_DISTINCT, 6, 4, &r, seq + 4 * i);
}

/* Central differences (h = 1e-4: the attention tensors' gradients are ~1e-6 at init, so a smaller
 * h loses them in rounding) over every parameter; per tensor, the relative error
 * |g_num - g_bptt| / (|g_num| + |g_bptt|) (2-norms) must be <= 1e-6. */
static void check_gradients(variant_t v)
{
    snell_net_t m;
    int seq[12];
    v.dbl = 1;
    small_net(&m, seq, v);
    double *w = m.w;
    snell_net_forward(&m, seq, 3, 1, NULL);
    double *ga = malloc(sizeof(double) * (size_t)m.P);
    cr_assert_not_null(ga);
    memcpy(ga, m.g, sizeof(double) * (size_t)m.P);
    for (int t = 0; t < SNELL_N_TENSORS; t++) {
        double num = 0, den = 0;
        for (long i = m.off[t]; i < m.off[t + 1]; i++) {
            const double h = 1e-4, x = w[i];
            w[i] = x + h;
            double lp = snell_net_forward(&m, seq, 3, 0, NULL);
            w[i] = x - h;
            double lm = snell_net_forward(&m, seq, 3, 0, NULL);
            w[i] = x;
            double gn = (lp - lm) / (2 * h);
            num += (gn - ga[i]) * (gn - ga[i]);
            den += gn * gn + ga[i] * ga[i];
        }
        if (v.uniform && (t == SNELL_ATT_A || t == SNELL_ATT_a)) {
            cr_expect_eq(den, 0.0, "%s: uniform attention must not depend on it", tensor_name[t]);
            continue;
        }
        cr_expect_gt(den, 1e-12, "%s: gradient is zero, the check would be vacuous", tensor_name[t]);
        double rel = sqrt(num) / sqrt(den);
        cr_expect_leq(rel, 1e-6, "%s: relative error %.3g", tensor_name[t], rel);
        cr_log_info("%s: relative error %.3g", tensor_name[t], rel);
    }
    free(ga);
    snell_net_free(&m);
}

Test(snell2021, gradients_match_finite_differences_for_every_tensor)
{
    check_gradients((variant_t){0});
}

Test(snell2021, gradients_match_finite_differences_with_uniform_attention)
{
    check_gradients((variant_t){.uniform = 1});
}

Test(snell2021, gradients_match_finite_differences_when_attending_to_embeddings)
{
    check_gradients((variant_t){.attend_embed = 1});
}

Test(snell2021, gradients_match_finite_differences_for_uniform_attention_over_embeddings)
{
    check_gradients((variant_t){.uniform = 1, .attend_embed = 1});
}

Test(snell2021, gradients_match_finite_differences_with_three_heads)
{
    check_gradients((variant_t){.heads = 3});
}

Test(snell2021, gradients_match_finite_differences_for_the_gru_with_three_heads)
{
    check_gradients((variant_t){.cell = SNELL_GRU, .heads = 3});
}

Test(snell2021, gradients_match_finite_differences_for_the_gru_over_embeddings)
{
    check_gradients((variant_t){.cell = SNELL_GRU, .attend_embed = 1, .heads = 2});
}

static void fast_vs_ref(variant_t v, double tol)
{
    snell_net_t a, b;
    int seq[12];
    small_net(&a, seq, v);
    small_net(&b, seq, v);
    b.use_ref = 1;
    double la = snell_net_forward(&a, seq, 3, 1, NULL), lb = snell_net_forward(&b, seq, 3, 1, NULL);
    cr_expect_float_eq(la, lb, tol);
    for (long i = 0; i < a.P; i++) {
        double ga = v.dbl ? ((double *)a.g)[i] : ((float *)a.g)[i];
        double gb = v.dbl ? ((double *)b.g)[i] : ((float *)b.g)[i];
        cr_assert_float_eq(ga, gb, tol, "gradient %ld: %g vs %g", i, ga, gb);
    }
    snell_net_free(&a);
    snell_net_free(&b);
}

Test(snell2021, blas_network_matches_the_reference_kernels_in_double)
{
    fast_vs_ref((variant_t){.dbl = 1, .heads = 2}, 1e-13);
    fast_vs_ref((variant_t){.dbl = 1, .cell = SNELL_GRU, .heads = 2}, 1e-13);
}

Test(snell2021, blas_network_matches_the_reference_kernels_in_float)
{
    fast_vs_ref((variant_t){.heads = 2}, 1e-5);
    fast_vs_ref((variant_t){.cell = SNELL_GRU, .heads = 2}, 1e-5);
}

/* The float32 network against the float64 one from the same weights: the loss within 1e-5
 * absolute, every gradient within 1e-5 · (1 + |g|) (float32 rounding through ~40 steps of BPTT,
 * and the one-expf tanh's ~1e-7 error). */
static void float_vs_double(variant_t v)
{
    snell_net_t a, b;
    int seq[12];
    v.dbl = 0;
    small_net(&a, seq, v);
    v.dbl = 1;
    small_net(&b, seq, v);
    cr_assert_eq(a.P, b.P);
    double la = snell_net_forward(&a, seq, 3, 1, NULL), lb = snell_net_forward(&b, seq, 3, 1, NULL);
    cr_expect_float_eq(la, lb, 1e-5, "float %g vs double %g", la, lb);
    double worst = 0;
    for (long i = 0; i < a.P; i++) {
        double gf = ((float *)a.g)[i], gd = ((double *)b.g)[i];
        worst = fmax(worst, fabs(gf - gd) / (1 + fabs(gd)));
    }
    cr_expect_leq(worst, 1e-5, "largest gradient difference %g", worst);
    snell_net_free(&a);
    snell_net_free(&b);
}

Test(snell2021, float32_network_matches_float64_for_the_lstm)
{
    float_vs_double((variant_t){.heads = 2});
}

Test(snell2021, float32_network_matches_float64_for_the_gru)
{
    float_vs_double((variant_t){.cell = SNELL_GRU, .heads = 2});
}

/* Head block k of tensor t. */
static const double *head_block(const snell_net_t *m, int t, int k)
{
    long n = (m->off[t + 1] - m->off[t]) / m->c.heads;
    return (const double *)m->w + m->off[t] + k * n;
}

Test(snell2021, a_head_seed_gives_the_same_head_in_any_slot_and_on_any_base)
{
    snell_cfg_t c1 = small_cfg((variant_t){.dbl = 1, .heads = 1});
    snell_cfg_t c4 = small_cfg((variant_t){.dbl = 1, .heads = 4});
    c1.head_seed[0] = 77;
    c1.base_seed = 5;
    c4.head_seed[2] = 77;
    c4.base_seed = 6;
    snell_net_t a, b, c;
    cr_assert_eq(snell_net_init(&a, &c1, 1), 0);
    cr_assert_eq(snell_net_init(&b, &c4, 2), 0);
    c1.base_seed = -1;
    c1.head_seed[0] = -1;
    cr_assert_eq(snell_net_init(&c, &c1, 5), 0); /* base from run seed 5 = a's base_seed 5 */
    for (int t = SNELL_FIRST_HEAD_TENSOR; t < SNELL_N_TENSORS; t++) {
        long n = (a.off[t + 1] - a.off[t]);
        cr_expect_eq(memcmp(head_block(&a, t, 0), head_block(&b, t, 2), sizeof(double) * n), 0,
                     "%s: head seed 77 differs between slot 0 and slot 2", tensor_name[t]);
        cr_expect_neq(memcmp(head_block(&b, t, 1), head_block(&b, t, 2), sizeof(double) * n), 0);
    }
    long nb = a.off[SNELL_FIRST_HEAD_TENSOR];
    cr_expect_eq(memcmp(a.w, c.w, sizeof(double) * nb), 0, "base_seed 5 is not run seed 5's base");
    cr_expect_neq(memcmp(a.w, b.w, sizeof(double) * nb), 0, "different base seeds, same base");
    snell_net_free(&a);
    snell_net_free(&b);
    snell_net_free(&c);
}

/* ---- Adam -------------------------------------------------------------------------------- */

Test(snell2021, adam_matches_hand_computed_steps)
{
    /* Step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g², so w -= lr·g/(|g| + 1e-8):
     * 1 - 0.01·0.5/(0.5 + 1e-8) = 0.9900000002; a zero gradient leaves w unchanged.
     * Step 2 values from the same formulas (β1 0.9, β2 0.999, bias-corrected). */
    double w[3] = {1.0, -2.0, 0.3}, m[3] = {0}, v[3] = {0};
    const double g1[3] = {0.5, -0.1, 0.0}, g2[3] = {-0.2, 0.4, 1e-3};
    snell_adam_d(w, g1, m, v, 3, 0.01, 1);
    cr_expect_float_eq(w[0], 0.9900000002, 1e-15);
    cr_expect_float_eq(w[1], -1.990000001, 1e-15);
    cr_expect_float_eq(w[2], 0.3, 1e-15);
    cr_expect_float_eq(m[0], 0.05, 1e-15);
    cr_expect_float_eq(v[0], 0.00025, 1e-15);
    snell_adam_d(w, g2, m, v, 3, 0.01, 2);
    cr_expect_float_eq(w[0], 0.9865439418116511, 1e-13);
    cr_expect_float_eq(w[1], -1.9955950357485128, 1e-13);
    cr_expect_float_eq(w[2], 0.292558736973369, 1e-12);
    cr_expect_float_eq(v[1], 0.00016999, 1e-15);

    float wf[3] = {1.0f, -2.0f, 0.3f}, mf[3] = {0}, vf[3] = {0};
    const float g1f[3] = {0.5f, -0.1f, 0.0f};
    snell_adam_f(wf, g1f, mf, vf, 3, 0.01, 1);
    cr_expect_float_eq(wf[0], 0.99f, 1e-6);
    cr_expect_float_eq(wf[1], -1.99f, 1e-6);
}

/* ---- data -------------------------------------------------------------------------------- */

Test(snell2021, data_modes_draw_permutations_distinct_tokens_and_iid_tokens)
{
    rng_t r;
    rng_init(&r, 3, RNG_STREAM_DATA);
    for (int rep = 0; rep < 50; rep++) {
        int seq[40], seen[60] = {0};
        snell_sample(SNELL_PERM, 40, 40, &r, seq);
        for (int i = 0; i < 40; i++) seen[seq[i]]++;
        for (int i = 0; i < 40; i++) cr_assert_eq(seen[i], 1, "perm: token %d seen %d times", i, seen[i]);
        memset(seen, 0, sizeof seen);
        snell_sample(SNELL_DISTINCT, 60, 40, &r, seq);
        for (int i = 0; i < 40; i++) {
            cr_assert(seq[i] >= 0 && seq[i] < 60);
            cr_assert_eq(seen[seq[i]]++, 0, "distinct: token %d repeated", seq[i]);
        }
        snell_sample(SNELL_IID, 7, 40, &r, seq);
        for (int i = 0; i < 40; i++) cr_assert(seq[i] >= 0 && seq[i] < 7);
    }
}

/* ---- the family through train_run --------------------------------------------------------- */

typedef schema_params_t schema_t;

static void schema_init(schema_t *s) { cr_assert_eq(schema_defaults(s, snell2021_family.params, snell2021_family.n_params), 0); }

static void set(schema_t *s, const char *key, double v)
{
    cr_assert_eq(params_set(&s->p, key, v), 0, "no key %s", key);
}

/* A small copy task: 8 of 10 distinct tokens, learnable with attention in a few hundred steps
 * (with 5 of 6 the network can copy from the encoder's final state alone: seed 0 does). */
static void tiny(schema_t *s)
{
    schema_init(s);
    set(s, "vocab", 10);
    set(s, "seq_len", 8);
    set(s, "data_mode", SNELL_DISTINCT);
    set(s, "embed_dim", 16);
    set(s, "hidden_dim", 16);
    set(s, "batch_size", 16);
    set(s, "eval_size", 32);
    set(s, "steps", 20);
    set(s, "log_every", 5);
    set(s, "lr", 1e-2);
}

static void run(schema_t *s, trace_t *t, run_result_t *res)
{
    const model_family_t *f = &snell2021_family;
    cr_assert_eq(train_trace_init(t, schema_n_points(&s->p), 1 + f->n_metrics), 0);
    cr_assert_eq(train_run(f, &s->p, t, res, NULL), 0);
}

Test(snell2021, declares_the_summary_metrics)
{
    cr_expect_geq(model_metric_index(&snell2021_family, "train_loss"), 0);
    cr_expect_geq(model_metric_index(&snell2021_family, "train_acc"), 0);
    cr_expect_geq(model_metric_index(&snell2021_family, "test_acc"), 0);
    cr_expect_geq(model_metric_index(&snell2021_family, "attn_acc"), 0);
    cr_expect_geq(model_metric_index(&snell2021_family, "attn_acc_mean"), 0);
    cr_expect_geq(model_metric_index(&snell2021_family, "ktiw"), 0);
}

Test(snell2021, check_rejects_permutations_shorter_than_the_vocabulary)
{
    schema_t s;
    char err[256] = "";
    schema_init(&s);
    set(&s, "vocab", 40);
    set(&s, "seq_len", 30);
    cr_expect_lt(snell2021_family.check(&s.p, err, sizeof err), 0);
    cr_expect(strstr(err, "seq_len") != NULL, "message names the key: %s", err);
    set(&s, "data_mode", SNELL_DISTINCT);
    cr_expect_eq(snell2021_family.check(&s.p, err, sizeof err), 0);
    set(&s, "seq_len", 41);
    cr_expect_lt(snell2021_family.check(&s.p, err, sizeof err), 0);
    set(&s, "data_mode", SNELL_IID);
    cr_expect_eq(snell2021_family.check(&s.p, err, sizeof err), 0);
}

Test(snell2021, check_rejects_a_seed_for_a_head_the_model_does_not_have)
{
    schema_t s;
    char err[256] = "";
    schema_init(&s);
    set(&s, "heads", 2);
    set(&s, "head_seed_1", 7);
    cr_expect_eq(snell2021_family.check(&s.p, err, sizeof err), 0, "%s", err);
    set(&s, "head_seed_2", 7);
    cr_expect_lt(snell2021_family.check(&s.p, err, sizeof err), 0);
    cr_expect(strstr(err, "head_seed_2") != NULL, "message names the key: %s", err);
}

Test(snell2021, same_seed_gives_a_bit_identical_trace_and_another_seed_differs)
{
    schema_t s;
    trace_t a, b, c;
    run_result_t ra, rb, rc;
    tiny(&s);
    set(&s, "seed", 4);
    run(&s, &a, &ra);
    run(&s, &b, &rb);
    set(&s, "seed", 5);
    run(&s, &c, &rc);
    cr_assert_eq(ra.status, RUN_DONE, "%s", ra.message);
    cr_assert_eq(a.n_filled, b.n_filled);
    size_t bytes = sizeof(double) * (size_t)a.n_filled * (size_t)a.n_cols;
    cr_expect_eq(memcmp(a.rows, b.rows, bytes), 0, "same seed, different trace");
    cr_expect_neq(memcmp(a.rows, c.rows, bytes), 0, "different seeds, same trace");
    train_trace_free(&a);
    train_trace_free(&b);
    train_trace_free(&c);
}

Test(snell2021, fixed_training_set_runs_are_deterministic_too)
{
    schema_t s;
    trace_t a, b;
    run_result_t ra, rb;
    tiny(&s);
    set(&s, "train_size", 40);
    set(&s, "precision", 1);
    run(&s, &a, &ra);
    run(&s, &b, &rb);
    cr_assert_eq(ra.status, RUN_DONE, "%s", ra.message);
    size_t bytes = sizeof(double) * (size_t)a.n_filled * (size_t)a.n_cols;
    cr_expect_eq(memcmp(a.rows, b.rows, bytes), 0);
    train_trace_free(&a);
    train_trace_free(&b);
}

Test(snell2021, uniform_attention_puts_its_argmax_on_the_first_position)
{
    /* Ties resolve to s = 0, which is aligned only at t = 0: attn_acc = 1 / T exactly. */
    schema_t s;
    trace_t t;
    run_result_t r;
    tiny(&s);
    set(&s, "uniform_attn", 1);
    set(&s, "steps", 0);
    run(&s, &t, &r);
    int i = model_metric_index(&snell2021_family, "attn_acc");
    cr_expect_float_eq(t.rows[1 + i], 1.0 / 9.0, 1e-12);
    train_trace_free(&t);
}

Test(snell2021, learns_a_tiny_copy_task_with_attention_and_its_ktiw_probe_rises)
{
    schema_t s;
    trace_t t;
    run_result_t r;
    tiny(&s);
    set(&s, "steps", 300);
    set(&s, "log_every", 300);
    run(&s, &t, &r);
    cr_assert_eq(r.status, RUN_DONE, "%s", r.message);
    int ia = model_metric_index(&snell2021_family, "attn_acc");
    int ik = model_metric_index(&snell2021_family, "ktiw");
    const double *first = t.rows + 1, *last = t.rows + t.n_cols + 1;
    cr_expect_gt(r.final_test_acc, 0.95, "test_acc %g", r.final_test_acc);
    cr_expect_gt(last[ia], 0.8, "attn_acc %g", last[ia]);
    cr_expect_gt(last[ik], first[ik] + 2.0, "ktiw %g -> %g", first[ik], last[ik]);
    train_trace_free(&t);
}
