/* luf32 — the lu2021 family's float32 path (model.precision = float32, the default): the model,
 * data, initial weights (the float64 draws, rounded) and trajectory of the float64 path in
 * lu2021.c, to float32 rounding, computed on narrow per-word rows. lu2021.c dispatches here.
 *
 * The algebra. Let M be the classifier's first linear map (U [D×K] for fixed and linear, W1
 * [D×Hd] for mlp) and F its width. When F < D ("projected") each word carries X_w = Mᵀv_w ∈ R^F,
 * else X_w = v_w (F ≥ D). With a_bi = e_w/z_b, e_w = exp(s_w − S) once per word and
 * z_b = Σ_i e_{t_bi}, the pooled u_b = Σ_i a_bi X_{t_bi} (= Mᵀh_b, or h_b) is one unweighted sum
 * of the rows T_w = (e_w·X_w, e_w) over the sentence (lukern32_pool). Backward, with
 * du_b = ∂L/∂u_b and c_b = du_b·u_b, the sums r_w = e_w Σ du_b/z_b and ac_w = e_w Σ c_b/z_b over
 * w's occurrences are the adjoint pool of the rows G_b = (du_b, −c_b)/z_b, gathered word by word
 * (lukern32_gather); then ∂L/∂s_w = X_w·r_w − ac_w and ∂L/∂v_w = M r_w (projected) or r_w. Rows
 * are W = X + 1 rounded up to 8 floats wide (lane X: 1 in X_w, e_w in T_w, −ac_w in r_w).
 * Fixed classifier, projected ("low rank"): every update of v_w is a multiple of U's columns, so
 * v_w = v⁰_w + U γ_w and X_w = P⁰_w + (UᵀU) γ_w with γ_w ∈ R^K: a step never touches the D-wide
 * rows (norms for the trace: |v_w|² = |v⁰_w|² + 2 P⁰_w·γ_w + γ_wᵀUᵀUγ_w). Query fixed: keys
 * start at 0 and move along q only, so κ_w = β_w q and s_w = β_w|q|² (all keys are stored when
 * the query trains or a test sets them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/kernels.h"
#include "attnsweep/rng.h"
#include "lukern.h"
#include "lukern32.h"
#include "luimpl.h"
#include "luvec.h"

#define NB 256        /* sentences per block of the forward */
#define ZMIN 1e-30f   /* a sentence whose Σ e_w is below this takes its own softmax shift */

/* The one-vector (W = 8) fast paths for the fixed and linear classifiers: on (1) unless a test
 * turns them off to compare them with the generic code (lu2021_fast in lu2021.h). */
static int luf_fast = 1;

/* The hot loops of this file are compiled twice like lukern32's kernels (for any x86-64, and for
 * AVX2 CPUs), the same bits either way, and follow lukern32_avx's choice. */
#if defined(__GNUC__) && defined(__x86_64__)
#define LUF_AVX2 __attribute__((target("avx2")))
#endif

/* Derived sizes of the float32 layout. */
typedef struct {
    int F, proj, lowrank, X, W;
    size_t n_par, n_cls, n_work, n_act, n_idx;
} luf_sizes_t;

typedef struct {
    lu_head_t head; /* f32 = 1 */
    lu_dims_t d;
    luf_sizes_t z;
    float lr;
    int full_keys;  /* keys stored in keys[] (else κ_w = β_w q) */
    float qq;       /* |q|², for s_w = β_w·qq */
    task_data_t data;
    float *par;     /* E [V×D] (v⁰ when low rank), beta [V], q [Dk], classifier groups */
    float *E, *beta, *q, *cls[4];
    float *keys;    /* [V×Dk], own allocation: untouched unless full_keys */
    float *work;    /* score, ew, gs, tmp [V]; T, R, R2 [V×W]; XP [V×W] (projected: (Mᵀv_w, 1));
                     * low rank: P0 [V×W] ((Uᵀv⁰_w, 1)), gam [V×W] (γ_w), Gm [K×W] (UᵀU) */
    float *score, *ew, *gs, *tmp, *T, *R, *R2, *XP, *P0, *gam, *Gm;
    double *n0;     /* low rank: |v⁰_w|² [V] */
    float *grad;    /* classifier gradients, gq [Dk] */
    float *gcls[4], *gq;
    float *act;     /* G [batch×W]; per block: u, du [NB×W], inv [NB], Z, ez, dZ [NB×K], Z1, R1,
                     * dR [NB×F]; a sentence's own-shift attention [L] */
    float *G, *u, *du, *inv, *Z, *ez, *dZ, *Z1, *R1, *dR, *own_a;
    int32_t *idx;   /* the batch index (bt's arrays), slot [V] */
    lukern_batch_t bt; /* the batch: its words (ascending) and, word by word, its occurrences */
    int32_t *slot;
    uint32_t *mark; /* [V] */
    uint32_t stamp;
    long *perm;     /* [n_train] epoch order (mini-batch only) */
    long pos;
    rng_t batch_rng;
    int fallback;   /* R2 holds the contributions of sentences that took their own shift */
    int grad_ready; /* an eval left the next step's gradient (full batch) */
    double grad_loss;
} luf_t;

/* n floats rounded up to a whole number of 64-byte lines: every array carved out of a block
 * starts on a line, so a row of 8 floats never straddles two. */
static size_t pad16(size_t n) { return (n + 15) / 16 * 16; }

/* The next n floats of a block. */
static float *carve(float **x, size_t n)
{
    float *p = *x;
    *x += pad16(n);
    return p;
}

/* A zeroed block of n floats (a multiple of 16) on a 64-byte line, or NULL. */
static float *alloc_lines(size_t n)
{
    float *p = aligned_alloc(64, sizeof(float) * (n ? n : 16));
    if (p) memset(p, 0, sizeof(float) * n);
    return p;
}

static void luf_sizes(const lu_dims_t *d, luf_sizes_t *z)
{
    size_t V = (size_t)d->V, K = (size_t)d->K, W;
    memset(z, 0, sizeof *z);
    z->F = d->cls == CLS_MLP ? d->Hd : d->K;
    z->proj = z->F < d->D;
    z->lowrank = z->proj && d->cls == CLS_FIXED;
    z->X = z->proj ? z->F : d->D;
    z->W = (z->X + 1 + 7) / 8 * 8;
    W = (size_t)z->W;
    for (int g = LU2021_CLS1; g < LU2021_N_GROUPS; g++) z->n_cls += d->n_group[g];
    z->n_par = V * (size_t)d->D + V + (size_t)d->Dk + z->n_cls;
    size_t F = (size_t)z->F, B = (size_t)d->batch;
    z->n_work = 4 * pad16(V) + 3 * pad16(V * W) + (z->proj ? pad16(V * W) : 0) +
                (z->lowrank ? 2 * pad16(V * W) + pad16(K * W) : 0);
    z->n_act = pad16(B * W) + 2 * pad16(NB * W) + pad16(NB) + 3 * pad16(NB * K) +
               3 * pad16(NB * F) + pad16((size_t)d->L);
    z->n_idx = 2 * d->n_pos + 2 * d->n_wmax + 1 + V;
}

