/* Tests of lu2021's float32 kernels (src/models/lu2021/lukern32.c): the vector e^x against libm's
 * expf (≤ 2 ulp) and at its limits, the pooling, its word-by-word adjoint and the classifier
 * kernel bit for bit against their `_ref` twins, on row widths and batch sizes that hit the
 * interleaved, generic and tail paths, and the AVX2 compilation against the SSE one. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/rng.h"
#include "models/lu2021/lukern.h"
#include "models/lu2021/lukern32.h"

static float *randf(rng_t *r, size_t n)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    cr_assert(x);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_normal(r);
    return x;
}

/* The distance in units in the last place between two finite floats of the same sign. */
static long ulps(float a, float b)
{
    int32_t x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    return labs((long)x - (long)y);
}

/* Run body once per vector width: the SSE compilation, then AVX2 where the CPU has it. */
#define EACH_WIDTH(avx)                                                                           \
    for (int avx = 0, have_ = lukern32_avx(1); avx <= have_ && lukern32_avx(avx) == avx; avx++)

static void restore_avx(void) { lukern32_avx(1); }
TestSuite(lukern32, .fini = restore_avx);

Test(lukern32, exp_is_within_two_ulp_of_expf_and_the_same_on_every_width)
{
    const long n = 200001; /* an odd count: the padded tail too */
    float *x = malloc(sizeof(float) * n), *y[2] = {NULL, NULL}, *ref = malloc(sizeof(float) * n);
    for (long i = 0; i < n; i++) x[i] = -86.9f + (88.3f + 86.9f) * (float)i / (float)(n - 1);
    lukern32_exp_ref(n, x, ref);
    EACH_WIDTH(avx)
    {
        y[avx] = malloc(sizeof(float) * n);
        lukern32_exp(n, x, y[avx]);
        long worst = 0;
        for (long i = 0; i < n; i++) {
            long u = ulps(y[avx][i], ref[i]);
            if (u > worst) worst = u;
        }
        cr_expect_leq(worst, 2, "avx %d: %ld ulp from expf", avx, worst);
    }
    if (y[1]) cr_expect(memcmp(y[0], y[1], sizeof(float) * n) == 0, "AVX2 and SSE differ");
    /* the limits, and y may be x */
    float lim[9] = {-87.5f, -1e30f, -INFINITY, 88.5f, INFINITY, NAN, 0.0f, -0.0f, 1.0f};
    lukern32_exp(9, lim, lim);
    for (int i = 0; i < 3; i++) cr_expect_eq(lim[i], 0.0f, "limit %d", i);
    cr_expect(isinf(lim[3]) && lim[3] > 0 && isinf(lim[4]));
    cr_expect(isnan(lim[5]));
    cr_expect_eq(lim[6], 1.0f);
    cr_expect_eq(lim[7], 1.0f);
    cr_expect_leq(ulps(lim[8], expf(1.0f)), 2);
    free(x), free(ref), free(y[0]), free(y[1]);
}

/* A random batch: B sentences of L tokens over V words, optionally addressed through rows. */
typedef struct {
    int B, L, V, N;
    int32_t *tokens;
    long *rows;
} batch_t;

static void batch_make(rng_t *r, batch_t *bt, int B, int L, int V, int with_rows)
{
    bt->B = B, bt->L = L, bt->V = V, bt->N = with_rows ? B + 7 : B;
    bt->tokens = malloc(sizeof(int32_t) * (size_t)bt->N * L);
    for (size_t i = 0; i < (size_t)bt->N * L; i++) bt->tokens[i] = (int32_t)rng_below(r, (uint64_t)V);
    bt->rows = NULL;
    if (with_rows) {
        bt->rows = malloc(sizeof(long) * (size_t)B);
        for (int b = 0; b < B; b++) bt->rows[b] = (long)rng_below(r, (uint64_t)bt->N);
    }
}

static void batch_free(batch_t *bt)
{
    free(bt->tokens);
    free(bt->rows);
}

static const int widths[] = {8, 16, 24, 64, 72, 136};
static const int sizes[] = {1, 7, 8, 13, 100};

