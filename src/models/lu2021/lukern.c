/* lukern — the lu2021 family's own kernels (lukern.h): hand-written gather loops over the words a
 * batch contains, the shared kernels (kernels.h) for whole matrices and long rows, and beside each
 * fast kernel its `_ref` twin in textbook form for the tests. No allocation, no state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/kernels.h"
#include "lukern.h"

/* Rows at least this long go through BLAS level-1 calls; shorter ones are cheaper inline. */
#define ROW_BLAS_MIN 64

/* ---- per-word rows -------------------------------------------------------------------- */

/* Two-lane vectors (SSE2 on any x86-64; GCC/Clang vector extension). Element-wise use only, so
 * results do not depend on the vector width. */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d load2(const double *p)
{
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store2(double *p, v2d v) { memcpy(p, &v, sizeof v); }

static inline double dot(const double *x, const double *y, int n)
{
    /* Two accumulators in a fixed order: faster than one chain, and deterministic. */
    v2d s = {0.0, 0.0};
    int d = 0;
    for (; d + 1 < n; d += 2) s += load2(x + d) * load2(y + d);
    double r = s[0] + s[1];
    if (d < n) r += x[d] * y[d];
    return r;
}

/* y[n] += a·x[n] */
static inline void axpy(int n, double a, const double *x, double *y)
{
    v2d va = {a, a};
    int d = 0;
    for (; d + 3 < n; d += 4) {
        v2d y0 = load2(y + d) + va * load2(x + d), y1 = load2(y + d + 2) + va * load2(x + d + 2);
        store2(y + d, y0);
        store2(y + d + 2, y1);
    }
    for (; d + 1 < n; d += 2) store2(y + d, load2(y + d) + va * load2(x + d));
    if (d < n) y[d] += a * x[d];
}

/* One row: BLAS level 1 for long rows, the inline loops for short ones. */
static inline double row_dot(int D, const double *x, const double *y)
{
    return D >= ROW_BLAS_MIN ? kern_dot_d(D, x, y) : dot(x, y, D);
}

static inline void row_axpy(int D, double a, const double *x, double *y)
{
    if (D >= ROW_BLAS_MIN) kern_axpy_d(D, a, x, y);
    else axpy(D, a, x, y);
}

void lukern_rows_dot(int n, const int32_t *rows, int D, const double *A, const double *x, double *s)
{
    if (!rows) {
        if (n > 0 && D > 0) kern_gemv_d(0, n, D, 1.0, A, D, x, 0.0, s);
        else
            for (int j = 0; j < n; j++) s[j] = 0.0;
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows[j];
        s[w] = row_dot(D, A + w * D, x);
    }
}

void lukern_rows_dot_ref(int n, const int32_t *rows, int D, const double *A, const double *x,
                       double *s)
{
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        double acc = 0.0;
        for (int d = 0; d < D; d++) acc += A[w * D + d] * x[d];
        s[w] = acc;
    }
}

void lukern_rows_rank1(int n, const int32_t *rows, int D, double alpha, const double *g,
                     const double *x, double *A)
{
    if (!rows) {
        if (n > 0 && D > 0) kern_ger_d(n, D, alpha, g, x, A, D);
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows[j];
        row_axpy(D, alpha * g[w], x, A + w * D);
    }
}

void lukern_rows_rank1_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
                         const double *x, double *A)
{
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        for (int d = 0; d < D; d++) A[w * D + d] += alpha * g[w] * x[d];
    }
}

void lukern_rows_gemv_t(int n, const int32_t *rows, int D, double alpha, const double *g,
                      const double *A, double *y)
{
    if (!rows) {
        if (n > 0 && D > 0) kern_gemv_d(1, n, D, alpha, A, D, g, 1.0, y);
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows[j];
        row_axpy(D, alpha * g[w], A + w * D, y);
    }
}

void lukern_rows_gemv_t_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
                          const double *A, double *y)
{
    for (int d = 0; d < D; d++) {
        double acc = 0.0;
        for (int j = 0; j < n; j++) {
            long w = rows ? rows[j] : j;
            acc += g[w] * A[w * D + d];
        }
        y[d] += alpha * acc;
    }
}

void lukern_rows_axpy(int n, const int32_t *rows, int D, double alpha, const double *G, double *A)
{
    long nd = (long)n * D;
    if (!rows && nd > 0) { /* the whole matrix: one call */
        kern_axpy_d(nd, alpha, G, A);
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        row_axpy(D, alpha, G + w * D, A + w * D);
    }
}

void lukern_rows_axpy_ref(int n, const int32_t *rows, int D, double alpha, const double *G,
                        double *A)
{
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        for (int d = 0; d < D; d++) A[w * D + d] += alpha * G[w * D + d];
    }
}

/* ---- attention pooling ---------------------------------------------------------------- */

/* Sentence b's tokens. */
static inline const int32_t *sentence(const int32_t *tokens, const long *rows, int b, int L)
{
    return tokens + (size_t)(rows ? rows[b] : b) * (size_t)L;
}