size_t luf32_memory(const lu_dims_t *d)
{
    luf_sizes_t z;
    luf_sizes(d, &z);
    size_t V = (size_t)d->V;
    size_t bytes = sizeof(luf_t) + lu_data_memory(d);
    bytes += sizeof(float) * (z.n_par + z.n_work + z.n_act + z.n_cls + (size_t)d->Dk);
    if (d->tr_query) bytes += sizeof(float) * V * (size_t)d->Dk; /* keys, touched only then */
    if (z.lowrank) bytes += sizeof(double) * V;
    bytes += sizeof(int32_t) * z.n_idx + sizeof(uint32_t) * V;
    if (d->batch < d->n_train) bytes += sizeof(long) * (size_t)d->n_train;
    return bytes;
}

void luf32_cost(const lu_dims_t *d, double *step, double *eval, double *init)
{
    luf_sizes_t z;
    luf_sizes(d, &z);
    double L = d->L, D = d->D, K = d->K, F = z.F, W = z.W, Hd = d->Hd;
    double words = d->batch < d->n_train ? fmin((double)d->V, (double)d->batch * L) : d->V;
    /* per sentence: the classifier (and its backward), cross-entropy, the G row */
    double cls = (z.proj ? 0 : 2 * D * F) + (d->cls == CLS_MLP ? 2 * Hd * K : 0);
    double fwd = L * W + cls + 10 * K + 2 * W;
    double bwd = L * W + 2 * cls + 4 * W;
    /* per word: e^s, the T row, its gradient, the updates (and the D-wide rows unless low
     * rank) */
    double per_word = 30 + 4 * W + (z.lowrank ? 2 * K * W : z.proj ? 6 * D * F : 2 * D);
    *step = (double)d->batch * (fwd + bwd) + words * per_word;
    *eval = (double)(d->n_train + d->n_valid + d->n_test) * fwd + (double)d->V * (30 + 2 * W + 2 * K * K);
    *init = (double)d->V * D * (2 * F + 2); /* the projected rows and norms of the initial v */
}

/* ---- init / free ------------------------------------------------------------------------ */

void luf32_free(void *state)
{
    luf_t *S = state;
    if (!S) return;
    task_free(&S->data);
    free(S->par);
    free(S->keys);
    free(S->work);
    free(S->n0);
    free(S->grad);
    free(S->act);
    free(S->idx);
    free(S->mark);
    free(S->perm);
    free(S);
}

static inline float luf_dot(int n, const float *x, const float *y)
{
    float a = 0.0f;
    for (int k = 0; k < n; k++) a += x[k] * y[k];
    return a;
}

/* x if v > 0 else 0 (also for NaN v), without a branch: hidden units are positive about half
 * the time, so a branch mispredicts. */
static inline float luf_if_pos(float v, float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    b &= (uint32_t) - (int32_t)(v > 0.0f);
    memcpy(&x, &b, sizeof x);
    return x;
}

/* x·y over rows of W floats (W a multiple of 8): each 8 lanes summed by hsum8, in order. */
static inline float luf_dot_rows(int W, const float *x, const float *y)
{
    float a = hsum8(load8(x) * load8(y));
    for (int k = 8; k < W; k += 8) a += hsum8(load8(x + k) * load8(y + k));
    return a;
}

/* Rows (Mᵀv_w, 1, 0…) of width W into P for the n words w = words[j] (words == NULL: 0..n-1),
 * v_w the rows of E. */
static void luf_project(const luf_t *S, int n, const int32_t *words, const float *E, float *P)
{
    const int D = S->d.D, F = S->z.F, W = S->z.W;
    const float *M = S->cls[0];
    if (n == S->d.V) { /* every word (words is then 0..V-1): one product; lanes > F stay 0 */
        kern_gemm_f(0, 0, n, F, D, 1.0f, E, D, M, F, 0.0f, P, W);
        for (int w = 0; w < n; w++) P[(size_t)w * W + F] = 1.0f;
        return;
    }
    for (int j = 0; j < n; j++) {
        size_t w = (size_t)(words ? words[j] : j);
        float *p = P + w * (size_t)W;
        const float *v = E + w * (size_t)D;
        for (int f = 0; f < W; f++) p[f] = f == F ? 1.0f : 0.0f;
        for (int k = 0; k < D; k++) {
            float vk = v[k];
            const float *m = M + (size_t)k * F;
            for (int f = 0; f < F; f++) p[f] += vk * m[f];
        }
    }
}

/* After v⁰ (E) or U changed, low rank: P0 = (Uᵀv⁰, 1), |v⁰|², UᵀU, γ = 0, XP = P0. */
static void luf_lowrank_reset(luf_t *S)
{
    const lu_dims_t *d = &S->d;
    const int K = d->K, D = d->D, W = S->z.W;
    size_t V = (size_t)d->V;
    luf_project(S, d->V, NULL, S->E, S->P0);
    memcpy(S->XP, S->P0, sizeof(float) * V * (size_t)W);
    memset(S->gam, 0, sizeof(float) * V * (size_t)W);
    for (size_t w = 0; w < V; w++) {
        double a = 0.0;
        for (int k = 0; k < D; k++) a += (double)S->E[w * D + k] * S->E[w * D + k];
        S->n0[w] = a;
    }
    const float *U = S->cls[0];
    memset(S->Gm, 0, sizeof(float) * (size_t)K * W);
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            float a = 0.0f;
            for (int k = 0; k < D; k++) a += U[(size_t)k * K + i] * U[(size_t)k * K + j];
            S->Gm[(size_t)j * W + i] = a;
        }
}

static void luf_set_qq(luf_t *S)
{
    double a = 0.0;
    for (int k = 0; k < S->d.Dk; k++) a += (double)S->q[k] * S->q[k];
    S->qq = (float)a;
}

