/* sakamoto2024 — token selection in one attention layer (Sakamoto & Sato 2024): f(X) = Σ_t s_t
 * <x_t, nu>, s = softmax(X W p), W and p trained by full-batch GD on the logistic loss under label
 * noise; besides the losses and accuracies it traces every token's softmax weight of one clean and
 * one label-flipped training sample. Implements model_family_t (model.h), registered in
 * src/model.c; kernels shared with the tests are declared in sakamoto2024.h.
 *
 * Three solvers, one trajectory (the tests compare them). `direct` keeps W explicitly (D² doubles,
 * CBLAS dgemv/dger: ≈ 6 D² flops a step); `reference` is the same in plain loops (tests only).
 * `subspace` (default) is exact too: the gradients are dW = (X^T δ) p^T and dp = W^T X^T δ, so p
 * and the change of W stay in the span of the NT = n_train·seq_len training tokens:
 * W_t = W_0 + X^T M_t B^T, p_t = B c_t with B = W_0^T X^T. A step then costs O((NT)²), after a
 * one-off O(NT·D²) projection (dgemm); W_0 is streamed in row blocks and never held whole. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/kernels.h"
#include "attnsweep/rng.h"
#include "attnsweep/schema.h"
#include "sakamoto2024.h"

static const char *const solver_choices[] = {"subspace", "direct", "reference", NULL};
enum { SOLVER_SUBSPACE = 0, SOLVER_DIRECT = 1, SOLVER_REFERENCE = 2 };
static const char *const label_choices[] = {"balanced", "random", NULL};
enum { LABELS_BALANCED = 0, LABELS_RANDOM = 1 };
/* The family's own rng stream (rng.h): the random labels and flips of `labels = random`, apart
 * from the token noise (RNG_STREAM_DATA), so one seed gives the same tokens in both modes. */
#define SK_STREAM_LABELS 0x5ABE1ULL

static const param_def_t sk_params[] = {
    {.name = "dim", .section = "task", .type = PARAM_INT, .def = 2000, .min = 2, .max = 1e6,
     .help = "token dimension d (signals are |mu| e_1 and |mu| e_2)"},
    {.name = "signal_norm", .section = "task", .type = PARAM_REAL, .def = 20, .min = 0,
     .max = 1e12, .min_exclusive = 1,
     .help = "signal norm |mu| (> 0): mu_+ = |mu| e_1, mu_- = |mu| e_2"},
    {.name = "rho", .section = "task", .type = PARAM_REAL, .def = 0.1, .min = 0, .max = 1e6,
     .help = "weak-signal factor: token 2 carries rho mu_{y*}, token 3 rho mu_{-y*}"},
    {.name = "label_noise", .section = "task", .type = PARAM_REAL, .def = 0.2, .min = 0, .max = 1,
     .help = "eta: fraction of training labels flipped (test set clean); see labels"},
    {.name = "labels", .section = "task", .type = PARAM_ENUM, .choices = label_choices,
     .def = LABELS_BALANCED,
     .help = "balanced: first half of each set +1, round(eta n) flips half per class (the "
             "paper's final code); random: every label a fair coin, ceil(eta n) flipped samples "
             "drawn at random (its v1 code)"},
    {.name = "n_train", .section = "task", .type = PARAM_INT, .def = 20, .min = 2, .max = 1e6,
     .help = "training sequences n (labels = balanced: first half class +1)"},
    {.name = "n_test", .section = "task", .type = PARAM_INT, .def = 1000, .min = 1, .max = 1e7,
     .help = "clean test sequences"},
    {.name = "seq_len", .section = "task", .type = PARAM_INT, .def = 8, .min = 3, .max = 1e6,
     .help = "tokens per sequence T: relevant, weakly relevant, weakly opposite, then irrelevant"},
    {.name = "noise_std", .section = "task", .type = PARAM_REAL, .def = 1, .min = 0, .max = 1e12,
     .help = "sigma: every token gets N(0, sigma^2 I_d) noise"},
    {.name = "train_w", .section = "model", .type = PARAM_BOOL, .def = 1,
     .help = "train W (init U(-1/sqrt d, 1/sqrt d)); false: W = I fixed and only p is trained"},
    {.name = "solver", .section = "model", .type = PARAM_ENUM, .choices = solver_choices,
     .def = SOLVER_SUBSPACE,
     .help = "subspace (exact, O((n T)^2) a step), direct (explicit W, O(d^2) a step) or "
             "reference (direct in plain loops; tests only)"},
    {.name = "trace_clean", .section = "train", .type = PARAM_INT, .def = 0, .min = 0, .max = 1e6,
     .help = "k: the clean_token_* metrics follow the k-th clean training sample (0 = the "
             "lowest-index one)"},
    {.name = "trace_flipped", .section = "train", .type = PARAM_INT, .def = 0, .min = 0,
     .max = 1e6,
     .help = "k: the flipped_token_* metrics follow the k-th label-flipped training sample"},
};

