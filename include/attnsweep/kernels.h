/* kernels — the dense linear algebra every model family shares (plugins too): a thin row-major
 * facade over CBLAS, in double (_d) and float (_f), each with a `_ref` twin in plain loops that the
 * tests compare it with and that families use for their reference paths. Shapes are given per
 * kernel (M, N, K generic); "overwrite" / "accumulate" says what happens to the output. */
#ifndef ATTNSWEEP_KERNELS_H
#define ATTNSWEEP_KERNELS_H

/* C[M×N] = alpha·op(A)[M×K]·op(B)[K×N] + beta·C; ta/tb: 0 as stored, 1 transposed (A stored
 * K×M when ta). beta = 0 overwrites C (even NaN), beta = 1 accumulates. The _ref versions sum in
 * double. */
void kern_gemm_d(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
                 const double *B, int ldb, double beta, double *C, int ldc);
void kern_gemm_ref_d(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
                     const double *B, int ldb, double beta, double *C, int ldc);
void kern_gemm_f(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);
void kern_gemm_ref_f(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);

/* y = alpha·op(A)·x + beta·y for A [M×N] (row stride lda): y [M] and x [N] as stored (ta = 0), or
 * y [N] and x [M] transposed (ta = 1). beta = 0 overwrites y, beta = 1 accumulates. */
void kern_gemv_d(int ta, int M, int N, double alpha, const double *A, int lda, const double *x,
                 double beta, double *y);
void kern_gemv_ref_d(int ta, int M, int N, double alpha, const double *A, int lda,
                     const double *x, double beta, double *y);

/* A [M×N] += alpha·x yᵀ (x [M], y [N], row stride lda); accumulate. */
void kern_ger_d(int M, int N, double alpha, const double *x, const double *y, double *A, int lda);
void kern_ger_ref_d(int M, int N, double alpha, const double *x, const double *y, double *A,
                    int lda);

/* y [n] += alpha·x [n]; accumulate. */
void kern_axpy_d(long n, double alpha, const double *x, double *y);
void kern_axpy_ref_d(long n, double alpha, const double *x, double *y);

/* x·y of x [n], y [n]. */
double kern_dot_d(long n, const double *x, const double *y);
double kern_dot_ref_d(long n, const double *x, const double *y);

/* ‖x‖₂ of x [n] (BLAS scales to avoid overflow; _ref sums squares). */
double kern_nrm2_d(long n, const double *x);
double kern_nrm2_ref_d(long n, const double *x);

#endif