/* Softmax of the sentence's scores shifted by its own maximum (the definition). */
static void sentence_softmax(int L, const int32_t *t, const double *score, double *a)
{
    double mx = -INFINITY, z = 0.0;
    for (int i = 0; i < L; i++)
        if (score[t[i]] > mx) mx = score[t[i]];
    for (int i = 0; i < L; i++) {
        a[i] = exp(score[t[i]] - mx);
        z += a[i];
    }
    for (int i = 0; i < L; i++) a[i] /= z;
}

#if defined(__GNUC__) && !defined(__clang__)
#define PRAGMA_UNROLL8 _Pragma("GCC unroll 8")
#else
#define PRAGMA_UNROLL8
#endif

/* out[D] = Σ_k w_k X[idx_k,:] for k < n, with w_k = w[widx[k]] (or w[k] when widx is NULL, or 1
 * when w is NULL):
 * a weighted gather of rows, summed over k in order. Small even D (≤ 16) keeps the whole row in
 * nv = D/2 vector registers (nv is a constant at each call site, so the k loops unroll); other D
 * go 16 (then 8) columns at a time. Element-wise vector operations only: results do not depend on the
 * vector width. */
static inline __attribute__((always_inline)) double gather_small(int nv, int n, const int32_t *idx,
                                                                 const int32_t *widx,
                                                                 const double *w, const double *X,
                                                                 double *out)
{
    const int D = 2 * nv;
    double wsum = 0.0;
    v2d s[8];
    PRAGMA_UNROLL8
    for (int k = 0; k < nv; k++) s[k] = (v2d){0.0, 0.0};
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)idx[i] * D;
        double wi = !w ? 1.0 : widx ? w[widx[i]] : w[i];
        v2d va = {wi, wi};
        wsum += wi;
        PRAGMA_UNROLL8
        for (int k = 0; k < nv; k++) s[k] += va * load2(x + 2 * k);
    }
    PRAGMA_UNROLL8
    for (int k = 0; k < nv; k++) store2(out + 2 * k, s[k]);
    return wsum;
}

#if defined(__GNUC__) && defined(__x86_64__)
/* 4-lane AVX versions of the gathers where the CPU has AVX (chosen at run time, see lukern_avx):
 * fewer instructions per row and — element-wise operations only, no FMA, each column summed over
 * the rows in the same order — the same bits as the 2-lane code. */
#define KERN_AVX 1
typedef double v4d __attribute__((vector_size(32)));

#define AVX_INLINE static inline __attribute__((always_inline, target("avx")))
AVX_INLINE v4d load4(const double *p)
{
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

AVX_INLINE void store4(double *p, v4d v) { memcpy(p, &v, sizeof v); }

/* Columns [d, d + 4·nw) of gather_rows with nw four-lane accumulators (nw constant per call),
 * times f when f != 1 (as out[d] *= f would round). */
AVX_INLINE void gather_cols_avx(int nw, int n, int D, int d, const int32_t *idx,
                                const int32_t *widx, const double *w, const double *X, double f,
                                double *out)
{
    v4d s[8];
    PRAGMA_UNROLL8
    for (int k = 0; k < nw; k++) s[k] = (v4d){0.0, 0.0, 0.0, 0.0};
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)idx[i] * D + d;
        double wi = !w ? 1.0 : widx ? w[widx[i]] : w[i];
        v4d va = {wi, wi, wi, wi};
        PRAGMA_UNROLL8
        for (int k = 0; k < nw; k++) s[k] += va * load4(x + 4 * k);
    }
    if (f != 1.0) {
        PRAGMA_UNROLL8
        for (int k = 0; k < nw; k++) s[k] *= (v4d){f, f, f, f};
    }
    PRAGMA_UNROLL8
    for (int k = 0; k < nw; k++) store4(out + d + 4 * k, s[k]);
}

/* Columns [d, D) of a row gather, two at a time, then the odd last one: out[c] = Σ_i w_i ·
 * X[idx[i], c] (overwrites). The tail of gather_rows and gather_rows_avx. */
static inline __attribute__((always_inline)) void gather_rows_tail(int d, int n, int D,
                                                                   const int32_t *idx,
                                                                   const int32_t *widx,
                                                                   const double *w,
                                                                   const double *X, double *out)
{
    for (; d + 2 <= D; d += 2) {
        v2d s0 = {0.0, 0.0};
        for (int i = 0; i < n; i++) {
            double wi = !w ? 1.0 : widx ? w[widx[i]] : w[i];
            v2d va = {wi, wi};
            s0 += va * load2(X + (size_t)idx[i] * D + d);
        }
        store2(out + d, s0);
    }
    if (d < D) {
        double s0 = 0.0;
        for (int i = 0; i < n; i++)
            s0 += (!w ? 1.0 : widx ? w[widx[i]] : w[i]) * X[(size_t)idx[i] * D + d];
        out[d] = s0;
    }
}

/* gather_rows for D > 16: 32 columns per pass, then 16, 8, 4, then the 2-lane tail; the
 * result times f (f = 1: as is). */
