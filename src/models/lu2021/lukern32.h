/* lukern32 — the lu2021 family's float32 kernels (the float32 path, luf32.c): a vector e^x, the
 * sum pooling of per-word rows over each sentence and its adjoint (a scatter-add back to the
 * words). Shapes: B sentences, L tokens per sentence, V words, W row width (floats, a multiple
 * of 8). Each fast kernel has a plain `_ref` twin that tests/test_lukern32.c compares it with;
 * the fast ones use element-wise vector operations only (no FMA, each sum in the _ref's order),
 * so they give the _ref's bits on every vector width (lukern32_exp: within 2 ulp of expf). */
#ifndef ATTNSWEEP_LU2021_LUKERN32_H
#define ATTNSWEEP_LU2021_LUKERN32_H
#include <stdint.h>

/* y[i] = e^x[i] for i < n; overwrite (y may be x). Cody–Waite reduction and a degree-6
 * polynomial: at most 2 ulp from the true value; x < -87.33 (results below FLT_MIN) gives 0,
 * x > 88.72 gives +inf, NaN stays NaN. The same bits on every vector width. _ref: libm expf. */
void lukern32_exp(long n, const float *x, float *y);
void lukern32_exp_ref(long n, const float *x, float *y);

/* Sum pooling: out[b, 0:W) = Σ_{i<L} T[t_bi, 0:W), summed over i in order, where sentence b is
 * row rows[b] (rows == NULL: row b) of tokens [·×L]; T [V×W]; out [B×W], overwrite. */
void lukern32_pool(int B, int L, int W, const int32_t *tokens, const long *rows, const float *T,
                   float *out);
void lukern32_pool_ref(int B, int L, int W, const int32_t *tokens, const long *rows,
                       const float *T, float *out);

/* Its adjoint, word by word: R[words[j], 0:W) = Σ_{k ∈ [ptr[j], ptr[j+1])} G[sen[k], 0:W) for
 * j < n, summed over k in order; overwrite. With sen listing each word's sentences once per
 * occurrence, ascending (lukern_batch_index), these are the sums R[t_bi] += G[b] over b, then
 * i, into zeroed rows. */
void lukern32_gather(int n, const int32_t *words, const int32_t *ptr, const int32_t *sen, int W,
                     const float *G, float *R);
void lukern32_gather_ref(int n, const int32_t *words, const int32_t *ptr, const int32_t *sen,
                         int W, const float *G, float *R);

/* The fixed or linear classifier's forward and backward on pooled rows of one vector (W = 8,
 * K ≤ 7 classes): for each of the nb sentences b, from its row p_b = (Σ_i e·P, z_b, 0…) of
 * pooled [nb×8] (z_b ≥ FLT_MIN), the logits Z_b = p_b[0:K)·inv_b with inv_b = 1/z_b, and with
 * y_b = labels[rows[b]] (rows == NULL: labels[b]): inv[b] = inv_b, m[b] = max Z_b − Z_b[y_b],
 * s[b] = Σ_c e^(Z_bc − max Z_b) (the loss is m[b] + log s[b]); when G is not NULL, the row
 * G_b = (dZ_b, −dZ_b·Z_b, 0…)·inv_b of G [nb×8] with dZ_b = scale·(softmax(Z_b) − onehot(y_b)).
 * Sums run over c in order, but dZ_b·Z_b is summed as the 8 lanes (c ≥ K: 0) in the order
 * ((0+4)+(2+6))+((1+5)+(3+7)); e^x is lukern32_exp's. Returns how many b have y_b as their first
 * argmax. inv, m, s [nb]: overwrite. */
int lukern32_xent8(int nb, int K, const float *pooled, const int32_t *labels, const long *rows,
                   float scale, float *inv, float *m, float *s, float *G);
int lukern32_xent8_ref(int nb, int K, const float *pooled, const int32_t *labels,
                       const long *rows, float scale, float *inv, float *m, float *s, float *G);

/* The 8-lane AVX2 paths (x86-64 CPUs that have AVX2, chosen at run time): on = 1 asks for them,
 * 0 turns them off (tests compare both), -1 only queries. Returns whether they are on. */
int lukern32_avx(int on);

#endif
