/* snell2021 — copying with attention (Snell et al. 2021, "Approximating how single head attention
 * learns"; KTIW). An LSTM or GRU encoder/decoder with one or more dot-product attention heads over
 * the encoder outputs learns to copy length-L sequences; the network (snell2021.h,
 * snell2021_impl.h) is trained with Adam on fresh batches, and this file wraps it as the
 * `snell2021` model family. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/kernels.h"
#include "attnsweep/model.h"
#include "snell2021.h"

/* ---- the network in float and in double -------------------------------------------------- */

/* tanh through one expf: 1 - 2/(e^{2x} + 1); absolute error ~1e-7, saturates cleanly to ±1.
 * glibc's tanhf (via expm1f) took ~40% of a training step. */
static inline float fast_tanhf(float x) { return 1.0f - 2.0f / (expf(2.0f * x) + 1.0f); }

#define R float
#define SN(x) x##_f
#define KGEMM kern_gemm_f
#define KGEMM_REF kern_gemm_ref_f
#define RTANH fast_tanhf
#define REXP expf
#include "snell2021_impl.h"
#undef R
#undef SN
#undef KGEMM
#undef KGEMM_REF
#undef RTANH
#undef REXP

#define R double
#define SN(x) x##_d
#define KGEMM kern_gemm_d
#define KGEMM_REF kern_gemm_ref_d
#define RTANH tanh
#define REXP exp
#include "snell2021_impl.h"
#undef R
#undef SN
#undef KGEMM
#undef KGEMM_REF
#undef RTANH
#undef REXP

long snell_tensor_size(const snell_cfg_t *c, int t)
{
    long E = c->E, H = c->H, N = c->V + 2, K = c->attend_embed ? E : H, nh = c->heads;
    long G = c->cell == SNELL_GRU ? 3 : 4, bias = c->cell == SNELL_GRU ? 6 * H : 4 * H;
    switch (t) {
    case SNELL_EMB: return N * E;
    case SNELL_ENC_WX: case SNELL_DEC_WX: return E * G * H;
    case SNELL_ENC_WH: case SNELL_DEC_WH: return H * G * H;
    case SNELL_ENC_B: case SNELL_DEC_B: return bias;
    case SNELL_OUT_W: return 2 * H * H;
    case SNELL_OUT_B: return H;
    case SNELL_OUT_U: return H * N;
    case SNELL_OUT_UB: return N;
    case SNELL_ATT_A: return nh * H * K;
    case SNELL_ATT_a: return nh * K;
    case SNELL_ATT_O: return nh * K * H;
    case SNELL_ATT_o: return nh * H;
    default: return 0;
    }
}

int snell_net_init(snell_net_t *m, const snell_cfg_t *c, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->c = *c;
    m->N = c->V + 2;
    m->S = m->T = c->L + 1;
    m->K = c->attend_embed ? c->E : c->H;
    for (int t = 0; t < SNELL_N_TENSORS; t++) m->off[t + 1] = m->off[t] + snell_tensor_size(c, t);
    m->P = m->off[SNELL_N_TENSORS];
    m->tok = malloc(sizeof(int) * 3 * (size_t)m->T * (size_t)c->B);
    if (!m->tok) return -1;
    int rc = c->dbl ? init_d(m, seed) : init_f(m, seed);
    if (rc != 0) snell_net_free(m);
    return rc;
}

void snell_net_free(snell_net_t *m)
{
    if (!m) return;
    free(m->w);
    free(m->act);
    free(m->tok);
    m->w = m->g = m->am = m->av = m->act = NULL;
    m->tok = NULL;
}

double snell_net_forward(snell_net_t *m, const int *seq, int nb, int want_grad, snell_stats_t *st)
{
    return m->c.dbl ? forward_d(m, seq, nb, want_grad, st) : forward_f(m, seq, nb, want_grad, st);
}

void snell_net_adam(snell_net_t *m, double lr)
{
    m->adam_t++;
    if (m->c.dbl)
        snell_adam_d(m->w, m->g, m->am, m->av, m->P, lr, m->adam_t);
    else
        snell_adam_f(m->w, m->g, m->am, m->av, m->P, lr, m->adam_t);
}

