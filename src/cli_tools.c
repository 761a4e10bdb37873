/* cli_tools — the serial commands: `plan` (a spec's runs, calibrated time, memory and file size),
 * `status` (what a results file holds), `train` (one run, trace as CSV) and `keys` (a family's
 * spec keys). No MPI. */
#include <stdio.h>
#include <string.h>
#include "attnsweep/report.h"
#include "cli.h"

enum { OPT_NP = CLI_OPT_FIRST, OPT_NO_CALIB, OPT_LIST, OPT_VERIFY, OPT_JSON, OPT_RUN, OPT_X, OPT_Y,
       OPT_METRIC, OPT_LEVEL, OPT_BUDGET, OPT_OUT, OPT_XSCALE, OPT_YSCALE };
#define SET_OPTION {"set", "SECTION.KEY=VALUE", CLI_OPT_SET, "override a spec key (repeatable)"}

static int plan(const cli_args_t *a)
{
    int calibrate = 1, list = 0, status = CLI_ERROR;
    double np = 0;
    spec_t spec = {0};
    grid_t g = {0};
    plan_info_t in;
    plan_calib_t cal;
    char err[1024];
    for (int i = 0; i < a->n_given; i++)
        if (a->given[i].id == OPT_NO_CALIB) calibrate = 0;
        else if (a->given[i].id == OPT_LIST) list = 1;
        else if (cli_number("plan", "np", a->given[i].arg, 1, 1e6, &np) != CLI_OK) return CLI_USAGE;
    if (cli_load(a, &spec, &g) != CLI_OK) goto cleanup;
    if (list) {
        report_plan_list(stdout, &g);
        status = CLI_OK;
        goto cleanup;
    }
    if (plan_describe(&g, &in, err, sizeof err) != 0 ||
        (calibrate && plan_calibrate(&g, &in, 0, &cal, err, sizeof err) != 0)) {
        fprintf(stderr, "attnsweep plan: %s\n", err);
        goto cleanup;
    }
    report_plan(stdout, &g, &in, calibrate ? &cal : NULL, (int)np);
    status = CLI_OK;
cleanup:
    grid_free(&g);
    spec_free(&spec);
    return status;
}

/* Exit 0: every run finished (done, diverged or failed); 3: some pending or interrupted; 1: the
 * file cannot be read (or, with --verify, a finished run's trace fails its CRC). */