static void luf_put(void *ctx, int g, size_t off, const double *v, size_t n)
{
    luf_t *S = ctx;
    float *x = g == LU2021_EMBED ? S->E : g == LU2021_QUERY ? S->q : S->cls[g - LU2021_CLS1];
    for (size_t i = 0; i < n; i++) x[off + i] = (float)v[i];
}

/* The float64 path's initial weights (lu_draw_weights), rounded to float; keys 0 (β = 0). */
static void luf_init_weights(luf_t *S, const params_t *p)
{
    lu_draw_weights(&S->d, p, luf_put, S);
    memset(S->beta, 0, sizeof(float) * (size_t)S->d.V);
    luf_set_qq(S);
    if (S->z.lowrank) luf_lowrank_reset(S);
}

/* Index the batch of B training rows (rows == NULL: the first B): its words and occurrences. */
static void luf_index(luf_t *S, const long *rows, long B)
{
    S->bt.B = (int)B;
    S->bt.rows = rows;
    lukern_batch_index(&S->bt, S->mark, lukern_next_stamp(&S->stamp, S->mark, S->d.V), S->slot);
}

/* One allocation per tensor group: parameters, keys, per-word rows, gradients, activations, the
 * batch index and word stamps (and the epoch order for mini-batches). 0, or -1 when memory runs
 * out. */
static int luf_alloc(luf_t *S)
{
    const lu_dims_t *d = &S->d;
    const luf_sizes_t *z = &S->z;
    size_t V = (size_t)d->V;
    S->par = malloc(sizeof(float) * z->n_par);
    S->keys = calloc(V * (size_t)d->Dk, sizeof(float));
    S->work = alloc_lines(z->n_work);
    if (z->lowrank) S->n0 = malloc(sizeof(double) * V);
    S->grad = calloc(z->n_cls + (size_t)d->Dk, sizeof(float));
    S->act = alloc_lines(z->n_act);
    S->idx = malloc(sizeof(int32_t) * z->n_idx);
    S->mark = calloc(V, sizeof(uint32_t));
    if (d->batch < d->n_train) S->perm = malloc(sizeof(long) * (size_t)d->n_train);
    return !S->par || !S->keys || !S->work || (z->lowrank && !S->n0) || !S->grad || !S->act ||
                   !S->idx || !S->mark || (d->batch < d->n_train && !S->perm)
               ? -1 : 0;
}

/* Point the named tensors into their groups' blocks (the layout luf_sizes sized). */
static void luf_carve(luf_t *S)
{
    const lu_dims_t *d = &S->d;
    const luf_sizes_t *z = &S->z;
    size_t V = (size_t)d->V, K = (size_t)d->K, W = (size_t)z->W, F = (size_t)z->F;
    float *x = S->par;
    S->E = x;
    S->beta = x += V * (size_t)d->D;
    S->q = x += V;
    x += d->Dk;
    for (int g = 0; g < 4; g++) {
        S->cls[g] = d->n_group[LU2021_CLS1 + g] ? x : NULL;
        x += d->n_group[LU2021_CLS1 + g];
    }
    x = S->work;
    S->score = carve(&x, V);
    S->ew = carve(&x, V);
    S->gs = carve(&x, V);
    S->tmp = carve(&x, V);
    S->T = carve(&x, V * W);
    S->R = carve(&x, V * W);
    S->R2 = carve(&x, V * W);
    if (z->proj) S->XP = carve(&x, V * W);
    if (z->lowrank) {
        S->P0 = carve(&x, V * W);
        S->gam = carve(&x, V * W);
        S->Gm = carve(&x, K * W);
    }
    x = S->grad;
    for (int g = 0; g < 4; g++) {
        S->gcls[g] = d->n_group[LU2021_CLS1 + g] ? x : NULL;
        x += d->n_group[LU2021_CLS1 + g];
    }
    S->gq = x;
    x = S->act;
    S->G = carve(&x, (size_t)d->batch * W);
    S->u = carve(&x, NB * W);
    S->du = carve(&x, NB * W);
    S->inv = carve(&x, NB);
    S->Z = carve(&x, NB * K);
    S->ez = carve(&x, NB * K);
    S->dZ = carve(&x, NB * K);
    S->Z1 = carve(&x, NB * F);
    S->R1 = carve(&x, NB * F);
    S->dR = carve(&x, NB * F);
    S->own_a = carve(&x, (size_t)d->L);
    S->bt.L = d->L;
    S->bt.V = d->V;
    S->bt.tokens = S->data.tokens;
    S->bt.words = S->idx;
    S->bt.ptr = S->bt.words + d->n_wmax;
    S->bt.pos = S->bt.ptr + d->n_wmax + 1;
    S->bt.sen = S->bt.pos + d->n_pos;
    S->slot = S->bt.sen + d->n_pos;
}

int luf32_init(void **state, const params_t *p, char *err, size_t errlen)
{
    int rc = -2;
    luf_t *S = calloc(1, sizeof *S);
    *state = NULL;
    if (!S) {
        snprintf(err, errlen, "out of memory for the lu2021 state");
        return -2;
    }
    S->head.f32 = 1;
    lu_dims(p, &S->d);
    luf_sizes(&S->d, &S->z);
    const lu_dims_t *d = &S->d;
    S->lr = (float)params_get(p, "lr");
    rc = lu_data_make(&S->data, d, err, errlen);
    if (rc != 0) goto fail;
    rc = -2;
    if (luf_alloc(S) != 0) {
        snprintf(err, errlen, "out of memory: the run needs %.3g MB", 1e-6 * (double)luf32_memory(d));
        goto fail;
    }
    luf_carve(S);
    S->full_keys = d->tr_query;
    if (S->perm) {
        lu_epoch_init(S->perm, d->n_train, &S->pos, &S->batch_rng, (uint64_t)params_get(p, "seed"));
    } else {
        luf_index(S, NULL, d->n_train);
    }
    luf_init_weights(S, p);
    *state = S;
    return 0;
fail:
    luf32_free(S);
    return rc;
}

/* ---- forward / backward ----------------------------------------------------------------- */

/* Before a pass over sentences made of the n words w = words[j] (words == NULL: all V): their
 * projected rows XP_w (unless low rank keeps them current), scores s_w, e_w = exp(s_w − S) with
 * S their largest score, and T rows. */
