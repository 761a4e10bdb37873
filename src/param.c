/* param — lookup, parsing, checking and formatting of typed run parameters (see param.h).
 * Pure functions over the schema tables that train.c and each model family declare. */
#include <assert.h>
#include <float.h>
#include <limits.h>
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

int param_is_text(const param_def_t *d) { return d->type == PARAM_ENUM || d->type == PARAM_FILE; }

/* Choice c of a text key: its string, "" for a file key's 0 without a table, NULL if none. */
static const char *param_choice(const param_def_t *d, double v)
{
    if (!param_is_text(d) || !(v >= 0 && v < param_n_choices(d)) || v != floor(v)) return NULL;
    return d->choices ? d->choices[(int)v] : "";
}

const char *params_gets(const params_t *p, const char *name)
{
    int i = param_index(p->defs, p->n, name);
    return i < 0 ? NULL : param_choice(&p->defs[i], p->v[i]);
}

int param_n_choices(const param_def_t *d)
{
    int n = 0;
    if (param_is_text(d) && d->choices)
        while (d->choices[n]) n++;
    return d->type == PARAM_FILE && !d->choices ? 1 : n;
}

static void choices_list(const param_def_t *d, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; d->choices && d->choices[i]; i++) {
        size_t u = strlen(buf);
        snprintf(buf + u, len - u, "%s%s", i ? ", " : "", d->choices[i]);
    }
}

/* ---------------------------------------------------------------- quoting input in messages */

/* Bytes in the printable UTF-8 character (or tab) at s[0..n), 0 if s[0] starts none. */
static size_t param_char_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp, min;
    size_t k;
    if (c == '\t' || (c >= 0x20 && c < 0x7F)) return 1;
    if (c >= 0xC2 && c <= 0xDF) k = 2, cp = c & 0x1F, min = 0xA0; /* 0x80..0x9F: C1 controls */
    else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) k = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    return (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) ? 0 : k;
}

size_t param_text_len(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, k;
    while (i < n && (k = param_char_len(s + i, n - i)) > 0) i += k;
    return i;
}

const char *param_quote(const char *text, size_t n, char *buf, size_t buflen)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0, i, all = 0, k;
    if (buflen == 0) return buf;
    for (i = 0; i < n; i += k ? k : 1) all += (k = param_char_len(s + i, n - i)) ? k : 4;
    size_t dots = all > buflen - 1 && buflen > 4 ? 3 : 0; /* room kept for "..." */
    for (i = 0; i < n;) {
        size_t w = (k = param_char_len(s + i, n - i)) ? k : 4;
        if (o + w + dots > buflen - 1) {
            memcpy(buf + o, "...", dots);
            o += dots;
            break;
        }
        if (k) memcpy(buf + o, s + i, k);
        else snprintf(buf + o, 5, "\\x%02x", s[i]);
        o += w;
        i += k ? k : 1;
    }
    buf[o] = '\0';
    return buf;
}

/* ---------------------------------------------------------------- numbers */

/* A decimal number's text cut into its parts: [+-] digits [. digits] [e [+-] digits]. */
typedef struct {
    int neg;
    const char *whole, *frac; /* digits before and after the point */
    size_t n_whole, n_frac;
    long long exp;            /* saturates at +-1e15: far past any digit count that matters */
} param_decimal_t;

static size_t param_digits(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    return i;
}

