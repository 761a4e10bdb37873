/* test_sha256 — the hand-written SHA-256 (src/sha256.c) against the FIPS 180-4 / NIST example
 * vectors, including the million-'a' message, and incremental updates split at every offset
 * around the 64-byte block and 56-byte padding boundaries. */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "sha256.h"

static void hex_of(const unsigned char d[32], char hex[65])
{
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", d[i]);
}

Test(sha256, hashes_the_empty_message) {
    char hex[65];
    sha256_hex("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(sha256, hashes_abc) {
    char hex[65];
    sha256_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(sha256, hashes_the_two_block_448_bit_message) {
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char hex[65];
    sha256_hex(m, strlen(m), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, hashes_the_896_bit_message) {
    const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    char hex[65];
    sha256_hex(m, strlen(m), hex);
    cr_assert_str_eq(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

Test(sha256, hashes_one_million_a_fed_in_uneven_pieces) {
    static char a[1024]; /* pieces are at most 1009 bytes */
    memset(a, 'a', sizeof a);
    sha256_t c;
    unsigned char d[32];
    char hex[65];
    sha256_init(&c);
    size_t left = 1000000, piece = 1;
    while (left) {
        size_t n = piece < left ? piece : left;
        sha256_update(&c, a, n);
        left -= n;
        piece = piece % 997 + 13;
    }
    sha256_final(&c, d);
    hex_of(d, hex);
    cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, gives_the_same_digest_for_any_split_of_the_input) {
    unsigned char msg[200];
    for (int i = 0; i < 200; i++) msg[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 50; len <= 130; len++) {
        char whole[65];
        sha256_hex(msg, len, whole);
        for (size_t cut = 0; cut <= len; cut++) {
            sha256_t c;
            unsigned char d[32];
            char hex[65];
            sha256_init(&c);
            sha256_update(&c, msg, cut);
            sha256_update(&c, msg + cut, len - cut);
            sha256_final(&c, d);
            hex_of(d, hex);
            cr_assert_str_eq(hex, whole, "len %zu cut %zu", len, cut);
        }
    }
}

Test(sha256, differs_when_one_bit_changes) {
    char a[65], b[65];
    sha256_hex("[model]\nmodel = lu2021\n", 24, a);
    sha256_hex("[model]\nmodel = lu2020\n", 24, b);
    cr_assert_str_neq(a, b);
}
