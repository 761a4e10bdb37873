/* kernels — the math of the attention models, in double precision, row-major. Shapes: B batch
 * (sentences), L length (tokens per sentence), D embedding dim, V vocab, C classes, N/M generic.
 * Each BLAS-backed or hand-tuned kernel has a plain `_ref` twin (same arguments, textbook loops)
 * that tests/test_kernels.c compares it with. "overwrite" / "accumulate" says what happens to the
 * output. Word-indexed outputs (V rows) are touched only at the words the batch contains. */
#ifndef ATTNSWEEP_KERNELS_H
#define ATTNSWEEP_KERNELS_H
#include <stdint.h>

/* C[M×N] = alpha·op(A)[M×K]·op(B)[K×N] + beta·C; ta/tb: 0 as stored, 1 transposed (A stored
 * K×M when ta). beta = 0 overwrites C (even NaN), beta = 1 accumulates. CBLAS dgemm. */
void kern_gemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
               const double *B, int ldb, double beta, double *C, int ldc);
void kern_gemm_ref(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
                   const double *B, int ldb, double beta, double *C, int ldc);

/* s[w] = A[w,:]·x for the n rows w = rows[j] of A[V×D] (rows == NULL: w = 0..n-1); overwrites
 * only those s[w]. With rows == NULL a CBLAS dgemv. */
void kern_rows_dot(int n, const int32_t *rows, int D, const double *A, const double *x,
                   double *s);
void kern_rows_dot_ref(int n, const int32_t *rows, int D, const double *A, const double *x,
                       double *s);

/* A[w,:] += alpha·g[w]·x for the n rows w = rows[j] of A[V×D] (rows == NULL: 0..n-1);
 * accumulate. A rank-1 update (CBLAS dger when rows == NULL). */
void kern_rows_rank1(int n, const int32_t *rows, int D, double alpha, const double *g,
                     const double *x, double *A);
void kern_rows_rank1_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
                         const double *x, double *A);

/* y[D] += alpha·Σ_j g[w]·A[w,:] over w = rows[j] of A[V×D] (rows == NULL: 0..n-1); accumulate.
 * = alpha·Aᵀg restricted to the rows (CBLAS dgemv when rows == NULL). */
void kern_rows_gemv_t(int n, const int32_t *rows, int D, double alpha, const double *g,
                      const double *A, double *y);
void kern_rows_gemv_t_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
                          const double *A, double *y);

/* The SGD scatter update: A[w,:] += alpha·G[w,:], then G[w,:] = 0, for w = rows[j] of
 * A, G [V×D] (rows == NULL: 0..n-1). A accumulates, G is cleared. CBLAS daxpy per row. */
void kern_rows_axpy_clear(int n, const int32_t *rows, int D, double alpha, double *G, double *A);
void kern_rows_axpy_clear_ref(int n, const int32_t *rows, int D, double alpha, double *G,
                              double *A);

/* Softmax attention pooling over each sentence. Sentence b is row r = rows[b] (rows == NULL:
 * r = b) of tokens[·×L]; its attention is a = softmax(score[tok]) and its context H[b,:] =
 * Σ_i a_i E[tok_i,:]. Overwrites A[B×L] and H[B×D]. The fast version takes ew[w] =
 * exp(score[w] − S) with one shift S ≥ every score of the batch (a table computed once per step)
 * and falls back to the sentence's own maximum if all its ew underflow; _ref ignores ew. */
void kern_attend_fwd(int B, int L, int D, const int32_t *tokens, const long *rows,
                     const double *score, const double *ew, const double *E, double *A,
                     double *H);
void kern_attend_fwd_ref(int B, int L, int D, const int32_t *tokens, const long *rows,
                         const double *score, const double *ew, const double *E, double *A,
                         double *H);

/* Backward of kern_attend_fwd given dH[B×D]: accumulates the score gradient gscore[w] +=
 * Σ_{positions of w} a_i (dH_b·E_w − dH_b·H_b) and the embedding gradient gE[w,:] +=
 * Σ a_i dH_b. Either output may be NULL (skipped). _ref goes through the full softmax
 * Jacobian (O(L²) per sentence). */
void kern_attend_bwd(int B, int L, int D, const int32_t *tokens, const long *rows,
                     const double *A, const double *E, const double *H, const double *dH,
                     double *gscore, double *gE);
void kern_attend_bwd_ref(int B, int L, int D, const int32_t *tokens, const long *rows,
                         const double *A, const double *E, const double *H, const double *dH,
                         double *gscore, double *gE);

/* Cross-entropy of logits Z[B×C] against labels[r] (r = rows[b], or b when rows == NULL).
 * Returns Σ_b loss_b; adds to *correct the rows whose first argmax is the label; if dZ is not
 * NULL overwrites dZ[B×C] = scale·(softmax(Z) − onehot). */
double kern_xent(int B, int C, const double *Z, const int32_t *labels, const long *rows,
                 double scale, double *dZ, long *correct);

/* X[B×N] += 1·bᵀ (bias on every row); accumulate. */
void kern_add_bias(int B, int N, const double *b, double *X);
/* y[N] += Σ_b X[b,:] (column sums); accumulate. */
void kern_colsum(int B, int N, const double *X, double *y);
/* R[n] = max(Z, 0); overwrite. */
void kern_relu(long n, const double *Z, double *R);
/* dR[n] = 0 where Z ≤ 0 (ReLU backward, in place). */
void kern_relu_bwd(long n, const double *Z, double *dR);

#endif