VEC_INLINE void prepare_body(luf_t *S, int n, const int32_t *words)
{
    const luf_sizes_t *z = &S->z;
    const int X = z->X, W = z->W, D = S->d.D, Dk = S->d.Dk;
    float *restrict tmp = S->tmp, *restrict score = S->score, *restrict ew = S->ew;
    float *restrict T = S->T;
    const float *restrict beta = S->beta, *restrict XP = S->XP, qq = S->qq;
    float mx = -INFINITY;
    if (S->full_keys)
        for (int j = 0; j < n; j++) {
            size_t w = (size_t)(words ? words[j] : j);
            tmp[j] = score[w] = luf_dot(Dk, S->keys + w * Dk, S->q);
        }
    else if (!words)
        for (int j = 0; j < n; j++) tmp[j] = score[j] = beta[j] * qq;
    else
        for (int j = 0; j < n; j++) tmp[j] = score[words[j]] = beta[words[j]] * qq;
    for (int j = 0; j < n; j++) mx = tmp[j] > mx ? tmp[j] : mx;
    for (int j = 0; j < n; j++) tmp[j] -= mx;
    lukern32_exp(n, tmp, tmp);
    if (W == 8 && z->proj) { /* the usual rows of one vector */
        for (int j = 0; j < n; j++) {
            size_t w = (size_t)(words ? words[j] : j);
            ew[w] = tmp[j];
            store8(T + w * 8, SPLAT(tmp[j]) * load8(XP + w * 8));
        }
        return;
    }
    for (int j = 0; j < n; j++) {
        size_t w = (size_t)(words ? words[j] : j);
        float e = tmp[j], *t = T + w * W;
        ew[w] = e;
        if (z->proj) {
            const float *xp = XP + w * W;
            v8f ve = SPLAT(e);
            for (int k = 0; k < W; k += 8) store8(t + k, ve * load8(xp + k));
        } else {
            const float *v = S->E + w * D;
            for (int k = 0; k < X; k++) t[k] = e * v[k];
            t[X] = e;
            for (int k = X + 1; k < W; k++) t[k] = 0.0f;
        }
    }
}

static void prepare_sse(luf_t *S, int n, const int32_t *words) { prepare_body(S, n, words); }
#ifdef LUF_AVX2
LUF_AVX2 static void prepare_avx2(luf_t *S, int n, const int32_t *words)
{
    prepare_body(S, n, words);
}
#endif

static void luf_prepare(luf_t *S, int n, const int32_t *words)
{
    if (S->z.proj && !S->z.lowrank) luf_project(S, n, words, S->E, S->XP);
#ifdef LUF_AVX2
    if (lukern32_avx(-1)) {
        prepare_avx2(S, n, words);
        return;
    }
#endif
    prepare_sse(S, n, words);
}

/* Sentence t (L tokens) whose every e_w underflowed: its pooled u (X lanes, then 1, 0…) with
 * the softmax shifted by its own largest score, and its attention in a [L]. */
static void luf_own_shift(const luf_t *S, const int32_t *t, float *u, float *a)
{
    const int L = S->d.L, X = S->z.X, W = S->z.W, D = S->d.D;
    float mx = -INFINITY, zs = 0.0f;
    for (int i = 0; i < L; i++)
        if (S->score[t[i]] > mx) mx = S->score[t[i]];
    for (int i = 0; i < L; i++) zs += a[i] = expf(S->score[t[i]] - mx);
    for (int k = 0; k < W; k++) u[k] = k == X ? 1.0f : 0.0f;
    for (int i = 0; i < L; i++) {
        a[i] /= zs;
        const float *xw = S->z.proj ? S->XP + (size_t)t[i] * W : S->E + (size_t)t[i] * D;
        for (int k = 0; k < X; k++) u[k] += a[i] * xw[k];
    }
}

/* Σ e_w over the topic words of sentence t (synthetic: the one at position 0; text: anywhere). */
static inline float luf_topic_e(const luf_t *S, const int32_t *t)
{
    if (!S->data.text) return S->ew[t[0]];
    float e = 0.0f;
    for (int i = 0; i < S->d.L; i++)
        if (S->data.is_topic[t[i]]) e += S->ew[t[i]];
    return e;
}

/* Σ a_i over the topic words of sentence t, its attention a [L] given. */
static float luf_topic_a(const luf_t *S, const int32_t *t, const float *a)
{
    if (!S->data.text) return a[0];
    float e = 0.0f;
    for (int i = 0; i < S->d.L; i++)
        if (S->data.is_topic[t[i]]) e += a[i];
    return e;
}

/* Σ_b (m[b] + log s[b]) into sums: the losses of nb sentences from their parts (lukern32_xent8),
 * with one log per block (s[b] ∈ [1, K]; the product is rescaled before it can overflow). */
static void luf_loss_add(lu_sums_t *sums, int nb, const float *m, const float *s)
{
    double prod = 1.0, sum = 0.0;
    for (int b = 0; b < nb; b++) {
        sum += m[b];
        prod *= s[b];
        if (prod > 0x1p900) {
            int ex;
            prod = frexp(prod, &ex);
            sum += ex * 0.69314718055994530942;
        }
    }
    sums->loss_sum += sum + log(prod);
}

/* Cross-entropy of the block's logits Z [nb×K] (row stride ldz) against labels[r] (r = rows[b],
 * or b): adds Σ loss and the first-argmax hits to sums; dZ [nb×K] = scale·(softmax − onehot)
 * when bwd. The generic twin of lukern32_xent8 (same operations, same order). */
static void luf_xent(luf_t *S, int nb, const float *Z, int ldz, const int32_t *labels,
                     const long *rows, float scale, int bwd, lu_sums_t *sums)
{
    const int K = S->d.K;
    float m[NB], s[NB];
    int args[NB];
    for (int b = 0; b < nb; b++) {
        const float *z = Z + (size_t)b * ldz;
        int arg = 0;
        for (int c = 1; c < K; c++)
            if (z[c] > z[arg]) arg = c;
        float mz = z[arg], *e = S->ez + (size_t)b * K;
        for (int c = 0; c < K; c++) e[c] = z[c] - mz;
        args[b] = arg;
    }
    lukern32_exp((long)nb * K, S->ez, S->ez);
    long ok = 0;
    for (int b = 0; b < nb; b++) {
        const float *z = Z + (size_t)b * ldz, *e = S->ez + (size_t)b * K;
        int y = labels[rows ? rows[b] : b], arg = args[b];
        s[b] = 0.0f;
        for (int c = 0; c < K; c++) s[b] += e[c];
        m[b] = z[arg] - z[y];
        ok += arg == y;
        if (bwd) {
            float *g = S->dZ + (size_t)b * K, f = scale / s[b];
            for (int c = 0; c < K; c++) g[c] = e[c] * f - (c == y ? scale : 0.0f);
        }
    }
    sums->correct += ok;
    luf_loss_add(sums, nb, m, s);
}