static int status(const cli_args_t *a)
{
    int verify = 0, json = 0, code;
    char err[1024];
    h5out_info_t in;
    lock_info_t lk;
    for (int i = 0; i < a->n_given; i++) *(a->given[i].id == OPT_JSON ? &json : &verify) = 1;
    if (h5out_inspect(a->pos[0], verify, &in, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep status: %s\n", err);
        return CLI_ERROR;
    }
    if (lock_read(a->pos[0], &lk, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep status: %s\n", err);
        lk.present = 0;
    }
    (json ? report_status_json : report_status)(stdout, a->pos[0], &in, verify, &lk);
    code = verify && in.n_bad_crc > 0 ? CLI_ERROR : in.n_finished < in.n_runs ? CLI_UNFINISHED
                                                                               : CLI_OK;
    h5out_info_free(&in);
    return code;
}

static int train(const cli_args_t *a)
{
    int status = CLI_ERROR;
    double run = -1;
    spec_t spec = {0};
    grid_t g = {0};
    trace_t tr = {0};
    run_result_t res;
    params_t p;
    for (int i = 0; i < a->n_given; i++)
        if (cli_number("train", "run", a->given[i].arg, 0, 1e15, &run) != CLI_OK) return CLI_USAGE;
    if (run < 0) return cli_usage_error("train", "--run ID is required");
    if (cli_load(a, &spec, &g) != CLI_OK) goto cleanup;
    if ((long)run >= g.n_runs || (long)run != run) {
        fprintf(stderr, "attnsweep train: run %g does not exist: %s has %ld runs (0..%ld)\n", run,
                a->pos[0], g.n_runs, g.n_runs - 1);
        goto cleanup;
    }
    grid_run_params(&g, (long)run, &p);
    if (train_trace_init(&tr, schema_n_points(&p), 1 + spec.family->n_metrics) != 0 ||
        train_run(spec.family, &p, &tr, &res, NULL) != 0) {
        fprintf(stderr, "attnsweep train: run %ld: %s\n", (long)run,
                tr.rows ? res.message : "out of memory");
        goto cleanup;
    }
    report_trace_csv(stdout, spec.family, &tr);
    fprintf(stderr, "run %ld: %s after %ld steps in %.3f s%s%s\n", (long)run,
            run_status_name(res.status), res.steps_done, res.wall_seconds,
            res.message[0] ? ": " : "", res.message);
    status = res.status == RUN_DONE || res.status == RUN_DIVERGED ? CLI_OK : CLI_ERROR;
cleanup:
    train_trace_free(&tr);
    grid_free(&g);
    spec_free(&spec);
    return status;
}

static int keys(const cli_args_t *a)
{
    const char *src;
    const model_family_t *f = NULL;
    char err[1024];
    if (a->n_pos && model_resolve(a->pos[0], NULL, &f, &src, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep keys: %s\n", err);
        return CLI_ERROR;
    }
    report_keys(stdout, f, a->n_pos ? a->pos[0] : NULL);
    return CLI_OK;
}

static int scale(const char *v, refine_scale_t *s)
{
    static const char *const names[] = {"auto", "linear", "log"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(v, names[i])) return *s = (refine_scale_t)i, CLI_OK;
    return cli_usage_error("refine", "a scale is auto, linear or log, got '%s'", v);
}

static int refine(const cli_args_t *a)
{
    refine_config_t cfg = {.budget = -1};
    refine_t rf;
    const char *out = NULL;
    double budget = -1;
    char err[2048];
    for (int i = 0; i < a->n_given; i++) {
        const char *v = a->given[i].arg;
        int c = a->given[i].id, rc = CLI_OK;
        if (c == OPT_X) cfg.x = v;
        else if (c == OPT_Y) cfg.y = v;
        else if (c == OPT_METRIC) cfg.metric = v;
        else if (c == OPT_OUT) out = v;
        else if (c == OPT_LEVEL) rc = cli_number("refine", "level", v, -1e300, 1e300, &cfg.level), cfg.has_level = 1;
        else if (c == OPT_BUDGET) rc = cli_number("refine", "budget", v, 0, 1e7, &budget);
        else rc = scale(v, c == OPT_XSCALE ? &cfg.x_scale : &cfg.y_scale);
        if (rc != CLI_OK) return rc;
    }
    if (!cfg.x || !cfg.metric || budget < 0 || !out)
        return cli_usage_error("refine", "--x, --metric, --budget and --out are required");
    cfg.budget = (long)budget;
    if (refine_propose(a->pos[0], &cfg, &rf, err, sizeof err) != 0 ||
        refine_write_spec(&rf, &cfg, a->pos[0], out, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep refine: %s\n", err);
        refine_free(&rf);
        return CLI_ERROR;
    }
    report_refine(stdout, a->pos[0], &cfg, &rf, out);
    refine_free(&rf);
    return CLI_OK;
}

static const cli_option_t refine_opts[] = {
    {"x", "KEY", OPT_X, "a swept key: the diagram's x axis"},
    {"y", "KEY", OPT_Y, "a second swept key (y axis); without it, refine along x alone"},
    {"metric", "NAME", OPT_METRIC, "a /runs result (final_test_acc, ...), a trace metric (its "
     "last value) or converged"},
    {"level", "V", OPT_LEVEL, "refine where the seeds' mean crosses V (else where it changes most)"},
    {"budget", "N", OPT_BUDGET, "at most N new points"},
    {"out", "NEXT.ini", OPT_OUT, "the next spec: the old one with every point in [points]"},
    {"x-scale", "S", OPT_XSCALE, "auto (log if x spans two decades), linear or log"},
    {"y-scale", "S", OPT_YSCALE, "the same for y"},
    {NULL}};

static const cli_option_t plan_opts[] = {
    SET_OPTION, {"np", "N", OPT_NP, "estimate the time on N ranks only"},
    {"no-calibrate", NULL, OPT_NO_CALIB, "skip the timing"},
    {"list", NULL, OPT_LIST, "only list every run id with its swept values (TSV, for scripts)"},
    {NULL}};
static const cli_option_t status_opts[] = {
    {"verify", NULL, OPT_VERIFY, "recompute every finished run's trace CRC"},
    {"json", NULL, OPT_JSON, "one JSON object instead of text (for scripts)"}, {NULL}};
static const cli_option_t train_opts[] = {
    {"run", "ID", OPT_RUN, "the run id (row-major position in the grid, from 0)"}, SET_OPTION,
    {NULL}};
static const cli_option_t no_opts[] = {{NULL}};

const cli_command_t cli_plan_command = {
    .name = "plan", .fn = plan, .opts = plan_opts, .min_pos = 1, .max_pos = 1,
    .usage = "attnsweep plan SPEC [options]",
    .about = "runs, estimated time, memory and file size of a spec; no training"};
const cli_command_t cli_status_command = {
    .name = "status", .fn = status, .opts = status_opts, .min_pos = 1, .max_pos = 1,
    .usage = "attnsweep status FILE [--verify] [--json]",
    .about = "what a results file holds: runs by status, its writer; exit 0 complete, 3 not yet"};
const cli_command_t cli_train_command = {
    .name = "train", .fn = train, .opts = train_opts, .min_pos = 1, .max_pos = 1,
    .usage = "attnsweep train SPEC --run ID [options]",
    .about = "one run of a spec, serially, its trace as CSV on stdout"};
const cli_command_t cli_keys_command = {
    .name = "keys", .fn = keys, .opts = no_opts, .min_pos = 0, .max_pos = 1,
    .usage = "attnsweep keys [MODEL | plugin:PATH.so]",
    .about = "every spec key of a model family, with default and meaning"};
const cli_command_t cli_refine_command = {
    .name = "refine", .fn = refine, .opts = refine_opts, .min_pos = 1, .max_pos = 1,
    .usage = "attnsweep refine FILE --x KEY [--y KEY] --metric NAME [--level V] --budget N --out NEXT.ini",
    .about = "propose the next points of a phase diagram where its answer changes"};
