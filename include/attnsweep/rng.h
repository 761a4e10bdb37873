/* rng — the only source of randomness in attnsweep. A run's data and initial weights come from
 * independent streams keyed by (seed, stream id) alone, never by rank, time or schedule, so a
 * run is bit-identical wherever and whenever it trains. Generator: xoshiro256**
 * seeded through SplitMix64 of (seed, stream); normals by Box–Muller (both values used). */
#ifndef ATTNSWEEP_RNG_H
#define ATTNSWEEP_RNG_H
#include <stdint.h>

/* Stream ids: a model takes one stream per purpose, so adding draws to one purpose (say, more
 * data) never shifts another (the initial weights). */
enum {
    RNG_STREAM_DATA = 1,  /* task data: train/valid/test sets */
    RNG_STREAM_INIT = 2,  /* initial weights */
    RNG_STREAM_BATCH = 3, /* mini-batch order, dropout-like noise during training */
    RNG_STREAM_EVAL = 4   /* probes and evaluation-only sampling */
};

typedef struct {
    uint64_t s[4];
    double spare;   /* second Box–Muller value */
    int has_spare;
} rng_t;

void rng_init(rng_t *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(rng_t *r);
double rng_uniform(rng_t *r);             /* [0, 1), 53 random bits */
uint64_t rng_below(rng_t *r, uint64_t n); /* uniform in [0, n), unbiased; n > 0 */
double rng_normal(rng_t *r);              /* N(0, 1) */

#endif