static param_num_t param_scan(const char *s, size_t n, param_decimal_t *d)
{
    size_t i = 0;
    memset(d, 0, sizeof *d);
    if (i < n && (s[i] == '+' || s[i] == '-')) d->neg = s[i++] == '-';
    static const char *const nonfinite[] = {"inf", "infinity", "nan"};
    for (int k = 0; k < 3; k++)
        if (n - i == strlen(nonfinite[k]) && strncasecmp(s + i, nonfinite[k], n - i) == 0)
            return PARAM_NUM_NONFINITE;
    if (n - i >= 4 && strncasecmp(s + i, "nan(", 4) == 0 && s[n - 1] == ')')
        return PARAM_NUM_NONFINITE;
    d->whole = s + i;
    i += d->n_whole = param_digits(s + i, n - i);
    if (i < n && s[i] == '.') {
        d->frac = s + ++i;
        i += d->n_frac = param_digits(s + i, n - i);
    }
    if (d->n_whole + d->n_frac == 0) return PARAM_NUM_SYNTAX;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int neg = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
        size_t k = param_digits(s + i, n - i);
        if (k == 0) return PARAM_NUM_SYNTAX;
        for (size_t j = 0; j < k; j++)
            if (d->exp < 1000000000000000LL) d->exp = d->exp * 10 + (s[i + j] - '0');
        if (neg) d->exp = -d->exp;
        i += k;
    }
    return i == n ? PARAM_NUM_OK : PARAM_NUM_SYNTAX;
}

/* The i-th digit of whole then frac. */
static int param_digit(const param_decimal_t *d, size_t i)
{
    return (i < d->n_whole ? d->whole[i] : d->frac[i - d->n_whole]) - '0';
}

param_num_t param_read_integer(const char *text, size_t n, long long *out)
{
    param_decimal_t d;
    param_num_t r = param_scan(text, n, &d);
    if (r != PARAM_NUM_OK) return r;
    /* value = D * 10^(exp - n_frac), D the digits; strip D's leading and trailing zeros */
    size_t len = d.n_whole + d.n_frac, first = 0, last = len;
    while (first < len && param_digit(&d, first) == 0) first++;
    if (first == len) {
        *out = 0;
        return PARAM_NUM_OK;
    }
    while (param_digit(&d, last - 1) == 0) last--;
    long long scale = d.exp - (long long)d.n_frac + (long long)(len - last);
    if (scale < 0) return PARAM_NUM_FRACTION;
    if ((long long)(last - first) + scale > 19) return PARAM_NUM_TOO_LARGE; /* >= 10^19 */
    unsigned long long u = 0; /* < 10^19 < 2^64 */
    for (size_t i = first; i < last; i++) u = u * 10 + (unsigned)param_digit(&d, i);
    for (long long i = 0; i < scale; i++) u *= 10;
    if (u > (d.neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX))
        return PARAM_NUM_TOO_LARGE;
    *out = d.neg ? (u > (unsigned long long)LLONG_MAX ? LLONG_MIN : -(long long)u) : (long long)u;
    return PARAM_NUM_OK;
}

/* A real: the same grammar, converted by strtod (correctly rounded). s[n] must end the number
 * (a blank or NUL). *tiny is set when a non-zero number underflows a double. */
static param_num_t param_read_real(const char *s, size_t n, double *out, int *tiny)
{
    param_decimal_t d;
    param_num_t r = param_scan(s, n, &d);
    *tiny = 0;
    if (r != PARAM_NUM_OK) return r;
    char *end;
    double v = strtod(s, &end);
    if (end != s + n) return PARAM_NUM_SYNTAX;
    if (isinf(v)) return PARAM_NUM_TOO_LARGE;
    int nonzero = 0;
    for (size_t i = 0; i < d.n_whole + d.n_frac; i++) nonzero |= param_digit(&d, i) != 0;
    if (nonzero && fabs(v) < DBL_MIN) {
        *tiny = 1;
        return PARAM_NUM_TOO_LARGE;
    }
    *out = v == 0 ? 0.0 : v; /* -0 is 0 */
    return PARAM_NUM_OK;
}

/* ---------------------------------------------------------------- range checks */

/* An INT key's range as integers: [min, max] rounded inwards, clamped to +-2^53 (where every
 * integer is exact in the double a params_t holds). */
static void param_int_bounds(const param_def_t *d, long long *lo, long long *hi)
{
    const double exact = 9007199254740992.0; /* 2^53 */
    double l = d->min_exclusive ? floor(d->min) + 1 : ceil(d->min), h = floor(d->max);
    *lo = (long long)(l >= -exact ? (l <= exact ? l : exact) : -exact);
    *hi = (long long)(h <= exact ? (h >= -exact ? h : -exact) : exact);
}

