/* param — the typed schema of a run's parameters and the vector of their values. Every model
 * family declares its keys as a param_def_t table (designated initializers: unset fields are 0,
 * i.e. sweepable, inclusive minimum); schema.h adds the keys common to all families. A spec fills
 * a grid of params_t (one per run); models read their values by name at init. */
#ifndef ATTNSWEEP_PARAM_H
#define ATTNSWEEP_PARAM_H
#include <stddef.h>

/* PARAM_FILE: a path to a data file. Its value in params_t is an index into the spec's table of
 * the file keys' values (spec.c interns them: 0 is "", no file; each other entry an absolute
 * path), which the spec's copy of the key's definition holds as its choices; params_gets and
 * param_format give the path. The spec records every named file's SHA-256 (spec_t.data_files). */
typedef enum { PARAM_INT, PARAM_REAL, PARAM_BOOL, PARAM_ENUM, PARAM_FILE } param_type_t;

typedef struct {
    const char *name;     /* unique across all sections, e.g. "vocab_size" */
    const char *section;  /* home section in a spec file: "task", "model" or "train" */
    param_type_t type;
    double def;           /* default; PARAM_ENUM: index into choices; PARAM_BOOL: 0/1; PARAM_FILE:
                           * 0 (no file) */
    double min, max;      /* valid closed range for INT/REAL (checked by param_check) */
    int min_exclusive;    /* 1: the value must be > min (learning rates, std devs) */
    const char *const *choices; /* PARAM_ENUM: NULL-terminated, e.g. {"fixed", "mlp", NULL};
                                 * PARAM_FILE: NULL in a family's table, the interned paths in a
                                 * spec's copy ({"", "/data/a.tsv", NULL}) */
    int one_value;        /* 1: one value for the whole spec, never a list (e.g. log_every) */
    const char *help;     /* one line: meaning and unit, shown by `attnsweep keys` */
    const char *units;    /* CF-style units of the value ("1" dimensionless, "s"), or NULL */
} param_def_t;

#define PARAM_MAX 64

/* The values of one run. defs points into the grid's combined schema (common + family keys);
 * v[i] is the value of defs[i] (enum: choice index, bool: 0/1). */
typedef struct {
    const param_def_t *defs;
    int n;
    double v[PARAM_MAX];
} params_t;

/* Index of name in defs[0..n), or -1. */
int param_index(const param_def_t *defs, int n, const char *name);
/* p = every key of defs[0..n) at its default. */
void params_defaults(params_t *p, const param_def_t *defs, int n);
/* Set a key by name: 0, or -1 if p's schema has no such key (the value is not checked). */
int params_set(params_t *p, const char *name, double v);
/* Value of a key by name. The key must exist in p's schema (a programming error otherwise:
 * asserts in debug builds, returns NaN in release). */
double params_get(const params_t *p, const char *name);
long params_geti(const params_t *p, const char *name);
/* Enum value as its choice string (from defs), a file key's value as its path ("" for none), or
 * NULL if the key is neither. */
const char *params_gets(const params_t *p, const char *name);
/* 1 if values of d are stored as strings (PARAM_ENUM, PARAM_FILE): their index into d->choices. */
int param_is_text(const param_def_t *d);

/* Check one value against its definition: range, integrality, bool, enum or file index. An INT key's
 * range is [min, max] rounded inwards to integers and kept within +-2^53 (exact in a double).
 * Returns 0 or -1 with a message "key: expected ..., got ..." in err (integers in full). */
int param_check(const param_def_t *d, double v, char *err, size_t errlen);
/* Parse the text of one scalar value for d: decimal numbers (param_read_integer's grammar; INT
 * keys read exactly, whole values only; -0 reads as 0), true/false/yes/no/on/off/1/0, enum
 * names, a file key's path among d->choices (spec.c interns new paths). Returns 0 or -1 with
 * "key: expected ..., got ..." in err, the text quoted escaped. */
int param_parse(const param_def_t *d, const char *text, double *out, char *err, size_t errlen);
/* Format a value for display ("5000", "0.1", "mlp", "true", a file key's path). */
void param_format(const param_def_t *d, double v, char *buf, size_t buflen);
/* Number of choices of an enum, or of a file key's table (1, the empty path, when it has none). */
int param_n_choices(const param_def_t *d);

/* How the text of a number reads (param_read_integer). The grammar (README "Spec files"): an
 * optional sign, decimal digits with an optional point, an optional exponent e/E; nothing else
 * (no hexadecimal, inf/nan, underscores or blanks). */
typedef enum {
    PARAM_NUM_OK = 0,
    PARAM_NUM_SYNTAX,    /* not a decimal number: '', 'abc', '0x1F4', '1_000', '1 000' */
    PARAM_NUM_NONFINITE, /* inf, infinity or nan in any case, with or without a sign */
    PARAM_NUM_FRACTION,  /* a number but not a whole one: 2.5, 1e-3 */
    PARAM_NUM_TOO_LARGE, /* a whole number beyond int64: 9223372036854775808, 1e19 */
} param_num_t;
/* Reads text[0..n) (no blanks around it) as an integer, exactly (no detour through a double):
 * digits, or decimal/exponent forms whose value is whole ("1e3", "2.50e1", "-0"). */
param_num_t param_read_integer(const char *text, size_t n, long long *out);
/* param_check for a value held as an integer, compared exactly (an INT key's range is read as
 * integers within +-2^53, where a double is exact); messages print x in full. */
int param_check_integer(const param_def_t *d, long long x, char *err, size_t errlen);
/* Quotes text[0..n) for a one-line message into buf: UTF-8 text and tabs as they are; control
 * characters, DEL, C1 controls and bytes that are not UTF-8 as \xNN; cut with "..." to fit
 * buflen (never inside a character or an escape). Returns buf. */
const char *param_quote(const char *text, size_t n, char *buf, size_t buflen);
/* Length of the longest prefix of text[0..n) that param_quote shows unchanged (UTF-8 text without
 * control characters other than tab): n when all of it is. */
size_t param_text_len(const char *text, size_t n);

#endif
