/* param — lookup, parsing, checking and formatting of typed run parameters (see param.h).
 * Pure functions over the schema tables that train.c and each model family declare. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "attnsweep/param.h"

int param_index(const param_def_t *defs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(defs[i].name, name) == 0) return i;
    return -1;
}

void params_defaults(params_t *p, const param_def_t *defs, int n)
{
    p->defs = defs;
    p->n = n;
    for (int i = 0; i < n; i++) p->v[i] = defs[i].def;
}

int params_set(params_t *p, const char *name, double v)
{
    int i = param_index(p->defs, p->n, name);
    if (i < 0) return -1;
    p->v[i] = v;
    return 0;
}

double params_get(const params_t *p, const char *name)
{
    int i = param_index(p->defs, p->n, name);
    assert(i >= 0 && "params_get: key not in this run's schema");
    return i < 0 ? NAN : p->v[i];
}

long params_geti(const params_t *p, const char *name) { return lround(params_get(p, name)); }

const char *params_gets(const params_t *p, const char *name)
{
    int i = param_index(p->defs, p->n, name);
    if (i < 0 || p->defs[i].type != PARAM_ENUM) return NULL;
    int c = (int)p->v[i];
    return (c >= 0 && c < param_n_choices(&p->defs[i])) ? p->defs[i].choices[c] : NULL;
}

int param_n_choices(const param_def_t *d)
{
    int n = 0;
    if (d->type == PARAM_ENUM && d->choices)
        while (d->choices[n]) n++;
    return n;
}

static void choices_list(const param_def_t *d, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; d->choices && d->choices[i]; i++) {
        size_t u = strlen(buf);
        snprintf(buf + u, len - u, "%s%s", i ? ", " : "", d->choices[i]);
    }
}

int param_check(const param_def_t *d, double v, char *err, size_t errlen)
{
    char range[160];
    switch (d->type) {
    case PARAM_BOOL:
        if (v == 0.0 || v == 1.0) return 0;
        snprintf(err, errlen, "%s: expected true or false", d->name);
        return -1;
    case PARAM_ENUM:
        if (v >= 0 && v < param_n_choices(d) && v == floor(v)) return 0;
        choices_list(d, range, sizeof range);
        snprintf(err, errlen, "%s: expected one of %s", d->name, range);
        return -1;
    case PARAM_INT:
    case PARAM_REAL:
        break;
    }
    if (!isfinite(v)) {
        snprintf(err, errlen, "%s: expected a finite number, got %g", d->name, v);
        return -1;
    }
    if (d->type == PARAM_INT && v != floor(v)) {
        snprintf(err, errlen, "%s: expected an integer, got %g", d->name, v);
        return -1;
    }
    int low = d->min_exclusive ? !(v > d->min) : !(v >= d->min);
    if (low || v > d->max) {
        snprintf(err, errlen, "%s: expected a value in %s%g, %g], got %g", d->name,
                 d->min_exclusive ? "(" : "[", d->min, d->max, v);
        return -1;
    }
    return 0;
}

int param_parse(const param_def_t *d, const char *text, double *out, char *err, size_t errlen)
{
    while (*text == ' ' || *text == '\t') text++;
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t')) n--;
    char buf[128];
    if (n == 0 || n >= sizeof buf) {
        snprintf(err, errlen, "%s: expected a value, got '%.*s'", d->name, (int)(n < 60 ? n : 60), text);
        return -1;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';

    if (d->type == PARAM_BOOL) {
        static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(buf, yes[i]) == 0) { *out = 1; return 0; }
            if (strcasecmp(buf, no[i]) == 0) { *out = 0; return 0; }
        }
        snprintf(err, errlen, "%s: expected true or false, got '%s'", d->name, buf);
        return -1;
    }
    if (d->type == PARAM_ENUM) {
        for (int i = 0; d->choices && d->choices[i]; i++)
            if (strcmp(buf, d->choices[i]) == 0) { *out = i; return 0; }
        char list[160];
        choices_list(d, list, sizeof list);
        snprintf(err, errlen, "%s: expected one of %s, got '%s'", d->name, list, buf);
        return -1;
    }
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0' || errno == ERANGE) {
        snprintf(err, errlen, "%s: expected a number, got '%s'", d->name, buf);
        return -1;
    }
    *out = v;
    return param_check(d, v, err, errlen);
}

void param_format(const param_def_t *d, double v, char *buf, size_t buflen)
{
    switch (d->type) {
    case PARAM_BOOL: snprintf(buf, buflen, "%s", v != 0.0 ? "true" : "false"); break;
    case PARAM_ENUM:
        snprintf(buf, buflen, "%s", (v >= 0 && v < param_n_choices(d)) ? d->choices[(int)v] : "?");
        break;
    case PARAM_INT: snprintf(buf, buflen, "%.0f", v); break;
    case PARAM_REAL: /* shortest of %.15g/%.17g that reads back exactly */
        snprintf(buf, buflen, "%.15g", v);
        if (strtod(buf, NULL) != v) snprintf(buf, buflen, "%.17g", v);
        break;
    }
}
