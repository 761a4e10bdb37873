/* cli — what the commands share (cli.h): reporting usage errors, numbers from options, and
 * loading a spec (with its --set options) into a grid. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "attnsweep %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see attnsweep %s --help)\n", cmd);
    return CLI_USAGE;
}

int cli_number(const char *cmd, const char *name, const char *text, double lo, double hi,
               double *out)
{
    char *end;
    double x = strtod(text, &end);
    if (end == text || *end || !(x >= lo && x <= hi))
        return cli_usage_error(cmd, "--%s expects a number in [%g, %g], got '%s'", name, lo, hi,
                               text);
    *out = x;
    return CLI_OK;
}

int cli_load(const cli_args_t *a, spec_t *spec, grid_t *grid)
{
    char err[2048];
    if (spec_load(spec, a->pos[0], a->sets, a->n_sets, err, sizeof err) != 0 ||
        grid_init(grid, spec, err, sizeof err) != 0) {
        fprintf(stderr, "attnsweep: %s\n", err);
        return CLI_ERROR;
    }
    return CLI_OK;
}
