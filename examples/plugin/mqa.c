/* mqa — an attnsweep model family in a plugin: topic-word classification (the lu2021 task) with
 * multi-query attention. H fixed queries q_h each pool the sentence with their own softmax over
 * the shared keys; the heads' contexts are averaged and a fixed classifier U reads them:
 *   s_hw = q_h·κ_w,  a_hi = softmax_i(s_h,tok_i),  c = (1/H) Σ_h Σ_i a_hi v_tok_i,  z = Uᵀc.
 * Embeddings v and keys κ train by full-batch gradient descent on the cross-entropy. Built out of
 * tree against the installed headers: see Makefile and README.md beside this file.
 * Shapes: B sentences, L = m + 1 tokens, D dim, V vocabulary, K classes, H queries. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <attnsweep/kernels.h>
#include <attnsweep/model.h>
#include <attnsweep/rng.h>

static const param_def_t mqa_params[] = {
    {.name = "topics", .section = "task", .type = PARAM_INT, .def = 4, .min = 2, .max = 1000,
     .help = "K: topics = classes"},
    {.name = "topic_words", .section = "task", .type = PARAM_INT, .def = 2, .min = 1, .max = 1000,
     .help = "topic words per topic"},
    {.name = "vocab_size", .section = "task", .type = PARAM_INT, .def = 500, .min = 2, .max = 1e7,
     .help = "non-topic words"},
    {.name = "words_per_sentence", .section = "task", .type = PARAM_INT, .def = 10, .min = 1,
     .max = 1000, .help = "m: non-topic words per sentence (length m + 1)"},
    {.name = "n_train", .section = "task", .type = PARAM_INT, .def = 400, .min = 1, .max = 1e7,
     .help = "training sentences"},
    {.name = "n_test", .section = "task", .type = PARAM_INT, .def = 400, .min = 1, .max = 1e7,
     .help = "test sentences"},
    {.name = "embed_dim", .section = "model", .type = PARAM_INT, .def = 10, .min = 1, .max = 4096,
     .help = "D: embedding, key and query dimension"},
    {.name = "queries", .section = "model", .type = PARAM_INT, .def = 4, .min = 1, .max = 256,
     .help = "H: fixed queries, each with its own softmax over the shared keys"},
    {.name = "query_std", .section = "model", .type = PARAM_REAL, .def = 0.3, .min = 0, .max = 1e3,
     .help = "queries ~ N(0, query_std^2) per coordinate"},
    {.name = "embed_std", .section = "model", .type = PARAM_REAL, .def = 1e-6, .min = 0,
     .max = 1e3, .help = "initial embeddings ~ N(0, embed_std^2); keys start at 0"},
};

static const metric_def_t mqa_metrics[] = {
    {"train_loss", "mean cross-entropy over the training set", "1"},
    {"train_acc", "fraction of training sentences classified correctly", "1"},
    {"test_acc", "fraction of test sentences classified correctly", "1"},
    {"test_loss", "mean cross-entropy over the test set", "1"},
    {"topic_attention", "mean over heads and training sentences of the attention on the topic word",
     "1"},
    {"topic_attention_min", "the same for the head that attends least to the topic word", "1"},
};
enum { M_LOSS, M_ACC, M_TEST_ACC, M_TEST_LOSS, M_TOPIC, M_TOPIC_MIN, M_COUNT };

typedef struct {
    int K, W, Vn, V, L, D, H;
    long n_train, n_test;
    double lr;
    int32_t *tok, *lab;          /* [n][L] tokens (topic word first), [n] labels */
    double *buf;                 /* one allocation for everything below */
    double *E, *kap, *Q, *U;     /* [V×D] embeddings, [V×D] keys, [H×D] queries, [D×K] classifier */
    double *S, *gE, *gS, *gkap;  /* [H×V] scores, [V×D], [H×V], [V×D] gradients */
    double *a, *c, *z, *dc, *hv; /* [H×L] attention, [D] context, [K] logits, [D], [H×D] */
    double head_topic[256];      /* per head: Σ attention on the topic word (eval) */
} mqa_t;

static void mqa_free(void *state)
{
    mqa_t *s = state;
    if (!s) return;
    free(s->tok);
    free(s->buf);
    free(s);
}

static int mqa_check(const params_t *p, char *err, size_t errlen)
{
    if (params_geti(p, "words_per_sentence") >= params_geti(p, "vocab_size")) {
        snprintf(err, errlen, "words_per_sentence: must be < vocab_size (got %ld >= %ld)",
                 params_geti(p, "words_per_sentence"), params_geti(p, "vocab_size"));
        return -1;
    }
    return 0;
}

static double mqa_cost(const params_t *p)
{
    double n = (double)(params_geti(p, "n_train") + params_geti(p, "n_test"));
    double V = (double)(params_geti(p, "vocab_size") + params_geti(p, "topics") *
                        params_geti(p, "topic_words"));
    double L = (double)params_geti(p, "words_per_sentence") + 1;
    double D = (double)params_geti(p, "embed_dim"), H = (double)params_geti(p, "queries");
    return (double)params_geti(p, "steps") * (n * L * H * D * 4 + 4 * H * V * D);
}

