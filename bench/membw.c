/* membw — this machine's single-core read bandwidth by working-set size: the memory limit that
 * bench/lu2021.sh sets an lu2021 training step against (as sgemm_peak.c gives the arithmetic
 * one). Two access patterns, best of many reps per size: sequential reads (sums of 8-float
 * vectors, 8 independent chains), and gathers of 32-byte rows at random row indices streamed
 * from an int32 array (8 independent chains) — the pattern of lu2021's float32 pooling and its
 * word-by-word adjoint. GB/s counts the bytes the loads ask for (rows + indices), not cache lines.
 * Build: cc -O2 -march=native -o membw bench/membw.c (or cmake -S bench -B build-bench/tools)
 * Usage: membw [reps] [KiB ...]   (default 30 reps of 32 256 1024 8192 65536 524288 KiB) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v8f __attribute__((vector_size(32)));

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static v8f load8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Σ of n floats (n a multiple of 64) in 8 vector chains. */
static float sum_seq(const float *x, size_t n)
{
    v8f s[8] = {{0}};
    for (size_t i = 0; i < n; i += 64) {
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) s[k] += load8(x + i + 8 * k);
    }
    v8f t = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

/* Σ of the rows T[idx[j]] (8 floats each) for j < m (m a multiple of 8), 8 chains. */
static float sum_rows(const float *T, const int32_t *idx, size_t m)
{
    v8f s[8] = {{0}};
    for (size_t j = 0; j < m; j += 8) {
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) s[k] += load8(T + (size_t)idx[j + k] * 8);
    }
    v8f t = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 30;
    size_t dflt[] = {32, 256, 1024, 8192, 65536, 524288}, *kib = dflt;
    int n_sizes = 6;
    if (argc > 2) {
        n_sizes = argc - 2;
        kib = malloc(sizeof(size_t) * (size_t)n_sizes);
        for (int i = 0; i < n_sizes; i++) kib[i] = (size_t)atol(argv[i + 2]);
    }
    volatile float sink = 0.0f;
    printf("# membw: single-core read bandwidth, best of %d reps per working-set size\n", reps);
    for (int si = 0; si < n_sizes; si++) {
        size_t bytes = kib[si] * 1024, n = bytes / sizeof(float) / 64 * 64;
        float *x = aligned_alloc(64, sizeof(float) * (n ? n : 64));
        if (!x) return 1;
        for (size_t i = 0; i < n; i++) x[i] = (float)(i % 7);
        /* the rows: the same table, in 32-byte rows; 1M random indices (4 MiB, streamed) */
        size_t rows = n / 8, m = 1 << 20;
        int32_t *idx = malloc(sizeof(int32_t) * m);
        uint64_t r = 88172645463325252ull;
        for (size_t j = 0; j < m; j++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            idx[j] = (int32_t)(r % rows);
        }
        double best_seq = 1e30, best_rows = 1e30;
        size_t passes = (64u << 20) / (bytes > 0 ? bytes : 1); /* ~64 MiB read per timing */
        if (passes < 1) passes = 1;
        for (int rep = 0; rep <= reps; rep++) {
            double t0 = now_seconds();
            for (size_t p = 0; p < passes; p++) sink += sum_seq(x, n);
            double t1 = now_seconds();
            sink += sum_rows(x, idx, m);
            double t2 = now_seconds();
            if (rep > 0 && (t1 - t0) / passes < best_seq) best_seq = (t1 - t0) / passes;
            if (rep > 0 && t2 - t1 < best_rows) best_rows = t2 - t1;
        }
        printf("%8zu KiB: sequential %7.1f GB/s; random 32-byte rows %7.1f GB/s (%.2f ns/row)\n",
               kib[si], 1e-9 * (double)(n * sizeof(float)) / best_seq,
               1e-9 * (double)(m * (32 + 4)) / best_rows, 1e9 * best_rows / (double)m);
        free(x);
        free(idx);
    }
    return sink == 12345.0f; /* keeps the sums */
}