#define TRACE_TOKENS 8 /* tokens traced per sample: the whole sequence at the paper's T = 8 */
static const metric_def_t sk_metrics[] = {
    {"train_loss", "mean logistic loss log(1 + exp(-y f(X))) over the training samples", "1"},
    {"test_loss", "mean logistic loss over the test samples (clean labels)", "1"},
    {"train_acc", "fraction of training samples with y f(X) > 0 (flipped labels count as given)",
     "1"},
    {"test_acc", "fraction of test samples with y f(X) > 0 (clean labels)", "1"},
    {"clean_attention", "mean softmax weight of the signal token, clean training samples", "1"},
    {"noisy_attention", "mean softmax weight of the signal token, label-flipped training samples",
     "1"},
    {"p_norm", "|p|, the Euclidean norm of the trained vector p", "1"},
    {"p_align_1", "(W p)_1 / |W p|: alignment of the query with the first signal direction", "1"},
    {"p_align_2", "(W p)_2 / |W p|: alignment of the query with the second signal direction",
     "1"},
    /* token trajectories of two training samples (trace_clean, trace_flipped): the softmax
     * weight of tokens 1..TRACE_TOKENS; 0 for tokens past seq_len and for a missing sample */
#define TOKEN_METRIC(who, k, what)                                                            \
    {who "_token_" #k, "softmax weight of token " #k " of the traced " what " training sample " \
     "(0 past seq_len or without such a sample)", "1"}
#define TOKEN_METRICS(who, what)                                                                \
    TOKEN_METRIC(who, 1, what), TOKEN_METRIC(who, 2, what), TOKEN_METRIC(who, 3, what),         \
    TOKEN_METRIC(who, 4, what), TOKEN_METRIC(who, 5, what), TOKEN_METRIC(who, 6, what),         \
    TOKEN_METRIC(who, 7, what), TOKEN_METRIC(who, 8, what)
    TOKEN_METRICS("clean", "clean"),
    TOKEN_METRICS("flipped", "label-flipped"),
#undef TOKEN_METRICS
#undef TOKEN_METRIC
    {"clean_index", "training index (from 0) of the traced clean sample; -1 if there is none",
     "1"},
    {"flipped_index", "training index (from 0) of the traced label-flipped sample; -1 if none",
     "1"},
    {"clean_margin", "y f(X) of the traced clean sample (> 0: fitted); 0 if there is none", "1"},
    {"flipped_margin",
     "y f(X) of the traced label-flipped sample, y its flipped label (> 0: the flip is fitted, "
     "memorised); 0 if there is none", "1"},
};
enum { M_TRAIN_LOSS, M_TEST_LOSS, M_TRAIN_ACC, M_TEST_ACC, M_CLEAN_ATT, M_NOISY_ATT, M_P_NORM,
       M_ALIGN_1, M_ALIGN_2, M_CLEAN_TOK, M_FLIP_TOK = M_CLEAN_TOK + TRACE_TOKENS,
       M_CLEAN_IDX = M_FLIP_TOK + TRACE_TOKENS, M_FLIP_IDX, M_CLEAN_MARGIN, M_FLIP_MARGIN,
       M_COUNT };
_Static_assert(M_COUNT == sizeof sk_metrics / sizeof sk_metrics[0], "one enum entry a metric");
_Static_assert(M_COUNT <= MODEL_MAX_METRICS, "at most MODEL_MAX_METRICS metrics");

#define W_BLOCK 64      /* rows of W_0 generated at a time */
#define TEST_CHUNK 64   /* test samples generated at a time (subspace solver) */

typedef struct {
    int n, T, D, nT, n_test, nTt, train_w, solver, direct; /* direct: W explicit (direct, reference) */
    int trace_i[2];     /* training index of the traced clean [0] and flipped [1] sample, or -1 */
    double lr, mu, rho, sigma;
    double *buf;        /* the one allocation; every pointer below points into it */
    double *X, *z, *y, *flip;      /* train: tokens [nT, D], z [nT], labels [n], 1 = flipped [n] */
    double *zt, *yt;               /* test: z [nTt], clean labels [n_test] */
    double *Bt, *At, *G, *K, *M, *c, *P1, *P2; /* subspace: [nT,D] x2, [nT,nT] x3, [nT], [nTt,nT] x2 */
    double *W, *p, *Xt;            /* direct: [D,D], [D], test tokens [nTt, D] */
    double *dW;                    /* reference: [D,D] */
    double *a, *s, *delta, *u, *v, *g, *f; /* scratch [nT] (f: [n]) */
    double *at, *st, *ft;          /* test scratch [nTt], [nTt], [n_test] */
    double *q, *r, *work;          /* scratch [D], [D], [2 D + 5 nT] (grad kernels) */
} sk_state_t;

