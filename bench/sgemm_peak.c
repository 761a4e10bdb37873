/* sgemm_peak — this machine's single-core OpenBLAS SGEMM and DGEMM rate (GFLOP/s), the ceiling
 * that bench/lu2021.sh compares an attnsweep training step against. Square n×n×n products,
 * openblas_set_num_threads(1), best of several reps per size; flops = 2·n³ per product.
 * Build: cc -O2 -o sgemm_peak bench/sgemm_peak.c $(pkg-config --cflags --libs openblas)
 *   (or cmake -S bench -B build-bench/tools). Usage: sgemm_peak [reps] [n ...]
 * (default 10 reps of 256 512 1024 2048). On a shared machine, many reps of small sizes
 * (bench/lu2021.sh: 40 × 256 512 1024) find time slices without interference. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int n); /* OpenBLAS extension (also in its cblas.h) */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best GFLOP/s of reps n×n×n products, single (dbl = 0) or double precision. -1 on no memory. */
static double gemm_best_gflops(int n, int reps, int dbl)
{
    size_t nn = (size_t)n * (size_t)n, esz = dbl ? sizeof(double) : sizeof(float);
    char *buf = malloc(3 * nn * esz);
    if (!buf) return -1.0;
    srand(1);
    if (dbl) {
        double *x = (double *)buf;
        for (size_t i = 0; i < 3 * nn; i++) x[i] = (double)rand() / RAND_MAX - 0.5;
    } else {
        float *x = (float *)buf;
        for (size_t i = 0; i < 3 * nn; i++) x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    }
    double best = 0.0;
    for (int r = 0; r <= reps; r++) { /* rep 0 warms caches and OpenBLAS buffers: not counted */
        double t0 = now_seconds();
        if (dbl) {
            double *a = (double *)buf, *b = a + nn, *c = b + nn;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n,
                        0.0, c, n);
        } else {
            float *a = (float *)buf, *b = a + nn, *c = b + nn;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
                        0.0f, c, n);
        }
        double dt = now_seconds() - t0;
        double g = 2.0 * (double)n * (double)n * (double)n / dt * 1e-9;
        if (r > 0 && g > best) best = g;
    }
    free(buf);
    return best;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 10;
    int def_sizes[] = {256, 512, 1024, 2048}, n_sizes = argc > 2 ? argc - 2 : 4;
    if (reps < 1) {
        fprintf(stderr, "usage: %s [reps >= 1] [n ...]\n", argv[0]);
        return 2;
    }
    openblas_set_num_threads(1);
    double peak_s = 0.0, peak_d = 0.0;
    printf("n,sgemm_gflops,dgemm_gflops\n");
    for (int i = 0; i < n_sizes; i++) {
        int n = argc > 2 ? atoi(argv[2 + i]) : def_sizes[i];
        if (n < 1) {
            fprintf(stderr, "%s: size '%s' is not a positive integer\n", argv[0], argv[2 + i]);
            return 2;
        }
        double s = gemm_best_gflops(n, reps, 0), d = gemm_best_gflops(n, reps, 1);
        if (s < 0 || d < 0) {
            fprintf(stderr, "%s: out of memory at n = %d\n", argv[0], n);
            return 1;
        }
        printf("%d,%.2f,%.2f\n", n, s, d);
        if (s > peak_s) peak_s = s;
        if (d > peak_d) peak_d = d;
    }
    printf("# peak (1 thread, best over sizes and reps): SGEMM %.2f GFLOP/s, DGEMM %.2f GFLOP/s\n",
           peak_s, peak_d);
    return 0;
}
