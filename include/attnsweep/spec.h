/* spec — reads a sweep spec (INI, parsed with libinih) plus `--set section.key=value` overrides
 * into checked value lists. Sections: [model] (must hold `model = NAME`), [task], [train] and
 * [grid] (and [points], below); a key lives in its home section (param_def_t.section) or in
 * [grid]. Any sweepable key
 * may hold a list `16, 32, 64` of items, each a value, an integer range `0..9`,
 * `logspace(1e-3, 1, 7)` or `linspace(a, b, n)`; indented lines continue a list. Lines end at
 * LF, CRLF or CR; a spec is UTF-8 text. Unknown keys, duplicates, bad numbers, empty lists,
 * reversed ranges and lines that are not text are errors naming file:line and key, quoting the
 * input escaped (param_quote).
 * README.md ("Spec files") is the user's description of the format. */
#ifndef ATTNSWEEP_SPEC_H
#define ATTNSWEEP_SPEC_H
#include <stddef.h>
#include "attnsweep/model.h"

typedef struct {
    char section[32];
    char key[64];
    char *text;       /* the value as written (after any override) */
    char where[320];  /* "examples/demo.ini:12" or "--set train.lr=0.2" */
    int def;          /* index of the key in spec_t.defs */
    int n_values;
    double *values;   /* expanded values, each checked with param_check */
} spec_entry_t;

typedef struct {
    char *path;
    char *text;       /* canonical text: the file, then one "# --set k=v" line per override */
    char sha256[65];  /* hex SHA-256 of text: what --resume compares */
    const model_family_t *family;
    const char *family_source; /* "built-in", or the plugin's absolute path (model.h) */
    param_def_t *defs; /* combined schema: train_common_params, then the family's keys */
    int n_defs;
    spec_entry_t *entries; /* in file order (overrides replace in place, or append) */
    int n_entries;
    /* [points]: explicit tuples of the point keys (`keys = a, b` then `point = 1, 2` lines), the
     * grid's first dimension, crossed with the swept keys (grid.h). n_points = 0: none. */
    int n_point_keys, n_points;
    int point_def[PARAM_MAX];  /* index into defs of each point key */
    double *points;            /* [n_points][n_point_keys] */
    /* File keys (PARAM_FILE): their values' table, files[0] = "" (no file), then every distinct
     * absolute path in the order the spec names them, NULL-terminated; the file keys' defs have
     * it as their choices. A relative path is taken from the spec file's folder, or from the
     * working directory when a --set gives it; the file must exist. */
    char **files;
    int n_files;               /* entries of files, "" included */
    /* Every file the file keys name, one "SHA256  PATH" line each (sha256sum's format), with the
     * .dev and .test files beside a PATH that ends in .train (when they exist); "" when none.
     * The results file stores it (root attribute data_files); --resume and --reuse compare it. */
    char *data_files;
} spec_t;

/* Parse path with overrides ("section.key=value" each). 0 ok; <0 with err "file:line: key: what
 * was wrong; what is expected". spec_free is safe after a failed load. */
int spec_load(spec_t *s, const char *path, const char *const *overrides, int n_overrides,
              char *err, size_t errlen);
/* The same from text in memory (path is only used in messages). */
int spec_load_text(spec_t *s, const char *path, const char *text, const char *const *overrides,
                   int n_overrides, char *err, size_t errlen);
/* spec_load_text with the family looked up in families[] (NULL-terminated) instead of the
 * built-in registry model_families; NULL means the built-in one. Lets tests use a toy family. */
int spec_load_text_in(spec_t *s, const model_family_t *const *families, const char *path,
                      const char *text, const char *const *overrides, int n_overrides,
                      char *err, size_t errlen);
/* Split a canonical text into the file's text (*body, malloc'd) and its overrides (*ov, n of
 * them, pointing into *body's allocation: free *body and *ov only). 0, or -1 out of memory. */
int spec_canonical_split(const char *canonical, char **body, const char ***ov, int *n);
/* Load a spec's canonical text as a results file stores it (/spec): the file's text, then one
 * "# --set k=v" line per override, which is applied again. The hash is the stored one. */
int spec_load_canonical(spec_t *s, const char *path, const char *canonical, char *err,
                        size_t errlen);
void spec_free(spec_t *s);

/* Expand one value list ("1, 2", "0..9", "logspace(1e-3, 1, 7)") for d into a malloc'd array.
 * 0 ok with *out and *n set; <0 with err. Exposed for tests and for grid-free tools. */
int spec_parse_values(const param_def_t *d, const char *text, double **out, int *n,
                      char *err, size_t errlen);

/* Hex SHA-256 of len bytes into hex[65]. */
void spec_sha256_hex(const void *data, size_t len, char hex[65]);

/* The lines of a data_files text (spec_t.data_files, or a results file's attribute) that belong
 * to the file key value path: its own and its companions' (PATH.dev, PATH.test beside a
 * PATH.train), into buf as one string ("" when none). Returns buf. */
const char *spec_data_lines(const char *data_files, const char *path, char *buf, size_t buflen);

#endif