__attribute__((target("avx"))) static double gather_rows_avx(int n, int D, const int32_t *idx,
                                                             const int32_t *widx,
                                                             const double *w, const double *X,
                                                             double f, double *out)
{
    double wsum = 0.0;
    for (int i = 0; i < n; i++) wsum += !w ? 1.0 : widx ? w[widx[i]] : w[i];
    int d = 0;
    for (; d + 32 <= D; d += 32) gather_cols_avx(8, n, D, d, idx, widx, w, X, f, out);
    if (d + 16 <= D) gather_cols_avx(4, n, D, d, idx, widx, w, X, f, out), d += 16;
    if (d + 8 <= D) gather_cols_avx(2, n, D, d, idx, widx, w, X, f, out), d += 8;
    if (d + 4 <= D) gather_cols_avx(1, n, D, d, idx, widx, w, X, f, out), d += 4;
    int d4 = d;
    gather_rows_tail(d, n, D, idx, widx, w, X, out);
    if (f != 1.0)
        for (; d4 < D; d4++) out[d4] *= f;
    return wsum;
}
#endif

/* -1 until the first use, then 1 when the AVX paths run (the CPU has AVX and no test turned them
 * off), else 0. Processes, not threads, run in parallel here; a race would store the same value. */
static int avx_on = -1;

int lukern_avx(int on)
{
#ifdef KERN_AVX
    if (avx_on < 0) avx_on = __builtin_cpu_supports("avx") ? 1 : 0;
    if (on == 0) avx_on = 0;
    if (on == 1) avx_on = __builtin_cpu_supports("avx") ? 1 : 0;
    return avx_on;
#else
    (void)on;
    return avx_on = 0;
#endif
}

/* Returns Σ_k w_k (in order). Its 16-, 8- and 4-column passes below are deliberately written out
 * register-blocked (one add chain per 2-lane accumulator, the same body at three widths): the
 * compiler may not split one floating-point sum into independent chains (it would reorder the
 * additions), and these gathers are the float64 step's hot loop (measured in bench/lu2021.sh). */
static double gather_rows(int n, int D, const int32_t *idx, const int32_t *widx, const double *w,
                          const double *X, double *out)
{
#ifdef KERN_AVX
    if (avx_on < 0) lukern_avx(-1);
    if (avx_on && D > 16) return gather_rows_avx(n, D, idx, widx, w, X, 1.0, out);
#endif
    switch (D) {
    case 2: return gather_small(1, n, idx, widx, w, X, out);
    case 4: return gather_small(2, n, idx, widx, w, X, out);
    case 6: return gather_small(3, n, idx, widx, w, X, out);
    case 8: return gather_small(4, n, idx, widx, w, X, out);
    case 10: return gather_small(5, n, idx, widx, w, X, out);
    case 12: return gather_small(6, n, idx, widx, w, X, out);
    case 14: return gather_small(7, n, idx, widx, w, X, out);
    case 16: return gather_small(8, n, idx, widx, w, X, out);
    default: break;
    }
    double wsum = 0.0;
    for (int i = 0; i < n; i++) wsum += !w ? 1.0 : widx ? w[widx[i]] : w[i];
    int d = 0;
    /* 16 columns per pass: eight independent add chains hide the add latency */
    for (; d + 16 <= D; d += 16) {
        v2d s0 = {0.0, 0.0}, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int i = 0; i < n; i++) {
            const double *x = X + (size_t)idx[i] * D + d;
            double wi = !w ? 1.0 : widx ? w[widx[i]] : w[i];
            v2d va = {wi, wi};
            s0 += va * load2(x);
            s1 += va * load2(x + 2);
            s2 += va * load2(x + 4);
            s3 += va * load2(x + 6);
            s4 += va * load2(x + 8);
            s5 += va * load2(x + 10);
            s6 += va * load2(x + 12);
            s7 += va * load2(x + 14);
        }
        store2(out + d, s0);
        store2(out + d + 2, s1);
        store2(out + d + 4, s2);
        store2(out + d + 6, s3);
        store2(out + d + 8, s4);
        store2(out + d + 10, s5);
        store2(out + d + 12, s6);
        store2(out + d + 14, s7);
    }
    for (; d + 8 <= D; d += 8) {
        v2d s0 = {0.0, 0.0}, s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < n; i++) {
            const double *x = X + (size_t)idx[i] * D + d;
            double wi = !w ? 1.0 : widx ? w[widx[i]] : w[i];
            v2d va = {wi, wi};
            s0 += va * load2(x);
            s1 += va * load2(x + 2);
            s2 += va * load2(x + 4);
            s3 += va * load2(x + 6);
        }
        store2(out + d, s0);
        store2(out + d + 2, s1);
        store2(out + d + 4, s2);
        store2(out + d + 6, s3);
    }
    gather_rows_tail(d, n, D, idx, widx, w, X, out);
    return wsum;
}