/* ---- kernels ---------------------------------------------------------------------------- */

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

int sk_head(int N, int T, const double *a, const double *z, const double *y, double *s,
            double *f, double *delta, double *loss)
{
    double total = 0;
    int correct = 0;
    for (int i = 0; i < N; i++) {
        const double *ai = a + (size_t)i * T, *zi = z + (size_t)i * T;
        double *si = s + (size_t)i * T;
        double mx = ai[0], sum = 0, fi = 0;
        for (int t = 1; t < T; t++) mx = ai[t] > mx ? ai[t] : mx;
        for (int t = 0; t < T; t++) sum += (si[t] = exp(ai[t] - mx));
        for (int t = 0; t < T; t++) fi += (si[t] /= sum) * zi[t];
        f[i] = fi;
        double m = y[i] * fi;
        total += softplus(-m);
        correct += m > 0;
        if (delta) { /* dL/df = -y sigma(-m) / N; df/da_t = s_t (z_t - f) */
            double gi = -y[i] * sigmoid(-m) / N;
            for (int t = 0; t < T; t++) delta[(size_t)i * T + t] = gi * si[t] * (zi[t] - fi);
        }
    }
    *loss = total / N;
    return correct;
}

/* Shapes: X [N·T, D], W [D, D], p, r, dp [D]. Overwrites *loss, r = X^T delta, dp = W^T r.
 * work: [4·N·T] (a, s, delta, f) after q [D]. ref: the plain-loop kernels instead of CBLAS. */
static void grad_parts(int N, int T, int D, const double *X, const double *z, const double *y,
                       const double *W, const double *p, double *loss, double *r, double *dp,
                       double *work, int ref)
{
    void (*gemv)(int, int, int, double, const double *, int, const double *, double, double *) =
        ref ? kern_gemv_ref_d : kern_gemv_d;
    int nT = N * T;
    double *q = work, *a = q + D, *s = a + nT, *delta = s + nT, *f = delta + nT;
    gemv(0, D, D, 1.0, W, D, p, 0.0, q);
    gemv(0, nT, D, 1.0, X, D, q, 0.0, a);
    sk_head(N, T, a, z, y, s, f, delta, loss);
    gemv(1, nT, D, 1.0, X, D, delta, 0.0, r);
    gemv(1, D, D, 1.0, W, D, r, 0.0, dp);
}

void sk_grad(int N, int T, int D, const double *X, const double *z, const double *y,
             const double *W, const double *p, double *loss, double *dW, double *dp,
             double *work)
{
    double *r = work, *rest = work + D;
    grad_parts(N, T, D, X, z, y, W, p, loss, r, dp, rest, 0);
    memset(dW, 0, sizeof(double) * (size_t)D * (size_t)D);
    kern_ger_d(D, D, 1.0, r, p, dW, D);
}

void sk_grad_ref(int N, int T, int D, const double *X, const double *z, const double *y,
                 const double *W, const double *p, double *loss, double *dW, double *dp,
                 double *work)
{
    double *r = work, *rest = work + D;
    grad_parts(N, T, D, X, z, y, W, p, loss, r, dp, rest, 1);
    memset(dW, 0, sizeof(double) * (size_t)D * (size_t)D);
    kern_ger_ref_d(D, D, 1.0, r, p, dW, D);
}

/* ---- data --------------------------------------------------------------------------------- */

/* One sample of clean label ys: T tokens into x [T, D] and z [T] (overwritten). Draws exactly
 * T·D normals from r. */
static void gen_sample(rng_t *r, double ys, int T, int D, double mu, double rho, double sigma,
                       double *x, double *z)
{
    int kp = ys > 0 ? 0 : 1, km = 1 - kp; /* coordinate of mu_{y*} and of mu_{-y*} */
    for (size_t j = 0; j < (size_t)T * (size_t)D; j++) x[j] = sigma * rng_normal(r);
    x[kp] += mu;
    x[(size_t)D + kp] += rho * mu;
    x[2 * (size_t)D + km] += rho * mu;
    for (int t = 0; t < T; t++) z[t] = (x[(size_t)t * D] - x[(size_t)t * D + 1]) / (1.4142135623730951 * mu);
}

