/* sha256 — SHA-256 (FIPS 180-4), hand-written, incremental. The spec's canonical text is hashed
 * with it (spec_sha256_hex in spec.h), and --resume compares that hash. Private to the library. */
#ifndef ATTNSWEEP_SHA256_H
#define ATTNSWEEP_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t n_bytes;      /* message bytes absorbed so far */
    unsigned char block[64];
    size_t used;           /* bytes waiting in block */
} sha256_t;

void sha256_init(sha256_t *c);
void sha256_update(sha256_t *c, const void *data, size_t len);
/* Pads, writes the 32-byte digest; c must be re-initialised before reuse. */
void sha256_final(sha256_t *c, unsigned char digest[32]);
/* One-shot: lowercase hex digest of len bytes into hex[65] (NUL-terminated). */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