Test(lukern32, pool_matches_ref_bit_for_bit)
{
    rng_t r;
    rng_init(&r, 3, 1);
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (int with_rows = 0; with_rows < 2; with_rows++) {
                int W = widths[wi], B = sizes[si], V = 50;
                batch_t bt;
                batch_make(&r, &bt, B, 21, V, with_rows);
                float *T = randf(&r, (size_t)V * W), *ref = randf(&r, (size_t)B * W);
                float *out = randf(&r, (size_t)B * W);
                lukern32_pool_ref(B, bt.L, W, bt.tokens, bt.rows, T, ref);
                EACH_WIDTH(avx)
                {
                    lukern32_pool(B, bt.L, W, bt.tokens, bt.rows, T, out);
                    cr_expect(memcmp(out, ref, sizeof(float) * (size_t)B * W) == 0,
                              "W=%d B=%d rows=%d avx=%d", W, B, with_rows, avx);
                }
                free(T), free(ref), free(out);
                batch_free(&bt);
            }
}

Test(lukern32, gather_matches_ref_and_is_the_adjoint_of_pool)
{
    rng_t r;
    rng_init(&r, 4, 1);
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (int with_rows = 0; with_rows < 2; with_rows++) {
                int W = widths[wi], B = sizes[si], V = 60, L = 9;
                batch_t bt;
                batch_make(&r, &bt, B, L, V, with_rows);
                lukern_batch_t k = {.B = B, .L = L, .V = V, .tokens = bt.tokens, .rows = bt.rows};
                k.words = malloc(sizeof(int32_t) * (size_t)V);
                k.ptr = malloc(sizeof(int32_t) * (size_t)(V + 1));
                k.pos = malloc(sizeof(int32_t) * (size_t)B * L);
                k.sen = malloc(sizeof(int32_t) * (size_t)B * L);
                uint32_t *mark = calloc((size_t)V, sizeof(uint32_t));
                int32_t *slot = malloc(sizeof(int32_t) * (size_t)V);
                lukern_batch_index(&k, mark, 1, slot);
                float *G = randf(&r, (size_t)B * W), *ref = randf(&r, (size_t)V * W);
                float *R = malloc(sizeof(float) * (size_t)V * W);
                lukern32_gather_ref(k.n_words, k.words, k.ptr, k.sen, W, G, ref);
                EACH_WIDTH(avx)
                {
                    memcpy(R, ref, sizeof(float) * (size_t)V * W);
                    for (int j = 0; j < k.n_words; j++) /* the listed rows are overwritten */
                        memset(R + (size_t)k.words[j] * W, 0xff, sizeof(float) * (size_t)W);
                    lukern32_gather(k.n_words, k.words, k.ptr, k.sen, W, G, R);
                    cr_expect(memcmp(R, ref, sizeof(float) * (size_t)V * W) == 0,
                              "W=%d B=%d rows=%d avx=%d", W, B, with_rows, avx);
                }
                /* the scatter R[t_bi] += G[b] over b, then i, gives the same bits */
                float *S = calloc((size_t)V * W, sizeof(float));
                for (int b = 0; b < B; b++) {
                    const int32_t *t = bt.tokens + (size_t)(bt.rows ? bt.rows[b] : b) * L;
                    for (int i = 0; i < L; i++)
                        for (int d = 0; d < W; d++) S[(size_t)t[i] * W + d] += G[(size_t)b * W + d];
                }
                for (int j = 0; j < k.n_words; j++)
                    cr_expect(memcmp(S + (size_t)k.words[j] * W, ref + (size_t)k.words[j] * W,
                                     sizeof(float) * (size_t)W) == 0, "scatter: W=%d word %d", W,
                              k.words[j]);
                /* adjoint: <pool(T), G> = <T, gather(G)> (to rounding) */
                float *T = randf(&r, (size_t)V * W), *P = malloc(sizeof(float) * (size_t)B * W);
                lukern32_pool_ref(B, L, W, bt.tokens, bt.rows, T, P);
                double lhs = 0.0, rhs = 0.0, mag = 0.0;
                for (size_t i = 0; i < (size_t)B * W; i++) lhs += (double)P[i] * G[i], mag += fabs((double)P[i] * G[i]);
                for (int j = 0; j < k.n_words; j++)
                    for (int d = 0; d < W; d++) {
                        size_t i = (size_t)k.words[j] * W + d;
                        rhs += (double)T[i] * ref[i];
                    }
                cr_expect_leq(fabs(lhs - rhs), 1e-5 * mag, "adjoint: %g vs %g", lhs, rhs);
                free(G), free(ref), free(R), free(S), free(T), free(P), free(mark), free(slot);
                free(k.words), free(k.ptr), free(k.pos), free(k.sen);
                batch_free(&bt);
            }
}