/* Clean labels of a set of n into y [n]: balanced, the first ceil(n/2) are +1 (r unused);
 * random, a fair coin each, drawn from r. */
static void draw_labels(rng_t *r, int random, long n, double *y)
{
    for (long i = 0; i < n; i++)
        y[i] = random ? (rng_below(r, 2) ? 1.0 : -1.0) : (i < (n + 1) / 2 ? 1.0 : -1.0);
}

/* Row j0.. j0+rows of W_0 (U(-1/sqrt D, 1/sqrt D), row-major draw order) into w [rows, D]. */
static void gen_w0_rows(rng_t *r, int rows, int D, double *w)
{
    double scale = 1.0 / sqrt((double)D);
    for (size_t j = 0; j < (size_t)rows * (size_t)D; j++) w[j] = scale * (2.0 * rng_uniform(r) - 1.0);
}

static void flip_counts(long n, double eta, long *k_plus, long *k_minus)
{
    long k = lround(eta * (double)n);
    *k_plus = k / 2;
    *k_minus = k - k / 2;
}

/* Which of n training samples get their label flipped, into flip [n] (1 = flipped; overwritten).
 * balanced: the first k_+ of class +1 (samples 0..) and the first k_- of class -1 (from
 * ceil(n/2)), flip_counts; random: ceil(eta n) samples, every subset equally likely (selection
 * sampling, one uniform draw a sample from r). */
static void draw_flips(rng_t *r, int random, long n, double eta, double *flip)
{
    memset(flip, 0, sizeof(double) * (size_t)n);
    if (random) {
        long k = (long)ceil(eta * (double)n);
        for (long i = 0, chosen = 0; i < n; i++)
            if (rng_uniform(r) * (double)(n - i) < (double)(k - chosen)) flip[i] = 1, chosen++;
        return;
    }
    long kp, km, n_plus = (n + 1) / 2;
    flip_counts(n, eta, &kp, &km);
    for (long i = 0; i < kp; i++) flip[i] = 1;
    for (long i = 0; i < km; i++) flip[n_plus + i] = 1;
}

/* The traced samples: the k_clean-th clean and the k_flip-th flipped training sample in index
 * order (-1 where the set has fewer). */
static void trace_pick(sk_state_t *ss, long k_clean, long k_flip)
{
    long seen[2] = {0, 0}, want[2] = {k_clean, k_flip};
    ss->trace_i[0] = ss->trace_i[1] = -1;
    for (int i = 0; i < ss->n; i++) {
        int w = ss->flip[i] != 0;
        if (ss->trace_i[w] < 0 && seen[w]++ == want[w]) ss->trace_i[w] = i;
    }
}

/* ---- family interface ------------------------------------------------------------------- */

static int sk_check(const params_t *p, char *err, size_t errlen)
{
    long n = params_geti(p, "n_train"), kp, km;
    flip_counts(n, params_get(p, "label_noise"), &kp, &km);
    if (params_geti(p, "labels") == LABELS_BALANCED && (kp > (n + 1) / 2 || km > n / 2)) {
        snprintf(err, errlen,
                 "label_noise: round(label_noise * n_train) = %ld flips do not fit in the classes "
                 "(%ld of class +1, %ld of class -1); lower label_noise",
                 kp + km, (n + 1) / 2, n / 2);
        return -1;
    }
    double nT = (double)n * (double)params_geti(p, "seq_len");
    if (params_geti(p, "solver") == SOLVER_SUBSPACE && nT > 8192) {
        snprintf(err, errlen,
                 "n_train * seq_len = %.0f: the subspace solver holds (n_train seq_len)^2 matrices "
                 "and takes at most 8192 training tokens; use solver = direct", nT);
        return -1;
    }
    if (nT > 1e6 || (double)params_geti(p, "n_test") * (double)params_geti(p, "seq_len") > 1e8) {
        snprintf(err, errlen, "n_train * seq_len (at most 1e6) or n_test * seq_len (at most 1e8) "
                 "too large: lower n_train, n_test or seq_len");
        return -1;
    }
    return 0;
}

static double sk_cost(const params_t *p)
{
    double D = (double)params_geti(p, "dim"), nT = (double)(params_geti(p, "n_train") * params_geti(p, "seq_len"));
    double nTt = (double)(params_geti(p, "n_test") * params_geti(p, "seq_len"));
    double steps = (double)params_geti(p, "steps"), evals = (double)schema_n_points(p);
    double gen = 20.0 * (nT + nTt) * D; /* ~20 flops a normal */
    if (params_geti(p, "solver") != SOLVER_SUBSPACE)
        return gen + 10.0 * D * D + steps * (6.0 * D * D + 4.0 * nT * D) +
               evals * (2.0 * D * D + 2.0 * (nT + nTt) * D);
    double proj = params_geti(p, "train_w") ? 4.0 * nT * D * D + 20.0 * D * D : 0.0;
    return gen + proj + 4.0 * nTt * nT * D + 2.0 * nT * nT * D + steps * 10.0 * nT * nT +
           evals * (4.0 * nT * D + 4.0 * nTt * nT);
}

