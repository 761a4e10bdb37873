/* cli — the command line: the only code that prints to the user and chooses exit codes.
 * cli.c parses the command and implements train/help/version; cli_sweep.c implements the MPI
 * commands (run) and the file/plan tools (plan, status). */
#ifndef ATTNSWEEP_CLI_H
#define ATTNSWEEP_CLI_H

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

int cli_main(int argc, char **argv);
int cli_run(int argc, char **argv);    /* attnsweep run SPEC [--out F] [--resume] ... */
int cli_plan(int argc, char **argv);   /* attnsweep plan SPEC [--set k=v]... [-np N] */
int cli_status(int argc, char **argv); /* attnsweep status FILE */

/* Collects repeated `--set section.key=value` options: returns 1 and advances *i if argv[*i] is
 * one (either "--set x" or "--set=x"), 0 if not, -1 if its value is missing. */
int cli_take_set(int argc, char **argv, int *i, const char **sets, int *n_sets, int max_sets);

#endif
