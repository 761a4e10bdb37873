/* main — `attnsweep` itself: the overall --help and --version, and for a command, its options read
 * with getopt_long (`--opt V` and `--opt=V`; -h/--help prints the command's own usage), then the
 * command's function (cli_run.c, cli_tools.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <hdf5.h>
#include <mpi.h>
#include "attnsweep/model.h"
#include "cli.h"

static const cli_command_t *const commands[] = {&cli_run_command, &cli_plan_command,
                                                &cli_status_command, &cli_train_command,
                                                &cli_keys_command, &cli_refine_command, NULL};

static void usage(FILE *out)
{
    fprintf(out, "attnsweep %s — sweeps of small attention models over MPI into one HDF5 file\n\n"
            "usage: attnsweep COMMAND [options]   (attnsweep COMMAND --help for its options)\n\n",
            ATTNSWEEP_VERSION);
    for (int i = 0; commands[i]; i++) fprintf(out, "  %-7s %s\n", commands[i]->name, commands[i]->about);
    fprintf(out, "\nmodel families (or model = plugin:PATH.so):\n");
    for (int i = 0; model_families[i]; i++)
        fprintf(out, "  %-13s %s\n", model_families[i]->name, model_families[i]->summary);
    fprintf(out, "\nREADME.md describes the spec format and the output file.\n");
}

static void version(void)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = ""; /* the libraries linked, not the headers */
    int len = 0;
    unsigned maj = 0, min = 0, rel = 0;
    MPI_Get_library_version(mpi, &len); /* allowed before MPI_Init */
    mpi[strcspn(mpi, ",")] = '\0';
    H5get_libversion(&maj, &min, &rel);
    printf("attnsweep %s (model ABI %d)\n  MPI:      %s\n  HDF5:     %u.%u.%u (parallel)\n"
           "  OpenBLAS: %s\n", ATTNSWEEP_VERSION, ATTNSWEEP_MODEL_ABI, mpi, maj, min, rel,
           openblas_get_config());
}

static void command_help(const cli_command_t *c)
{
    printf("usage: %s\n%s\n", c->usage, c->about);
    for (const cli_option_t *o = c->opts; o->name; o++) {
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-26s %s\n", left, o->help);
    }
    printf("  %-26s this help\n", "-h, --help");
}

/* Read the command's options into a; CLI_OK, or the exit code (help printed: CLI_OK too, with
 * *done set; a usage error printed: CLI_USAGE). copy: argv's pointers, which getopt permutes. */
static int read_args(const cli_command_t *c, int argc, char **copy, cli_args_t *a, int *done)
{
    struct option all[32] = {{"help", no_argument, NULL, 'h'}};
    int n = 1, o;
    for (const cli_option_t *op = c->opts; op->name && n < 31; op++)
        all[n++] = (struct option){op->name, op->arg ? required_argument : no_argument, NULL, op->id};
    opterr = 0;
    optind = 0; /* 0: getopt starts afresh */
    while ((o = getopt_long(argc, copy, ":h", all, NULL)) != -1) {
        if (o == 'h') return command_help(c), *done = 1, CLI_OK;
        if (o == ':' || o == '?')
            return cli_usage_error(c->name, o == ':' ? "option '%s' needs a value"
                                   : "unknown option '%s'", copy[optind - 1]);
        if (a->n_given + a->n_sets == CLI_MAX_GIVEN)
            return cli_usage_error(c->name, "more than %d options", CLI_MAX_GIVEN);
        if (o == CLI_OPT_SET) a->sets[a->n_sets++] = optarg;
        else a->given[a->n_given].id = o, a->given[a->n_given++].arg = optarg;
    }
    for (; optind < argc; optind++) {
        if (a->n_pos == c->max_pos)
            return cli_usage_error(c->name, "unexpected argument '%s'", copy[optind]);
        a->pos[a->n_pos++] = copy[optind];
    }
    if (a->n_pos < c->min_pos) return cli_usage_error(c->name, "missing argument: %s", c->usage);
    return CLI_OK;
}

static int command(const cli_command_t *c, int argc, char **argv)
{
    static cli_args_t a; /* large: not on the stack */
    char **copy = calloc((size_t)argc + 1, sizeof *copy);
    int done = 0, rc;
    if (!copy) return CLI_ERROR;
    memcpy(copy, argv, sizeof *copy * (size_t)argc);
    a = (cli_args_t){.argc = argc, .argv = argv};
    rc = read_args(c, argc, copy, &a, &done);
    free(copy);
    return rc != CLI_OK || done ? rc : c->fn(&a);
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1); /* MPI ranks are the parallelism: one BLAS thread per rank */
    if (argc < 2) return usage(stderr), CLI_USAGE;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
        return usage(stdout), CLI_OK;
    if (!strcmp(cmd, "--version")) return version(), CLI_OK;
    for (int i = 0; commands[i]; i++)
        if (!strcmp(cmd, commands[i]->name)) return command(commands[i], argc - 1, argv + 1);
    fprintf(stderr, "attnsweep: unknown command '%s' (see attnsweep --help)\n", cmd);
    return CLI_USAGE;
}
