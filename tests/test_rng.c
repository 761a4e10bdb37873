/* Tests of the random streams (src/rng.c): reproducible from (seed, stream) alone, independent
 * across streams and seeds, and with the right moments (uniform, normal, bounded integers),
 * each checked against a tolerance of several standard errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "attnsweep/rng.h"

#define N 200000

Test(rng, the_same_seed_and_stream_give_the_same_numbers)
{
    rng_t a, b;
    rng_init(&a, 42, RNG_STREAM_DATA);
    rng_init(&b, 42, RNG_STREAM_DATA);
    for (int i = 0; i < 1000; i++) cr_assert_eq(rng_u64(&a), rng_u64(&b));
    for (int i = 0; i < 1001; i++) cr_assert_eq(rng_normal(&a), rng_normal(&b)); /* spare too */
}

Test(rng, known_first_values_do_not_change_between_versions)
{
    /* Changing these changes every stored result: only with a format_version bump. */
    rng_t r;
    rng_init(&r, 0, RNG_STREAM_DATA);
    cr_expect_eq(rng_u64(&r), UINT64_C(17966716821136472732));
    rng_init(&r, 12345, RNG_STREAM_INIT);
    cr_expect_eq(rng_u64(&r), UINT64_C(9346994483885543665));
    cr_expect_eq(rng_normal(&r), 0.5214614381352638);
}

/* Pearson correlation of the uniforms of two generators. */
static double correlation(rng_t *a, rng_t *b)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < N; i++) {
        double x = rng_uniform(a), y = rng_uniform(b);
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
    double cov = sxy / N - (sx / N) * (sy / N);
    return cov / sqrt((sxx / N - sx * sx / N / N) * (syy / N - sy * sy / N / N));
}

Test(rng, streams_and_neighbouring_seeds_are_independent)
{
    rng_t a, b;
    int streams[] = {RNG_STREAM_DATA, RNG_STREAM_INIT, RNG_STREAM_BATCH, RNG_STREAM_EVAL};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++) {
            rng_init(&a, 7, (uint64_t)streams[i]);
            rng_init(&b, 7, (uint64_t)streams[j]);
            double c = correlation(&a, &b); /* standard error 1/sqrt(N) ≈ 0.0022 */
            cr_expect_lt(fabs(c), 0.011, "streams %d and %d: correlation %g", streams[i], streams[j], c);
        }
    rng_init(&a, 7, RNG_STREAM_DATA);
    rng_init(&b, 8, RNG_STREAM_DATA);
    cr_expect_lt(fabs(correlation(&a, &b)), 0.011, "seeds 7 and 8");
    /* and no stream is a shifted copy of another: no common values in their first 1000 draws */
    uint64_t x[1000];
    rng_init(&a, 7, RNG_STREAM_DATA);
    for (int i = 0; i < 1000; i++) x[i] = rng_u64(&a);
    rng_init(&b, 7, RNG_STREAM_INIT);
    for (int i = 0; i < 1000; i++) {
        uint64_t y = rng_u64(&b);
        for (int k = 0; k < 1000; k++) cr_assert_neq(x[k], y);
    }
}

Test(rng, uniforms_lie_in_the_unit_interval_with_the_right_moments)
{
    rng_t r;
    rng_init(&r, 11, RNG_STREAM_EVAL);
    double s = 0, s2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < N; i++) {
        double u = rng_uniform(&r);
        cr_assert(u >= 0.0 && u < 1.0);
        s += u, s2 += u * u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    double mean = s / N, var = s2 / N - mean * mean;
    cr_expect_lt(fabs(mean - 0.5), 5 * sqrt(1.0 / 12 / N), "mean %g", mean);
    cr_expect_lt(fabs(var - 1.0 / 12), 0.002, "variance %g", var);
    cr_expect_lt(lo, 1e-4);
    cr_expect_gt(hi, 1 - 1e-4);
}

Test(rng, normals_have_mean_zero_variance_one_and_normal_tails)
{
    rng_t r;
    rng_init(&r, 12, RNG_STREAM_INIT);
    double s = 0, s2 = 0, s4 = 0;
    int beyond2 = 0;
    for (int i = 0; i < N; i++) {
        double z = rng_normal(&r);
        cr_assert(isfinite(z));
        s += z, s2 += z * z, s4 += z * z * z * z;
        beyond2 += fabs(z) > 2.0;
    }
    double mean = s / N, var = s2 / N - mean * mean, kurt = s4 / N;
    cr_expect_lt(fabs(mean), 5 / sqrt((double)N), "mean %g", mean);
    cr_expect_lt(fabs(var - 1.0), 5 * sqrt(2.0 / N), "variance %g", var);
    cr_expect_lt(fabs(kurt - 3.0), 0.1, "fourth moment %g", kurt);
    double p2 = (double)beyond2 / N; /* P(|Z| > 2) = 0.0455 */
    cr_expect_lt(fabs(p2 - 0.0455), 0.003, "P(|z|>2) = %g", p2);
}

Test(rng, bounded_integers_are_uniform_and_in_range)
{
    rng_t r;
    rng_init(&r, 13, RNG_STREAM_BATCH);
    enum { K = 7 };
    long count[K] = {0};
    for (int i = 0; i < N; i++) {
        uint64_t x = rng_below(&r, K);
        cr_assert_lt(x, (uint64_t)K);
        count[x]++;
    }
    double chi2 = 0, e = (double)N / K;
    for (int k = 0; k < K; k++) chi2 += (count[k] - e) * (count[k] - e) / e;
    cr_expect_lt(chi2, 22.5, "chi-square %g with 6 degrees of freedom (p < 0.001)", chi2);
    for (int i = 0; i < 100; i++) cr_expect_eq(rng_below(&r, 1), 0u);
    /* a bound near 2^64 still lands in range */
    uint64_t big = UINT64_MAX - 5;
    for (int i = 0; i < 100; i++) cr_expect_lt(rng_below(&r, big), big);
}