Test(lukern32, xent8_matches_ref_bit_for_bit_and_the_definition)
{
    rng_t r;
    rng_init(&r, 5, 1);
    for (int K = 1; K <= 7; K++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (int with_rows = 0; with_rows < 2; with_rows++) {
                int nb = sizes[si], N = with_rows ? nb + 5 : nb;
                int32_t *labels = malloc(sizeof(int32_t) * (size_t)N);
                long *rows = NULL;
                for (int i = 0; i < N; i++) labels[i] = (int32_t)rng_below(&r, (uint64_t)K);
                if (with_rows) {
                    rows = malloc(sizeof(long) * (size_t)nb);
                    for (int b = 0; b < nb; b++) rows[b] = (long)rng_below(&r, (uint64_t)N);
                }
                float *p = calloc((size_t)nb * 8, sizeof(float));
                for (int b = 0; b < nb; b++) { /* pooled rows: K numerators, z_b > 0, zeros */
                    for (int c = 0; c < K; c++) p[b * 8 + c] = 3.0f * (float)rng_normal(&r);
                    p[b * 8 + K] = 0.5f + (float)rng_uniform(&r);
                    if (b == 3 && K > 1) p[b * 8 + 1] = p[b * 8]; /* a tie: the first wins */
                }
                float o[2][4][100], G[2][100 * 8];
                int hits[2];
                for (int fast = 0; fast < 2; fast++) {
                    if (fast == 0) {
                        hits[0] = lukern32_xent8_ref(nb, K, p, labels, rows, 0.25f, o[0][0],
                                                     o[0][1], o[0][2], G[0]);
                        continue;
                    }
                    EACH_WIDTH(avx)
                    {
                        memset(G[1], 0xff, sizeof G[1]);
                        hits[1] = lukern32_xent8(nb, K, p, labels, rows, 0.25f, o[1][0], o[1][1],
                                                 o[1][2], G[1]);
                        cr_expect_eq(hits[1], hits[0], "K=%d nb=%d avx=%d", K, nb, avx);
                        for (int a = 0; a < 3; a++)
                            cr_expect(memcmp(o[0][a], o[1][a], sizeof(float) * (size_t)nb) == 0,
                                      "output %d: K=%d nb=%d avx=%d", a, K, nb, avx);
                        cr_expect(memcmp(G[0], G[1], sizeof(float) * (size_t)nb * 8) == 0,
                                  "G: K=%d nb=%d avx=%d", K, nb, avx);
                        lukern32_xent8(nb, K, p, labels, rows, 0.25f, o[1][0], o[1][1], o[1][2],
                                       NULL); /* without G */
                        cr_expect(memcmp(o[0][2], o[1][2], sizeof(float) * (size_t)nb) == 0);
                    }
                }
                /* the definition, in double: loss m + log s and the gradient rows */
                for (int b = 0; b < nb; b++) {
                    int y = labels[rows ? rows[b] : b];
                    double z[8], mx = -INFINITY, se = 0.0;
                    for (int c = 0; c < K; c++) {
                        z[c] = (double)p[b * 8 + c] / p[b * 8 + K];
                        mx = fmax(mx, z[c]);
                    }
                    for (int c = 0; c < K; c++) se += exp(z[c] - mx);
                    double loss = log(se) + mx - z[y], c_b = 0.0, mag = 0.0;
                    cr_expect_leq(fabs(o[0][1][b] + log((double)o[0][2][b]) - loss),
                                  1e-6 * (1.0 + fabs(mx) + fabs(z[y])), "loss: K=%d b=%d", K, b);
                    for (int c = 0; c < K; c++) {
                        double dz = 0.25 * (exp(z[c] - mx) / se - (c == y));
                        c_b += dz * z[c];
                        mag += fabs(dz * z[c]);
                        cr_expect_leq(fabs(G[0][b * 8 + c] - dz / p[b * 8 + K]),
                                      1e-6 / p[b * 8 + K], "dZ: K=%d b=%d c=%d", K, b, c);
                    }
                    cr_expect_leq(fabs(G[0][b * 8 + K] + c_b / p[b * 8 + K]),
                                  1e-6 * (1.0 + mag) / p[b * 8 + K], "c: K=%d b=%d", K, b);
                    for (int c = K + 1; c < 8; c++) cr_expect_eq(G[0][b * 8 + c], 0.0f);
                }
                free(labels), free(rows), free(p);
            }
}