/* Doubles of each group, in allocation order; NULL ss only counts. Returns the total. */
static size_t sk_layout(sk_state_t *ss, int n, int T, int D, int n_test, int solver, int train_w)
{
    int direct = solver != SOLVER_SUBSPACE;
    size_t nT = (size_t)n * T, nTt = (size_t)n_test * T, d = (size_t)D, off = 0;
    double *base = ss ? ss->buf : NULL;
#define TAKE(field, count)                                  \
    do {                                                    \
        size_t c_ = (count);                                \
        if (ss) ss->field = c_ ? base + off : NULL;         \
        off += c_;                                          \
    } while (0)
    TAKE(X, nT * d); TAKE(z, nT); TAKE(y, (size_t)n); TAKE(flip, (size_t)n);
    TAKE(zt, nTt); TAKE(yt, (size_t)n_test);
    TAKE(Bt, direct ? 0 : nT * d); TAKE(At, direct || !train_w ? 0 : nT * d);
    TAKE(G, direct ? 0 : nT * nT); TAKE(K, direct || !train_w ? 0 : nT * nT);
    TAKE(M, direct || !train_w ? 0 : nT * nT); TAKE(c, direct ? 0 : nT);
    TAKE(P1, direct ? 0 : nTt * nT); TAKE(P2, direct || !train_w ? 0 : nTt * nT);
    TAKE(W, direct ? d * d : 0); TAKE(p, direct ? d : 0); TAKE(Xt, direct ? nTt * d : 0);
    TAKE(dW, solver == SOLVER_REFERENCE ? d * d : 0);
    TAKE(a, nT); TAKE(s, nT); TAKE(delta, nT); TAKE(u, nT); TAKE(v, nT); TAKE(g, nT);
    TAKE(f, (size_t)n); TAKE(at, nTt); TAKE(st, nTt); TAKE(ft, (size_t)n_test);
    TAKE(q, d); TAKE(r, d); TAKE(work, 2 * d + 5 * nT);
#undef TAKE
    return off;
}

static size_t sk_memory(const params_t *p)
{
    int n = (int)params_geti(p, "n_train"), T = (int)params_geti(p, "seq_len");
    int D = (int)params_geti(p, "dim"), nt = (int)params_geti(p, "n_test");
    int solver = (int)params_geti(p, "solver"), tw = (int)params_geti(p, "train_w");
    size_t doubles = sk_layout(NULL, n, T, D, nt, solver, tw);
    /* init-time scratch: W_0 row block (+ test chunk) */
    if (solver == SOLVER_SUBSPACE) doubles += (size_t)W_BLOCK * D + (size_t)TEST_CHUNK * T * D;
    return sizeof(double) * doubles + sizeof(sk_state_t);
}

static void sk_free(void *state)
{
    sk_state_t *ss = state;
    if (!ss) return;
    free(ss->buf);
    free(ss);
}

/* Subspace init: Bt = X W_0 (= B^T), At = Bt W_0^T (= (W_0 B)^T), streaming W_0 in row blocks
 * (two passes over the same rng stream); with train_w off W_0 = I and Bt = X. */
static void init_projections(sk_state_t *ss, uint64_t seed, double *wblk)
{
    int nT = ss->nT, D = ss->D;
    if (!ss->train_w) {
        memcpy(ss->Bt, ss->X, sizeof(double) * (size_t)nT * D);
    } else {
        rng_t r;
        rng_init(&r, seed, RNG_STREAM_INIT);
        memset(ss->Bt, 0, sizeof(double) * (size_t)nT * D);
        for (int j0 = 0; j0 < D; j0 += W_BLOCK) {
            int rows = D - j0 < W_BLOCK ? D - j0 : W_BLOCK;
            gen_w0_rows(&r, rows, D, wblk);
            kern_gemm_d(0, 0, nT, D, rows, 1.0, ss->X + j0, D, wblk, D, 1.0, ss->Bt, D);
        }
        rng_init(&r, seed, RNG_STREAM_INIT);
        for (int j0 = 0; j0 < D; j0 += W_BLOCK) {
            int rows = D - j0 < W_BLOCK ? D - j0 : W_BLOCK;
            gen_w0_rows(&r, rows, D, wblk);
            kern_gemm_d(0, 1, nT, rows, D, 1.0, ss->Bt, D, wblk, D, 0.0, ss->At + j0, D);
        }
        kern_gemm_d(0, 1, nT, nT, D, 1.0, ss->X, D, ss->X, D, 0.0, ss->K, nT);
    }
    /* G = B^T B = X W_0 W_0^T X^T (= X X^T when W_0 = I) */
    kern_gemm_d(0, 1, nT, nT, D, 1.0, ss->Bt, D, ss->Bt, D, 0.0, ss->G, nT);
}