void snell_sample(int mode, int V, int L, rng_t *r, int *seq)
{
    if (mode == SNELL_IID) {
        for (int i = 0; i < L; i++) seq[i] = (int)rng_below(r, (uint64_t)V);
        return;
    }
    /* perm (L = V) and distinct (L <= V): the first L slots of a Fisher–Yates shuffle of 0..V-1 */
    int pool[V];
    for (int i = 0; i < V; i++) pool[i] = i;
    for (int i = 0; i < L; i++) {
        int j = i + (int)rng_below(r, (uint64_t)(V - i));
        int tmp = pool[i];
        pool[i] = pool[j];
        pool[j] = tmp;
        seq[i] = pool[i];
    }
}

/* ---- the model family -------------------------------------------------------------------- */

static const char *const mode_choices[] = {"perm", "distinct", "iid", NULL};
static const char *const precision_choices[] = {"float32", "float64", NULL};
static const char *const attend_choices[] = {"encoder", "embedding", NULL};
static const char *const cell_choices[] = {"lstm", "gru", NULL};

#define HEAD_SEED(k)                                                                           \
    {.name = "head_seed_" #k, .section = "model", .type = PARAM_INT, .def = -1, .min = -1,      \
     .max = 9007199254740991.0,                                                                \
     .help = "-1: head " #k " drawn from the run seed; s >= 0: from its own seed s (the same "  \
             "head in any slot, on any base)"}

static const param_def_t snell_params[] = {
    {.name = "vocab", .section = "task", .type = PARAM_INT, .def = 40, .min = 1, .max = 100000,
     .help = "V: content tokens (EOS and SOS come on top)"},
    {.name = "seq_len", .section = "task", .type = PARAM_INT, .def = 40, .min = 1, .max = 10000,
     .help = "L: tokens per sequence"},
    {.name = "data_mode", .section = "task", .type = PARAM_ENUM, .choices = mode_choices, .def = 0,
     .help = "perm: a permutation of all V tokens (L = V); distinct: L distinct of V; iid: "
             "uniform"},
    {.name = "train_size", .section = "task", .type = PARAM_INT, .def = 0, .min = 0, .max = 1e9,
     .help = "0: fresh sequences every step; N: a fixed training set of N sequences"},
    {.name = "eval_size", .section = "task", .type = PARAM_INT, .def = 256, .min = 1, .max = 1e7,
     .help = "held-out sequences (stream EVAL) for test_*, attn_acc and ktiw"},
    {.name = "embed_dim", .section = "model", .type = PARAM_INT, .def = 256, .min = 1, .max = 65536,
     .help = "E: shared embedding size"},
    {.name = "hidden_dim", .section = "model", .type = PARAM_INT, .def = 256, .min = 1,
     .max = 65536,
     .help = "H: RNN hidden size (also of the context and of the output layer's tanh)"},
    {.name = "cell", .section = "model", .type = PARAM_ENUM, .choices = cell_choices, .def = 0,
     .help = "encoder/decoder cell: lstm (the copy model) or gru (the multi-head toy)"},
    {.name = "heads", .section = "model", .type = PARAM_INT, .def = 1, .min = 1,
     .max = SNELL_MAX_HEADS,
     .help = "attention heads, each with its own query and output map; contexts averaged"},
    {.name = "uniform_attn", .section = "model", .type = PARAM_BOOL, .def = 0,
     .help = "ablation: attention fixed uniform over the source"},
    {.name = "attend_to", .section = "model", .type = PARAM_ENUM, .choices = attend_choices,
     .def = 0,
     .help = "attention keys and values: encoder outputs h_s, or the source embeddings e_s"},
    {.name = "embed_std", .section = "model", .type = PARAM_REAL, .def = 1.0, .min = 0, .max = 1e6,
     .min_exclusive = 1,
     .help = "embedding init N(0, embed_std^2) (PyTorch default 1)"},
    {.name = "init_scale", .section = "model", .type = PARAM_REAL, .def = 1.0, .min = 0,
     .max = 1e6, .min_exclusive = 1,
     .help = "scales the U(+-1/sqrt(fan_in)) init of every other weight (PyTorch default 1)"},
    {.name = "base_seed", .section = "model", .type = PARAM_INT, .def = -1, .min = -1,
     .max = 9007199254740991.0,
     .help = "-1: embedding, RNNs and output layer drawn from the run seed; s >= 0: from s"},
    HEAD_SEED(0), HEAD_SEED(1), HEAD_SEED(2), HEAD_SEED(3),
    HEAD_SEED(4), HEAD_SEED(5), HEAD_SEED(6), HEAD_SEED(7),
    {.name = "precision", .section = "model", .type = PARAM_ENUM, .choices = precision_choices,
     .def = 0,
     .help = "arithmetic of weights and activations: float32 or float64"},
    {.name = "batch_size", .section = "train", .type = PARAM_INT, .def = 128, .min = 1, .max = 1e6,
     .help = "sequences per Adam step (drawn from stream BATCH)"},
};