/* One pass over B sentences (rows of tokens; rows == NULL: the first B) whose words have their
 * T rows: loss and accuracy (and the topic word's attention when att) into sums; when bwd, the
 * rows G [B×W] for the backward gather (and R2 at the words of own-shift sentences) and the
 * classifier's gradients (accumulate), for the mean loss over the B sentences. */
static void luf_pass(luf_t *S, const int32_t *tokens, const int32_t *labels, const long *rows,
                     long B, int bwd, int att, lu_sums_t *sums)
{
    const lu_dims_t *d = &S->d;
    const luf_sizes_t *z = &S->z;
    const int L = d->L, D = d->D, K = d->K, F = z->F, X = z->X, W = z->W;
    const int mlp = d->cls == CLS_MLP, proj = z->proj;
    const float *M = S->cls[0];
    const float scale = (float)(1.0 / (double)B);
    const int fast8 = luf_fast && proj && !mlp && W == 8;
    float *a = S->own_a;
    for (long b0 = 0; b0 < B; b0 += NB) {
        int nb = (int)(B - b0 < NB ? B - b0 : NB);
        const int32_t *tk = rows ? tokens : tokens + (size_t)b0 * L;
        const long *rw = rows ? rows + b0 : NULL;
        const int32_t *lb = rows ? labels : labels + b0;
        lukern32_pool(nb, L, W, tk, rw, S->T, S->u);
        if (fast8) { /* the fixed or linear classifier on one-vector rows, in one kernel */
            int ok = 1;
            for (int b = 0; b < nb && ok; b++) ok = S->u[(size_t)b * W + X] >= ZMIN;
            if (ok) {
                float *m = S->ez, *s = S->dZ; /* scratch [NB] */
                sums->correct += lukern32_xent8(nb, K, S->u, lb, rw, scale, S->inv, m, s,
                                                bwd ? S->G + (size_t)b0 * W : NULL);
                luf_loss_add(sums, nb, m, s);
                for (int b = 0; b < nb && att; b++)
                    sums->att_sum += luf_topic_e(S, tk + (size_t)(rw ? rw[b] : b) * L) * S->inv[b];
                continue;
            }
        }
        int own = 0; /* sentences of the block that took their own shift */
        for (int b = 0; b < nb; b++) { /* u_b = pooled / z_b (lane X: 1) */
            float *u = S->u + (size_t)b * W, zb = u[X];
            const int32_t *t = tk + (size_t)(rw ? rw[b] : b) * L;
            if (zb >= ZMIN) {
                float inv = 1.0f / zb;
                v8f vi = SPLAT(inv);
                for (int k = 0; k < W; k += 8) store8(u + k, load8(u + k) * vi);
                S->inv[b] = inv;
                if (att) sums->att_sum += luf_topic_e(S, t) * inv;
            } else {
                luf_own_shift(S, t, u, a);
                S->inv[b] = 0.0f;
                own++;
                if (att) sums->att_sum += luf_topic_a(S, t, a);
            }
        }
        /* the classifier: its first map z1 (u itself when projected), then the logits */
        const float *z1 = S->u, *logits;
        int ld1 = W, ldz;
        if (!proj) {
            kern_gemm_f(0, 0, nb, F, D, 1.0f, S->u, W, M, F, 0.0f, S->Z1, F);
            z1 = S->Z1;
            ld1 = F;
        }
        if (mlp) {
            const float *restrict b1 = S->cls[1], *restrict b2 = S->cls[3];
            float *restrict R1 = S->R1, *restrict Z = S->Z;
            for (int b = 0; b < nb; b++)
                for (int f = 0; f < F; f++) {
                    float v = z1[(size_t)b * ld1 + f] + b1[f];
                    R1[(size_t)b * F + f] = luf_if_pos(v, v);
                }
            kern_gemm_f(0, 0, nb, K, F, 1.0f, R1, F, S->cls[2], K, 0.0f, Z, K);
            for (int b = 0; b < nb; b++)
                for (int c = 0; c < K; c++) Z[(size_t)b * K + c] += b2[c];
            logits = S->Z;
            ldz = K;
        } else {
            logits = z1;
            ldz = ld1;
        }
        luf_xent(S, nb, logits, ldz, lb, rw, scale, bwd, sums);
        if (!bwd) continue;
        /* classifier backward: dz1 = ∂L/∂z1, then du = ∂L/∂u */
        const float *dz1 = S->dZ;
        if (mlp) {
            if (d->tr_cls) {
                kern_gemm_f(1, 0, F, K, nb, 1.0f, S->R1, F, S->dZ, K, 1.0f, S->gcls[2], K);
                for (int b = 0; b < nb; b++)
                    for (int c = 0; c < K; c++) S->gcls[3][c] += S->dZ[(size_t)b * K + c];
            }
            kern_gemm_f(0, 1, nb, F, K, 1.0f, S->dZ, K, S->cls[2], K, 0.0f, S->dR, F);
            const float *restrict R1 = S->R1;
            float *restrict dR = S->dR, *restrict gb1 = S->gcls[1];
            for (size_t i = 0; i < (size_t)nb * F; i++) dR[i] = luf_if_pos(R1[i], dR[i]);
            if (d->tr_cls)
                for (int b = 0; b < nb; b++)
                    for (int f = 0; f < F; f++) gb1[f] += dR[(size_t)b * F + f];
            dz1 = S->dR;
        }
        if (!proj) { /* du = dz1·Mᵀ, and M's gradient from the block's contexts */
            if (d->tr_cls) kern_gemm_f(1, 0, D, F, nb, 1.0f, S->u, W, dz1, F, 1.0f, S->gcls[0], F);
            kern_gemm_f(0, 1, nb, D, F, 1.0f, dz1, F, M, F, 0.0f, S->du, W);
        } else {
            for (int b = 0; b < nb; b++)
                memcpy(S->du + (size_t)b * W, dz1 + (size_t)b * F, sizeof(float) * (size_t)F);
        }
        for (int b = 0; b < nb; b++) { /* G_b = (du_b, −du_b·u_b) / z_b (du_b's lanes ≥ X are 0) */
            const float *du = S->du + (size_t)b * W, *u = S->u + (size_t)b * W;
            float *g = S->G + (size_t)(b0 + b) * W, c = luf_dot_rows(W, du, u), inv = S->inv[b];
            for (int k = 0; k < W; k += 8) store8(g + k, load8(du + k) * SPLAT(inv));
            g[X] = -c * inv;
        }
        for (int b = 0; b < nb && own > 0; b++) { /* own-shift sentences: a_i·(du, −c) into R2 */
            if (S->inv[b] != 0.0f) continue;
            const int32_t *t = tk + (size_t)(rw ? rw[b] : b) * L;
            const float *du = S->du + (size_t)b * W;
            float c = luf_dot_rows(W, du, S->u + (size_t)b * W);
            if (!S->fallback) {
                for (int j = 0; j < S->bt.n_words; j++)
                    memset(S->R2 + (size_t)S->bt.words[j] * W, 0, sizeof(float) * (size_t)W);
                S->fallback = 1;
            }
            float *ushift = S->G + (size_t)(b0 + b) * W; /* its G row is 0: reuse it */
            luf_own_shift(S, t, ushift, a);
            for (int k = 0; k < W; k++) ushift[k] = 0.0f;
            for (int i = 0; i < L; i++) {
                float *r2 = S->R2 + (size_t)t[i] * W;
                for (int k = 0; k < X; k++) r2[k] += a[i] * du[k];
                r2[X] -= a[i] * c;
            }
            own--;
        }
    }
}

