/* cli — `attnsweep` command dispatch, --help/--version, and `train`: one run of a spec trained
 * serially with its trace printed as CSV on stdout (header first). The sweep commands are in
 * cli_sweep.c. Library code returns statuses; this file turns them into messages and exit codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <hdf5.h>
#include <mpi.h>
#include "attnsweep/grid.h"
#include "attnsweep/train.h"
#include "cli.h"

#define MAX_SETS 256

static void usage(FILE *out)
{
    fprintf(out,
            "attnsweep %s — sweeps of small attention models over MPI into one HDF5 file\n"
            "\n"
            "usage:\n"
            "  mpirun -np N attnsweep run SPEC [--out FILE] [--resume [--rerun-diverged] | --overwrite]\n"
            "                   [--set section.key=value]... [--schedule dynamic|static]\n"
            "                   [--grace SECONDS] [--progress SECONDS]\n"
            "  attnsweep plan   SPEC [--set ...]... [--np N]   runs, cost and memory; no training\n"
            "  attnsweep train  SPEC --run ID [--set ...]...   one run, serially, trace as CSV\n"
            "  attnsweep status FILE [--verify]                done/pending/failed/diverged counts\n"
            "  attnsweep keys   [MODEL]                        every spec key with default and help\n"
            "  attnsweep --help | --version\n"
            "\n"
            "model families:\n",
            ATTNSWEEP_VERSION);
    for (int i = 0; model_families[i]; i++)
        fprintf(out, "  %-13s %s\n", model_families[i]->name, model_families[i]->summary);
    fprintf(out, "\nSee README.md for the spec format and the output file layout.\n");
}

int cli_take_set(int argc, char **argv, int *i, const char **sets, int *n_sets, int max_sets)
{
    const char *a = argv[*i];
    const char *val = NULL;
    if (strcmp(a, "--set") == 0) {
        if (*i + 1 >= argc) return -1;
        val = argv[++*i];
    } else if (strncmp(a, "--set=", 6) == 0) {
        val = a + 6;
    } else {
        return 0;
    }
    if (*n_sets >= max_sets) return -1;
    sets[(*n_sets)++] = val;
    return 1;
}

static void print_keys(const param_def_t *defs, int n)
{
    for (int i = 0; i < n; i++) {
        char def[64];
        param_format(&defs[i], defs[i].def, def, sizeof def);
        printf("  [%s] %-20s = %-10s %s%s\n", defs[i].section, defs[i].name, def, defs[i].help,
               defs[i].one_value ? " (one value per spec)" : "");
    }
}

static int cmd_keys(int argc, char **argv)
{
    printf("keys common to every model:\n");
    print_keys(schema_common, schema_n_common);
    for (int i = 0; model_families[i]; i++) {
        const model_family_t *f = model_families[i];
        if (argc > 2 && strcmp(argv[2], f->name) != 0) continue;
        printf("\n[model] model = %s: %s\n", f->name, f->summary);
        print_keys(f->params, f->n_params);
        printf("  trace metrics: step");
        for (int m = 0; m < f->n_metrics; m++) printf(", %s", f->metrics[m].name);
        printf("\n");
    }
    return CLI_OK;
}

static int cmd_train(int argc, char **argv)
{
    const char *spec_path = NULL, *sets[MAX_SETS];
    int n_sets = 0;
    long run = -1;
    char err[1024];
    spec_t spec = {0};
    grid_t grid = {0};
    trace_t trace = {0};
    int status = CLI_ERROR;

    for (int i = 2; i < argc; i++) {
        int t = cli_take_set(argc, argv, &i, sets, &n_sets, MAX_SETS);
        if (t < 0) {
            fprintf(stderr, "attnsweep train: --set needs section.key=value\n");
            return CLI_USAGE;
        }
        if (t) continue;
        if (strcmp(argv[i], "--run") == 0 && i + 1 < argc) {
            char *end;
            run = strtol(argv[++i], &end, 10);
            if (*end || run < 0) {
                fprintf(stderr, "attnsweep train: --run expects a run id >= 0, got '%s'\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (!spec_path && argv[i][0] != '-') {
            spec_path = argv[i];
        } else {
            fprintf(stderr, "attnsweep train: unexpected argument '%s' (see attnsweep --help)\n",
                    argv[i]);
            return CLI_USAGE;
        }
    }
    if (!spec_path || run < 0) {
        fprintf(stderr, "usage: attnsweep train SPEC --run ID [--set section.key=value]...\n");
        return CLI_USAGE;
    }
    if (spec_load(&spec, spec_path, sets, n_sets, err, sizeof err) != 0 ||
        grid_init(&grid, &spec, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep: %s\n", err);
        goto cleanup;
    }
    if (run >= grid.n_runs) {
        fprintf(stderr, "attnsweep train: run %ld does not exist: %s has %ld runs (0..%ld)\n",
                run, spec_path, grid.n_runs, grid.n_runs - 1);
        goto cleanup;
    }
    params_t p;
    grid_run_params(&grid, run, &p);
    const model_family_t *f = spec.family;
    if (train_trace_init(&trace, schema_n_points(&p), 1 + f->n_metrics) != 0) {
        fprintf(stderr, "attnsweep train: out of memory for the trace\n");
        goto cleanup;
    }
    run_result_t res;
    if (train_run(f, &p, &trace, &res, NULL) != 0) {
        fprintf(stderr, "attnsweep train: run %ld: %s\n", run, res.message);
        goto cleanup;
    }
    printf("step");
    for (int m = 0; m < f->n_metrics; m++) printf(",%s", f->metrics[m].name);
    printf("\n");
    for (int r = 0; r < trace.n_filled; r++) {
        const double *row = trace.rows + (size_t)r * (size_t)trace.n_cols;
        printf("%.0f", row[0]);
        for (int c = 1; c < trace.n_cols; c++) printf(",%.9g", row[c]);
        printf("\n");
    }
    fprintf(stderr, "run %ld: %s after %ld steps in %.3f s%s%s\n", run,
            res.status == RUN_DONE ? "done" : res.status == RUN_DIVERGED ? "diverged"
            : res.status == RUN_INTERRUPTED ? "interrupted" : "failed",
            res.steps_done, res.wall_seconds, res.message[0] ? ": " : "", res.message);
    status = (res.status == RUN_DONE || res.status == RUN_DIVERGED) ? CLI_OK : CLI_ERROR;
cleanup:
    train_trace_free(&trace);
    grid_free(&grid);
    spec_free(&spec);
    return status;
}

int cli_main(int argc, char **argv)
{
    /* MPI ranks are the parallelism: one BLAS thread per process. */
    openblas_set_num_threads(1);
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        /* The libraries actually linked (not the headers compiled against). MPI_Get_library_
         * version may be called before MPI_Init. */
        char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "";
        int len = 0;
        unsigned h5maj = 0, h5min = 0, h5rel = 0;
        MPI_Get_library_version(mpi, &len);
        char *nl = strchr(mpi, ',');
        if (nl) *nl = '\0';
        H5get_libversion(&h5maj, &h5min, &h5rel);
        printf("attnsweep %s\n", ATTNSWEEP_VERSION);
        printf("  MPI:      %s\n", mpi);
        printf("  HDF5:     %u.%u.%u (parallel)\n", h5maj, h5min, h5rel);
        printf("  OpenBLAS: %s\n", openblas_get_config());
        return CLI_OK;
    }
    if (strcmp(cmd, "train") == 0) return cmd_train(argc, argv);
    if (strcmp(cmd, "keys") == 0) return cmd_keys(argc, argv);
    if (strcmp(cmd, "run") == 0) return cli_run(argc, argv);
    if (strcmp(cmd, "plan") == 0) return cli_plan(argc, argv);
    if (strcmp(cmd, "status") == 0) return cli_status(argc, argv);
    fprintf(stderr, "attnsweep: unknown command '%s' (see attnsweep --help)\n", cmd);
    return CLI_USAGE;
}
