/* kernels — the double-precision math kernels of the attention models (see kernels.h): CBLAS for
 * the dense products, hand-written gather/scatter loops for the per-word parts, and beside each
 * fast kernel its `_ref` twin in textbook form for the tests. No allocation, no state. */
#include <math.h>
#include <string.h>
#include <cblas.h>
#include "attnsweep/kernels.h"

/* Rows at least this long go through BLAS level-1 calls; shorter ones are cheaper inline. */
#define ROW_BLAS_MIN 64

/* ---- dense products ------------------------------------------------------------------- */

void kern_gemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
               const double *B, int ldb, double beta, double *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* BLAS would scale C by beta; do the same, but let beta = 0 clear NaN */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(long)i * ldc + j] = beta == 0.0 ? 0.0 : beta * C[(long)i * ldc + j];
        return;
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void kern_gemm_ref(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
                   const double *B, int ldb, double beta, double *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(long)k * lda + i] : A[(long)i * lda + k];
                double b = tb ? B[(long)j * ldb + k] : B[(long)k * ldb + j];
                acc += a * b;
            }
            double *c = &C[(long)i * ldc + j];
            *c = alpha * acc + (beta == 0.0 ? 0.0 : beta * *c);
        }
}

/* ---- per-word rows -------------------------------------------------------------------- */

static inline double dot(const double *x, const double *y, int n)
{
    /* Two accumulators in a fixed order: faster than one chain, and deterministic. */
    double s0 = 0.0, s1 = 0.0;
    int d = 0;
    for (; d + 1 < n; d += 2) {
        s0 += x[d] * y[d];
        s1 += x[d + 1] * y[d + 1];
    }
    if (d < n) s0 += x[d] * y[d];
    return s0 + s1;
}

static inline void axpy(int n, double a, const double *x, double *y)
{
    for (int d = 0; d < n; d++) y[d] += a * x[d];
}

void kern_rows_dot(int n, const int32_t *rows, int D, const double *A, const double *x, double *s)
{
    if (!rows) {
        if (n > 0 && D > 0) cblas_dgemv(CblasRowMajor, CblasNoTrans, n, D, 1.0, A, D, x, 1, 0.0, s, 1);
        else
            for (int j = 0; j < n; j++) s[j] = 0.0;
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows[j];
        s[w] = D >= ROW_BLAS_MIN ? cblas_ddot(D, A + w * D, 1, x, 1) : dot(A + w * D, x, D);
    }
}

void kern_rows_dot_ref(int n, const int32_t *rows, int D, const double *A, const double *x,
                       double *s)
{
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        double acc = 0.0;
        for (int d = 0; d < D; d++) acc += A[w * D + d] * x[d];
        s[w] = acc;
    }
}

void kern_rows_rank1(int n, const int32_t *rows, int D, double alpha, const double *g,
                     const double *x, double *A)
{
    if (!rows) {
        if (n > 0 && D > 0) cblas_dger(CblasRowMajor, n, D, alpha, g, 1, x, 1, A, D);
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows[j];
        if (D >= ROW_BLAS_MIN) cblas_daxpy(D, alpha * g[w], x, 1, A + w * D, 1);
        else axpy(D, alpha * g[w], x, A + w * D);
    }
}

void kern_rows_rank1_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
                         const double *x, double *A)
{
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        for (int d = 0; d < D; d++) A[w * D + d] += alpha * g[w] * x[d];
    }
}

void kern_rows_gemv_t(int n, const int32_t *rows, int D, double alpha, const double *g,
                      const double *A, double *y)
{
    if (!rows) {
        if (n > 0 && D > 0) cblas_dgemv(CblasRowMajor, CblasTrans, n, D, alpha, A, D, g, 1, 1.0, y, 1);
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows[j];
        if (D >= ROW_BLAS_MIN) cblas_daxpy(D, alpha * g[w], A + w * D, 1, y, 1);
        else axpy(D, alpha * g[w], A + w * D, y);
    }
}

void kern_rows_gemv_t_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
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

void kern_rows_axpy_clear(int n, const int32_t *rows, int D, double alpha, double *G, double *A)
{
    long nd = (long)n * D;
    if (!rows && nd > 0 && nd <= 2147483647L) { /* the whole matrix: one call */
        cblas_daxpy((int)nd, alpha, G, 1, A, 1);
        memset(G, 0, sizeof(double) * (size_t)nd);
        return;
    }
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        double *gw = G + w * D;
        if (D >= ROW_BLAS_MIN) cblas_daxpy(D, alpha, gw, 1, A + w * D, 1);
        else axpy(D, alpha, gw, A + w * D);
        memset(gw, 0, sizeof(double) * (size_t)D);
    }
}

