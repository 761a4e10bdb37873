/* cli — the command line: the only code that prints to the user and chooses exit codes. main.c
 * reads a command's options (getopt_long over its option table, which is also its --help) and
 * calls it; the commands live in cli_run.c (run) and cli_tools.c (plan, status, train, keys);
 * cli.c holds what they share. */
#ifndef ATTNSWEEP_CLI_H
#define ATTNSWEEP_CLI_H
#include "attnsweep/grid.h"

/* Exit codes (README "Exit codes"): 3 = runs still to do (a stopped sweep, an unfinished file),
 * 4 = every run finished but some failed. */
enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2, CLI_UNFINISHED = 3, CLI_FAILED_RUNS = 4 };
enum { CLI_OPT_SET = 1, CLI_OPT_FIRST = 256 }; /* a command's option ids start at CLI_OPT_FIRST */
#define CLI_MAX_GIVEN 512

/* One option of a command: --name [ARG], its id, and its line in --help. */
typedef struct {
    const char *name, *arg; /* arg: the value's name in --help, NULL for a flag */
    int id;                 /* CLI_OPT_SET: collected into cli_args_t.sets */
    const char *help;
} cli_option_t;

/* A command's arguments, read before the command runs. */
typedef struct {
    int argc;                 /* the command's argv (argv[0] = its name), as given */
    char **argv;
    int n_pos, n_sets, n_given;
    const char *pos[4];       /* positional arguments */
    const char *sets[CLI_MAX_GIVEN]; /* --set values, in order */
    struct { int id; const char *arg; } given[CLI_MAX_GIVEN]; /* the other options, in order */
} cli_args_t;

typedef struct {
    const char *name;
    int (*fn)(const cli_args_t *a);
    const char *usage, *about; /* "attnsweep plan SPEC [options]"; one line on what it does */
    const cli_option_t *opts;  /* terminated by {NULL} */
    int min_pos, max_pos;      /* positional arguments */
} cli_command_t;

extern const cli_command_t cli_run_command, cli_plan_command, cli_status_command,
    cli_train_command, cli_keys_command, cli_refine_command;

/* "attnsweep CMD: <message> (see attnsweep CMD --help)" on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...);
/* Option name's value as a number in [lo, hi]: CLI_OK, or the error printed and CLI_USAGE. */
int cli_number(const char *cmd, const char *name, const char *text, double lo, double hi,
               double *out);
/* Load the spec with the given --set options and expand its grid; prints the error. */
int cli_load(const cli_args_t *a, spec_t *spec, grid_t *grid);

#endif
