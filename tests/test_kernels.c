/* Tests of the shared dense kernels (src/kernels.c): each CBLAS-backed kernel against its plain
 * `_ref` twin for every transpose and beta, in double and float, plus the edge cases the facade
 * defines itself (beta = 0 clears NaN, empty inner dimension). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "attnsweep/kernels.h"
#include "attnsweep/rng.h"

static void one_thread(void) { openblas_set_num_threads(1); }

TestSuite(kernels, .init = one_thread);

enum { LD = 13 }; /* every matrix is stored with this row stride: strides are tested too */

static void fill(rng_t *r, double *d, float *f, int n)
{
    for (int i = 0; i < n; i++) {
        d[i] = rng_normal(r);
        if (f) f[i] = (float)d[i];
    }
}

Test(kernels, gemm_matches_ref_for_every_transpose_beta_and_precision)
{
    double A[LD * LD], B[LD * LD], C1[LD * LD], C2[LD * LD];
    float Af[LD * LD], Bf[LD * LD], C1f[LD * LD], C2f[LD * LD];
    rng_t r;
    rng_init(&r, 1, 99);
    for (int trial = 0; trial < 48; trial++) {
        int M = 1 + (int)rng_below(&r, 12), N = 1 + (int)rng_below(&r, 12),
            K = 1 + (int)rng_below(&r, 12);
        int ta = trial & 1, tb = (trial >> 1) & 1;
        double beta = (trial >> 2) & 1 ? 1.0 : 0.0, alpha = rng_normal(&r);
        fill(&r, A, Af, LD * LD);
        fill(&r, B, Bf, LD * LD);
        fill(&r, C1, C1f, LD * LD);
        memcpy(C2, C1, sizeof C1);
        memcpy(C2f, C1f, sizeof C1f);
        kern_gemm_d(ta, tb, M, N, K, alpha, A, LD, B, LD, beta, C1, LD);
        kern_gemm_ref_d(ta, tb, M, N, K, alpha, A, LD, B, LD, beta, C2, LD);
        kern_gemm_f(ta, tb, M, N, K, (float)alpha, Af, LD, Bf, LD, (float)beta, C1f, LD);
        kern_gemm_ref_f(ta, tb, M, N, K, (float)alpha, Af, LD, Bf, LD, (float)beta, C2f, LD);
        for (int i = 0; i < LD * LD; i++) {
            cr_assert_float_eq(C1[i], C2[i], 1e-12, "M=%d N=%d K=%d ta=%d tb=%d beta=%g at %d",
                               M, N, K, ta, tb, beta, i);
            cr_assert_float_eq(C1f[i], C2f[i], 2e-5 * (1 + fabsf(C2f[i])),
                               "float M=%d N=%d K=%d ta=%d tb=%d at %d", M, N, K, ta, tb, i);
        }
    }
}

Test(kernels, gemm_with_beta_zero_overwrites_nan_even_with_no_inner_dimension)
{
    double A[2] = {1, 2}, B[2] = {3, 4}, C[1] = {NAN};
    kern_gemm_d(0, 0, 1, 1, 2, 1.0, A, 2, B, 1, 0.0, C, 1);
    cr_expect_float_eq(C[0], 11.0, 1e-15);
    double D[2] = {NAN, 5.0};
    kern_gemm_d(0, 0, 1, 2, 0, 1.0, A, 1, B, 2, 0.0, D, 2);
    cr_expect(D[0] == 0.0 && D[1] == 0.0, "K = 0, beta = 0: C cleared, got %g %g", D[0], D[1]);
    float F[1] = {NAN};
    kern_gemm_f(0, 0, 1, 1, 0, 1.0f, NULL, 1, NULL, 1, 0.0f, F, 1);
    cr_expect(F[0] == 0.0f);
}

Test(kernels, gemv_matches_ref_as_stored_and_transposed)
{
    double A[LD * LD], x[LD], y1[LD], y2[LD];
    rng_t r;
    rng_init(&r, 2, 99);
    for (int trial = 0; trial < 32; trial++) {
        int M = 1 + (int)rng_below(&r, 12), N = 1 + (int)rng_below(&r, 12), ta = trial & 1;
        double beta = (trial >> 1) & 1 ? 1.0 : 0.0, alpha = rng_normal(&r);
        fill(&r, A, NULL, LD * LD);
        fill(&r, x, NULL, LD);
        fill(&r, y1, NULL, LD);
        memcpy(y2, y1, sizeof y1);
        kern_gemv_d(ta, M, N, alpha, A, LD, x, beta, y1);
        kern_gemv_ref_d(ta, M, N, alpha, A, LD, x, beta, y2);
        for (int i = 0; i < LD; i++)
            cr_assert_float_eq(y1[i], y2[i], 1e-12, "M=%d N=%d ta=%d at %d", M, N, ta, i);
    }
}

Test(kernels, ger_axpy_dot_and_nrm2_match_ref)
{
    double A1[LD * LD], A2[LD * LD], x[LD], y[LD], z1[LD], z2[LD];
    rng_t r;
    rng_init(&r, 3, 99);
    for (int trial = 0; trial < 16; trial++) {
        int M = 1 + (int)rng_below(&r, 12), N = 1 + (int)rng_below(&r, 12);
        double alpha = rng_normal(&r);
        fill(&r, A1, NULL, LD * LD);
        memcpy(A2, A1, sizeof A1);
        fill(&r, x, NULL, LD);
        fill(&r, y, NULL, LD);
        fill(&r, z1, NULL, LD);
        memcpy(z2, z1, sizeof z1);
        kern_ger_d(M, N, alpha, x, y, A1, LD);
        kern_ger_ref_d(M, N, alpha, x, y, A2, LD);
        for (int i = 0; i < LD * LD; i++) cr_assert_float_eq(A1[i], A2[i], 1e-13, "ger at %d", i);
        kern_axpy_d(M, alpha, x, z1);
        kern_axpy_ref_d(M, alpha, x, z2);
        for (int i = 0; i < LD; i++) cr_assert_eq(z1[i], z2[i], "axpy at %d (element-wise: exact)", i);
        cr_assert_float_eq(kern_dot_d(N, x, y), kern_dot_ref_d(N, x, y), 1e-12);
        cr_assert_float_eq(kern_nrm2_d(N, x), kern_nrm2_ref_d(N, x), 1e-12);
    }
    cr_expect_eq(kern_nrm2_d(0, x), 0.0);
    cr_expect_eq(kern_dot_d(0, x, y), 0.0);
}

Test(kernels, nrm2_does_not_overflow_where_the_plain_sum_would)
{
    double x[2] = {1e200, 1e200};
    cr_expect_float_eq(kern_nrm2_d(2, x), sqrt(2.0) * 1e200, 1e188);
    cr_expect(isinf(kern_nrm2_ref_d(2, x)), "the textbook sum of squares overflows");
}