static size_t mqa_memory(const params_t *p)
{
    size_t V = (size_t)(params_geti(p, "vocab_size") + params_geti(p, "topics") *
                        params_geti(p, "topic_words"));
    size_t D = (size_t)params_geti(p, "embed_dim"), H = (size_t)params_geti(p, "queries");
    size_t n = (size_t)(params_geti(p, "n_train") + params_geti(p, "n_test"));
    size_t L = (size_t)params_geti(p, "words_per_sentence") + 1;
    return sizeof(double) * (4 * V * D + 2 * H * V + 4 * H * D + 64) + sizeof(int32_t) * n * (L + 1);
}

/* Sentences: class uniform, one of its topic words, then m non-topic words (with replacement). */
static void mqa_data(mqa_t *s, uint64_t seed)
{
    rng_t r;
    rng_init(&r, seed, RNG_STREAM_DATA);
    for (long b = 0; b < s->n_train + s->n_test; b++) {
        int32_t *t = s->tok + b * s->L;
        s->lab[b] = (int32_t)rng_below(&r, (uint64_t)s->K);
        t[0] = s->lab[b] * s->W + (int32_t)rng_below(&r, (uint64_t)s->W);
        for (int i = 1; i < s->L; i++) t[i] = s->K * s->W + (int32_t)rng_below(&r, (uint64_t)s->Vn);
    }
}

static int mqa_init(void **state, const params_t *p, char *err, size_t errlen)
{
    mqa_t *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->K = (int)params_geti(p, "topics");
    s->W = (int)params_geti(p, "topic_words");
    s->Vn = (int)params_geti(p, "vocab_size");
    s->V = s->Vn + s->K * s->W;
    s->L = (int)params_geti(p, "words_per_sentence") + 1;
    s->D = (int)params_geti(p, "embed_dim");
    s->H = (int)params_geti(p, "queries");
    s->n_train = params_geti(p, "n_train");
    s->n_test = params_geti(p, "n_test");
    s->lr = params_get(p, "lr");
    size_t V = (size_t)s->V, D = (size_t)s->D, H = (size_t)s->H, L = (size_t)s->L, K = (size_t)s->K;
    size_t n = (size_t)(s->n_train + s->n_test);
    s->tok = malloc(sizeof(int32_t) * n * (L + 1));
    s->buf = calloc(4 * V * D + 2 * H * V + 2 * H * D + D * K + H * L + 2 * D + K, sizeof(double));
    if (!s->tok || !s->buf || H > 256) goto oom;
    s->lab = s->tok + n * L;
    double *q = s->buf;
    s->E = q, q += V * D;
    s->kap = q, q += V * D;
    s->gE = q, q += V * D;
    s->gkap = q, q += V * D;
    s->S = q, q += H * V;
    s->gS = q, q += H * V;
    s->Q = q, q += H * D;
    s->U = q, q += D * K;
    s->a = q, q += H * L;
    s->c = q, q += D;
    s->dc = q, q += D;
    s->z = q, q += K;
    s->hv = q;
    mqa_data(s, (uint64_t)params_geti(p, "seed"));
    rng_t r;
    rng_init(&r, (uint64_t)params_geti(p, "seed"), RNG_STREAM_INIT);
    double qs = params_get(p, "query_std"), es = params_get(p, "embed_std");
    for (size_t i = 0; i < H * D; i++) s->Q[i] = qs * rng_normal(&r);
    for (size_t i = 0; i < D * K; i++) s->U[i] = rng_normal(&r);
    for (size_t k = 0; k < K && k < D; k++) s->U[k * K + k] = 1.0;
    for (size_t i = 0; i < V * D; i++) s->E[i] = es * rng_normal(&r);
    *state = s;
    return 0;
oom:
    snprintf(err, errlen, "out of memory (or more than 256 queries)");
    mqa_free(s);
    return -1;
}

/* Sentence b: attention of every head (a [H×L], overwritten), context c [D], logits z [K]; its
 * loss; *correct += 1 if the first argmax is the label. */
static double mqa_forward(mqa_t *s, long b, long *correct)
{
    const int32_t *t = s->tok + b * s->L;
    int H = s->H, L = s->L, D = s->D, K = s->K;
    memset(s->c, 0, sizeof(double) * (size_t)D);
    for (int h = 0; h < H; h++) {
        double *a = s->a + (size_t)h * L, mx = -INFINITY, sum = 0;
        for (int i = 0; i < L; i++) mx = fmax(mx, s->S[(size_t)h * s->V + t[i]]);
        for (int i = 0; i < L; i++) sum += a[i] = exp(s->S[(size_t)h * s->V + t[i]] - mx);
        for (int i = 0; i < L; i++) {
            a[i] /= sum;
            kern_axpy_d(D, a[i] / H, s->E + (size_t)t[i] * D, s->c);
        }
    }
    kern_gemv_d(1, D, K, 1.0, s->U, K, s->c, 0.0, s->z); /* z = Uᵀc */
    double mx = s->z[0], sum = 0;
    int arg = 0;
    for (int k = 1; k < K; k++)
        if (s->z[k] > mx) mx = s->z[k], arg = k;
    for (int k = 0; k < K; k++) sum += exp(s->z[k] - mx);
    *correct += arg == s->lab[b];
    return log(sum) + mx - s->z[s->lab[b]];
}

