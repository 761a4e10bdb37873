/* Tests of lu2021's kernels (src/models/lu2021/lukern.c): each fast kernel against its `_ref` twin on
 * random shapes — dimensions that hit the register-blocked small-D paths, the general loops and
 * the BLAS paths — plus the batch index and the cross-entropy against hand-computed values. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "attnsweep/rng.h"
#include "models/lu2021/lukern.h"

static const int dims[] = {1, 2, 3, 5, 8, 10, 13, 16, 17, 33, 64, 70};
#define N_DIMS ((int)(sizeof dims / sizeof dims[0]))

static void one_thread(void) { openblas_set_num_threads(1); }

static double *randv(rng_t *r, size_t n)
{
    double *x = malloc(sizeof(double) * (n ? n : 1));
    cr_assert(x);
    for (size_t i = 0; i < n; i++) x[i] = rng_normal(r);
    return x;
}

static double *copyv(const double *x, size_t n)
{
    double *y = malloc(sizeof(double) * (n ? n : 1));
    cr_assert(y);
    memcpy(y, x, sizeof(double) * n);
    return y;
}

/* max |a − b| / max(1, |b|) */
static double maxrel(const double *a, const double *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / fmax(1.0, fabs(b[i]));
        if (!(e <= m)) m = e; /* NaN propagates */
    }
    return m;
}

TestSuite(lukern, .init = one_thread);

