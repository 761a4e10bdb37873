/* lukern — the lu2021 family's kernels, in double precision, row-major: per-word row gathers,
 * softmax attention pooling and its backward, cross-entropy and the classifier's small helpers.
 * Shapes: B batch (sentences), L length (tokens per sentence), D embedding dim, V vocab, C classes,
 * N/M generic. Each BLAS-backed or hand-tuned kernel has a plain `_ref` twin (same arguments,
 * textbook loops) that tests/test_lukern.c compares it with. "overwrite" / "accumulate" says
 * what happens to the output. Word-indexed outputs (V rows) are touched only at the words the batch contains. */
#ifndef ATTNSWEEP_LU2021_LUKERN_H
#define ATTNSWEEP_LU2021_LUKERN_H
#include <stdint.h>

/* s[w] = A[w,:]·x for the n rows w = rows[j] of A[V×D] (rows == NULL: w = 0..n-1); overwrites
 * only those s[w]. With rows == NULL a CBLAS dgemv. */
void lukern_rows_dot(int n, const int32_t *rows, int D, const double *A, const double *x,
                   double *s);
void lukern_rows_dot_ref(int n, const int32_t *rows, int D, const double *A, const double *x,
                       double *s);

/* A[w,:] += alpha·g[w]·x for the n rows w = rows[j] of A[V×D] (rows == NULL: 0..n-1);
 * accumulate. A rank-1 update (CBLAS dger when rows == NULL). */
void lukern_rows_rank1(int n, const int32_t *rows, int D, double alpha, const double *g,
                     const double *x, double *A);
void lukern_rows_rank1_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
                         const double *x, double *A);

/* y[D] += alpha·Σ_j g[w]·A[w,:] over w = rows[j] of A[V×D] (rows == NULL: 0..n-1); accumulate.
 * = alpha·Aᵀg restricted to the rows (CBLAS dgemv when rows == NULL). */
void lukern_rows_gemv_t(int n, const int32_t *rows, int D, double alpha, const double *g,
                      const double *A, double *y);
void lukern_rows_gemv_t_ref(int n, const int32_t *rows, int D, double alpha, const double *g,
                          const double *A, double *y);

/* The SGD update of the listed rows: A[w,:] += alpha·G[w,:] for w = rows[j] of A, G [V×D]
 * (rows == NULL: 0..n-1); A accumulates. CBLAS daxpy. */
void lukern_rows_axpy(int n, const int32_t *rows, int D, double alpha, const double *G, double *A);
void lukern_rows_axpy_ref(int n, const int32_t *rows, int D, double alpha, const double *G,
                        double *A);

/* The 4-lane AVX paths of the gathers (x86-64 CPUs that have AVX, chosen at run time): on = 1
 * asks for them, 0 turns them off (tests compare both), -1 only queries. Returns whether they are
 * on. Both give the same bits (element-wise operations, no FMA). */
int lukern_avx(int on);

/* A batch of B sentences over V words and, word by word, where its words occur: sentence b is
 * row rows[b] (rows == NULL: b) of tokens[·×L]; the occurrences of words[j] are k ∈ [ptr[j], ptr[j+1]),
 * at position pos[k] = b·L + i of sentence sen[k] = b. The caller owns the arrays: words
 * [min(V, B·L)], ptr [that + 1], pos and sen [B·L]. */
typedef struct {
    int B, L, V;
    const int32_t *tokens;
    const long *rows;
    int n_words;
    int32_t *words, *ptr, *pos, *sen;
} lukern_batch_t;

/* Fill words (distinct, ascending), n_words, ptr, pos and sen from B, L, V, tokens, rows. mark
 * [V] is a workspace whose entries must differ from stamp on entry (they equal it on return);
 * slot [V] is scratch. O(B·L). Returns n_words. */
int lukern_batch_index(lukern_batch_t *bt, uint32_t *mark, uint32_t stamp, int32_t *slot);
/* The next stamp for lukern_batch_index: *stamp + 1, or 1 with mark [V] cleared when it wraps. */
uint32_t lukern_next_stamp(uint32_t *stamp, uint32_t *mark, int V);

/* Softmax attention pooling over each sentence. Sentence b is row r = rows[b] (rows == NULL:
 * r = b) of tokens[·×L]; its attention is a = softmax(score[tok]) and its context H[b,:] =
 * Σ_i a_i E[tok_i,:]. Overwrites H[B×D] and, if not NULL, A[B×L] and zinv[B]. The fast version
 * takes ew[w] = exp(score[w] − S) with one shift S ≥ every score of the batch (a table computed
 * once per step), so a_i = ew[tok_i]·zinv[b] with zinv[b] = 1/Σ_i ew[tok_i]; if all of a
 * sentence's ew underflow it shifts by the sentence's own maximum instead and sets zinv[b] = 0.
 * Returns the number of such sentences. _ref always shifts per sentence (same outputs). */
int lukern_attend_fwd(int B, int L, int D, const int32_t *tokens, const long *rows,
                    const double *score, const double *ew, const double *E, double *A,
                    double *zinv, double *H);
int lukern_attend_fwd_ref(int B, int L, int D, const int32_t *tokens, const long *rows,
                        const double *score, const double *ew, const double *E, double *A,
                        double *zinv, double *H);

/* Backward of lukern_attend_fwd for a batch, word by word (a gather per word, no scatter): given
 * the attention a_bi of the batch, dH [B×D] and c[b] = dH_b·H_b, for each word w of bt
 *   gE[w,:] = Σ_{positions (b,i) of w} a_bi dH_b            (the embedding gradient)
 *   gs[w]   = Σ_{positions of w} a_bi (dH_b·E_w − c_b)       (if gs: the score gradient)
 * overwritten (accumulate = 0) or added to (accumulate = 1: then tmp [D] is scratch; a long
 * batch is done in blocks of sentences this way). Rows of other words are not touched.
 * Attention comes from A [B×L] when ew is NULL; else a_bi = ew[w]/z_b and the caller has
 * already divided row b of dH and c[b] by z_b (then A is not read). _ref goes position by
 * position. */
void lukern_attend_bwd(const lukern_batch_t *bt, int D, const double *A, const double *ew,
                     const double *dH, const double *c, const double *E, int accumulate,
                     double *tmp, double *gE, double *gs);
void lukern_attend_bwd_ref(const lukern_batch_t *bt, int D, const double *A, const double *ew,
                         const double *dH, const double *c, const double *E, int accumulate,
                         double *tmp, double *gE, double *gs);

/* Cross-entropy of logits Z[B×C] against labels[r] (r = rows[b], or b when rows == NULL).
 * Returns Σ_b loss_b; adds to *correct the rows whose first argmax is the label; if dZ is not
 * NULL overwrites dZ[B×C] = scale·(softmax(Z) − onehot). */
double lukern_xent(int B, int C, const double *Z, const int32_t *labels, const long *rows,
                 double scale, double *dZ, long *correct);

/* X[B×N] += 1·bᵀ (bias on every row); accumulate. */
void lukern_add_bias(int B, int N, const double *b, double *X);
/* y[N] += Σ_b X[b,:] (column sums); accumulate. */
void lukern_colsum(int B, int N, const double *X, double *y);
/* R[n] = max(Z, 0); overwrite. */
void lukern_relu(long n, const double *Z, double *R);
/* dR[n] = 0 where Z ≤ 0 (ReLU backward, in place). */
void lukern_relu_bwd(long n, const double *Z, double *dR);

#endif
