/* SCAFFOLD — replaced by the sweep-engine helper. */
#include <stdio.h>
#include "cli.h"
int cli_run(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not built yet\n"); return 1; }
int cli_plan(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not built yet\n"); return 1; }
int cli_status(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not built yet\n"); return 1; }
