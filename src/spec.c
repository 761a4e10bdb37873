/* SCAFFOLD — replaced by the spec/grid helper. */
#include <stdio.h>
#include "attnsweep/spec.h"
int spec_load(spec_t *s, const char *path, const char *const *o, int no, char *err, size_t n)
{ (void)s; (void)o; (void)no; snprintf(err, n, "%s: spec parser not built yet", path); return -1; }
void spec_free(spec_t *s) { (void)s; }