static const metric_def_t snell_metrics[] = {
    {"train_loss", "mean token cross-entropy on a fixed probe of training sequences", "1"},
    {"train_acc", "fraction of target tokens predicted correctly, training probe", "1"},
    {"test_loss", "mean token cross-entropy on the held-out sequences", "1"},
    {"test_acc", "fraction of target tokens predicted correctly, held-out sequences", "1"},
    {"test_seq_acc", "fraction of held-out sequences copied without an error", "1"},
    {"attn_acc", "fraction of target positions whose largest attention weight is on the source "
     "token to copy (the best head's when heads > 1)", "1"},
    {"attn_acc_mean", "attn_acc averaged over the heads (= attn_acc with one head)", "1"},
    {"ktiw", "mean log-odds of the correct token with attention set one-hot on it (knowing to "
     "translate individual words)", "1"},
};
enum {
    M_TRAIN_LOSS, M_TRAIN_ACC, M_TEST_LOSS, M_TEST_ACC, M_SEQ_ACC, M_ATTN_ACC, M_ATTN_MEAN,
    M_KTIW, M_N
};

typedef struct {
    snell_net_t net;
    int mode, V, L, B, n_eval, n_probe;
    long n_train;
    double lr;
    rng_t batch_rng;
    int *data;   /* one allocation: train [n_train][L], eval [n_eval][L], probe, batch [B][L] */
    int *train, *eval, *probe, *batch;
} snell_run_t;

static int snell_check(const params_t *p, char *err, size_t errlen)
{
    long V = params_geti(p, "vocab"), L = params_geti(p, "seq_len");
    int mode = (int)params_geti(p, "data_mode");
    if (mode == SNELL_PERM && L != V) {
        snprintf(err, errlen, "seq_len: data_mode = perm needs seq_len = vocab (got %ld, %ld)",
                 L, V);
        return -1;
    }
    if (mode == SNELL_DISTINCT && L > V) {
        snprintf(err, errlen, "seq_len: data_mode = distinct needs seq_len <= vocab (got %ld > %ld)",
                 L, V);
        return -1;
    }
    long heads = params_geti(p, "heads");
    for (int k = (int)(heads < SNELL_SEEDED_HEADS ? heads : SNELL_SEEDED_HEADS);
         k < SNELL_SEEDED_HEADS; k++) {
        char key[32];
        snprintf(key, sizeof key, "head_seed_%d", k);
        if (params_geti(p, key) >= 0) {
            snprintf(err, errlen, "%s: set to %ld, but heads = %ld has no head %ld (raise heads or "
                     "leave %s at -1)", key, params_geti(p, key), heads, (long)k, key);
            return -1;
        }
    }
    return 0;
}

/* The network's configuration from the run's params (B = the batch size). */
static void snell_cfg_from(const params_t *p, snell_cfg_t *c)
{
    memset(c, 0, sizeof *c);
    c->V = (int)params_geti(p, "vocab");
    c->L = (int)params_geti(p, "seq_len");
    c->E = (int)params_geti(p, "embed_dim");
    c->H = (int)params_geti(p, "hidden_dim");
    c->B = (int)params_geti(p, "batch_size");
    c->heads = (int)params_geti(p, "heads");
    c->cell = (int)params_geti(p, "cell");
    c->uniform = (int)params_geti(p, "uniform_attn");
    c->attend_embed = (int)params_geti(p, "attend_to");
    c->dbl = (int)params_geti(p, "precision");
    c->embed_std = params_get(p, "embed_std");
    c->init_scale = params_get(p, "init_scale");
    c->base_seed = params_geti(p, "base_seed");
    for (int k = 0; k < SNELL_SEEDED_HEADS; k++) {
        char key[16];
        snprintf(key, sizeof key, "head_seed_%d", k);
        c->head_seed[k] = params_geti(p, key);
    }
}