/* luf_words for the fixed classifier's low-rank rows of one vector (W = 8) with κ_w = β_w q:
 * the same operations in the same order, with UᵀU in registers. */
VEC_INLINE void lowrank8_body(luf_t *S, int finish, int apply)
{
    const int K = S->d.K, tr_keys = S->d.tr_keys, tr_emb = S->d.tr_emb, fb = S->fallback;
    const int n = S->bt.n_words;
    const int32_t *restrict words = S->bt.words;
    const float *restrict ew = S->ew, *restrict R2 = S->R2, *restrict P0 = S->P0;
    float *restrict R = S->R, *restrict XP = S->XP, *restrict gam = S->gam;
    float *restrict gsv = S->gs, *restrict beta = S->beta;
    const float lr = S->lr;
    const v8f vlr = SPLAT(lr);
    const v8i lane = {0, 1, 2, 3, 4, 5, 6, 7}, lowk = lane < SPLATI(K);
    v8f G[7];
    for (int i = 0; i < 7; i++) G[i] = i < K ? load8(S->Gm + (size_t)i * 8) : SPLAT(0.0f);
    for (int j = 0; j < n; j++) {
        size_t w = (size_t)words[j];
        v8f rv = load8(R + w * 8);
        float gs;
        if (finish) {
            rv *= SPLAT(ew[w]);
            if (fb) rv += load8(R2 + w * 8);
            gs = hsum8(rv * load8(XP + w * 8));
            if (!apply) {
                store8(R + w * 8, rv);
                gsv[w] = gs;
                continue;
            }
        } else {
            gs = gsv[w];
        }
        if (tr_keys) beta[w] -= lr * gs;
        if (!tr_emb) continue;
        v8f gv = load8(gam + w * 8) - vlr * (v8f)((v8i)rv & lowk);
        v8f acc = load8(P0 + w * 8);
        _Pragma("GCC unroll 7")
        for (int i = 0; i < 7; i++)
            if (i < K) acc += SPLAT(gv[i]) * G[i];
        store8(gam + w * 8, gv);
        store8(XP + w * 8, acc);
    }
    if (finish) S->fallback = 0;
}

static void lowrank8_sse(luf_t *S, int finish, int apply) { lowrank8_body(S, finish, apply); }
#ifdef LUF_AVX2
LUF_AVX2 static void lowrank8_avx2(luf_t *S, int finish, int apply)
{
    lowrank8_body(S, finish, apply);
}
#endif

static void luf_words_lowrank8(luf_t *S, int finish, int apply)
{
#ifdef LUF_AVX2
    if (lukern32_avx(-1)) {
        lowrank8_avx2(S, finish, apply);
        return;
    }
#endif
    lowrank8_sse(S, finish, apply);
}

/* Per word of the batch: with finish, from its gathered row r = e_w·R_w (+R2_w) the gradient
 * ∂L/∂s_w = X_w·r + r[X] into gs and r back into R_w, and the query's and (projected) the
 * classifier's gradients Σ gs_w κ_w, Σ v_w r_wᵀ; with apply, the SGD update of the word's key
 * and embedding from R_w and gs. */
static void luf_words(luf_t *S, int finish, int apply)
{
    const lu_dims_t *d = &S->d;
    const luf_sizes_t *z = &S->z;
    if (luf_fast && z->lowrank && z->W == 8 && !S->full_keys && !d->tr_query) {
        luf_words_lowrank8(S, finish, apply);
        return;
    }
    const int X = z->X, W = z->W, F = z->F, K = d->K, D = d->D, Dk = d->Dk;
    const float lr = S->lr;
    const v8f vlr = SPLAT(lr);
    /* projected and not low rank, the batch holding every word: Σ_w v_w r_wᵀ and the updates
     * v_w −= lr·M r_w as two products over the whole vocabulary, after the loop */
    const int all = z->proj && !z->lowrank && S->bt.n_words == d->V;
    for (int j = 0; j < S->bt.n_words; j++) {
        size_t w = (size_t)S->bt.words[j];
        float *r = S->R + w * W;
        if (finish) {
            v8f e = SPLAT(S->ew[w]);
            float gs = 0.0f;
            for (int k = 0; k < W; k += 8) {
                v8f rv = load8(r + k) * e;
                if (S->fallback) rv += load8(S->R2 + w * W + k);
                store8(r + k, rv);
                if (z->proj) gs += hsum8(rv * load8(S->XP + w * W + k));
            }
            if (!z->proj) gs = luf_dot(D, S->E + w * D, r) + r[X];
            S->gs[w] = gs;
            if (d->tr_query && S->full_keys) {
                const float *kw = S->keys + w * Dk;
                for (int k = 0; k < Dk; k++) S->gq[k] += gs * kw[k];
            }
            if (d->tr_cls && z->proj && !all) { /* ∂L/∂M += v_w r_wᵀ */
                const float *v = S->E + w * D;
                for (int k = 0; k < D; k++) {
                    float *gm = S->gcls[0] + (size_t)k * F;
                    for (int f = 0; f < F; f++) gm[f] += v[k] * r[f];
                }
            }
        }
        if (!apply) continue;
        float gs = S->gs[w];
        if (d->tr_keys) {
            if (S->full_keys) {
                float *kw = S->keys + w * Dk;
                for (int k = 0; k < Dk; k++) kw[k] -= lr * gs * S->q[k];
            } else {
                S->beta[w] -= lr * gs;
            }
        }
        if (!d->tr_emb) continue;
        if (z->lowrank) { /* γ_w −= lr·r_w (lanes < K); XP_w = P0_w + Σ_j γ_wj·(UᵀU)_j */
            float *gm = S->gam + w * W, *xp = S->XP + w * W;
            const float *p0 = S->P0 + w * W;
            for (int k = 0; k < K; k++) gm[k] -= lr * r[k];
            for (int k = 0; k < W; k += 8) {
                v8f acc = load8(p0 + k);
                for (int i = 0; i < K; i++) acc += SPLAT(gm[i]) * load8(S->Gm + (size_t)i * W + k);
                store8(xp + k, acc);
            }
        } else if (z->proj) { /* v_w −= lr·M r_w */
            if (all) continue; /* below, in one product */
            float *v = S->E + w * D;
            const float *M = S->cls[0];
            for (int k = 0; k < D; k++) v[k] -= lr * luf_dot(F, M + (size_t)k * F, r);
        } else {
            float *v = S->E + w * D;
            for (int k = 0; k + 8 <= D; k += 8) store8(v + k, load8(v + k) - vlr * load8(r + k));
            for (int k = D / 8 * 8; k < D; k++) v[k] -= lr * r[k];
        }
    }
    if (finish) S->fallback = 0;
    if (all && finish && d->tr_cls) /* ∂L/∂M += Eᵀ R (before E moves) */
        kern_gemm_f(1, 0, D, F, d->V, 1.0f, S->E, D, S->R, W, 1.0f, S->gcls[0], F);
    if (all && apply && d->tr_emb) /* E −= lr·R Mᵀ */
        kern_gemm_f(0, 1, d->V, D, F, -lr, S->R, W, S->cls[0], F, 1.0f, S->E, D);
}

