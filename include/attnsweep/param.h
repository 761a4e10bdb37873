/* param — the typed schema of a run's parameters and the vector of their values. Every model
 * family declares its keys as a param_def_t table (designated initializers: unset fields are 0,
 * i.e. sweepable, inclusive minimum); schema.h adds the keys common to all families. A spec fills
 * a grid of params_t (one per run); models read their values by name at init. */
#ifndef ATTNSWEEP_PARAM_H
#define ATTNSWEEP_PARAM_H
#include <stddef.h>

typedef enum { PARAM_INT, PARAM_REAL, PARAM_BOOL, PARAM_ENUM } param_type_t;

typedef struct {
    const char *name;     /* unique across all sections, e.g. "vocab_size" */
    const char *section;  /* home section in a spec file: "task", "model" or "train" */
    param_type_t type;
    double def;           /* default; PARAM_ENUM: index into choices; PARAM_BOOL: 0/1 */
    double min, max;      /* valid closed range for INT/REAL (checked by param_check) */
    int min_exclusive;    /* 1: the value must be > min (learning rates, std devs) */
    const char *const *choices; /* PARAM_ENUM only: NULL-terminated, e.g. {"fixed", "mlp", NULL} */
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
/* Enum value as its choice string (from defs), or NULL if the key is not an enum. */
const char *params_gets(const params_t *p, const char *name);

/* Check one value against its definition: range, integrality, bool, enum index.
 * Returns 0 or -1 with a message "key: expected ..., got ..." in err. */
int param_check(const param_def_t *d, double v, char *err, size_t errlen);
/* Parse the text of one scalar value for d: numbers, true/false/yes/no/1/0, enum names.
 * Returns 0 or -1 with "expected ..." in err. */
int param_parse(const param_def_t *d, const char *text, double *out, char *err, size_t errlen);
/* Format a value for display ("5000", "0.1", "mlp", "true"). */
void param_format(const param_def_t *d, double v, char *buf, size_t buflen);
/* Number of choices of an enum. */
int param_n_choices(const param_def_t *d);

#endif
