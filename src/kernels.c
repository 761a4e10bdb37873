/* kernels — the shared dense kernels (kernels.h): CBLAS calls behind one row-major signature, with
 * the edge cases BLAS leaves open made explicit (empty sizes; beta = 0 clears even NaN), and
 * beside each its textbook `_ref`. No allocation, no state. */
#include <math.h>
#include <stddef.h>
#include <cblas.h>
#include "attnsweep/kernels.h"

/* BLAS takes int sizes; the callers' counts fit (they are rows × columns of one run's tensors). */

/* op(A)[i][k] and op(B)[k][j] of row-major A, B. */
#define AT(A, lda, t, i, k) ((t) ? (A)[(size_t)(k) * (size_t)(lda) + (size_t)(i)] \
                                 : (A)[(size_t)(i) * (size_t)(lda) + (size_t)(k)])

/* C = beta·C when K = 0 (BLAS would do the same, but beta = 0 must clear NaN too). */
#define SCALE_ONLY(C, ldc, M, N, beta)                                                     \
    for (int i = 0; i < (M); i++)                                                         \
        for (int j = 0; j < (N); j++) {                                                   \
            size_t at = (size_t)i * (size_t)(ldc) + (size_t)j;                            \
            (C)[at] = (beta) == 0 ? 0 : (beta) * (C)[at];                                 \
        }

/* The plain triple loop, summing in double. */
#define GEMM_REF(R)                                                                        \
    for (int i = 0; i < M; i++)                                                           \
        for (int j = 0; j < N; j++) {                                                     \
            double acc = 0.0;                                                             \
            for (int k = 0; k < K; k++)                                                   \
                acc += (double)AT(A, lda, ta, i, k) * (double)AT(B, ldb, !tb, j, k);      \
            R *c = &C[(size_t)i * (size_t)ldc + (size_t)j];                               \
            *c = (R)(alpha * acc + (beta == 0 ? 0.0 : (double)beta * (double)*c));        \
        }

void kern_gemm_d(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
                 const double *B, int ldb, double beta, double *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        SCALE_ONLY(C, ldc, M, N, beta);
        return;
    }
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void kern_gemm_ref_d(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
                     const double *B, int ldb, double beta, double *C, int ldc)
{
    GEMM_REF(double)
}

void kern_gemm_f(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        SCALE_ONLY(C, ldc, M, N, beta);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void kern_gemm_ref_f(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    GEMM_REF(float)
}

void kern_gemv_d(int ta, int M, int N, double alpha, const double *A, int lda, const double *x,
                 double beta, double *y)
{
    int ny = ta ? N : M;
    if (ny <= 0) return;
    if ((ta ? M : N) <= 0) {
        for (int i = 0; i < ny; i++) y[i] = beta == 0 ? 0 : beta * y[i];
        return;
    }
    cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, M, N, alpha, A, lda, x, 1, beta,
                y, 1);
}

void kern_gemv_ref_d(int ta, int M, int N, double alpha, const double *A, int lda,
                     const double *x, double beta, double *y)
{
    int ny = ta ? N : M, nx = ta ? M : N;
    for (int i = 0; i < ny; i++) {
        double acc = 0.0;
        for (int k = 0; k < nx; k++) acc += AT(A, lda, ta, i, k) * x[k];
        y[i] = alpha * acc + (beta == 0 ? 0.0 : beta * y[i]);
    }
}

void kern_ger_d(int M, int N, double alpha, const double *x, const double *y, double *A, int lda)
{
    if (M > 0 && N > 0) cblas_dger(CblasRowMajor, M, N, alpha, x, 1, y, 1, A, lda);
}

void kern_ger_ref_d(int M, int N, double alpha, const double *x, const double *y, double *A,
                    int lda)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) A[(size_t)i * (size_t)lda + (size_t)j] += alpha * x[i] * y[j];
}

void kern_axpy_d(long n, double alpha, const double *x, double *y)
{
    /* One BLAS call per 2^30 elements (BLAS counts in int). */
    for (long i = 0; i < n; i += 1L << 30) {
        long m = n - i < (1L << 30) ? n - i : (1L << 30);
        cblas_daxpy((int)m, alpha, x + i, 1, y + i, 1);
    }
}

void kern_axpy_ref_d(long n, double alpha, const double *x, double *y)
{
    for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

double kern_dot_d(long n, const double *x, const double *y)
{
    return n > 0 ? cblas_ddot((int)n, x, 1, y, 1) : 0.0;
}

double kern_dot_ref_d(long n, const double *x, const double *y)
{
    double s = 0.0;
    for (long i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

double kern_nrm2_d(long n, const double *x) { return n > 0 ? cblas_dnrm2((int)n, x, 1) : 0.0; }

double kern_nrm2_ref_d(long n, const double *x)
{
    double s = 0.0;
    for (long i = 0; i < n; i++) s += x[i] * x[i];
    return sqrt(s);
}