/* Two gathers at once, for small even D = 2·nv (nv ≤ 6): out0 = Σ_k u_k X[i0_k,:] over k < n0
 * and out1 likewise over (n1, i1), each summed in the same order as gather_rows (bit-identical
 * results); interleaving the two independent sums hides the add latency. u_k = w[i_k] when
 * scale, else 1; ws[j] = Σ_k w[i_k] of each (0 when w is NULL). The outputs leave multiplied by
 * 1/ws[j] when scale (if ws[j] > 1e-250), else by f[j] when f is not NULL: in registers, the same
 * rounding as the callers' own out[d] *= factor. */
static inline __attribute__((always_inline)) void gather_pair_small(int nv, int scale, int n0,
                                                                    const int32_t *i0, int n1,
                                                                    const int32_t *i1,
                                                                    const double *w,
                                                                    const double *X, double *out0,
                                                                    double *out1, double ws[2],
                                                                    const double *f)
{
    const int D = 2 * nv;
    double w0 = 0.0, w1 = 0.0;
    v2d s0[6], s1[6];
    PRAGMA_UNROLL8
    for (int k = 0; k < nv; k++) s0[k] = s1[k] = (v2d){0.0, 0.0};
    int n = n0 < n1 ? n0 : n1, i = 0;
    for (; i < n; i++) {
        const double *x0 = X + (size_t)i0[i] * D, *x1 = X + (size_t)i1[i] * D;
        double a = w ? w[i0[i]] : 1.0, b = w ? w[i1[i]] : 1.0;
        w0 += a;
        w1 += b;
        v2d va = {a, a}, vb = {b, b};
        PRAGMA_UNROLL8
        for (int k = 0; k < nv; k++) {
            s0[k] += scale ? va * load2(x0 + 2 * k) : load2(x0 + 2 * k);
            s1[k] += scale ? vb * load2(x1 + 2 * k) : load2(x1 + 2 * k);
        }
    }
    for (; i < n0; i++) {
        const double *x0 = X + (size_t)i0[i] * D;
        double a = w ? w[i0[i]] : 1.0;
        w0 += a;
        v2d va = {a, a};
        PRAGMA_UNROLL8
        for (int k = 0; k < nv; k++) s0[k] += scale ? va * load2(x0 + 2 * k) : load2(x0 + 2 * k);
    }
    for (; i < n1; i++) {
        const double *x1 = X + (size_t)i1[i] * D;
        double b = w ? w[i1[i]] : 1.0;
        w1 += b;
        v2d vb = {b, b};
        PRAGMA_UNROLL8
        for (int k = 0; k < nv; k++) s1[k] += scale ? vb * load2(x1 + 2 * k) : load2(x1 + 2 * k);
    }
    double q[2] = {w0 > 1e-250 ? 1.0 / w0 : 1.0, w1 > 1e-250 ? 1.0 / w1 : 1.0};
    if (scale) f = q; /* normalised: out·(1/ws) when ws > 1e-250 (else lukern_attend_fwd redoes it) */
    if (f) { /* the outputs times f[0], f[1] (as the caller's g[d] *= f would round) */
        PRAGMA_UNROLL8
        for (int k = 0; k < nv; k++) {
            s0[k] *= (v2d){f[0], f[0]};
            s1[k] *= (v2d){f[1], f[1]};
        }
    }
    PRAGMA_UNROLL8
    for (int k = 0; k < nv; k++) {
        store2(out0 + 2 * k, s0[k]);
        store2(out1 + 2 * k, s1[k]);
    }
    ws[0] = w0;
    ws[1] = w1;
}

/* The weighted pair (rows scaled by w[i], ws = Σ w[i]): 1 if D has a paired path, else 0. */
static int gather_pair_scaled_sse(int D, int n0, const int32_t *i0, int n1, const int32_t *i1,
                              const double *w, const double *X, double *out0, double *out1,
                              double ws[2])
{
    switch (D) {
    case 2: gather_pair_small(1, 1, n0, i0, n1, i1, w, X, out0, out1, ws, NULL); return 1;
    case 4: gather_pair_small(2, 1, n0, i0, n1, i1, w, X, out0, out1, ws, NULL); return 1;
    case 6: gather_pair_small(3, 1, n0, i0, n1, i1, w, X, out0, out1, ws, NULL); return 1;
    case 8: gather_pair_small(4, 1, n0, i0, n1, i1, w, X, out0, out1, ws, NULL); return 1;
    case 10: gather_pair_small(5, 1, n0, i0, n1, i1, w, X, out0, out1, ws, NULL); return 1;
    case 12: gather_pair_small(6, 1, n0, i0, n1, i1, w, X, out0, out1, ws, NULL); return 1;
    default: return 0;
    }
}

/* The unit-weight pair (plain row sums, then times f[0], f[1] when f is not NULL; ws = Σ w[i]
 * when w is not NULL): 1 if D has a paired path, else 0. */