/* The training set: labels and flips (their own stream), then the tokens (data stream); the
 * traced samples. */
static void sk_draw_train(sk_state_t *ss, const params_t *p, uint64_t seed)
{
    rng_t r;
    int random = params_geti(p, "labels") == LABELS_RANDOM, n = ss->n, T = ss->T, D = ss->D;
    rng_init(&r, seed, SK_STREAM_LABELS);
    draw_labels(&r, random, n, ss->y);
    draw_flips(&r, random, n, params_get(p, "label_noise"), ss->flip);
    draw_labels(&r, random, ss->n_test, ss->yt);
    rng_init(&r, seed, RNG_STREAM_DATA);
    for (int i = 0; i < n; i++)
        gen_sample(&r, ss->y[i], T, D, ss->mu, ss->rho, ss->sigma, ss->X + (size_t)i * T * D,
                   ss->z + (size_t)i * T);
    for (int i = 0; i < n; i++)
        if (ss->flip[i]) ss->y[i] = -ss->y[i];
    trace_pick(ss, params_geti(p, "trace_clean"), params_geti(p, "trace_flipped"));
}

/* Direct solvers: W (identity, or drawn when trained) and the whole test set. */
static void sk_init_direct(sk_state_t *ss, uint64_t seed)
{
    rng_t r;
    int D = ss->D, T = ss->T;
    if (ss->train_w) {
        rng_init(&r, seed, RNG_STREAM_INIT);
        gen_w0_rows(&r, D, D, ss->W);
    } else {
        for (int j = 0; j < D; j++) ss->W[(size_t)j * D + j] = 1.0;
    }
    rng_init(&r, seed, RNG_STREAM_EVAL); /* test set: its own stream */
    for (int i = 0; i < ss->n_test; i++)
        gen_sample(&r, ss->yt[i], T, D, ss->mu, ss->rho, ss->sigma, ss->Xt + (size_t)i * T * D,
                   ss->zt + (size_t)i * T);
}

/* Subspace solver: the projections of W⁰, then the test set generated in chunks into scratch
 * and kept only as P1 = Xtest A (and P2 = Xtest Xᵀ with trained W). */
static void sk_init_subspace(sk_state_t *ss, uint64_t seed, double *scratch)
{
    rng_t r;
    int D = ss->D, T = ss->T;
    init_projections(ss, seed, scratch);
    const double *A1 = ss->train_w ? ss->At : ss->Bt;
    rng_init(&r, seed, RNG_STREAM_EVAL);
    for (int i0 = 0; i0 < ss->n_test; i0 += TEST_CHUNK) {
        int cnt = ss->n_test - i0 < TEST_CHUNK ? ss->n_test - i0 : TEST_CHUNK;
        for (int i = 0; i < cnt; i++)
            gen_sample(&r, ss->yt[i0 + i], T, D, ss->mu, ss->rho, ss->sigma,
                       scratch + (size_t)i * T * D, ss->zt + (size_t)(i0 + i) * T);
        double *p1 = ss->P1 + (size_t)i0 * T * ss->nT;
        kern_gemm_d(0, 1, cnt * T, ss->nT, D, 1.0, scratch, D, A1, D, 0.0, p1, ss->nT);
        if (ss->train_w)
            kern_gemm_d(0, 1, cnt * T, ss->nT, D, 1.0, scratch, D, ss->X, D, 0.0,
                        ss->P2 + (size_t)i0 * T * ss->nT, ss->nT);
    }
}