void kern_rows_axpy_clear_ref(int n, const int32_t *rows, int D, double alpha, double *G,
                              double *A)
{
    for (int j = 0; j < n; j++) {
        long w = rows ? rows[j] : j;
        for (int d = 0; d < D; d++) {
            A[w * D + d] += alpha * G[w * D + d];
            G[w * D + d] = 0.0;
        }
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

void kern_attend_fwd(int B, int L, int D, const int32_t *tokens, const long *rows,
                     const double *score, const double *ew, const double *E, double *A,
                     double *H)
{
    for (int b = 0; b < B; b++) {
        const int32_t *t = sentence(tokens, rows, b, L);
        double *a = A + (size_t)b * L, *h = H + (size_t)b * D;
        double z = 0.0;
        for (int i = 0; i < L; i++) z += ew[t[i]];
        if (z > 1e-250) {
            double inv = 1.0 / z;
            for (int i = 0; i < L; i++) a[i] = ew[t[i]] * inv;
        } else {
            sentence_softmax(L, t, score, a); /* every ew underflowed: shift by this sentence */
        }
        memset(h, 0, sizeof(double) * (size_t)D);
        if (D >= ROW_BLAS_MIN)
            for (int i = 0; i < L; i++) cblas_daxpy(D, a[i], E + (size_t)t[i] * D, 1, h, 1);
        else
            for (int i = 0; i < L; i++) axpy(D, a[i], E + (size_t)t[i] * D, h);
    }
}

void kern_attend_fwd_ref(int B, int L, int D, const int32_t *tokens, const long *rows,
                         const double *score, const double *ew, const double *E, double *A,
                         double *H)
{
    (void)ew;
    for (int b = 0; b < B; b++) {
        const int32_t *t = sentence(tokens, rows, b, L);
        double *a = A + (size_t)b * L;
        sentence_softmax(L, t, score, a);
        for (int d = 0; d < D; d++) {
            double acc = 0.0;
            for (int i = 0; i < L; i++) acc += a[i] * E[(size_t)t[i] * D + d];
            H[(size_t)b * D + d] = acc;
        }
    }
}

void kern_attend_bwd(int B, int L, int D, const int32_t *tokens, const long *rows,
                     const double *A, const double *E, const double *H, const double *dH,
                     double *gscore, double *gE)
{
    for (int b = 0; b < B; b++) {
        const int32_t *t = sentence(tokens, rows, b, L);
        const double *a = A + (size_t)b * L, *dh = dH + (size_t)b * D;
        if (gscore) {
            /* ds_i = a_i (da_i − Σ_j a_j da_j), da_i = dh·E_{t_i}, Σ_j a_j da_j = dh·h */
            double c = dot(dh, H + (size_t)b * D, D);
            for (int i = 0; i < L; i++) {
                const double *e = E + (size_t)t[i] * D;
                double da = D >= ROW_BLAS_MIN ? cblas_ddot(D, dh, 1, e, 1) : dot(dh, e, D);
                gscore[t[i]] += a[i] * (da - c);
            }
        }
        if (gE) {
            if (D >= ROW_BLAS_MIN)
                for (int i = 0; i < L; i++) cblas_daxpy(D, a[i], dh, 1, gE + (size_t)t[i] * D, 1);
            else
                for (int i = 0; i < L; i++) axpy(D, a[i], dh, gE + (size_t)t[i] * D);
        }
    }
}

void kern_attend_bwd_ref(int B, int L, int D, const int32_t *tokens, const long *rows,
                         const double *A, const double *E, const double *H, const double *dH,
                         double *gscore, double *gE)
{
    (void)H;
    for (int b = 0; b < B; b++) {
        const int32_t *t = sentence(tokens, rows, b, L);
        const double *a = A + (size_t)b * L, *dh = dH + (size_t)b * D;
        for (int i = 0; i < L; i++) {
            if (gscore) {
                /* ds_i = Σ_j da_j ∂a_j/∂s_i, ∂a_j/∂s_i = a_j (δ_ij − a_i) */
                double ds = 0.0;
                for (int j = 0; j < L; j++) {
                    double da = 0.0;
                    for (int d = 0; d < D; d++) da += dh[d] * E[(size_t)t[j] * D + d];
                    ds += da * a[j] * ((i == j ? 1.0 : 0.0) - a[i]);
                }
                gscore[t[i]] += ds;
            }
            if (gE)
                for (int d = 0; d < D; d++) gE[(size_t)t[i] * D + d] += a[i] * dh[d];
        }
    }
}

/* ---- classifier pieces ---------------------------------------------------------------- */

double kern_xent(int B, int C, const double *Z, const int32_t *labels, const long *rows,
                 double scale, double *dZ, long *correct)
{
    double sum = 0.0;
    long ok = 0;
    for (int b = 0; b < B; b++) {
        const double *z = Z + (size_t)b * C;
        int y = labels[rows ? rows[b] : b];
        int arg = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > z[arg]) arg = c;
        double mx = z[arg], s = 0.0;
        for (int c = 0; c < C; c++) s += exp(z[c] - mx);
        sum += mx + log(s) - z[y];
        ok += arg == y;
        if (dZ) {
            double *g = dZ + (size_t)b * C, inv = scale / s;
            for (int c = 0; c < C; c++) g[c] = exp(z[c] - mx) * inv;
            g[y] -= scale;
        }
    }
    if (correct) *correct += ok;
    return sum;
}

void kern_add_bias(int B, int N, const double *b, double *X)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) X[(size_t)i * N + j] += b[j];
}

void kern_colsum(int B, int N, const double *X, double *y)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) y[j] += X[(size_t)i * N + j];
}

void kern_relu(long n, const double *Z, double *R)
{
    for (long i = 0; i < n; i++) R[i] = Z[i] > 0.0 ? Z[i] : 0.0;
}

void kern_relu_bwd(long n, const double *Z, double *dR)
{
    for (long i = 0; i < n; i++)
        if (!(Z[i] > 0.0)) dR[i] = 0.0;
}