/* Shortest of %.15g/%.17g that reads back as v. */
static void param_format_real(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
}

/* "an integer in [1, 1000]" or "a number in (0, 1000000]". */
static void param_range_text(const param_def_t *d, char *buf, size_t len)
{
    if (d->type == PARAM_INT) {
        long long lo, hi;
        param_int_bounds(d, &lo, &hi);
        snprintf(buf, len, "an integer in [%lld, %lld]", lo, hi);
    } else {
        char a[32], b[32];
        param_format_real(d->min, a, sizeof a);
        param_format_real(d->max, b, sizeof b);
        snprintf(buf, len, "a number in %s%s, %s]", d->min_exclusive ? "(" : "[", a, b);
    }
}

/* -1, 0, 1 as x <, ==, > m, exactly (0 for a NaN m: no conversion of it). */
static int param_cmp_exact(long long x, double m)
{
    if (isnan(m)) return 0;
    if (m >= 9223372036854775808.0) return -1;
    if (m < -9223372036854775808.0) return 1;
    double f = floor(m);
    long long fi = (long long)f;
    if (x != fi) return x < fi ? -1 : 1;
    return f == m ? 0 : -1;
}

int param_check_integer(const param_def_t *d, long long x, char *err, size_t errlen)
{
    char range[96];
    int ok;
    if (d->type == PARAM_INT) {
        long long lo, hi;
        param_int_bounds(d, &lo, &hi);
        ok = x >= lo && x <= hi;
    } else if (d->type == PARAM_REAL) {
        int c = param_cmp_exact(x, d->min);
        ok = (d->min_exclusive ? c > 0 : c >= 0) && param_cmp_exact(x, d->max) <= 0;
    } else {
        return param_check(d, (double)x, err, errlen);
    }
    if (ok) return 0;
    param_range_text(d, range, sizeof range);
    snprintf(err, errlen, "%s: expected %s, got %lld", d->name, range, x);
    return -1;
}

int param_check(const param_def_t *d, double v, char *err, size_t errlen)
{
    char range[160], got[48];
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
    case PARAM_FILE:
        if (param_choice(d, v)) return 0;
        snprintf(err, errlen, "%s: expected a file of the spec's table (index %g of %d)", d->name,
                 v, param_n_choices(d));
        return -1;
    case PARAM_INT:
    case PARAM_REAL:
        break;
    }
    param_format_real(v, got, sizeof got);
    if (!isfinite(v)) {
        snprintf(err, errlen, "%s: expected a finite number, got %s", d->name, got);
        return -1;
    }
    if (d->type == PARAM_INT && v != floor(v)) {
        snprintf(err, errlen, "%s: expected an integer, got %s", d->name, got);
        return -1;
    }
    int ok;
    if (d->type == PARAM_INT) {
        long long lo, hi;
        param_int_bounds(d, &lo, &hi);
        ok = v >= (double)lo && v <= (double)hi; /* both exact: |lo|, |hi| <= 2^53 */
        if (fabs(v) < 1e19) snprintf(got, sizeof got, "%.0f", v); /* in full */
    } else {
        ok = (d->min_exclusive ? v > d->min : v >= d->min) && v <= d->max;
    }
    if (ok) return 0;
    param_range_text(d, range, sizeof range);
    snprintf(err, errlen, "%s: expected %s, got %s", d->name, range, got);
    return -1;
}

/* "; numbers are decimal" after a hexadecimal-looking value. */
static const char *param_hex_hint(const char *s, size_t n)
{
    if (n && (*s == '+' || *s == '-')) s++, n--;
    return n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? "; write numbers in decimal"
                                                                   : "";
}