/* After mqa_forward of sentence b: accumulate dLoss/dE and dLoss/dS (scaled by scale). */
static void mqa_backward(mqa_t *s, long b, double scale)
{
    const int32_t *t = s->tok + b * s->L;
    int H = s->H, L = s->L, D = s->D, K = s->K;
    double mx = s->z[0], sum = 0;
    for (int k = 1; k < K; k++) mx = fmax(mx, s->z[k]);
    for (int k = 0; k < K; k++) sum += s->z[k] = exp(s->z[k] - mx);
    for (int k = 0; k < K; k++) s->z[k] = scale * (s->z[k] / sum - (k == s->lab[b]));
    kern_gemv_d(0, D, K, 1.0, s->U, K, s->z, 0.0, s->dc); /* dc = U dz */
    for (int h = 0; h < H; h++) {
        const double *a = s->a + (size_t)h * L;
        double mean = 0, vdc[1024]; /* v_tok_i·dc; L ≤ 1001 (words_per_sentence ≤ 1000) */
        for (int i = 0; i < L; i++)
            mean += a[i] * (vdc[i] = kern_dot_d(D, s->E + (size_t)t[i] * D, s->dc));
        for (int i = 0; i < L; i++) {
            kern_axpy_d(D, a[i] / H, s->dc, s->gE + (size_t)t[i] * D);
            s->gS[(size_t)h * s->V + t[i]] += a[i] * (vdc[i] - mean) / H;
        }
    }
}

static void mqa_scores(mqa_t *s) /* S = Q κᵀ [H×V] */
{
    kern_gemm_d(0, 1, s->H, s->V, s->D, 1.0, s->Q, s->D, s->kap, s->D, 0.0, s->S, s->V);
}

static int mqa_step(void *state, long step, double *loss, char *err, size_t errlen)
{
    mqa_t *s = state;
    long correct = 0;
    double total = 0, scale = 1.0 / (double)s->n_train;
    size_t VD = (size_t)s->V * (size_t)s->D;
    (void)step, (void)err, (void)errlen;
    memset(s->gE, 0, sizeof(double) * VD);
    memset(s->gS, 0, sizeof(double) * (size_t)s->H * (size_t)s->V);
    mqa_scores(s);
    for (long b = 0; b < s->n_train; b++) {
        total += mqa_forward(s, b, &correct);
        mqa_backward(s, b, scale);
    }
    /* dκ = dSᵀ Q [V×D]; then the gradient step on E and κ */
    kern_gemm_d(1, 0, s->V, s->D, s->H, 1.0, s->gS, s->V, s->Q, s->D, 0.0, s->gkap, s->D);
    kern_axpy_d((long)VD, -s->lr, s->gE, s->E);
    kern_axpy_d((long)VD, -s->lr, s->gkap, s->kap);
    *loss = total * scale;
    return 0;
}

static int mqa_eval(void *state, double *m, char *err, size_t errlen)
{
    mqa_t *s = state;
    long ok_train = 0, ok_test = 0;
    double l_train = 0, l_test = 0, topic_min = INFINITY;
    (void)err, (void)errlen;
    mqa_scores(s);
    memset(s->head_topic, 0, sizeof s->head_topic);
    for (long b = 0; b < s->n_train + s->n_test; b++) {
        int train = b < s->n_train;
        double l = mqa_forward(s, b, train ? &ok_train : &ok_test);
        if (train) {
            l_train += l;
            for (int h = 0; h < s->H; h++) s->head_topic[h] += s->a[(size_t)h * s->L];
        } else {
            l_test += l;
        }
    }
    m[M_TOPIC] = 0;
    for (int h = 0; h < s->H; h++) {
        double t = s->head_topic[h] / (double)s->n_train;
        m[M_TOPIC] += t / s->H;
        topic_min = fmin(topic_min, t);
    }
    m[M_LOSS] = l_train / (double)s->n_train;
    m[M_ACC] = (double)ok_train / (double)s->n_train;
    m[M_TEST_ACC] = (double)ok_test / (double)s->n_test;
    m[M_TEST_LOSS] = l_test / (double)s->n_test;
    m[M_TOPIC_MIN] = topic_min;
    return 0;
}

static const model_family_t mqa_family = {
    .abi = ATTNSWEEP_MODEL_ABI,
    .name = "mqa",
    .summary = "topic-word classification with H fixed queries over shared keys (a plugin)",
    .params = mqa_params,
    .n_params = sizeof mqa_params / sizeof mqa_params[0],
    .metrics = mqa_metrics,
    .n_metrics = M_COUNT,
    .check = mqa_check,
    .cost = mqa_cost,
    .init = mqa_init,
    .step = mqa_step,
    .eval = mqa_eval,
    .memory = mqa_memory,
    .free = mqa_free,
};

ATTNSWEEP_MODEL_PLUGIN(mqa_family)