/* ≈ flops: forward + backward (×3) of both RNNs, the heads and the output layer per step, plus
 * the forward passes of evaluation every log_every steps. */
static double snell_cost(const params_t *p)
{
    snell_cfg_t c;
    snell_cfg_from(p, &c);
    double V = c.V, E = c.E, H = c.H, B = c.B, nh = c.heads, T = c.L + 1;
    double K = c.attend_embed ? E : H, G = c.cell == SNELL_GRU ? 3 : 4;
    double steps = (double)params_geti(p, "steps"), le = (double)params_geti(p, "log_every");
    double ev = (double)params_geti(p, "eval_size") + B;
    double per_seq = 2.0 * T * 2.0 * G * H * (E + H) + nh * 2.0 * T * (2 * T * K + H * K + K * H)
                   + 2.0 * T * H * (2 * H + V + 2);
    return steps * B * 3.0 * per_seq + (steps / le + 1) * ev * per_seq;
}

static size_t snell_memory(const params_t *p)
{
    snell_cfg_t c;
    snell_cfg_from(p, &c);
    size_t L = (size_t)c.L, E = (size_t)c.E, H = (size_t)c.H, B = (size_t)c.B, T = L + 1;
    size_t N = (size_t)c.V + 2, K = c.attend_embed ? E : H, nh = (size_t)c.heads;
    size_t real = c.dbl ? sizeof(double) : sizeof(float), P = 0;
    for (int t = 0; t < SNELL_N_TENSORS; t++) P += (size_t)snell_tensor_size(&c, t);
    size_t act = T * B * (4 * E + 16 * H + 10 * H + 2 * N + 4 * K + 2 * T) +
                 nh * T * B * (2 * K + T) + 2 * B * H;
    size_t data = (size_t)params_geti(p, "train_size") + (size_t)params_geti(p, "eval_size") + 2 * B;
    return 4 * P * real + act * real + data * L * sizeof(int) + 3 * T * B * sizeof(int);
}

static void snell_free(void *state)
{
    snell_run_t *s = state;
    if (!s) return;
    snell_net_free(&s->net);
    free(s->data);
    free(s);
}

/* The run's sequences: the training set or probe (stream DATA), the held-out set (EVAL); the
 * batch stream. 0 ok, -1 out of memory. */
static int snell_data_init(snell_run_t *s, uint64_t seed)
{
    size_t L = (size_t)s->L;
    s->data = malloc(sizeof(int) * L * ((size_t)s->n_train + (size_t)s->n_eval + 2 * (size_t)s->B));
    if (!s->data) return -1;
    s->train = s->data;
    s->eval = s->train + (size_t)s->n_train * L;
    s->probe = s->eval + (size_t)s->n_eval * L;
    s->batch = s->probe + (size_t)s->B * L;
    rng_t r;
    rng_init(&r, seed, RNG_STREAM_DATA);
    for (long i = 0; i < s->n_train; i++) snell_sample(s->mode, s->V, s->L, &r, s->train + i * L);
    if (s->n_train > 0)
        memcpy(s->probe, s->train, sizeof(int) * L * (size_t)s->n_probe);
    else /* fresh data: the probe is a fixed batch of the training distribution */
        for (int i = 0; i < s->n_probe; i++) snell_sample(s->mode, s->V, s->L, &r, s->probe + i * L);
    rng_init(&r, seed, RNG_STREAM_EVAL);
    for (int i = 0; i < s->n_eval; i++) snell_sample(s->mode, s->V, s->L, &r, s->eval + i * L);
    rng_init(&s->batch_rng, seed, RNG_STREAM_BATCH);
    return 0;
}