static int param_parse_number(const param_def_t *d, const char *s, size_t n, double *out,
                              char *err, size_t errlen)
{
    char shown[72], range[96];
    const char *what = d->type == PARAM_INT ? "an integer" : "a number";
    long long x = 0;
    double v = 0;
    int tiny = 0;
    param_num_t r = d->type == PARAM_INT ? param_read_integer(s, n, &x)
                                         : param_read_real(s, n, &v, &tiny);
    param_quote(s, n, shown, sizeof shown);
    switch (r) {
    case PARAM_NUM_OK:
        if (d->type == PARAM_REAL) break;
        if (param_check_integer(d, x, err, errlen)) return -1;
        *out = (double)x; /* exact: within +-2^53 */
        return 0;
    case PARAM_NUM_SYNTAX:
        snprintf(err, errlen, "%s: expected %s, got '%s'%s", d->name, what, shown,
                 param_hex_hint(s, n));
        return -1;
    case PARAM_NUM_NONFINITE:
        snprintf(err, errlen, "%s: expected a finite number, got '%s'", d->name, shown);
        return -1;
    case PARAM_NUM_FRACTION:
        snprintf(err, errlen, "%s: expected an integer, got %s", d->name, shown);
        return -1;
    case PARAM_NUM_TOO_LARGE:
        if (tiny) {
            snprintf(err, errlen, "%s: expected 0 or a magnitude of at least 2.2e-308 (a double's "
                     "smallest), got %s", d->name, shown);
            return -1;
        }
        param_range_text(d, range, sizeof range);
        snprintf(err, errlen, "%s: expected %s, got %s", d->name, range, shown);
        return -1;
    }
    *out = v;
    return param_check(d, v, err, errlen);
}

int param_parse(const param_def_t *d, const char *text, double *out, char *err, size_t errlen)
{
    while (*text == ' ' || *text == '\t') text++;
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\t')) n--;
    char shown[72], list[160];
    param_quote(text, n, shown, sizeof shown);

    if (d->type == PARAM_BOOL) {
        static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
            if (strlen(yes[i]) == n && strncasecmp(text, yes[i], n) == 0) { *out = 1; return 0; }
            if (strlen(no[i]) == n && strncasecmp(text, no[i], n) == 0) { *out = 0; return 0; }
        }
        snprintf(err, errlen, "%s: expected true or false, got '%s'", d->name, shown);
        return -1;
    }
    if (d->type == PARAM_ENUM) {
        for (int i = 0; d->choices && d->choices[i]; i++)
            if (strlen(d->choices[i]) == n && strncmp(text, d->choices[i], n) == 0) {
                *out = i;
                return 0;
            }
        choices_list(d, list, sizeof list);
        snprintf(err, errlen, "%s: expected one of %s, got '%s'", d->name, list, shown);
        return -1;
    }
    if (d->type == PARAM_FILE) {
        for (int i = 0; i < param_n_choices(d); i++) {
            const char *c = param_choice(d, i);
            if (strlen(c) == n && strncmp(text, c, n) == 0) {
                *out = i;
                return 0;
            }
        }
        snprintf(err, errlen, "%s: '%s' is not one of the spec's files", d->name, shown);
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "%s: expected %s, got nothing", d->name,
                 d->type == PARAM_INT ? "an integer" : "a number");
        return -1;
    }
    return param_parse_number(d, text, n, out, err, errlen);
}

void param_format(const param_def_t *d, double v, char *buf, size_t buflen)
{
    switch (d->type) {
    case PARAM_BOOL: snprintf(buf, buflen, "%s", v != 0.0 ? "true" : "false"); break;
    case PARAM_ENUM:
    case PARAM_FILE: {
        const char *c = param_choice(d, v);
        snprintf(buf, buflen, "%s", c ? c : "?");
        break;
    }
    case PARAM_INT: snprintf(buf, buflen, "%.0f", v == 0 ? 0.0 : v); break; /* never "-0" */
    case PARAM_REAL: param_format_real(v, buf, buflen); break; /* reads back exactly */
    }
}
