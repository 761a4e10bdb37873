/* cli_run — `attnsweep run`: its options, MPI start-up and shutdown around the sweep engine
 * (sweep.h), and which lines go to the terminal (rank 0) and which errors (the failing rank). */
#include <stdio.h>
#include <string.h>
#include <mpi.h>
#include "attnsweep/report.h"
#include "cli.h"

enum { OPT_OUT = CLI_OPT_FIRST, OPT_RESUME, OPT_OVERWRITE, OPT_RERUN_DIV, OPT_REUSE, OPT_SCHEDULE,
       OPT_GRACE, OPT_PROGRESS };

static const cli_option_t run_opts[] = {
    {"out", "FILE", OPT_OUT, "results file (default results.h5)"},
    {"resume", NULL, OPT_RESUME, "continue FILE: train only what is not done (same spec)"},
    {"rerun-diverged", NULL, OPT_RERUN_DIV, "with --resume: train diverged runs again too"},
    {"overwrite", NULL, OPT_OVERWRITE, "replace an existing FILE"},
    {"reuse", "OLD.h5", OPT_REUSE, "copy runs OLD finished with the same configuration instead of "
     "training them (repeatable; a glob pattern too)"},
    {"set", "SECTION.KEY=VALUE", CLI_OPT_SET, "override a spec key (repeatable)"},
    {"schedule", "MODE", OPT_SCHEDULE, "dynamic (default: rank 0 hands out runs) or static"},
    {"grace", "SECONDS", OPT_GRACE, "after a stop signal, runs in flight may finish this long (60)"},
    {"progress", "SECONDS", OPT_PROGRESS, "seconds between progress lines, 0 for none (5)"},
    {NULL},
};

static void on_event(void *cfg, const sweep_event_t *ev)
{
    report_event(stdout, cfg, ev);
    fflush(stdout);
}

/* The options into cfg (reuse: room for the --reuse patterns); CLI_OK, or the exit code. */
static int parse(const cli_args_t *a, sweep_config_t *cfg, double *grace, const char **reuse)
{
    for (int i = 0; i < a->n_given; i++) {
        int c = a->given[i].id;
        const char *v = a->given[i].arg;
        if (c == OPT_OUT) cfg->out = v;
        else if (c == OPT_RESUME) cfg->resume = 1;
        else if (c == OPT_OVERWRITE) cfg->overwrite = 1;
        else if (c == OPT_RERUN_DIV) cfg->rerun_diverged = 1;
        else if (c == OPT_REUSE) reuse[cfg->n_reuse++] = v;
        else if (c == OPT_SCHEDULE && strcmp(v, "dynamic") && strcmp(v, "static"))
            return cli_usage_error("run", "--schedule expects dynamic or static, got '%s'", v);
        else if (c == OPT_SCHEDULE) cfg->schedule = v[0] == 's' ? SCHED_STATIC : SCHED_DYNAMIC;
        else if (cli_number("run", c == OPT_GRACE ? "grace" : "progress", v, 0, 1e6,
                            c == OPT_GRACE ? grace : &cfg->progress_every) != CLI_OK)
            return CLI_USAGE;
    }
    if (cfg->resume && cfg->overwrite)
        return cli_usage_error("run", "--resume and --overwrite exclude each other");
    return CLI_OK;
}

static int run(const cli_args_t *a)
{
    static sweep_stop_t stop;
    char cmdline[8192], resume[8192], err[2048];
    double grace = 60, t0 = util_now();
    sweep_config_t cfg = {.out = "results.h5", .progress_every = 5, .stop = &stop,
                          .command_line = cmdline};
    spec_t spec = {0};
    grid_t grid = {0};
    sweep_report_t rep;
    int rank = 0, status, argc = a->argc;
    char **argv = a->argv;

    const char *reuse[CLI_MAX_GIVEN];
    cfg.reuse = reuse;
    if ((status = parse(a, &cfg, &grace, reuse)) != CLI_OK) return status;
    status = CLI_ERROR;
    sweep_command_line(a->argc + 1, a->argv - 1, 0, cmdline, sizeof cmdline);
    sweep_command_line(a->argc + 1, a->argv - 1, 1, resume, sizeof resume);
    int thread_level; /* FUNNELED: rank 0's lock heartbeat thread never calls MPI */
    if (sweep_process_setup(&stop, grace) != 0 ||
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &thread_level) != MPI_SUCCESS) {
        fprintf(stderr, "attnsweep run: cannot set up signal handlers or start MPI\n");
        return CLI_ERROR;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    /* Every rank reads the spec and expands the grid: both are deterministic, but a file (a
     * plugin, a data file) may be missing on some host only, so the ranks agree before going on. */
    int loaded = spec_load(&spec, a->pos[0], a->sets, a->n_sets, err, sizeof err) == 0 &&
                 grid_init(&grid, &spec, err, sizeof err) == 0, all = loaded, root = loaded;
    if (MPI_Allreduce(&loaded, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Bcast(&root, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        all = 0;
    if (!loaded) { /* said once: by rank 0, or by a rank where only it failed */
        if (rank == 0) fprintf(stderr, "attnsweep: %s\n", err);
        else if (root) fprintf(stderr, "attnsweep: rank %d: %s\n", rank, err);
    } else if (!all) {
        if (rank == 0) fprintf(stderr, "attnsweep: the spec failed to load on another rank "
                               "(message above)\n");
    } else if (sweep_run(MPI_COMM_WORLD, &grid, &cfg, on_event, &cfg, &rep, err, sizeof err) != 0) {
        if (rank == 0 || rep.local_error) fprintf(stderr, "attnsweep run: %s\n", err);
    } else {
        if (rank == 0) report_summary(stdout, &cfg, &rep, util_now() - t0, resume);
        status = rep.stopped || rep.n_left > rep.sched.by_status[RUN_FAILED] ? CLI_UNFINISHED
                 : rep.sched.by_status[RUN_FAILED] > 0                          ? CLI_FAILED_RUNS
                                                                                : CLI_OK;
    }
    fflush(stdout);
    grid_free(&grid);
    spec_free(&spec);
    MPI_Finalize();
    return status;
}

const cli_command_t cli_run_command = {
    .name = "run", .fn = run, .opts = run_opts, .min_pos = 1, .max_pos = 1,
    .usage = "mpirun -np N attnsweep run SPEC [options]",
    .about = "train every run of SPEC under MPI into one HDF5 file",
};