static int sk_init(void **state, const params_t *p, char *err, size_t errlen)
{
    int rc = -1;
    sk_state_t *ss = NULL;
    double *scratch = NULL;
    *state = NULL;
    if (sk_check(p, err, errlen) != 0) goto cleanup;
    ss = calloc(1, sizeof *ss);
    if (!ss) goto oom;
    ss->n = (int)params_geti(p, "n_train");
    ss->T = (int)params_geti(p, "seq_len");
    ss->D = (int)params_geti(p, "dim");
    ss->n_test = (int)params_geti(p, "n_test");
    ss->nT = ss->n * ss->T;
    ss->nTt = ss->n_test * ss->T;
    ss->train_w = (int)params_geti(p, "train_w");
    ss->solver = (int)params_geti(p, "solver");
    ss->direct = ss->solver != SOLVER_SUBSPACE;
    ss->lr = params_get(p, "lr");
    ss->mu = params_get(p, "signal_norm");
    ss->rho = params_get(p, "rho");
    ss->sigma = params_get(p, "noise_std");
    uint64_t seed = (uint64_t)params_geti(p, "seed");

    size_t total = sk_layout(NULL, ss->n, ss->T, ss->D, ss->n_test, ss->solver, ss->train_w);
    ss->buf = calloc(total, sizeof(double));
    if (!ss->buf) goto oom;
    sk_layout(ss, ss->n, ss->T, ss->D, ss->n_test, ss->solver, ss->train_w);
    sk_draw_train(ss, p, seed);
    if (ss->direct) {
        sk_init_direct(ss, seed);
    } else {
        size_t chunk = (size_t)TEST_CHUNK * ss->T * ss->D, wb = (size_t)W_BLOCK * ss->D;
        scratch = malloc(sizeof(double) * (chunk > wb ? chunk : wb));
        if (!scratch) goto oom;
        sk_init_subspace(ss, seed, scratch);
    }
    *state = ss;
    ss = NULL;
    rc = 0;
    goto cleanup;
oom:
    snprintf(err, errlen, "sakamoto2024: out of memory for dim = %d, n_test = %d (needs %.0f MB)",
             (int)params_geti(p, "dim"), (int)params_geti(p, "n_test"),
             (double)sk_memory(p) / 1e6);
cleanup:
    free(scratch);
    sk_free(ss);
    return rc;
}

/* Subspace scores of the training tokens [nT]: u = G c, v = M u, a = u + K v (v unused without
 * trained W); overwrites a, u, v. */
static void sub_scores(sk_state_t *ss)
{
    int nT = ss->nT;
    kern_gemv_d(0, nT, nT, 1.0, ss->G, nT, ss->c, 0.0, ss->u);
    memcpy(ss->a, ss->u, sizeof(double) * (size_t)nT);
    if (ss->train_w) {
        kern_gemv_d(0, nT, nT, 1.0, ss->M, nT, ss->u, 0.0, ss->v);
        kern_gemv_d(0, nT, nT, 1.0, ss->K, nT, ss->v, 1.0, ss->a);
    }
}

static int sk_step(void *state, long step, double *loss, char *err, size_t errlen)
{
    sk_state_t *ss = state;
    int nT = ss->nT, D = ss->D;
    (void)step, (void)err, (void)errlen;
    if (ss->solver == SOLVER_REFERENCE) {
        double *dp = ss->q;
        sk_grad_ref(ss->n, ss->T, D, ss->X, ss->z, ss->y, ss->W, ss->p, loss, ss->dW, dp,
                    ss->work);
        if (ss->train_w)
            for (size_t i = 0; i < (size_t)D * (size_t)D; i++) ss->W[i] -= ss->lr * ss->dW[i];
        for (int i = 0; i < D; i++) ss->p[i] -= ss->lr * dp[i];
        return 0;
    }
    if (ss->direct) {
        /* r = X^T delta, q = dp = W^T r; W -= lr r p^T (old p), then p -= lr dp */
        grad_parts(ss->n, ss->T, D, ss->X, ss->z, ss->y, ss->W, ss->p, loss, ss->r, ss->q,
                   ss->work, 0);
        if (ss->train_w) kern_ger_d(D, D, -ss->lr, ss->r, ss->p, ss->W, D);
        kern_axpy_d(D, -ss->lr, ss->q, ss->p);
        return 0;
    }
    sub_scores(ss);
    sk_head(ss->n, ss->T, ss->a, ss->z, ss->y, ss->s, ss->f, ss->delta, loss);
    memcpy(ss->g, ss->delta, sizeof(double) * (size_t)nT);
    if (ss->train_w) {
        /* g = delta + M^T K delta (old M); M -= lr delta c^T (old c) */
        kern_gemv_d(0, nT, nT, 1.0, ss->K, nT, ss->delta, 0.0, ss->v);
        kern_gemv_d(1, nT, nT, 1.0, ss->M, nT, ss->v, 1.0, ss->g);
        kern_ger_d(nT, nT, -ss->lr, ss->delta, ss->c, ss->M, nT);
    }
    kern_axpy_d(nT, -ss->lr, ss->g, ss->c);
    return 0;
}