/* The mean loss over the indexed batch and its gradient (luf_words' finish). */
static double luf_batch_grad(luf_t *S, int att, lu_sums_t *sums, int apply)
{
    luf_prepare(S, S->bt.n_words, S->bt.words);
    luf_pass(S, S->data.tokens, S->data.labels, S->bt.rows, S->bt.B, 1, att, sums);
    lukern32_gather(S->bt.n_words, S->bt.words, S->bt.ptr, S->bt.sen, S->z.W, S->G, S->R);
    luf_words(S, 1, apply);
    return sums->loss_sum / (double)S->bt.B;
}

/* After luf_words' apply: the query's and classifier's steps; clear their gradients. */
static void luf_apply_globals(luf_t *S)
{
    const lu_dims_t *d = &S->d;
    const float lr = S->lr;
    if (d->tr_query) {
        for (int k = 0; k < d->Dk; k++) S->q[k] -= lr * S->gq[k];
        memset(S->gq, 0, sizeof(float) * (size_t)d->Dk);
        luf_set_qq(S);
    }
    if (d->tr_cls)
        for (int g = 0; g < 4; g++) {
            size_t ng = d->n_group[LU2021_CLS1 + g];
            for (size_t i = 0; i < ng; i++) {
                S->cls[g][i] -= lr * S->gcls[g][i];
                S->gcls[g][i] = 0.0f;
            }
        }
}

static void luf_drop_grad(luf_t *S)
{
    S->grad_ready = 0;
    for (int g = 0; g < 4; g++)
        if (S->gcls[g]) memset(S->gcls[g], 0, sizeof(float) * S->d.n_group[LU2021_CLS1 + g]);
    memset(S->gq, 0, sizeof(float) * (size_t)S->d.Dk);
    S->fallback = 0;
}

static void luf_next_batch(luf_t *S)
{
    long B;
    const long *rows = lu_epoch_next(S->perm, S->d.n_train, S->d.batch, &S->pos, &S->batch_rng, &B);
    luf_index(S, rows, B);
}

int luf32_step(void *state, long step, double *loss, char *err, size_t errlen)
{
    luf_t *S = state;
    (void)step;
    (void)err;
    (void)errlen;
    if (S->grad_ready) { /* the eval just before ran this step's pass at these weights */
        *loss = S->grad_loss;
        S->grad_ready = 0;
        luf_words(S, 0, 1);
    } else {
        if (S->perm) luf_next_batch(S);
        lu_sums_t sums = {0};
        *loss = luf_batch_grad(S, 0, &sums, 1);
    }
    luf_apply_globals(S);
    return 0;
}
/* ---- evaluation ------------------------------------------------------------------------- */

/* |v_w|² in double (an lu_word_fn). */
static double luf_norm2(const void *ctx, size_t w)
{
    const luf_t *S = ctx;
    const int D = S->d.D, K = S->d.K;
    double a = 0.0;
    if (S->z.lowrank) { /* |v⁰ + Uγ|² = |v⁰|² + γ·(2 Uᵀv⁰ + UᵀUγ) = |v⁰|² + γ·(P0 + XP) */
        const int W = S->z.W;
        const float *g = S->gam + w * W, *p0 = S->P0 + w * W, *xp = S->XP + w * W;
        a = S->n0[w];
        for (int i = 0; i < K; i++) a += (double)g[i] * ((double)p0[i] + xp[i]);
        return a > 0.0 ? a : 0.0;
    }
    for (int k = 0; k < D; k++) a += (double)S->E[w * D + k] * S->E[w * D + k];
    return a;
}

/* s_w in double (an lu_word_fn). */
static double luf_score(const void *ctx, size_t w)
{
    const luf_t *S = ctx;
    if (!S->full_keys) return (double)S->beta[w] * S->qq;
    double a = 0.0;
    for (int k = 0; k < S->d.Dk; k++) a += (double)S->keys[w * S->d.Dk + k] * S->q[k];
    return a;
}

int luf32_eval(void *state, double *metrics, char *err, size_t errlen)
{
    luf_t *S = state;
    const lu_dims_t *d = &S->d;
    const task_data_t *t = &S->data;
    size_t L = (size_t)d->L;
    (void)err;
    (void)errlen;
    lu_sums_t tr = {0}, va = {0}, te = {0};
    luf_drop_grad(S);
    if (!S->perm) { /* full batch: the next step's pass, as it would run; its gradient stays */
        S->grad_loss = luf_batch_grad(S, 1, &tr, 0);
        S->grad_ready = 1;
        luf_prepare(S, d->V, NULL); /* every word's T row; the step reads only R and gs */
    } else {
        luf_prepare(S, d->V, NULL);
        luf_pass(S, t->tokens, t->labels, NULL, d->n_train, 0, 1, &tr);
    }
    luf_pass(S, t->tokens + (size_t)d->n_train * L, t->labels + d->n_train, NULL, d->n_valid, 0,
             0, &va);
    luf_pass(S, t->tokens + (size_t)(d->n_train + d->n_valid) * L,
             t->labels + d->n_train + d->n_valid, NULL, d->n_test, 0, 0, &te);
    lu_split_metrics(d, t, &tr, &va, &te, metrics);
    double q2 = 0.0;
    for (int k = 0; k < d->Dk; k++) q2 += (double)S->q[k] * S->q[k];
    lu_word_metrics(d, t, q2, luf_score, luf_norm2, S, metrics);
    return 0;
}

