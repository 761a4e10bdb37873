/* reuse — `run --reuse OLD.h5`: a run of the new sweep whose complete configuration (model family,
 * every key's value, defaults included, hence the trace axis too) equals that of a finished run
 * (done or diverged, trace intact) of an older results file is copied from it instead of trained.
 * Rank 0 matches (reuse_match, serial, reads OLD files read-only); every rank then copies its
 * share into the new file (reuse_copy). Keys an OLD file predates count as off only where off was
 * the old behaviour (the early-stopping keys); any other key it lacks, or has in excess, a
 * different family or different metrics, and none of its runs is reused (a note says why). */
#ifndef ATTNSWEEP_REUSE_H
#define ATTNSWEEP_REUSE_H
#include <stddef.h>
#include "attnsweep/grid.h"
#include "attnsweep/h5out.h"

#define REUSE_NOTES 2048

typedef struct {
    int n_files;
    char **files;        /* [n_files] the OLD files, patterns expanded, in the order given */
    long *per_file;      /* [n_files] runs reused from each */
    long n;              /* runs to copy */
    long *new_id, *old_id; /* [n] */
    int *file;           /* [n] index into files */
    char notes[REUSE_NOTES]; /* rank 0: files skipped, and why ("" if none) */
    double match_seconds;    /* rank 0: reading the files and matching */
} reuse_t;

/* Expand patterns (shell globs, or plain paths) into rp->files. 0 ok; <0 with err (a pattern
 * matches nothing). */
int reuse_files(reuse_t *rp, const char *const *patterns, int n_patterns, char *err,
                size_t errlen);
/* Rank 0: which of the runs todo[0..*n_todo) can be copied from rp->files. They leave todo (which
 * keeps its order) and enter rp. 0 ok; <0 with err (an OLD file cannot be read at all). */
int reuse_match(reuse_t *rp, const grid_t *g, long *todo, long *n_todo, char *err,
                size_t errlen);
/* Every rank: copy the runs k of rp with k % size == rank into out (independent writes), their
 * trace re-packed to the new file's step axis and its CRC recomputed. 0 ok; <0 with err. */
int reuse_copy(const reuse_t *rp, const grid_t *g, h5out_t *out, int rank, int size, char *err,
               size_t errlen);
void reuse_free(reuse_t *rp);

#endif