static int sk_eval(void *state, double *metrics, char *err, size_t errlen)
{
    sk_state_t *ss = state;
    int nT = ss->nT, D = ss->D, T = ss->T;
    double train_loss, test_loss, p_norm;
    (void)err, (void)errlen;
    if (ss->solver == SOLVER_REFERENCE) {
        kern_gemv_ref_d(0, D, D, 1.0, ss->W, D, ss->p, 0.0, ss->q);
        kern_gemv_ref_d(0, nT, D, 1.0, ss->X, D, ss->q, 0.0, ss->a);
        kern_gemv_ref_d(0, ss->nTt, D, 1.0, ss->Xt, D, ss->q, 0.0, ss->at);
        p_norm = kern_nrm2_ref_d(D, ss->p);
    } else if (ss->direct) {
        kern_gemv_d(0, D, D, 1.0, ss->W, D, ss->p, 0.0, ss->q);
        kern_gemv_d(0, nT, D, 1.0, ss->X, D, ss->q, 0.0, ss->a);
        kern_gemv_d(0, ss->nTt, D, 1.0, ss->Xt, D, ss->q, 0.0, ss->at);
        p_norm = kern_nrm2_d(D, ss->p);
    } else {
        /* q = W p = W_0 B c + X^T M G c = A c + X^T v;  p = B c;  test scores P1 c + P2 v */
        sub_scores(ss);
        const double *A1 = ss->train_w ? ss->At : ss->Bt;
        kern_gemv_d(1, nT, D, 1.0, A1, D, ss->c, 0.0, ss->q);
        kern_gemv_d(0, ss->nTt, nT, 1.0, ss->P1, nT, ss->c, 0.0, ss->at);
        if (ss->train_w) {
            kern_gemv_d(1, nT, D, 1.0, ss->X, D, ss->v, 1.0, ss->q);
            kern_gemv_d(0, ss->nTt, nT, 1.0, ss->P2, nT, ss->v, 1.0, ss->at);
        }
        kern_gemv_d(1, nT, D, 1.0, ss->Bt, D, ss->c, 0.0, ss->r);
        p_norm = kern_nrm2_d(D, ss->r);
    }
    int ok = sk_head(ss->n, T, ss->a, ss->z, ss->y, ss->s, ss->f, NULL, &train_loss);
    int ok_t = sk_head(ss->n_test, T, ss->at, ss->zt, ss->yt, ss->st, ss->ft, NULL, &test_loss);
    double clean = 0, noisy = 0;
    int n_noisy = 0;
    for (int i = 0; i < ss->n; i++) {
        if (ss->flip[i]) noisy += ss->s[(size_t)i * T], n_noisy++;
        else clean += ss->s[(size_t)i * T];
    }
    double q_norm = kern_nrm2_d(D, ss->q);
    metrics[M_TRAIN_LOSS] = train_loss;
    metrics[M_TEST_LOSS] = test_loss;
    metrics[M_TRAIN_ACC] = (double)ok / ss->n;
    metrics[M_TEST_ACC] = (double)ok_t / ss->n_test;
    metrics[M_CLEAN_ATT] = ss->n > n_noisy ? clean / (ss->n - n_noisy) : 0.0;
    metrics[M_NOISY_ATT] = n_noisy ? noisy / n_noisy : 0.0;
    metrics[M_P_NORM] = p_norm;
    metrics[M_ALIGN_1] = q_norm > 0 ? ss->q[0] / q_norm : 0.0;
    metrics[M_ALIGN_2] = q_norm > 0 ? ss->q[1] / q_norm : 0.0;
    for (int w = 0; w < 2; w++) { /* the traced clean (w = 0) and flipped (w = 1) sample */
        int i = ss->trace_i[w];
        double *tok = metrics + (w ? M_FLIP_TOK : M_CLEAN_TOK);
        for (int t = 0; t < TRACE_TOKENS; t++)
            tok[t] = i >= 0 && t < T ? ss->s[(size_t)i * T + t] : 0.0;
        metrics[M_CLEAN_IDX + w] = i;
        metrics[M_CLEAN_MARGIN + w] = i >= 0 ? ss->y[i] * ss->f[i] : 0.0;
    }
    return 0;
}

const model_family_t sakamoto2024_family = {
    .abi = ATTNSWEEP_MODEL_ABI,
    .name = "sakamoto2024",
    .summary = "token selection f(X) = sum_t softmax(X W p)_t <x_t, nu>: benign vs harmful overfitting",
    .params = sk_params,
    .n_params = sizeof sk_params / sizeof sk_params[0],
    .metrics = sk_metrics,
    .n_metrics = M_COUNT,
    .check = sk_check,
    .cost = sk_cost,
    .init = sk_init,
    .step = sk_step,
    .eval = sk_eval,
    .memory = sk_memory,
    .free = sk_free,
};