/* ---- test access (lu2021.h) ------------------------------------------------------------- */

void luf32_groups(void *state, lu2021_group_t groups[LU2021_N_GROUPS])
{
    luf_t *S = state;
    luf_drop_grad(S);
    lu_groups_info(&S->d, groups);
}

void luf32_get(void *state, double *const vals[LU2021_N_GROUPS])
{
    luf_t *S = state;
    const lu_dims_t *d = &S->d;
    const int D = d->D, K = d->K, Dk = d->Dk;
    if (vals[LU2021_EMBED])
        for (size_t w = 0; w < (size_t)d->V; w++)
            for (int k = 0; k < D; k++) {
                double v = S->E[w * D + k];
                if (S->z.lowrank) /* v⁰ + U γ */
                    for (int j = 0; j < K; j++)
                        v += (double)S->cls[0][(size_t)k * K + j] * S->gam[w * S->z.W + j];
                vals[LU2021_EMBED][w * D + k] = v;
            }
    if (vals[LU2021_KEYS])
        for (size_t w = 0; w < (size_t)d->V; w++)
            for (int k = 0; k < Dk; k++)
                vals[LU2021_KEYS][w * Dk + k] =
                    S->full_keys ? S->keys[w * Dk + k] : (double)S->beta[w] * S->q[k];
    if (vals[LU2021_QUERY])
        for (int k = 0; k < Dk; k++) vals[LU2021_QUERY][k] = S->q[k];
    for (int g = 0; g < 4; g++)
        if (vals[LU2021_CLS1 + g])
            for (size_t i = 0; i < d->n_group[LU2021_CLS1 + g]; i++)
                vals[LU2021_CLS1 + g][i] = S->cls[g][i];
}

void luf32_set(void *state, const double *const vals[LU2021_N_GROUPS])
{
    luf_t *S = state;
    const lu_dims_t *d = &S->d;
    size_t VD = (size_t)d->V * d->D, VK = (size_t)d->V * d->Dk;
    luf_drop_grad(S);
    if (S->z.lowrank && !vals[LU2021_EMBED]) { /* v = v⁰ + Uγ (the current U) becomes v⁰ */
        const int D = d->D, K = d->K;
        for (size_t w = 0; w < (size_t)d->V; w++)
            for (int k = 0; k < D; k++)
                S->E[w * D + k] += luf_dot(K, S->cls[0] + (size_t)k * K, S->gam + w * S->z.W);
    }
    if ((vals[LU2021_KEYS] || vals[LU2021_QUERY]) && !S->full_keys) /* κ = β q, written out */
        for (size_t w = 0; w < (size_t)d->V; w++)
            for (int k = 0; k < d->Dk; k++) S->keys[w * d->Dk + k] = S->beta[w] * S->q[k];
    for (int g = 0; g < 4; g++)
        if (vals[LU2021_CLS1 + g])
            for (size_t i = 0; i < d->n_group[LU2021_CLS1 + g]; i++)
                S->cls[g][i] = (float)vals[LU2021_CLS1 + g][i];
    if (vals[LU2021_QUERY])
        for (int k = 0; k < d->Dk; k++) S->q[k] = (float)vals[LU2021_QUERY][k];
    if (vals[LU2021_KEYS] || vals[LU2021_QUERY]) { /* κ = β q only while that holds exactly */
        if (vals[LU2021_KEYS])
            for (size_t i = 0; i < VK; i++) S->keys[i] = (float)vals[LU2021_KEYS][i];
        int zero = 1;
        for (size_t i = 0; i < VK && zero; i++) zero = S->keys[i] == 0.0f;
        S->full_keys = d->tr_query || !zero;
        if (!S->full_keys) memset(S->beta, 0, sizeof(float) * (size_t)d->V);
    }
    luf_set_qq(S);
    if (vals[LU2021_EMBED])
        for (size_t i = 0; i < VD; i++) S->E[i] = (float)vals[LU2021_EMBED][i];
    if (S->z.lowrank) luf_lowrank_reset(S);
}

int luf32_loss_and_grad(void *state, double *loss, double *const grads[LU2021_N_GROUPS])
{
    luf_t *S = state;
    const lu_dims_t *d = &S->d;
    const int D = d->D, Dk = d->Dk, F = S->z.F, W = S->z.W;
    if (S->perm) return -1;
    luf_drop_grad(S);
    lu_sums_t sums = {0};
    *loss = luf_batch_grad(S, 0, &sums, 0);
    if (grads) {
        for (int g = 0; g < LU2021_N_GROUPS; g++)
            if (grads[g]) memset(grads[g], 0, sizeof(double) * d->n_group[g]);
        for (int j = 0; j < S->bt.n_words; j++) {
            size_t w = (size_t)S->bt.words[j];
            const float *r = S->R + w * W;
            if (grads[LU2021_EMBED] && d->tr_emb)
                for (int k = 0; k < D; k++)
                    grads[LU2021_EMBED][w * D + k] =
                        S->z.proj ? luf_dot(F, S->cls[0] + (size_t)k * F, r) : r[k];
            if (grads[LU2021_KEYS] && d->tr_keys)
                for (int k = 0; k < Dk; k++)
                    grads[LU2021_KEYS][w * Dk + k] = (double)S->gs[w] * S->q[k];
        }
        if (grads[LU2021_QUERY] && d->tr_query)
            for (int k = 0; k < Dk; k++) grads[LU2021_QUERY][k] = S->gq[k];
        for (int g = 0; g < 4; g++)
            if (grads[LU2021_CLS1 + g] && d->tr_cls)
                for (size_t i = 0; i < d->n_group[LU2021_CLS1 + g]; i++)
                    grads[LU2021_CLS1 + g][i] = S->gcls[g][i];
    }
    luf_drop_grad(S);
    return 0;
}

const task_data_t *luf32_data(void *state) { return &((luf_t *)state)->data; }

int lu2021_fast(int on)
{
    if (on >= 0) luf_fast = on != 0;
    return luf_fast;
}
