/* lu2021_dump — writes one lu2021 run's data set and initial weights, exactly as attnsweep makes
 * them, to a binary file that bench/lu2021_torch.py --init-from reads: with it the PyTorch model
 * starts from the same sentences and weights, so the two traces must agree to rounding (the
 * cross-check of bench/lu2021.sh). Links the attnsweep library (private header lu2021.h).
 * The weights are written as doubles in either precision (lu2021_get); the cross-check uses
 * float64 (--set model.precision=float64), where PyTorch must agree to rounding.
 * Build (after building attnsweep into build-bench):
 *   mpicc -O2 -Iinclude -Isrc -o build-bench/lu2021_dump bench/lu2021_dump.c \
 *     build-bench/libattnsweep.a $(pkg-config --cflags --libs hdf5-openmpi openblas inih) -lm
 * Usage: lu2021_dump SPEC OUT [--run ID] [--set section.key=value]...
 * File (little-endian): "LU21DUMP", int64 N, L, n_train, n_valid, n_test, V, D, Dk, K,
 * topic_words; int32 tokens[N·L], labels[N]; float64 E[V·D], keys[V·Dk], q[Dk], U[D·K]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/grid.h"
#include "attnsweep/param.h"
#include "attnsweep/spec.h"
#include "models/lu2021/lu2021.h"

#define MAX_SETS 64

static int write_all(FILE *f, const void *p, size_t size, size_t n)
{
    return fwrite(p, size, n, f) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *sets[MAX_SETS], *spec_path = NULL, *out = NULL;
    int n_sets = 0, status = 1;
    long run = 0;
    char err[1024];
    spec_t spec = {0};
    grid_t grid = {0};
    void *state = NULL;
    double *v[LU2021_N_GROUPS] = {0}; /* the weights as doubles (either precision) */
    FILE *f = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && n_sets < MAX_SETS)
            sets[n_sets++] = argv[++i];
        else if (strcmp(argv[i], "--run") == 0 && i + 1 < argc)
            run = atol(argv[++i]);
        else if (!spec_path)
            spec_path = argv[i];
        else if (!out)
            out = argv[i];
        else {
            fprintf(stderr, "lu2021_dump: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!spec_path || !out) {
        fprintf(stderr, "usage: lu2021_dump SPEC OUT [--run ID] [--set section.key=value]...\n");
        return 2;
    }
    if (spec_load(&spec, spec_path, sets, n_sets, err, sizeof err) != 0 ||
        grid_init(&grid, &spec, err, sizeof err) != 0) {
        fprintf(stderr, "lu2021_dump: %s\n", err);
        goto cleanup;
    }
    if (spec.family != &lu2021_family || run < 0 || run >= grid.n_runs) {
        fprintf(stderr, "lu2021_dump: %s: need an lu2021 spec and a run id in 0..%ld\n",
                spec_path, grid.n_runs - 1);
        goto cleanup;
    }
    params_t p;
    grid_run_params(&grid, run, &p);
    if (lu2021_family.init(&state, &p, err, sizeof err) != 0) {
        fprintf(stderr, "lu2021_dump: run %ld: %s\n", run, err);
        goto cleanup;
    }
    const task_data_t *d = lu2021_data(state);
    lu2021_group_t g[LU2021_N_GROUPS];
    lu2021_groups(state, g);
    for (int k = 0; k < LU2021_N_GROUPS; k++)
        if (g[k].n && !(v[k] = malloc(sizeof(double) * g[k].n))) {
            fprintf(stderr, "lu2021_dump: out of memory\n");
            goto cleanup;
        }
    lu2021_get(state, v);
    int64_t D = (int64_t)params_geti(&p, "embed_dim"), K = d->topics;
    int64_t Dk = (int64_t)(g[LU2021_QUERY].n);
    if (strcmp(g[LU2021_CLS1].name, "U") != 0 || g[LU2021_CLS1].n != (size_t)(D * K)) {
        fprintf(stderr, "lu2021_dump: only the fixed/linear classifier (one D x K matrix)\n");
        goto cleanup;
    }
    int64_t hdr[10] = {d->n, d->len, d->n_train, d->n_valid, d->n_test, d->vocab, D, Dk, K,
                       d->topic_words};
    f = fopen(out, "wb");
    if (!f || write_all(f, "LU21DUMP", 1, 8) || write_all(f, hdr, sizeof hdr[0], 10) ||
        write_all(f, d->tokens, sizeof(int32_t), (size_t)(d->n * d->len)) ||
        write_all(f, d->labels, sizeof(int32_t), (size_t)d->n) ||
        write_all(f, v[LU2021_EMBED], sizeof(double), g[LU2021_EMBED].n) ||
        write_all(f, v[LU2021_KEYS], sizeof(double), g[LU2021_KEYS].n) ||
        write_all(f, v[LU2021_QUERY], sizeof(double), g[LU2021_QUERY].n) ||
        write_all(f, v[LU2021_CLS1], sizeof(double), g[LU2021_CLS1].n)) {
        fprintf(stderr, "lu2021_dump: cannot write %s\n", out);
        goto cleanup;
    }
    status = 0;
cleanup:
    if (f && fclose(f) != 0) status = 1;
    for (int k = 0; k < LU2021_N_GROUPS; k++) free(v[k]);
    if (state) lu2021_family.free(state);
    grid_free(&grid);
    spec_free(&spec);
    return status;
}