static int gather_pair_unit_sse(int D, int n0, const int32_t *i0, int n1, const int32_t *i1,
                                const double *w, const double *X, double *out0, double *out1,
                                double ws[2], const double *f)
{
    switch (D) {
    case 2: gather_pair_small(1, 0, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;
    case 4: gather_pair_small(2, 0, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;
    case 6: gather_pair_small(3, 0, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;
    case 8: gather_pair_small(4, 0, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;
    case 10: gather_pair_small(5, 0, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;
    case 12: gather_pair_small(6, 0, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;
    default: return 0;
    }
}

#ifdef KERN_AVX
/* The paired gathers with 4-lane vectors: D is covered by n4 four-lane vectors and, when has2,
 * one two-lane vector. */
AVX_INLINE void gather_pair_avx(int n4, int has2, int scale, int n0, const int32_t *i0, int n1,
                                const int32_t *i1, const double *w, const double *X,
                                double *out0, double *out1, double ws[2], const double *f)
{
    const int D = 4 * n4 + 2 * has2;
    double w0 = 0.0, w1 = 0.0;
    v4d s0[4], s1[4];
    v2d t0 = {0.0, 0.0}, t1 = {0.0, 0.0};
    PRAGMA_UNROLL8
    for (int k = 0; k < n4; k++) s0[k] = s1[k] = (v4d){0.0, 0.0, 0.0, 0.0};
    int n = n0 < n1 ? n0 : n1, i = 0;
    for (; i < n; i++) {
        const double *x0 = X + (size_t)i0[i] * D, *x1 = X + (size_t)i1[i] * D;
        double a = w ? w[i0[i]] : 1.0, b = w ? w[i1[i]] : 1.0;
        w0 += a;
        w1 += b;
        v4d va = {a, a, a, a}, vb = {b, b, b, b};
        PRAGMA_UNROLL8
        for (int k = 0; k < n4; k++) {
            s0[k] += scale ? va * load4(x0 + 4 * k) : load4(x0 + 4 * k);
            s1[k] += scale ? vb * load4(x1 + 4 * k) : load4(x1 + 4 * k);
        }
        if (has2) {
            t0 += scale ? (v2d){a, a} * load2(x0 + 4 * n4) : load2(x0 + 4 * n4);
            t1 += scale ? (v2d){b, b} * load2(x1 + 4 * n4) : load2(x1 + 4 * n4);
        }
    }
    for (; i < n0; i++) {
        const double *x0 = X + (size_t)i0[i] * D;
        double a = w ? w[i0[i]] : 1.0;
        w0 += a;
        v4d va = {a, a, a, a};
        PRAGMA_UNROLL8
        for (int k = 0; k < n4; k++) s0[k] += scale ? va * load4(x0 + 4 * k) : load4(x0 + 4 * k);
        if (has2) t0 += scale ? (v2d){a, a} * load2(x0 + 4 * n4) : load2(x0 + 4 * n4);
    }
    for (; i < n1; i++) {
        const double *x1 = X + (size_t)i1[i] * D;
        double b = w ? w[i1[i]] : 1.0;
        w1 += b;
        v4d vb = {b, b, b, b};
        PRAGMA_UNROLL8
        for (int k = 0; k < n4; k++) s1[k] += scale ? vb * load4(x1 + 4 * k) : load4(x1 + 4 * k);
        if (has2) t1 += scale ? (v2d){b, b} * load2(x1 + 4 * n4) : load2(x1 + 4 * n4);
    }
    double q[2] = {w0 > 1e-250 ? 1.0 / w0 : 1.0, w1 > 1e-250 ? 1.0 / w1 : 1.0};
    if (scale) f = q;
    if (f) {
        PRAGMA_UNROLL8
        for (int k = 0; k < n4; k++) {
            s0[k] *= (v4d){f[0], f[0], f[0], f[0]};
            s1[k] *= (v4d){f[1], f[1], f[1], f[1]};
        }
        t0 *= (v2d){f[0], f[0]};
        t1 *= (v2d){f[1], f[1]};
    }
    PRAGMA_UNROLL8
    for (int k = 0; k < n4; k++) {
        store4(out0 + 4 * k, s0[k]);
        store4(out1 + 4 * k, s1[k]);
    }
    if (has2) {
        store2(out0 + 4 * n4, t0);
        store2(out1 + 4 * n4, t1);
    }
    ws[0] = w0;
    ws[1] = w1;
}

#define PAIR_AVX_CASES(scale)                                                                     \
    case 2: gather_pair_avx(0, 1, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;     \
    case 4: gather_pair_avx(1, 0, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;     \
    case 6: gather_pair_avx(1, 1, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;     \
    case 8: gather_pair_avx(2, 0, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;     \
    case 10: gather_pair_avx(2, 1, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;    \
    case 12: gather_pair_avx(3, 0, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;    \
    case 14: gather_pair_avx(3, 1, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;    \
    case 16: gather_pair_avx(4, 0, scale, n0, i0, n1, i1, w, X, out0, out1, ws, f); return 1;    \
    default: return 0;

__attribute__((target("avx"))) static int gather_pair_scaled_avx(int D, int n0, const int32_t *i0,
                                                                 int n1, const int32_t *i1,
                                                                 const double *w, const double *X,
                                                                 double *out0, double *out1,
                                                                 double ws[2])
{
    const double *f = NULL;
    switch (D) { PAIR_AVX_CASES(1) }
}

__attribute__((target("avx"))) static int gather_pair_unit_avx(int D, int n0, const int32_t *i0,
                                                               int n1, const int32_t *i1,
                                                               const double *w, const double *X,
                                                               double *out0, double *out1,
                                                               double ws[2], const double *f)
{
    switch (D) { PAIR_AVX_CASES(0) }
}
#endif

static int gather_pair_scaled(int D, int n0, const int32_t *i0, int n1, const int32_t *i1,
                              const double *w, const double *X, double *out0, double *out1,
                              double ws[2])
{
#ifdef KERN_AVX
    if (avx_on < 0) lukern_avx(-1);
    if (avx_on) return gather_pair_scaled_avx(D, n0, i0, n1, i1, w, X, out0, out1, ws);
#endif
    return gather_pair_scaled_sse(D, n0, i0, n1, i1, w, X, out0, out1, ws);
}

static int gather_pair_unit(int D, int n0, const int32_t *i0, int n1, const int32_t *i1,
                            const double *w, const double *X, double *out0, double *out1,
                            double ws[2], const double *f)
{
#ifdef KERN_AVX
    if (avx_on < 0) lukern_avx(-1);
    if (avx_on) return gather_pair_unit_avx(D, n0, i0, n1, i1, w, X, out0, out1, ws, f);
#endif
    return gather_pair_unit_sse(D, n0, i0, n1, i1, w, X, out0, out1, ws, f);
}

/* h = Σ_i a_i E[t_i,:] with a = softmax shifted by the sentence's own maximum, without storing
 * a (the exponentials are recomputed per column block; this path is rare). */
static void sentence_pool_unstored(int L, int D, const int32_t *t, const double *score,
                                   const double *E, double *h)
{
    double mx = -INFINITY, z = 0.0;
    for (int i = 0; i < L; i++)
        if (score[t[i]] > mx) mx = score[t[i]];
    for (int i = 0; i < L; i++) z += exp(score[t[i]] - mx);
    memset(h, 0, sizeof(double) * (size_t)D);
    for (int i = 0; i < L; i++) axpy(D, exp(score[t[i]] - mx) / z, E + (size_t)t[i] * D, h);
}

/* Sentence b of lukern_attend_fwd once its gather is done (h = Σ ew_t E_t, z = Σ ew_t; already
 * times 1/z when normed): normalise, or redo it shifted by the sentence's own maximum when every
 * ew underflowed (returns 1 then). */
static int attend_finish(int L, int D, const int32_t *t, const double *score, const double *ew,
                         const double *E, double z, int normed, double *h, double *a, double *zinv)
{
    if (z > 1e-250) {
        double inv = 1.0 / z;
        if (!normed)
            for (int d = 0; d < D; d++) h[d] *= inv;
        if (a)
            for (int i = 0; i < L; i++) a[i] = ew[t[i]] * inv;
        if (zinv) *zinv = inv;
        return 0;
    }
    if (a) {
        sentence_softmax(L, t, score, a);
        gather_rows(L, D, t, NULL, a, E, h);
    } else {
        sentence_pool_unstored(L, D, t, score, E, h);
    }
    if (zinv) *zinv = 0.0;
    return 1;
}

int lukern_attend_fwd(int B, int L, int D, const int32_t *tokens, const long *rows,
                    const double *score, const double *ew, const double *E, double *A,
                    double *zinv, double *H)
{
    int fallbacks = 0, b = 0;
    for (; b + 1 < B; b += 2) { /* two sentences at once where D has a paired path */
        const int32_t *t0 = sentence(tokens, rows, b, L), *t1 = sentence(tokens, rows, b + 1, L);
        double *h0 = H + (size_t)b * D, *h1 = h0 + D, z[2];
        if (!gather_pair_scaled(D, L, t0, L, t1, ew, E, h0, h1, z)) break;
        fallbacks += attend_finish(L, D, t0, score, ew, E, z[0], 1, h0,
                                   A ? A + (size_t)b * L : NULL, zinv ? zinv + b : NULL);
        fallbacks += attend_finish(L, D, t1, score, ew, E, z[1], 1, h1,
                                   A ? A + (size_t)(b + 1) * L : NULL, zinv ? zinv + b + 1 : NULL);
    }
    for (; b < B; b++) {
        const int32_t *t = sentence(tokens, rows, b, L);
        double *h = H + (size_t)b * D;
        double z = gather_rows(L, D, t, t, ew, E, h); /* Σ ew_t E_t and Σ ew_t in one pass */
        fallbacks += attend_finish(L, D, t, score, ew, E, z, 0, h, A ? A + (size_t)b * L : NULL,
                                   zinv ? zinv + b : NULL);
    }
    return fallbacks;
}

int lukern_attend_fwd_ref(int B, int L, int D, const int32_t *tokens, const long *rows,
                        const double *score, const double *ew, const double *E, double *A,
                        double *zinv, double *H)
{
    int fallbacks = 0;
    for (int b = 0; b < B; b++) {
        const int32_t *t = sentence(tokens, rows, b, L);
        double *a = A + (size_t)b * L, z = 0.0;
        sentence_softmax(L, t, score, a);
        for (int i = 0; i < L; i++) z += ew[t[i]];
        if (zinv) zinv[b] = z > 1e-250 ? 1.0 / z : 0.0;
        fallbacks += !(z > 1e-250);
        for (int d = 0; d < D; d++) {
            double acc = 0.0;
            for (int i = 0; i < L; i++) acc += a[i] * E[(size_t)t[i] * D + d];
            H[(size_t)b * D + d] = acc;
        }
    }
    return fallbacks;
}

static int cmp_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

uint32_t lukern_next_stamp(uint32_t *stamp, uint32_t *mark, int V)
{
    if (++*stamp == 0) { /* wrapped: restart the marks */
        memset(mark, 0, sizeof *mark * (size_t)V);
        *stamp = 1;
    }
    return *stamp;
}

int lukern_batch_index(lukern_batch_t *bt, uint32_t *mark, uint32_t stamp, int32_t *slot)
{
    const int L = bt->L;
    int n = 0;
    int32_t *cnt = bt->ptr + 1; /* counts, then (shifted) fill positions */
    for (int b = 0; b < bt->B; b++) {
        const int32_t *t = bt->tokens + (size_t)(bt->rows ? bt->rows[b] : b) * (size_t)L;
        for (int i = 0; i < L; i++) {
            int32_t w = t[i];
            if (mark[w] != stamp) {
                mark[w] = stamp;
                slot[w] = n;
                bt->words[n] = w;
                cnt[n++] = 0;
            }
            cnt[slot[w]]++;
        }
    }
    bt->n_words = n;
    /* Words in ascending order (canonical, and the per-word passes then walk E, gE, ew in
     * memory order): by a scan of the marks when the batch holds many of the V words, else by
     * sorting the list. Counts move with their words. */
    int32_t *cnt_sorted = bt->pos; /* scratch: pos is filled below */
    if ((size_t)n * 8 >= (size_t)bt->V) {
        int j = 0;
        for (int32_t w = 0; w < bt->V && j < n; w++)
            if (mark[w] == stamp) {
                cnt_sorted[j] = cnt[slot[w]];
                bt->words[j++] = w;
            }
    } else {
        qsort(bt->words, (size_t)n, sizeof(int32_t), cmp_int32);
        for (int j = 0; j < n; j++) cnt_sorted[j] = cnt[slot[bt->words[j]]];
    }
    for (int j = 0; j < n; j++) {
        slot[bt->words[j]] = j;
        cnt[j] = cnt_sorted[j];
    }
    bt->ptr[0] = 0;
    for (int j = 0; j < n; j++) cnt[j] += bt->ptr[j]; /* ptr[j+1] = end of word j */
    for (int j = n; j > 0; j--) bt->ptr[j] = bt->ptr[j - 1]; /* ptr[j+1] = start of word j+1.. */
    /* now ptr[j+1] holds the start of word j; fill advances it to word j's end */
    for (int b = 0; b < bt->B; b++) {
        const int32_t *t = bt->tokens + (size_t)(bt->rows ? bt->rows[b] : b) * (size_t)L;
        for (int i = 0; i < L; i++) {
            int32_t k = bt->ptr[slot[t[i]] + 1]++;
            bt->pos[k] = b * L + i;
            bt->sen[k] = b;
        }
    }
    return n;
}

void lukern_attend_bwd(const lukern_batch_t *bt, int D, const double *A, const double *ew,
                     const double *dH, const double *c, const double *E, int accumulate,
                     double *tmp, double *gE, double *gs)
{
    int j = 0;
    if (ew) { /* the usual case: two words at once where D has a paired path */
        double pair[2][16]; /* D ≤ 16 on every paired path */
        for (; j + 1 < bt->n_words; j += 2) {
            long w0 = bt->words[j], w1 = bt->words[j + 1];
            int k0 = bt->ptr[j], k1 = bt->ptr[j + 1], k2 = bt->ptr[j + 2];
            double *g0 = accumulate ? pair[0] : gE + w0 * D;
            double *g1 = accumulate ? pair[1] : gE + w1 * D, ac[2], f[2] = {ew[w0], ew[w1]};
            /* g = ew_w·Σ dH_b over the word's sentences, ac = Σ c_b (in order, as below) */
            if (!gather_pair_unit(D, k1 - k0, bt->sen + k0, k2 - k1, bt->sen + k1, gs ? c : NULL,
                                  dH, g0, g1, ac, f))
                break;
            if (accumulate) {
                row_axpy(D, 1.0, g0, gE + w0 * D);
                row_axpy(D, 1.0, g1, gE + w1 * D);
            }
            if (gs) {
                double e0 = row_dot(D, E + w0 * D, g0) - ac[0] * ew[w0];
                double e1 = row_dot(D, E + w1 * D, g1) - ac[1] * ew[w1];
                if (accumulate) {
                    gs[w0] += e0;
                    gs[w1] += e1;
                } else {
                    gs[w0] = e0;
                    gs[w1] = e1;
                }
            }
        }
    }
    for (; j < bt->n_words; j++) {
        long w = bt->words[j];
        int k0 = bt->ptr[j], n = bt->ptr[j + 1] - k0;
        const int32_t *pos = bt->pos + k0, *sen = bt->sen + k0;
        double *g = accumulate ? tmp : gE + w * D, ac = 0.0;
        if (ew) { /* a_bi = ew_w / z_b, and dH, c arrive divided by z_b: factor ew_w out */
#ifdef KERN_AVX
            if (avx_on > 0 && D > 16) { /* with the ew_w factor applied in registers */
                gather_rows_avx(n, D, sen, NULL, NULL, dH, ew[w], g);
            } else
#endif
            {
                gather_rows(n, D, sen, NULL, NULL, dH, g);
                for (int d = 0; d < D; d++) g[d] *= ew[w];
            }
            if (gs) {
                for (int k = 0; k < n; k++) ac += c[sen[k]];
                ac *= ew[w];
            }
        } else {
            gather_rows(n, D, sen, pos, A, dH, g);
            if (gs)
                for (int k = 0; k < n; k++) ac += A[pos[k]] * c[sen[k]];
        }
        double eg = 0.0;
        if (gs) eg = row_dot(D, E + w * D, g) - ac;
        if (accumulate) {
            row_axpy(D, 1.0, g, gE + w * D);
            if (gs) gs[w] += eg;
        } else if (gs) {
            gs[w] = eg;
        }
    }
}

void lukern_attend_bwd_ref(const lukern_batch_t *bt, int D, const double *A, const double *ew,
                         const double *dH, const double *c, const double *E, int accumulate,
                         double *tmp, double *gE, double *gs)
{
    (void)tmp;
    if (!accumulate)
        for (int j = 0; j < bt->n_words; j++) {
            long w = bt->words[j];
            for (int d = 0; d < D; d++) gE[w * D + d] = 0.0;
            if (gs) gs[w] = 0.0;
        }
    for (int b = 0; b < bt->B; b++) {
        const int32_t *t = sentence(bt->tokens, bt->rows, b, bt->L);
        const double *dh = dH + (size_t)b * D;
        for (int i = 0; i < bt->L; i++) {
            long w = t[i];
            double a = ew ? ew[w] : A[(size_t)b * bt->L + i], da = 0.0;
            for (int d = 0; d < D; d++) {
                gE[w * D + d] += a * dh[d];
                da += E[w * D + d] * dh[d];
            }
            if (gs) gs[w] += a * (da - c[b]); /* ∂/∂s through the softmax */
        }
    }
}

/* ---- classifier pieces ---------------------------------------------------------------- */

double lukern_xent(int B, int C, const double *Z, const int32_t *labels, const long *rows,
                 double scale, double *dZ, long *correct)
{
    /* Σ_b log s_b as one log of the product (s_b ∈ [1, C], rescaled by frexp before it can
     * overflow): one log call per batch instead of one per row */
    double sum = 0.0, prod = 1.0, log_part = 0.0;
    long ok = 0;
    for (int b = 0; b < B; b++) {
        const double *z = Z + (size_t)b * C;
        int y = labels[rows ? rows[b] : b];
        int arg = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > z[arg]) arg = c;
        double mx = z[arg], s = 0.0;
        double *g = dZ ? dZ + (size_t)b * C : NULL;
        for (int c = 0; c < C; c++) {
            double e = c == arg ? 1.0 : exp(z[c] - mx); /* exp(0) = 1 exactly */
            s += e;
            if (g) g[c] = e;
        }
        sum += mx - z[y];
        prod *= s;
        if (prod > 0x1p900) {
            int e;
            prod = frexp(prod, &e);
            log_part += e * 0.69314718055994530942;
        }
        ok += arg == y;
        if (dZ) {
            double inv = scale / s;
            for (int c = 0; c < C; c++) g[c] *= inv;
            g[y] -= scale;
        }
    }
    if (correct) *correct += ok;
    return sum + (log(prod) + log_part);
}

void lukern_add_bias(int B, int N, const double *b, double *X)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) X[(size_t)i * N + j] += b[j];
}

void lukern_colsum(int B, int N, const double *X, double *y)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) y[j] += X[(size_t)i * N + j];
}

void lukern_relu(long n, const double *Z, double *R)
{
    for (long i = 0; i < n; i++) R[i] = Z[i] > 0.0 ? Z[i] : 0.0;
}

void lukern_relu_bwd(long n, const double *Z, double *dR)
{
    for (long i = 0; i < n; i++)
        if (!(Z[i] > 0.0)) dR[i] = 0.0;
}