/* n distinct rows out of V, in random order (or NULL for all rows). */
static int32_t *rand_rows(rng_t *r, int V, int n)
{
    int32_t *perm = malloc(sizeof(int32_t) * (size_t)V);
    for (int i = 0; i < V; i++) perm[i] = i;
    for (int i = V - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    (void)n;
    return perm;
}

Test(lukern, row_kernels_match_ref_on_listed_and_all_rows)
{
    rng_t r;
    rng_init(&r, 2, 99);
    for (int di = 0; di < N_DIMS; di++)
        for (int listed = 0; listed < 2; listed++) {
            int D = dims[di], V = 3 + (int)rng_below(&r, 60);
            int n = listed ? 1 + (int)rng_below(&r, (uint64_t)V) : V;
            int32_t *rows = listed ? rand_rows(&r, V, n) : NULL;
            double *A = randv(&r, (size_t)V * D), *x = randv(&r, (size_t)D), *g = randv(&r, (size_t)V);
            double *s1 = randv(&r, (size_t)V), *s2 = copyv(s1, (size_t)V);
            lukern_rows_dot(n, rows, D, A, x, s1);
            lukern_rows_dot_ref(n, rows, D, A, x, s2);
            cr_expect_leq(maxrel(s1, s2, (size_t)V), 1e-13, "rows_dot D=%d listed=%d", D, listed);

            double *A1 = copyv(A, (size_t)V * D), *A2 = copyv(A, (size_t)V * D);
            lukern_rows_rank1(n, rows, D, -0.3, g, x, A1);
            lukern_rows_rank1_ref(n, rows, D, -0.3, g, x, A2);
            cr_expect_leq(maxrel(A1, A2, (size_t)V * D), 1e-13, "rank1 D=%d listed=%d", D, listed);

            double *y1 = randv(&r, (size_t)D), *y2 = copyv(y1, (size_t)D);
            lukern_rows_gemv_t(n, rows, D, 0.7, g, A, y1);
            lukern_rows_gemv_t_ref(n, rows, D, 0.7, g, A, y2);
            cr_expect_leq(maxrel(y1, y2, (size_t)D), 1e-12, "gemv_t D=%d listed=%d", D, listed);

            double *G = randv(&r, (size_t)V * D);
            memcpy(A1, A, sizeof(double) * (size_t)V * D);
            memcpy(A2, A, sizeof(double) * (size_t)V * D);
            lukern_rows_axpy(n, rows, D, -0.1, G, A1);
            lukern_rows_axpy_ref(n, rows, D, -0.1, G, A2);
            cr_expect_leq(maxrel(A1, A2, (size_t)V * D), 1e-14, "axpy D=%d listed=%d", D, listed);
            if (listed) { /* rows not listed are untouched */
                char *in = calloc((size_t)V, 1);
                for (int j = 0; j < n; j++) in[rows[j]] = 1;
                for (int w = 0; w < V; w++)
                    if (!in[w])
                        cr_expect(memcmp(A1 + (size_t)w * D, A + (size_t)w * D,
                                         sizeof(double) * (size_t)D) == 0);
                free(in);
            }
            free(rows), free(A), free(x), free(g), free(s1), free(s2), free(A1), free(A2);
            free(y1), free(y2), free(G);
        }
}

/* A random batch of B sentences of length L over V words, drawn through rows or directly. */
typedef struct {
    int B, L, V, n_rows;
    int32_t *tokens;
    long *rows;
} batch_t;

static void batch_make(rng_t *r, batch_t *bt, int with_rows)
{
    bt->B = 1 + (int)rng_below(r, 30);
    bt->L = 1 + (int)rng_below(r, 12);
    bt->V = 2 + (int)rng_below(r, 40);
    bt->n_rows = bt->B + 5;
    bt->tokens = malloc(sizeof(int32_t) * (size_t)bt->n_rows * bt->L);
    for (int i = 0; i < bt->n_rows * bt->L; i++) bt->tokens[i] = (int32_t)rng_below(r, (uint64_t)bt->V);
    bt->rows = NULL;
    if (with_rows) {
        bt->rows = malloc(sizeof(long) * (size_t)bt->B);
        for (int b = 0; b < bt->B; b++) bt->rows[b] = (long)rng_below(r, (uint64_t)bt->n_rows);
    }
}

static void batch_free(batch_t *bt)
{
    free(bt->tokens);
    free(bt->rows);
}

/* Scores and ew = exp(score − max) as the model builds them. */
static void make_scores(rng_t *r, int V, double spread, double *score, double *ew)
{
    double mx = -INFINITY;
    for (int w = 0; w < V; w++) {
        score[w] = spread * rng_normal(r);
        if (score[w] > mx) mx = score[w];
    }
    for (int w = 0; w < V; w++) ew[w] = exp(score[w] - mx);
}

Test(lukern, attention_forward_matches_ref)
{
    rng_t r;
    rng_init(&r, 3, 99);
    for (int di = 0; di < N_DIMS; di++)
        for (int with_rows = 0; with_rows < 2; with_rows++) {
            batch_t bt;
            batch_make(&r, &bt, with_rows);
            int D = dims[di];
            double *E = randv(&r, (size_t)bt.V * D), *score = randv(&r, (size_t)bt.V),
                   *ew = randv(&r, (size_t)bt.V);
            make_scores(&r, bt.V, 2.0, score, ew);
            size_t nA = (size_t)bt.B * bt.L, nH = (size_t)bt.B * D;
            double *A1 = randv(&r, nA), *A2 = randv(&r, nA), *H1 = randv(&r, nH), *H2 = randv(&r, nH);
            double *z1 = randv(&r, (size_t)bt.B), *z2 = randv(&r, (size_t)bt.B);
            cr_expect_eq(lukern_attend_fwd(bt.B, bt.L, D, bt.tokens, bt.rows, score, ew, E, A1, z1, H1), 0);
            cr_expect_eq(lukern_attend_fwd_ref(bt.B, bt.L, D, bt.tokens, bt.rows, score, ew, E, A2, z2, H2), 0);
            cr_expect_leq(maxrel(A1, A2, nA), 1e-14, "A: D=%d rows=%d", D, with_rows);
            cr_expect_leq(maxrel(H1, H2, nH), 1e-13, "H: D=%d rows=%d", D, with_rows);
            cr_expect_leq(maxrel(z1, z2, (size_t)bt.B), 1e-15, "zinv: D=%d rows=%d", D, with_rows);
            for (int b = 0; b < bt.B; b++) /* a_i = ew[t_i]·zinv_b */
                for (int i = 0; i < bt.L; i++) {
                    const int32_t *t = bt.tokens + (size_t)(bt.rows ? bt.rows[b] : b) * bt.L;
                    cr_expect_float_eq(A1[(size_t)b * bt.L + i], ew[t[i]] * z1[b], 1e-15);
                }
            double *H3 = randv(&r, nH); /* without storing A: the same H */
            lukern_attend_fwd(bt.B, bt.L, D, bt.tokens, bt.rows, score, ew, E, NULL, NULL, H3);
            cr_expect(memcmp(H3, H1, sizeof(double) * nH) == 0);
            free(z1), free(z2), free(H3);
            for (int b = 0; b < bt.B; b++) { /* attention sums to 1 */
                double s = 0.0;
                for (int i = 0; i < bt.L; i++) s += A1[(size_t)b * bt.L + i];
                cr_expect_float_eq(s, 1.0, 1e-14);
            }
            free(E), free(score), free(ew), free(A1), free(A2), free(H1), free(H2);
            batch_free(&bt);
        }
}

Test(lukern, attention_forward_survives_scores_far_below_the_shift)
{
    /* One word's score is 2000 above the rest: under the global shift every other word's ew
     * underflows to 0, so a sentence without that word must fall back to its own maximum. */
    int V = 4, L = 3, D = 2, B = 2;
    int32_t tokens[6] = {0, 1, 2, /* no word 3 */ 3, 1, 2};
    double score[4] = {-1.0, 0.0, 1.0, 2000.0}, ew[4], E[8] = {1, 0, 0, 1, 1, 1, 5, 5};
    for (int w = 0; w < V; w++) ew[w] = exp(score[w] - 2000.0);
    double A1[6], A2[6], H1[4], H2[4], z[2];
    cr_expect_eq(lukern_attend_fwd(B, L, D, tokens, NULL, score, ew, E, A1, z, H1), 1);
    cr_expect_eq(z[0], 0.0, "the fallen-back sentence has no global normaliser");
    lukern_attend_fwd_ref(B, L, D, tokens, NULL, score, ew, E, A2, NULL, H2);
    for (int i = 0; i < 6; i++) cr_expect(isfinite(A1[i]));
    cr_expect_leq(maxrel(A1, A2, 6), 1e-15);
    cr_expect_leq(maxrel(H1, H2, 4), 1e-15);
    cr_expect_float_eq(A1[3], 1.0, 1e-15);
    double H3[4];
    cr_expect_eq(lukern_attend_fwd(B, L, D, tokens, NULL, score, ew, E, NULL, NULL, H3), 1);
    cr_expect_leq(maxrel(H3, H2, 4), 1e-15, "the same context without storing the attention");
}

/* Build the batch index of bt into freshly allocated arrays. */
static lukern_batch_t index_make(const batch_t *b, uint32_t *mark, int32_t *slot)
{
    lukern_batch_t k = {.B = b->B, .L = b->L, .V = b->V, .tokens = b->tokens, .rows = b->rows};
    size_t np = (size_t)b->B * b->L;
    k.words = malloc(sizeof(int32_t) * np);
    k.ptr = malloc(sizeof(int32_t) * (np + 1));
    k.pos = malloc(sizeof(int32_t) * np);
    k.sen = malloc(sizeof(int32_t) * np);
    lukern_batch_index(&k, mark, 1, slot);
    return k;
}

static void index_free(lukern_batch_t *k)
{
    free(k->words), free(k->ptr), free(k->pos), free(k->sen);
}

Test(lukern, batch_index_lists_every_occurrence_once_under_its_word)
{
    rng_t r;
    rng_init(&r, 4, 99);
    for (int trial = 0; trial < 20; trial++) {
        batch_t bt;
        batch_make(&r, &bt, trial & 1);
        uint32_t *mark = calloc((size_t)bt.V, sizeof(uint32_t));
        int32_t *slot = malloc(sizeof(int32_t) * (size_t)bt.V);
        lukern_batch_t k = index_make(&bt, mark, slot);
        int np = bt.B * bt.L;
        char *seen = calloc((size_t)np, 1), *word_seen = calloc((size_t)bt.V, 1);
        cr_expect_eq(k.ptr[0], 0);
        cr_expect_eq(k.ptr[k.n_words], np);
        for (int j = 0; j < k.n_words; j++) {
            cr_expect_eq(word_seen[k.words[j]], 0, "word listed twice");
            if (j) cr_expect_lt(k.words[j - 1], k.words[j], "words not ascending");
            word_seen[k.words[j]] = 1;
            cr_expect_lt(k.ptr[j], k.ptr[j + 1], "a listed word without occurrences");
            for (int q = k.ptr[j]; q < k.ptr[j + 1]; q++) {
                int p = k.pos[q], b = k.sen[q];
                cr_expect_eq(p / bt.L, b);
                const int32_t *t = bt.tokens + (size_t)(bt.rows ? bt.rows[b] : b) * bt.L;
                cr_expect_eq(t[p % bt.L], k.words[j]);
                cr_expect_eq(seen[p], 0);
                seen[p] = 1;
            }
        }
        for (int p = 0; p < np; p++) cr_expect_eq(seen[p], 1, "position %d not indexed", p);
        free(seen), free(word_seen), free(mark), free(slot);
        index_free(&k);
        batch_free(&bt);
    }
}

Test(lukern, attention_backward_matches_ref)
{
    rng_t r;
    rng_init(&r, 5, 99);
    for (int di = 0; di < N_DIMS; di++)
        for (int with_rows = 0; with_rows < 2; with_rows++) {
            batch_t bt;
            batch_make(&r, &bt, with_rows);
            int D = dims[di], V = bt.V;
            uint32_t *mark = calloc((size_t)V, sizeof(uint32_t));
            int32_t *slot = malloc(sizeof(int32_t) * (size_t)V);
            lukern_batch_t k = index_make(&bt, mark, slot);
            size_t nA = (size_t)bt.B * bt.L, nH = (size_t)bt.B * D;
            double *A = randv(&r, nA), *dH = randv(&r, nH), *c = randv(&r, (size_t)bt.B);
            double *E = randv(&r, (size_t)V * D);
            double *g1 = randv(&r, (size_t)V * D), *g2 = copyv(g1, (size_t)V * D);
            double *s1 = randv(&r, (size_t)V), *s2 = copyv(s1, (size_t)V);
            double *ew = randv(&r, (size_t)V), *tmp = randv(&r, (size_t)D);
            for (int mode = 0; mode < 4; mode++) { /* attention from A or ew; overwrite or add */
                const double *w = mode & 1 ? ew : NULL;
                int acc = mode >> 1;
                lukern_attend_bwd(&k, D, A, w, dH, c, E, acc, tmp, g1, s1);
                lukern_attend_bwd_ref(&k, D, A, w, dH, c, E, acc, tmp, g2, s2);
                cr_expect_leq(maxrel(g1, g2, (size_t)V * D), 1e-12, "gE: D=%d rows=%d mode=%d", D,
                              with_rows, mode);
                cr_expect_leq(maxrel(s1, s2, (size_t)V), 1e-12, "gs: D=%d rows=%d mode=%d", D,
                              with_rows, mode);
            }
            free(ew), free(tmp);
            free(A), free(dH), free(c), free(E), free(g1), free(g2), free(s1), free(s2);
            free(mark), free(slot);
            index_free(&k);
            batch_free(&bt);
        }
}

Test(lukern, wide_vectors_give_the_same_bits_as_two_lane_vectors)
{
    if (!lukern_avx(1)) cr_skip_test("this CPU has no AVX: only the 2-lane paths run");
    static const int wdims[] = {2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 32, 33, 64, 70, 128};
    rng_t r;
    rng_init(&r, 8, 99);
    for (size_t di = 0; di < sizeof wdims / sizeof wdims[0]; di++)
        for (int with_rows = 0; with_rows < 2; with_rows++) {
            batch_t bt;
            batch_make(&r, &bt, with_rows);
            int D = wdims[di], V = bt.V;
            size_t nA = (size_t)bt.B * bt.L, nH = (size_t)bt.B * D, nE = (size_t)V * D;
            double *E = randv(&r, nE), *score = randv(&r, (size_t)V), *ew = randv(&r, (size_t)V);
            make_scores(&r, V, 2.0, score, ew);
            double *A[2], *H[2], *z[2], *g[2], *s[2];
            uint32_t *mark = calloc((size_t)V, sizeof(uint32_t));
            int32_t *slot = malloc(sizeof(int32_t) * (size_t)V);
            lukern_batch_t k = index_make(&bt, mark, slot);
            double *dH = randv(&r, nH), *c = randv(&r, (size_t)bt.B), *tmp = randv(&r, (size_t)D);
            double *g0 = randv(&r, nE), *s0 = randv(&r, (size_t)V);
            for (int avx = 0; avx < 2; avx++) {
                cr_assert_eq(lukern_avx(avx), avx);
                A[avx] = randv(&r, nA), H[avx] = randv(&r, nH), z[avx] = randv(&r, (size_t)bt.B);
                lukern_attend_fwd(bt.B, bt.L, D, bt.tokens, bt.rows, score, ew, E, A[avx], z[avx],
                                H[avx]);
                g[avx] = copyv(g0, nE), s[avx] = copyv(s0, (size_t)V);
                for (int mode = 0; mode < 4; mode++) /* attention from A or ew; overwrite or add */
                    lukern_attend_bwd(&k, D, A[avx], mode & 1 ? ew : NULL, dH, c, E, mode >> 1, tmp,
                                    g[avx], s[avx]);
            }
            cr_expect(memcmp(H[0], H[1], sizeof(double) * nH) == 0, "H: D=%d rows=%d", D,
                      with_rows);
            cr_expect(memcmp(A[0], A[1], sizeof(double) * nA) == 0, "A: D=%d", D);
            cr_expect(memcmp(z[0], z[1], sizeof(double) * (size_t)bt.B) == 0, "zinv: D=%d", D);
            cr_expect(memcmp(g[0], g[1], sizeof(double) * nE) == 0, "gE: D=%d rows=%d", D,
                      with_rows);
            cr_expect(memcmp(s[0], s[1], sizeof(double) * (size_t)V) == 0, "gs: D=%d", D);
            for (int avx = 0; avx < 2; avx++) free(A[avx]), free(H[avx]), free(z[avx]), free(g[avx]), free(s[avx]);
            free(E), free(score), free(ew), free(dH), free(c), free(tmp), free(g0), free(s0);
            free(mark), free(slot);
            index_free(&k);
            batch_free(&bt);
        }
}

Test(lukern, attention_backward_is_the_softmax_jacobian)
{
    /* Independent of both implementations: ∂/∂s_w of Σ_b dH_b·H_b with H from the forward,
     * by central differences on the scores (the loss is linear in H, so this is exact up to
     * rounding). */
    rng_t r;
    rng_init(&r, 6, 99);
    batch_t bt;
    batch_make(&r, &bt, 1);
    int D = 5, V = bt.V;
    uint32_t *mark = calloc((size_t)V, sizeof(uint32_t));
    int32_t *slot = malloc(sizeof(int32_t) * (size_t)V);
    lukern_batch_t k = index_make(&bt, mark, slot);
    double *E = randv(&r, (size_t)V * D), *score = randv(&r, (size_t)V), *ew = randv(&r, (size_t)V);
    double *dH = randv(&r, (size_t)bt.B * D), *A = randv(&r, (size_t)bt.B * bt.L);
    double *H = randv(&r, (size_t)bt.B * D), *c = randv(&r, (size_t)bt.B);
    double *gE = calloc((size_t)V * D, sizeof(double)), *gs = calloc((size_t)V, sizeof(double));
    make_scores(&r, V, 1.0, score, ew);
    lukern_attend_fwd_ref(bt.B, bt.L, D, bt.tokens, bt.rows, score, ew, E, A, NULL, H);
    for (int b = 0; b < bt.B; b++) {
        c[b] = 0.0;
        for (int d = 0; d < D; d++) c[b] += dH[b * D + d] * H[b * D + d];
    }
    lukern_attend_bwd(&k, D, A, NULL, dH, c, E, 0, NULL, gE, gs);
    for (int j = 0; j < k.n_words; j++) {
        int w = k.words[j];
        double f[2], h = 1e-6, s0 = score[w];
        for (int sgn = 0; sgn < 2; sgn++) {
            score[w] = s0 + (sgn ? -h : h);
            lukern_attend_fwd_ref(bt.B, bt.L, D, bt.tokens, bt.rows, score, ew, E, A, NULL, H);
            f[sgn] = 0.0;
            for (int i = 0; i < bt.B * D; i++) f[sgn] += dH[i] * H[i];
        }
        score[w] = s0;
        double fd = (f[0] - f[1]) / (2 * h);
        cr_expect_leq(fabs(fd - gs[w]), 1e-7 * fmax(1.0, fabs(fd)), "word %d: fd %g vs %g", w, fd,
                      gs[w]);
    }
    free(E), free(score), free(ew), free(dH), free(A), free(H), free(c), free(gE), free(gs);
    free(mark), free(slot);
    index_free(&k);
    batch_free(&bt);
}

Test(lukern, cross_entropy_matches_hand_computed_values)
{
    double Z[6] = {1.0, 2.0, 3.0, 0.0, 0.0, 0.0}, dZ[6];
    int32_t labels[2] = {2, 1};
    long correct = 0;
    double sum = lukern_xent(2, 3, Z, labels, NULL, 0.5, dZ, &correct);
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
    cr_expect_float_eq(sum, (lse - 3.0) + log(3.0), 1e-14);
    cr_expect_eq(correct, 1); /* row 1 is a three-way tie: first argmax is 0, not the label */
    cr_expect_float_eq(dZ[2], 0.5 * (exp(3.0 - lse) - 1.0), 1e-15);
    cr_expect_float_eq(dZ[0], 0.5 * exp(1.0 - lse), 1e-15);
    cr_expect_float_eq(dZ[4], 0.5 * (1.0 / 3.0 - 1.0), 1e-15);
    long rows[1] = {1};
    correct = 0;
    sum = lukern_xent(1, 3, Z, labels, rows, 1.0, NULL, &correct);
    cr_expect_float_eq(sum, lse - 2.0, 1e-14, "labels are read through rows");
}

Test(lukern, cross_entropy_of_a_long_batch_matches_the_row_by_row_sum)
{
    /* lukern_xent takes one log of the product of the rows' partition sums: check it against
     * the plain sum of logs on 20,000 rows with large logits (the product must be rescaled) */
    rng_t r;
    rng_init(&r, 8, 99);
    enum { B = 20000, C = 7 };
    double *Z = randv(&r, (size_t)B * C);
    int32_t *y = malloc(sizeof(int32_t) * B);
    for (int b = 0; b < B; b++) y[b] = (int32_t)rng_below(&r, C);
    for (int i = 0; i < B * C; i++) Z[i] *= 3.0;
    double want = 0.0;
    for (int b = 0; b < B; b++) {
        double mx = Z[b * C], s = 0.0;
        for (int c = 1; c < C; c++) mx = fmax(mx, Z[b * C + c]);
        for (int c = 0; c < C; c++) s += exp(Z[b * C + c] - mx);
        want += mx + log(s) - Z[b * C + y[b]];
    }
    double got = lukern_xent(B, C, Z, y, NULL, 1.0, NULL, NULL);
    cr_expect_leq(fabs(got - want), 1e-12 * want, "%.17g vs %.17g", got, want);
    free(Z), free(y);
}

Test(lukern, relu_bias_and_column_sums)
{
    double Z[4] = {-1.0, 0.0, 2.0, 3.0}, R[4], dR[4] = {1, 1, 1, 1}, b[2] = {10, 20}, y[2] = {1, 1};
    lukern_relu(4, Z, R);
    cr_expect(R[0] == 0.0 && R[1] == 0.0 && R[2] == 2.0 && R[3] == 3.0);
    lukern_relu_bwd(4, Z, dR);
    cr_expect(dR[0] == 0.0 && dR[1] == 0.0 && dR[2] == 1.0 && dR[3] == 1.0);
    lukern_add_bias(2, 2, b, Z);
    cr_expect(Z[0] == 9.0 && Z[1] == 20.0 && Z[2] == 12.0 && Z[3] == 23.0);
    lukern_colsum(2, 2, Z, y);
    cr_expect(y[0] == 22.0 && y[1] == 44.0);
}