static int snell_init(void **state, const params_t *p, char *err, size_t errlen)
{
    snell_run_t *s = calloc(1, sizeof *s);
    *state = NULL;
    snprintf(err, errlen, "snell2021: out of memory (run needs about %zu MB)",
             snell_memory(p) >> 20);
    if (!s) goto fail;
    uint64_t seed = (uint64_t)params_geti(p, "seed");
    s->V = (int)params_geti(p, "vocab");
    s->L = (int)params_geti(p, "seq_len");
    s->mode = (int)params_geti(p, "data_mode");
    s->B = (int)params_geti(p, "batch_size");
    s->n_train = params_geti(p, "train_size");
    s->n_eval = (int)params_geti(p, "eval_size");
    s->lr = params_get(p, "lr");
    s->n_probe = s->n_train > 0 && s->n_train < s->B ? (int)s->n_train : s->B;
    if (snell_check(p, err, errlen) != 0) goto fail;
    if (snell_data_init(s, seed) != 0) goto fail;
    snell_cfg_t c;
    snell_cfg_from(p, &c);
    if (snell_net_init(&s->net, &c, seed) != 0) goto fail;
    *state = s;
    err[0] = '\0';
    return 0;
fail: /* err says why: the memory message above, or check()'s */
    snell_free(s);
    return -1;
}

static int snell_step(void *state, long step, double *loss, char *err, size_t errlen)
{
    snell_run_t *s = state;
    (void)step, (void)err, (void)errlen;
    size_t L = (size_t)s->L;
    for (int i = 0; i < s->B; i++) {
        if (s->n_train > 0) {
            uint64_t j = rng_below(&s->batch_rng, (uint64_t)s->n_train);
            memcpy(s->batch + i * L, s->train + j * L, sizeof(int) * L);
        } else {
            snell_sample(s->mode, s->V, s->L, &s->batch_rng, s->batch + i * L);
        }
    }
    *loss = snell_net_forward(&s->net, s->batch, s->B, 1, NULL);
    if (isfinite(*loss)) snell_net_adam(&s->net, s->lr);
    return 0;
}

static int snell_eval(void *state, double *metrics, char *err, size_t errlen)
{
    snell_run_t *s = state;
    (void)err, (void)errlen;
    snell_stats_t tr = {0}, te = {0};
    snell_net_forward(&s->net, s->probe, s->n_probe, 0, &tr);
    for (int i = 0; i < s->n_eval; i += s->B) {
        int nb = s->n_eval - i < s->B ? s->n_eval - i : s->B;
        snell_net_forward(&s->net, s->eval + (size_t)i * s->L, nb, 0, &te);
    }
    metrics[M_TRAIN_LOSS] = tr.loss_sum / (double)tr.tokens;
    metrics[M_TRAIN_ACC] = (double)tr.correct / (double)tr.tokens;
    metrics[M_TEST_LOSS] = te.loss_sum / (double)te.tokens;
    metrics[M_TEST_ACC] = (double)te.correct / (double)te.tokens;
    metrics[M_SEQ_ACC] = (double)te.seq_correct / (double)te.seqs;
    long best = 0, sum = 0;
    for (int k = 0; k < s->net.c.heads; k++) {
        best = te.attn_correct[k] > best ? te.attn_correct[k] : best;
        sum += te.attn_correct[k];
    }
    metrics[M_ATTN_ACC] = (double)best / (double)te.tokens;
    metrics[M_ATTN_MEAN] = (double)sum / (double)te.tokens / s->net.c.heads;
    metrics[M_KTIW] = te.ktiw_sum / (double)te.tokens;
    return 0;
}

const model_family_t snell2021_family = {
    .abi = ATTNSWEEP_MODEL_ABI,
    .name = "snell2021",
    .summary = "copying with attention heads, LSTM/GRU enc/dec, KTIW probe (Snell et al. 2021)",
    .params = snell_params,
    .n_params = sizeof snell_params / sizeof snell_params[0],
    .metrics = snell_metrics,
    .n_metrics = M_N,
    .check = snell_check,
    .cost = snell_cost,
    .init = snell_init,
    .step = snell_step,
    .eval = snell_eval,
    .memory = snell_memory,
    .free = snell_free,
};
