/* SCAFFOLD — replaced by the spec/grid helper. */
#include "attnsweep/grid.h"
int grid_init(grid_t *g, const spec_t *s, char *err, size_t n) { (void)g; (void)s; (void)err; (void)n; return -1; }
void grid_free(grid_t *g) { (void)g; }
void grid_run_params(const grid_t *g, long id, params_t *p) { (void)g; (void)id; (void)p; }
