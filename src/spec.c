/* spec — sweep spec files (INI, read by libinih) plus `--set section.key=value` overrides into
 * checked value lists (spec.h). Four steps: read the raw `key = value` entries with their file
 * lines; apply the overrides to that list; find the model family; resolve every entry against
 * the combined schema and expand its values. grid.c turns the result into runs. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>
#include "attnsweep/spec.h"
#include "attnsweep/schema.h"
#include "sha256.h"

#define SPEC_MAX_VALUES 1000000 /* values of one key after expansion */
#define SPEC_MAX_BYTES (16L << 20)

static const char *const spec_sections[] = {"model", "task", "train", "grid", "points", NULL};
static const char spec_value_hint[] =
    "a value, a list 16, 32, 64, a range 0..9, logspace(a, b, n) or linspace(a, b, n)";

/* ---------------------------------------------------------------- small string helpers */

static int spec_is_blank(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Trims s in place; returns the first non-blank character. */
static char *spec_trim(char *s)
{
    while (spec_is_blank((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && spec_is_blank((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static int spec_is_section(const char *name)
{
    for (int i = 0; spec_sections[i]; i++)
        if (strcmp(spec_sections[i], name) == 0) return 1;
    return 0;
}

static void spec_families_list(const model_family_t *const *fam, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; fam[i]; i++) {
        size_t u = strlen(buf);
        snprintf(buf + u, len - u, "%s%s", i ? ", " : "", fam[i]->name);
    }
}

/* Cuts an inline `#` comment (inih already cuts `;` ones): a '#' at the start or after a blank. */
static void spec_cut_hash_comment(char *v)
{
    for (char *p = v; *p; p++)
        if (*p == '#' && (p == v || spec_is_blank((unsigned char)p[-1]))) {
            *p = '\0';
            break;
        }
}

/* Quotes a NUL-terminated input string for a message (param_quote). */
static const char *spec_q(const char *text, char *buf, size_t len)
{
    return param_quote(text, strlen(text), buf, len);
}

/* ---------------------------------------------------------------- lines and text */

/* The line at text[0..len): its length without the line end, and in *next with it. A line ends
 * at "\n", "\r\n" or a lone "\r" (classic Mac files), or at the end of the text. */
static size_t spec_line(const char *text, size_t len, size_t *next)
{
    size_t i = 0;
    while (i < len && text[i] != '\n' && text[i] != '\r') i++;
    *next = i;
    if (i < len) *next += (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
    return i;
}

/* Start of line number `line` (1-based) of text, and its length in *n; NULL past the end. */
static const char *spec_line_at(const char *text, size_t len, int line, size_t *n)
{
    size_t pos = 0, next = 0;
    for (int l = 1; l < line && pos < len; l++) {
        spec_line(text + pos, len - pos, &next);
        pos += next;
    }
    if (pos >= len) return NULL;
    *n = spec_line(text + pos, len - pos, &next);
    return text + pos;
}

/* "byte 9 is 0x0e, a control character" for s[k], the first byte param_text_len stops at. */
static void spec_bad_byte(const char *s, size_t n, size_t k, char *buf, size_t len)
{
    unsigned char c = (unsigned char)s[k];
    int control = c < 0x20 || c == 0x7f ||
                  (c == 0xc2 && k + 1 < n && (unsigned char)s[k + 1] >= 0x80 &&
                   (unsigned char)s[k + 1] <= 0x9f); /* C1: U+0080..U+009F */
    snprintf(buf, len, "byte %zu is 0x%02x, %s", k + 1, c,
             control ? "a control character" : "not UTF-8");
}

/* A spec is UTF-8 text: names the first line holding a control character (other than tab) or
 * bytes that are not UTF-8, and quotes it escaped from up to 40 bytes before the bad byte.
 * Messages from later steps quote text that passed this check. */
static int spec_check_text(const char *path, const char *text, size_t len, char *err,
                           size_t errlen)
{
    size_t pos = 0, next;
    for (int line = 1; pos < len; line++, pos += next) {
        const char *s = text + pos;
        size_t n = spec_line(s, len - pos, &next), k = param_text_len(s, n);
        if (k == n) continue;
        size_t from = k > 40 ? k - 40 : 0;
        while (from < k && ((unsigned char)s[from] & 0xc0) == 0x80) from++; /* whole characters */
        char what[64], shown[112];
        spec_bad_byte(s, n, k, what, sizeof what);
        snprintf(err, errlen, "%s:%d: this line is not text: %s: '%s%s'; a spec is a UTF-8 text "
                 "file", path, line, what, from ? "..." : "",
                 param_quote(s + from, n - from, shown, sizeof shown));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- value lists */

static int spec_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int spec_push(double **vals, int *n, int *cap, double v)
{
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 16;
        double *p = realloc(*vals, sizeof(double) * (size_t)c);
        if (!p) return -1;
        *vals = p;
        *cap = c;
    }
    (*vals)[(*n)++] = v;
    return 0;
}

/* Appends " (from 'item')" to a value's message: which item of the list produced it. */
static void spec_from(char *err, size_t errlen, const char *shown)
{
    size_t u = strlen(err);
    if (u < errlen) snprintf(err + u, errlen - u, " (from '%s')", shown);
}

/* "needs a numeric key" for a range or a space on an enum or bool key. */
static int spec_needs_numeric(const param_def_t *d, const char *what, char *err, size_t errlen)
{
    char list[160] = "false, true";
    for (int i = 0; d->type == PARAM_ENUM && d->choices && d->choices[i]; i++) {
        size_t u = i ? strlen(list) : 0;
        snprintf(list + u, sizeof list - u, "%s%s", i ? ", " : "", d->choices[i]);
    }
    snprintf(err, errlen, "%s: %s needs a numeric key; list the values instead, e.g. %s", d->name,
             what, list);
    return -1;
}

/* Splits "name(a, b, n)" (cut up in place) into its three trimmed argument texts; 0 ok, -1 bad
 * syntax. */
static int spec_space_args(char *item, char *args[3])
{
    char *open = strchr(item, '('), *close = strrchr(item, ')');
    int n_args = 0;
    if (!open || !close || close < open || spec_trim(close + 1)[0] != '\0') return -1;
    *close = '\0';
    for (char *p = open + 1;;) {
        char *comma = strchr(p, ',');
        if (n_args == 3) return -1;
        if (comma) *comma = '\0';
        args[n_args++] = spec_trim(p);
        if (!comma) break;
        p = comma + 1;
    }
    return n_args == 3 && *args[0] && *args[1] && *args[2] ? 0 : -1;
}

/* logspace(a, b, n) / linspace(a, b, n): n points from a to b inclusive, the ends exact (read as
 * the key reads a value: exact integers for an INT key); the points between are rounded to the
 * nearest integer for INT keys. n is checked against the per-key limit before anything is
 * allocated. item is the trimmed item text, shown its quoted copy for messages. */
static int spec_expand_space(const param_def_t *d, char *item, const char *shown, int is_log,
                             double **vals, int *n, int *cap, char *err, size_t errlen)
{
    const char *fn = is_log ? "logspace" : "linspace";
    char *args[3], got[64];
    double a, b;
    long long count = 0;
    if (d->type == PARAM_ENUM || d->type == PARAM_BOOL)
        return spec_needs_numeric(d, is_log ? "logspace()" : "linspace()", err, errlen);
    if (spec_space_args(item, args)) {
        snprintf(err, errlen, "%s: expected %s(a, b, n) with numbers a, b and an integer n >= 1, "
                 "got '%s'", d->name, fn, shown);
        return -1;
    }
    param_num_t r = param_read_integer(args[2], strlen(args[2]), &count);
    if (r != PARAM_NUM_OK || count < 1 || count > SPEC_MAX_VALUES) {
        param_quote(args[2], strlen(args[2]), got, sizeof got);
        snprintf(err, errlen, "%s: %s(a, b, n) needs an integer n with 1 <= n <= %d, got n = %s",
                 d->name, fn, SPEC_MAX_VALUES, got);
        return -1;
    }
    if (count > SPEC_MAX_VALUES - *n) {
        snprintf(err, errlen, "%s: more than %d values", d->name, SPEC_MAX_VALUES);
        return -1;
    }
    if (param_parse(d, args[0], &a, err, errlen) || param_parse(d, args[1], &b, err, errlen)) {
        spec_from(err, errlen, shown);
        return -1;
    }
    if (is_log && !(a > 0 && b > 0)) {
        snprintf(err, errlen, "%s: logspace(a, b, n) needs a > 0 and b > 0, got a = %s, b = %s",
                 d->name, args[0], args[1]);
        return -1;
    }
    double la = is_log ? log10(a) : a, lb = is_log ? log10(b) : b;
    for (long long i = 0; i < count; i++) {
        double v;
        if (i == 0) v = a;
        else if (i == count - 1) v = b;
        else {
            double t = la + (lb - la) * (double)i / (double)(count - 1);
            v = is_log ? pow(10.0, t) : t;
        }
        if (d->type == PARAM_INT) v = nearbyint(v);
        if (spec_push(vals, n, cap, v)) {
            snprintf(err, errlen, "%s: out of memory expanding %s()", d->name, fn);
            return -1;
        }
    }
    return 0;
}

/* a..b, inclusive: integer ends read exactly; the count b - a is taken in unsigned arithmetic
 * (no overflow for any two int64 ends) and checked, with the ends, before anything is
 * allocated. */
static int spec_expand_range(const param_def_t *d, char *item, char *dots, const char *shown,
                             double **vals, int *n, int *cap, char *err, size_t errlen)
{
    long long a = 0, b = 0;
    if (d->type == PARAM_ENUM || d->type == PARAM_BOOL)
        return spec_needs_numeric(d, "a range a..b", err, errlen);
    *dots = '\0';
    char *ta = spec_trim(item), *tb = spec_trim(dots + 2);
    param_num_t ra = param_read_integer(ta, strlen(ta), &a);
    param_num_t rb = param_read_integer(tb, strlen(tb), &b);
    if (ra == PARAM_NUM_FRACTION || rb == PARAM_NUM_FRACTION) {
        char hint[160] = "", qa[48], qb[48];
        if (d->type == PARAM_REAL)
            snprintf(hint, sizeof hint, "; for real values write linspace(%s, %s, n)",
                     param_quote(ta, strlen(ta), qa, sizeof qa),
                     param_quote(tb, strlen(tb), qb, sizeof qb));
        snprintf(err, errlen, "%s: a range a..b steps by 1 between integer ends, got '%s'%s",
                 d->name, shown, hint);
        return -1;
    }
    if (ra == PARAM_NUM_TOO_LARGE || rb == PARAM_NUM_TOO_LARGE) {
        double ignored; /* param_parse words the message: the key's range and the end in full */
        param_parse(d, ra == PARAM_NUM_TOO_LARGE ? ta : tb, &ignored, err, errlen);
        spec_from(err, errlen, shown);
        return -1;
    }
    if (ra != PARAM_NUM_OK || rb != PARAM_NUM_OK) {
        snprintf(err, errlen, "%s: expected a range of two integers like 0..9, got '%s'", d->name,
                 shown);
        return -1;
    }
    if (a > b) {
        snprintf(err, errlen,
                 "%s: reversed range '%s': the start must not exceed the end (write %lld..%lld)",
                 d->name, shown, b, a);
        return -1;
    }
    unsigned long long span = (unsigned long long)b - (unsigned long long)a; /* values - 1 */
    if (span >= SPEC_MAX_VALUES) {
        char count[24] = "18446744073709551616"; /* span + 1 when it wraps: INT64_MIN..INT64_MAX */
        if (span != ULLONG_MAX) snprintf(count, sizeof count, "%llu", span + 1);
        snprintf(err, errlen, "%s: range '%s' has %s values; a key takes at most %d", d->name,
                 shown, count, SPEC_MAX_VALUES);
        return -1;
    }
    if (span >= (unsigned long long)(SPEC_MAX_VALUES - *n)) {
        snprintf(err, errlen, "%s: more than %d values", d->name, SPEC_MAX_VALUES);
        return -1;
    }
    if (param_check_integer(d, a, err, errlen) || param_check_integer(d, b, err, errlen)) {
        spec_from(err, errlen, shown);
        return -1;
    }
    for (unsigned long long i = 0; i <= span; i++)
        if (spec_push(vals, n, cap, (double)(a + (long long)i))) {
            snprintf(err, errlen, "%s: out of memory expanding '%s'", d->name, shown);
            return -1;
        }
    return 0;
}

/* One list item (a value, a range or a space) appended to vals and checked. 0, or -1 with err. */
static int spec_parse_item(const param_def_t *d, char *item, double **vals, int *nv, int *cap,
                           char *err, size_t errlen)
{
    char shown[96]; /* the item as written, for messages (expansion cuts it up) */
    char *dots = d->type == PARAM_FILE ? NULL : strstr(item, ".."); /* "../x" is a path */
    int first = *nv, expanded = 1;
    double v;
    param_quote(item, strlen(item), shown, sizeof shown);
    if (d->type != PARAM_FILE &&
        (strncmp(item, "logspace", 8) == 0 || strncmp(item, "linspace", 8) == 0)) {
        if (spec_expand_space(d, item, shown, item[1] == 'o', vals, nv, cap, err, errlen))
            return -1;
    } else if (dots) {
        if (spec_expand_range(d, item, dots, shown, vals, nv, cap, err, errlen)) return -1;
    } else {
        expanded = 0;
        if (param_parse(d, item, &v, err, errlen)) {
            size_t u = strlen(err);
            if (item[0] == '"' || item[0] == '\'')
                snprintf(err + u, errlen - u, "; write values without quotes");
            return -1;
        }
        if (spec_push(vals, nv, cap, v)) {
            snprintf(err, errlen, "%s: out of memory", d->name);
            return -1;
        }
    }
    if (*nv > SPEC_MAX_VALUES) {
        snprintf(err, errlen, "%s: more than %d values", d->name, SPEC_MAX_VALUES);
        return -1;
    }
    for (int i = first; i < *nv; i++)
        if (param_check(d, (*vals)[i], err, errlen)) {
            if (expanded) spec_from(err, errlen, shown);
            return -1;
        }
    return 0;
}

/* Each value once: a repeated value would give identical runs. 0, or -1 with err. */
static int spec_check_distinct(const param_def_t *d, const double *vals, int nv, const char *list,
                               char *err, size_t errlen)
{
    double *sorted = malloc(sizeof(double) * (size_t)(nv > 0 ? nv : 1));
    int rc = 0;
    if (!sorted) {
        snprintf(err, errlen, "%s: out of memory", d->name);
        return -1;
    }
    memcpy(sorted, vals, sizeof(double) * (size_t)nv);
    qsort(sorted, (size_t)nv, sizeof(double), spec_cmp_double);
    for (int i = 1; i < nv && rc == 0; i++)
        if (sorted[i] == sorted[i - 1]) {
            char v[64];
            param_format(d, sorted[i], v, sizeof v);
            snprintf(err, errlen, "%s: the value %s appears more than once in '%s'; list each "
                     "value once", d->name, v, list);
            rc = -1;
        }
    free(sorted);
    return rc;
}

int spec_parse_values(const param_def_t *d, const char *text, double **out, int *n, char *err,
                      size_t errlen)
{
    double *vals = NULL;
    int nv = 0, cap = 0, rc = -1;
    char *buf = strdup(text ? text : ""), list[128]; /* list: the whole text, for messages */
    *out = NULL;
    *n = 0;
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", d->name);
        goto cleanup;
    }
    char *all = spec_trim(buf);
    param_quote(all, strlen(all), list, sizeof list);
    if (!*all) {
        snprintf(err, errlen, "%s: expected %s, got nothing", d->name, spec_value_hint);
        goto cleanup;
    }
    /* Items are separated by commas outside parentheses. */
    for (char *p = all;;) {
        char *q = p;
        int depth = 0;
        for (; *q && !(*q == ',' && depth == 0); q++) depth += (*q == '(') - (*q == ')');
        int last = (*q == '\0');
        *q = '\0';
        char *item = spec_trim(p);
        if (!*item) {
            snprintf(err, errlen, "%s: empty item in the list '%s'; expected %s", d->name, list,
                     spec_value_hint);
            goto cleanup;
        }
        if (spec_parse_item(d, item, &vals, &nv, &cap, err, errlen)) goto cleanup;
        if (last) break;
        p = q + 1;
    }
    if (spec_check_distinct(d, vals, nv, list, err, errlen)) goto cleanup;
    *out = vals;
    *n = nv;
    vals = NULL;
    rc = 0;
cleanup:
    free(vals);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------- did you mean */

/* Edit distance with transpositions (optimal string alignment), case-insensitive. */
static int spec_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 1000;
    int dp[64][64];
    for (int i = 0; i <= la; i++) dp[i][0] = i;
    for (int j = 0; j <= lb; j++) dp[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = dp[i - 1][j - 1] + (ca != cb);
            if (dp[i - 1][j] + 1 < best) best = dp[i - 1][j] + 1;
            if (dp[i][j - 1] + 1 < best) best = dp[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && dp[i - 2][j - 2] + 1 < best)
                best = dp[i - 2][j - 2] + 1;
            dp[i][j] = best;
        }
    return dp[la][lb];
}

/* Names people write for our keys; suggested only when the target is in the schema. */
static const char *const spec_synonyms[][2] = {
    {"learning_rate", "lr"}, {"learningrate", "lr"}, {"eta", "lr"}, {"step_size", "lr"},
    {"vocab", "vocab_size"}, {"vocabulary", "vocab_size"}, {"vocabulary_size", "vocab_size"},
    {"n_vocab", "vocab_size"}, {"dim", "embed_dim"}, {"d_model", "embed_dim"},
    {"embedding_dim", "embed_dim"}, {"embedding_size", "embed_dim"}, {"iterations", "steps"},
    {"iters", "steps"}, {"n_steps", "steps"}, {"num_steps", "steps"}, {"epochs", "steps"},
    {"random_seed", "seed"}, {"seeds", "seed"}, {"batch", "batch_size"},
    {"sentence_length", "words_per_sentence"}, {"n_topics", "topics"}, {"K", "topics"},
    {"m", "words_per_sentence"}, {"N", "n_sentences"}, {"n_samples", "n_sentences"},
};

/* The key in defs closest to name, or NULL when nothing is close. */
static const char *spec_suggest(const param_def_t *defs, int n_defs, const char *name)
{
    const char *best = NULL;
    int best_d = 1000;
    for (size_t s = 0; s < sizeof spec_synonyms / sizeof spec_synonyms[0]; s++) {
        int i = param_index(defs, n_defs, spec_synonyms[s][1]);
        if (i < 0) continue;
        int dd = spec_distance(name, spec_synonyms[s][0]);
        int tol = (int)strlen(spec_synonyms[s][0]) / 3;
        if (dd <= tol && dd < best_d) {
            best_d = dd;
            best = defs[i].name;
        }
    }
    for (int i = 0; i < n_defs; i++) {
        const char *k = defs[i].name;
        int dd = spec_distance(name, k);
        int tol = (int)strlen(k) / 3 > 1 ? (int)strlen(k) / 3 : 1;
        /* 'vocab' for 'vocab_size': a prefix of 3+ characters is a good guess too. */
        if (dd > tol && strlen(name) >= 3 && strncmp(k, name, strlen(name)) == 0)
            dd = tol;
        if (dd <= tol && dd < best_d) {
            best_d = dd;
            best = k;
        }
    }
    return best;
}

/* "; did you mean [train]?" for a misspelt section name, or "" when nothing is close. */
static const char *spec_section_hint(const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; spec_sections[i]; i++) {
        const char *sec = spec_sections[i];
        if (spec_distance(name, sec) <= 2 || (strlen(name) >= 4 && strncmp(name, sec, 4) == 0)) {
            snprintf(buf, len, "; did you mean [%s]?", sec);
            break;
        }
    }
    return buf;
}

/* ---------------------------------------------------------------- reading the file */

typedef struct {
    const char *path;
    const char *text;       /* the whole file */
    size_t len, pos;        /* reader position */
    int line;               /* 1-based number of the line inih is working on */
    const char *line_start; /* its raw text (not NUL-terminated) */
    size_t line_len;        /* without the newline */
    int saw_model_section;
    spec_entry_t *entries;
    int n, cap;
    int err_line;           /* line of the first error (0: none yet) */
    char *err;
    size_t errlen;
} spec_reader_t;

static void spec_fail(spec_reader_t *r, int line, const char *fmt, ...)
{
    if (r->err_line) return;
    va_list ap;
    int u = snprintf(r->err, r->errlen, "%s:%d: ", r->path, line);
    va_start(ap, fmt);
    if (u >= 0 && (size_t)u < r->errlen) vsnprintf(r->err + u, r->errlen - (size_t)u, fmt, ap);
    va_end(ap);
    r->err_line = line;
}

/* fgets-style reader for ini_parse_stream: hands inih one line at a time, so r->line is the
 * line of every handler call (the packaged libinih has no INI_HANDLER_LINENO). Lines end at LF,
 * CRLF or CR; inih always gets the line's text and "\n". It also spots section headers, which
 * inih does not report, to flag unknown sections and empty [model]. */
static char *spec_read_line(char *str, int num, void *stream)
{
    spec_reader_t *r = stream;
    if (r->pos >= r->len || num < 4) return NULL;
    const char *start = r->text + r->pos;
    size_t next, n = spec_line(start, r->len - r->pos, &next);
    r->pos += next;
    r->line++;
    r->line_start = start;
    r->line_len = n;

    const char *s = start;
    if (r->line == 1 && r->line_len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;
    const char *t = s;
    while (t < start + r->line_len && (*t == ' ' || *t == '\t')) t++;
    int comment = (t < start + r->line_len && (*t == '#' || *t == ';'));

    size_t max = (size_t)num - 2; /* inih's fixed buffer holds the text, "\n" and a NUL */
    if (n > max) { /* cut, and refuse unless a comment */
        if (!comment)
            spec_fail(r, r->line,
                      "line is %zu characters long, the limit is %zu; split a long list over "
                      "indented continuation lines", n, max);
        n = max;
    }
    memcpy(str, start, n);
    str[n++] = '\n';
    str[n] = '\0';

    if (t == s && t < start + r->line_len && *t == '[') { /* a section header at column 0 */
        const char *close = memchr(t, ']', r->line_len - (size_t)(t - start));
        if (close) {
            char name[64];
            size_t k = (size_t)(close - t - 1);
            if (k >= sizeof name) k = sizeof name - 1;
            memcpy(name, t + 1, k);
            name[k] = '\0';
            char *nm = spec_trim(name);
            char hint[48], q[80];
            if (!spec_is_section(nm))
                spec_fail(r, r->line,
                          "unknown section [%s]%s (the sections are [model], [task], [train], "
                          "[grid] and [points])", spec_q(nm, q, sizeof q),
                          spec_section_hint(nm, hint, sizeof hint));
            if (strcmp(nm, "model") == 0) r->saw_model_section = 1;
        }
    }
    return str;
}

/* Does the raw current line start (after indentation) with name followed by '=' or ':'? */
static int spec_line_is_key(const spec_reader_t *r, const char *name)
{
    const char *p = r->line_start, *e = r->line_start + r->line_len;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    size_t k = strlen(name);
    if ((size_t)(e - p) < k || memcmp(p, name, k) != 0) return 0;
    p += k;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p < e && (*p == '=' || *p == ':');
}

static int spec_add_entry(spec_entry_t **entries, int *n, int *cap, const char *section,
                          const char *key, const char *text, const char *where)
{
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 16;
        spec_entry_t *p = realloc(*entries, sizeof **entries * (size_t)c);
        if (!p) return -1;
        *entries = p;
        *cap = c;
    }
    spec_entry_t *e = &(*entries)[*n];
    memset(e, 0, sizeof *e);
    snprintf(e->section, sizeof e->section, "%s", section);
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->where, sizeof e->where, "%s", where);
    e->def = -1;
    e->text = strdup(text);
    if (!e->text) return -1;
    (*n)++;
    return 0;
}

static int spec_handler(void *user, const char *section_raw, const char *name,
                        const char *value)
{
    spec_reader_t *r = user;
    char *v = NULL, section[64];
    if (r->err_line) return 1;
    snprintf(section, sizeof section, "%s", section_raw); /* "[ task ]" is [task] */
    char *sp = spec_trim(section);
    memmove(section, sp, strlen(sp) + 1);
    v = strdup(value);
    if (!v) {
        spec_fail(r, r->line, "out of memory");
        return 1;
    }
    spec_cut_hash_comment(v);
    char *val = spec_trim(v);
    int indented = r->line_len && (r->line_start[0] == ' ' || r->line_start[0] == '\t');

    if (indented && !spec_line_is_key(r, name)) {
        /* inih reads an indented line as the continuation of the previous key's value. */
        spec_entry_t *e = r->n ? &r->entries[r->n - 1] : NULL;
        if (!e || strcmp(e->key, name) != 0 || strchr(val, '=') || strchr(val, ':') ||
            val[0] == '[') {
            spec_fail(r, r->line,
                      "this indented line is read as the continuation of '%s' (%s); remove the "
                      "indentation to start a new key or section", name, e ? e->where : "?");
        } else if (*val && *e->text && e->text[strlen(e->text) - 1] != ',' && val[0] != ',') {
            spec_fail(r, r->line,
                      "this indented line continues '%s' (%s), but the line before does not end "
                      "with a comma; end it with ',' to continue a list, or remove the "
                      "indentation", name, e->where);
        } else if (*val) {
            size_t a = strlen(e->text), b = strlen(val);
            char *t = realloc(e->text, a + b + 2);
            if (!t) {
                spec_fail(r, r->line, "out of memory");
            } else {
                e->text = t;
                if (a) t[a++] = ' ';
                memcpy(t + a, val, b + 1);
            }
        }
        free(v);
        return 1;
    }
    if (!*name) {
        spec_fail(r, r->line, "no key name before '='; expected 'key = value'");
    } else if (!*section) {
        spec_fail(r, r->line, "key '%s' is outside any section; put it under [model], [task], "
                  "[train] or [grid]", name);
    } else if (!spec_is_section(section)) {
        spec_fail(r, r->line, "key '%s' is in an unknown section [%s]; the sections are "
                  "[model], [task], [train], [grid] and [points]", name, section);
    } else {
        int repeatable = strcmp(section, "points") == 0 && strcmp(name, "point") == 0;
        for (int i = 0; i < r->n && !repeatable; i++)
            if (strcmp(r->entries[i].key, name) == 0) {
                spec_fail(r, r->line, "duplicate key '%s': already set at %s; a key appears once, "
                          "in its home section or in [grid]", name, r->entries[i].where);
                break;
            }
        char where[320];
        snprintf(where, sizeof where, "%s:%d", r->path, r->line);
        if (!r->err_line &&
            spec_add_entry(&r->entries, &r->n, &r->cap, section, name, val, where))
            spec_fail(r, r->line, "out of memory");
    }
    free(v);
    return 1;
}

/* ---------------------------------------------------------------- overrides */

/* The home section of key in the common keys or any family, or NULL. */
static const char *spec_home_anywhere(const model_family_t *const *fam, const char *key)
{
    int i = param_index(schema_common, schema_n_common, key);
    if (i >= 0) return schema_common[i].section;
    if (strcmp(key, "model") == 0) return "model";
    for (int f = 0; fam[f]; f++) {
        i = param_index(fam[f]->params, fam[f]->n_params, key);
        if (i >= 0) return fam[f]->params[i].section;
    }
    return NULL;
}

/* "section.key=value": replaces the key wherever it is, or appends it. */
static int spec_apply_override(spec_reader_t *r, const model_family_t *const *fam,
                               const char *ov, char *err, size_t errlen)
{
    char buf[512], where[320], q[240];
    snprintf(where, sizeof where, "--set %s", spec_q(ov, q, sizeof q));
    if (strlen(ov) >= sizeof buf) {
        char cut[64];
        snprintf(err, errlen, "--set %s: too long (limit %zu characters)",
                 spec_q(ov, cut, sizeof cut), sizeof buf - 1);
        return -1;
    }
    memcpy(buf, ov, strlen(ov) + 1);
    char *eq = strchr(buf, '=');
    if (!eq) {
        snprintf(err, errlen, "%s: expected section.key=value, e.g. --set train.lr=0.2", where);
        return -1;
    }
    *eq = '\0';
    char *lhs = spec_trim(buf), *value = eq + 1;
    spec_cut_hash_comment(value);
    value = spec_trim(value);
    char *dot = strchr(lhs, '.');
    if (!dot) {
        const char *home = spec_home_anywhere(fam, lhs);
        if (home)
            snprintf(err, errlen, "%s: expected section.key=value, e.g. --set %s.%s=%s", where,
                     home, lhs, value);
        else
            snprintf(err, errlen, "%s: expected section.key=value, e.g. --set train.lr=0.2",
                     where);
        return -1;
    }
    *dot = '\0';
    char *section = spec_trim(lhs), *key = spec_trim(dot + 1);
    if (strcmp(section, "points") == 0) {
        snprintf(err, errlen, "%s: [points] is read from the spec file only; edit the file (or "
                 "let `attnsweep refine` write one)", where);
        return -1;
    }
    if (!spec_is_section(section)) {
        char hint[48];
        snprintf(err, errlen, "%s: unknown section '%s'%s (the sections are model, task, train, "
                 "grid and points)", where, section, spec_section_hint(section, hint, sizeof hint));
        return -1;
    }
    if (!*key) {
        snprintf(err, errlen, "%s: no key after '%s.'", where, section);
        return -1;
    }
    for (int i = 0; i < r->n; i++) {
        spec_entry_t *e = &r->entries[i];
        if (strcmp(e->key, key) != 0) continue;
        char *t = strdup(value);
        if (!t) {
            snprintf(err, errlen, "%s: out of memory", where);
            return -1;
        }
        free(e->text);
        e->text = t;
        snprintf(e->section, sizeof e->section, "%s", section);
        snprintf(e->where, sizeof e->where, "%s", where);
        return 0;
    }
    if (strlen(key) >= sizeof r->entries[0].key) {
        char cut[48];
        snprintf(err, errlen, "%s: unknown key '%s'", where, spec_q(key, cut, sizeof cut));
        return -1;
    }
    if (spec_add_entry(&r->entries, &r->n, &r->cap, section, key, value, where)) {
        snprintf(err, errlen, "%s: out of memory", where);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- loading */

void spec_free(spec_t *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_entries; i++) {
        free(s->entries[i].text);
        free(s->entries[i].values);
    }
    free(s->entries);
    free(s->defs);
    free(s->path);
    free(s->text);
    free(s->points);
    for (int i = 0; i < s->n_files; i++) free(s->files[i]);
    free(s->files);
    free(s->data_files);
    memset(s, 0, sizeof *s);
}

void spec_sha256_hex(const void *data, size_t len, char hex[65]) { sha256_hex(data, len, hex); }

/* The file, then "# --set ..." per override (a newline first if the file lacks a final one). */
static char *spec_canonical(const char *text, const char *const *ov, int n_ov)
{
    size_t len = strlen(text), total = len + 2;
    for (int i = 0; i < n_ov; i++) total += strlen(ov[i]) + 9;
    char *out = malloc(total), *p = out;
    if (!out) return NULL;
    memcpy(p, text, len);
    p += len;
    if (n_ov > 0 && len > 0 && text[len - 1] != '\n') *p++ = '\n';
    for (int i = 0; i < n_ov; i++) p += sprintf(p, "# --set %s\n", ov[i]);
    *p = '\0';
    return out;
}

/* Finds the family from the `model` entry, then drops that entry (it is not a run parameter). */
static int spec_resolve_family(spec_t *s, spec_reader_t *r, const model_family_t *const *fam,
                               char *err, size_t errlen)
{
    char names[256], q[96];
    spec_families_list(fam, names, sizeof names);
    int m = -1;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->entries[i].key, "model") == 0) m = i;
    if (m < 0) {
        if (!r->saw_model_section)
            snprintf(err, errlen, "%s: no [model] section; a spec needs [model] with "
                     "model = NAME (families: %s)", r->path, names);
        else
            snprintf(err, errlen, "%s: [model] has no 'model = NAME' key (families: %s)",
                     r->path, names);
        return -1;
    }
    spec_entry_t *e = &r->entries[m];
    if (strcmp(e->section, "model") != 0) {
        snprintf(err, errlen, "%s: 'model' belongs in [model], not [%s]: one family per spec "
                 "(run a second spec for another family)", e->where, e->section);
        return -1;
    }
    if (strpbrk(e->text, ",(") || strstr(e->text, "..")) {
        snprintf(err, errlen, "%s: model: expected one family name (one family per spec), got "
                 "'%s'", e->where, spec_q(e->text, q, sizeof q));
        return -1;
    }
    if (strncmp(e->text, "plugin:", 7) == 0) {
        /* A relative plugin path is taken from the spec file's folder, or from the working
         * directory when --set gives it. */
        char dir[4096] = "", why[768];
        const char *slash = strrchr(s->path, '/');
        if (strncmp(e->where, "--set", 5) != 0 && slash)
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - s->path), s->path);
        if (model_resolve(e->text, dir[0] ? dir : NULL, &s->family, &s->family_source, why,
                          sizeof why) != 0) {
            snprintf(err, errlen, "%s: model: %s", e->where, why);
            return -1;
        }
    } else {
        for (int f = 0; fam[f]; f++)
            if (strcmp(fam[f]->name, e->text) == 0) s->family = fam[f];
        s->family_source = "built-in";
    }
    if (!s->family) {
        snprintf(err, errlen, "%s: model: unknown model '%s'; the families are: %s, or "
                 "plugin:PATH.so", e->where, spec_q(e->text, q, sizeof q), names);
        return -1;
    }
    free(e->text);
    memmove(e, e + 1, sizeof *e * (size_t)(r->n - m - 1));
    r->n--;
    return 0;
}

/* defs = the common keys followed by the family's own keys. */
static int spec_build_schema(spec_t *s, char *err, size_t errlen)
{
    const model_family_t *f = s->family;
    char why[256];
    s->defs = malloc(sizeof *s->defs * PARAM_MAX);
    if (!s->defs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int n = schema_build(f->params, f->n_params, s->defs, PARAM_MAX, why, sizeof why);
    if (n < 0) {
        snprintf(err, errlen, "model %s: %s: fix its key table", f->name, why);
        return -1;
    }
    s->n_defs = n;
    return 0;
}

/* ---------------------------------------------------------------- file keys */

/* The folder of path ("." for a bare name) into buf. */
static void spec_folder(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(buf, len, ".");
    else if (slash == path) snprintf(buf, len, "/");
    else snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* The table index of the absolute path abs, appended when new; -1 out of memory. */
static int spec_intern_file(spec_t *s, const char *abs)
{
    for (int i = 0; i < s->n_files; i++)
        if (strcmp(s->files[i], abs) == 0) return i;
    char **t = realloc(s->files, sizeof *t * (size_t)(s->n_files + 2));
    if (!t) return -1;
    s->files = t;
    if (!(t[s->n_files] = strdup(abs))) return -1;
    t[++s->n_files] = NULL;
    return s->n_files - 1;
}

/* One path of a file key's list, resolved to the absolute path of an existing file (from the
 * spec's folder, or from the working directory for a --set) and interned; its index into *idx. */
static int spec_resolve_file(spec_t *s, const spec_entry_t *e, const char *item, int *idx,
                             char *err, size_t errlen)
{
    char joined[8192], abs[PATH_MAX], dir[4096], q[256], qj[512];
    struct stat st;
    if (item[0] == '/' || strncmp(e->where, "--set ", 6) == 0) {
        snprintf(joined, sizeof joined, "%s", item);
    } else {
        spec_folder(s->path, dir, sizeof dir);
        snprintf(joined, sizeof joined, "%s/%s", dir, item);
    }
    spec_q(item, q, sizeof q);
    spec_q(joined, qj, sizeof qj);
    if (!realpath(joined, abs) || stat(abs, &st) != 0) {
        snprintf(err, errlen, "%s: %s: cannot open '%s' (%s): %s; a relative path is taken from "
                 "the spec file's folder (from the working directory in a --set)", e->where,
                 e->key, q, qj, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s: '%s' (%s) is not a regular file; expected a data file",
                 e->where, e->key, q, qj);
        return -1;
    }
    if ((*idx = spec_intern_file(s, abs)) < 0) {
        snprintf(err, errlen, "%s: out of memory", e->where);
        return -1;
    }
    return 0;
}

/* A file key's value: nothing (no file) or a comma-separated list of paths, into e->values as
 * indices into s->files. Paths are never ranges: "../data/x" is a path. */
static int spec_resolve_files(spec_t *s, spec_entry_t *e, char *err, size_t errlen)
{
    char *buf = strdup(e->text), list[128];
    int rc = -1, cap = 0;
    if (!buf || (!s->files && spec_intern_file(s, "") != 0)) {
        snprintf(err, errlen, "%s: out of memory", e->where);
        goto cleanup;
    }
    char *all = spec_trim(buf);
    spec_q(all, list, sizeof list);
    if (!*all) { /* `data_file =`: no file */
        if ((rc = spec_push(&e->values, &e->n_values, &cap, 0.0)) != 0)
            snprintf(err, errlen, "%s: out of memory", e->where);
        goto cleanup;
    }
    for (char *p = all;;) {
        char *comma = strchr(p, ','), *item;
        if (comma) *comma = '\0';
        item = spec_trim(p);
        int idx;
        if (!*item) {
            snprintf(err, errlen, "%s: %s: empty item in the list '%s'; expected paths separated "
                     "by commas", e->where, e->key, list);
            goto cleanup;
        }
        if (spec_resolve_file(s, e, item, &idx, err, errlen) != 0) goto cleanup;
        for (int k = 0; k < e->n_values; k++)
            if (e->values[k] == idx) {
                snprintf(err, errlen, "%s: %s: the file %s appears more than once in '%s'; list "
                         "each file once", e->where, e->key, s->files[idx], list);
                goto cleanup;
            }
        if (spec_push(&e->values, &e->n_values, &cap, (double)idx) != 0) {
            snprintf(err, errlen, "%s: out of memory", e->where);
            goto cleanup;
        }
        if (!comma) break;
        p = comma + 1;
    }
    rc = 0;
cleanup:
    free(buf);
    return rc;
}

/* Append "SHA256  PATH\n" for the file path to *text (of *len bytes). 0, or -1 with err. */
static int spec_hash_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    unsigned char buf[65536], digest[32];
    size_t n;
    sha256_t c;
    if (!fp) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    sha256_init(&c);
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sha256_update(&c, buf, n);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        snprintf(err, errlen, "cannot read %s: read error", path);
        return -1;
    }
    sha256_final(&c, digest);
    char *t = realloc(*text, *len + 64 + 2 + strlen(path) + 2);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *text = t;
    for (int i = 0; i < 32; i++) snprintf(t + *len + 2 * i, 3, "%02x", digest[i]);
    *len += (size_t)sprintf(t + *len + 64, "  %s\n", path) + 64;
    return 0;
}

/* The lines of one file key value: the file, then the .dev and .test files beside a .train. */
static int spec_hash_value(const char *f, char **text, size_t *len, char *err, size_t errlen)
{
    size_t n = strlen(f);
    if (spec_hash_file(f, text, len, err, errlen) != 0) return -1;
    if (n < 6 || strcmp(f + n - 6, ".train") != 0) return 0;
    for (int k = 0; k < 2; k++) {
        char comp[PATH_MAX + 8];
        struct stat st;
        snprintf(comp, sizeof comp, "%.*s%s", (int)(n - 6), f, k ? ".test" : ".dev");
        if (stat(comp, &st) == 0 && S_ISREG(st.st_mode) &&
            spec_hash_file(comp, text, len, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* s->data_files from s->files. */
static int spec_hash_files(spec_t *s, char *err, size_t errlen)
{
    size_t len = 0;
    char msg[PATH_MAX + 128];
    if (!(s->data_files = calloc(1, 1))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 1; i < s->n_files; i++)
        if (spec_hash_value(s->files[i], &s->data_files, &len, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s: data file: %s", s->path, msg);
            return -1;
        }
    return 0;
}

const char *spec_data_lines(const char *data_files, const char *path, char *buf, size_t buflen)
{
    size_t n = strlen(path), u = 0;
    int train = n >= 6 && strcmp(path + n - 6, ".train") == 0;
    buf[0] = '\0';
    for (const char *l = data_files ? data_files : ""; *l;) {
        size_t len = strcspn(l, "\n");
        const char *p = len > 66 ? l + 66 : ""; /* after "SHA256  " */
        size_t pl = len > 66 ? len - 66 : 0;
        int mine = (pl == n && strncmp(p, path, n) == 0) ||
                   (train && strncmp(p, path, n - 6) == 0 &&
                    ((pl == n - 2 && strncmp(p + n - 6, ".dev", 4) == 0) ||
                     (pl == n - 1 && strncmp(p + n - 6, ".test", 5) == 0)));
        if (mine && u + len + 2 <= buflen) {
            memcpy(buf + u, l, len);
            buf[u += len] = '\n';
            buf[++u] = '\0';
        }
        l += len + (l[len] == '\n');
    }
    return buf;
}

/* Checks an entry's key and section against the schema and expands its values. */
static int spec_resolve_entry(spec_t *s, const model_family_t *const *fam, spec_entry_t *e,
                              char *err, size_t errlen)
{
    char msg[768];
    int i = param_index(s->defs, s->n_defs, e->key);
    for (int f = 0; i < 0 && fam[f]; f++)
        if (fam[f] != s->family && param_index(fam[f]->params, fam[f]->n_params, e->key) >= 0) {
            snprintf(err, errlen, "%s: unknown key '%s' for model %s: it is a key of model %s "
                     "(`attnsweep keys %s` lists the keys of this spec's model)", e->where, e->key,
                     s->family->name, fam[f]->name, s->family->name);
            return -1;
        }
    if (i < 0) {
        const char *guess = spec_suggest(s->defs, s->n_defs, e->key);
        char mean[96] = "";
        if (guess) snprintf(mean, sizeof mean, "; did you mean '%s'?", guess);
        snprintf(err, errlen, "%s: unknown key '%s' in [%s]%s (`attnsweep keys %s` lists all "
                 "keys)", e->where, e->key, e->section, mean, s->family->name);
        return -1;
    }
    const param_def_t *d = &s->defs[i];
    if (strcmp(e->section, d->section) != 0 && strcmp(e->section, "grid") != 0) {
        snprintf(err, errlen, "%s: '%s' belongs in [%s] (or in [grid]), not in [%s]", e->where,
                 e->key, d->section, e->section);
        return -1;
    }
    e->def = i;
    if (d->type == PARAM_FILE) {
        if (spec_resolve_files(s, e, err, errlen) != 0) return -1;
    } else if (spec_parse_values(d, e->text, &e->values, &e->n_values, msg, sizeof msg)) {
        snprintf(err, errlen, "%s: %s", e->where, msg);
        return -1;
    }
    if (d->one_value && e->n_values > 1) {
        snprintf(err, errlen, "%s: %s cannot be swept: expected one value for the whole spec, "
                 "got %d values", e->where, e->key, e->n_values);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- [points] */

/* The point keys of `keys = a, b` into s->point_def. 0, or -1 with err at e->where. */
static int spec_point_keys(spec_t *s, const spec_entry_t *e, char *err, size_t errlen)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", e->text);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *name = spec_trim(t), q[80];
        int i = param_index(s->defs, s->n_defs, name);
        if (i < 0) {
            const char *guess = spec_suggest(s->defs, s->n_defs, name);
            snprintf(err, errlen, "%s: [points] keys: unknown key '%s'%s%s%s", e->where,
                     spec_q(name, q, sizeof q), guess ? "; did you mean '" : "",
                     guess ? guess : "", guess ? "'?" : "");
            return -1;
        }
        for (int k = 0; k < s->n_point_keys; k++)
            if (s->point_def[k] == i) {
                snprintf(err, errlen, "%s: [points] keys: '%s' is listed twice", e->where, name);
                return -1;
            }
        if (s->defs[i].type == PARAM_FILE) {
            snprintf(err, errlen, "%s: [points] keys: %s is a file key; list its files in [grid] "
                     "or its home section", e->where, name);
            return -1;
        }
        if (s->defs[i].one_value || s->n_point_keys == PARAM_MAX) {
            snprintf(err, errlen, "%s: [points] keys: %s cannot vary (one value per spec)",
                     e->where, name);
            return -1;
        }
        s->point_def[s->n_point_keys++] = i;
    }
    if (!s->n_point_keys) {
        snprintf(err, errlen, "%s: [points] keys: expected key names, e.g. keys = dim, "
                 "signal_norm", e->where);
        return -1;
    }
    return 0;
}

/* One `point = v1, v2` row into row [n_point_keys]. 0, or -1 with err at e->where. */
static int spec_point_row(const spec_t *s, const spec_entry_t *e, double *row, char *err,
                          size_t errlen)
{
    char buf[4096], msg[512];
    int k = 0;
    snprintf(buf, sizeof buf, "%s", e->text);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (k == s->n_point_keys) break;
        const param_def_t *d = &s->defs[s->point_def[k]];
        if (param_parse(d, spec_trim(t), &row[k++], msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s: %s", e->where, msg);
            return -1;
        }
    }
    int n = 0;
    for (const char *c = e->text; *c; c++) n += *c == ',';
    if (k != s->n_point_keys || n + 1 != s->n_point_keys) {
        snprintf(err, errlen, "%s: a point has %d values, the [points] keys are %d; one value "
                 "per key, comma-separated", e->where, n + 1, s->n_point_keys);
        return -1;
    }
    return 0;
}

/* Take the [points] entries out of s->entries into point_def and points: one `keys` line, then
 * one `point` line per tuple, each tuple once; a point key is set nowhere else. */
static int spec_take_points(spec_t *s, char *err, size_t errlen)
{
    const spec_entry_t *keys = NULL;
    int kept = 0, rows = 0;
    for (int i = 0; i < s->n_entries; i++) {
        spec_entry_t *e = &s->entries[i];
        if (strcmp(e->section, "points") != 0) continue;
        if (strcmp(e->key, "keys") == 0 && !keys) keys = e;
        else if (strcmp(e->key, "point") == 0) rows++;
        else {
            snprintf(err, errlen, "%s: unknown key '%s' in [points]; expected one 'keys = a, b' "
                     "line, then 'point = 1, 2' lines", e->where, e->key);
            return -1;
        }
    }
    if (!keys && !rows) return 0;
    if (!keys || !rows) {
        snprintf(err, errlen, "%s: [points] needs a 'keys = a, b' line and at least one "
                 "'point = 1, 2' line", keys ? keys->where : s->path);
        return -1;
    }
    if (spec_point_keys(s, keys, err, errlen)) return -1;
    if (!(s->points = malloc(sizeof *s->points * (size_t)rows * (size_t)s->n_point_keys))) {
        snprintf(err, errlen, "%s: out of memory", s->path);
        return -1;
    }
    for (int i = 0; i < s->n_entries; i++) { /* check everything first, then take them out */
        const spec_entry_t *e = &s->entries[i];
        double *row = s->points + (size_t)s->n_points * (size_t)s->n_point_keys;
        for (int k = 0; strcmp(e->section, "points") != 0 && k < s->n_point_keys; k++)
            if (strcmp(e->key, s->defs[s->point_def[k]].name) == 0) {
                snprintf(err, errlen, "%s: '%s' is a [points] key (%s): set it there only",
                         e->where, e->key, keys->where);
                return -1;
            }
        if (strcmp(e->key, "point") != 0 || strcmp(e->section, "points") != 0) continue;
        if (spec_point_row(s, e, row, err, errlen)) return -1;
        for (int j = 0; j < s->n_points; j++)
            if (!memcmp(row, s->points + (size_t)j * (size_t)s->n_point_keys,
                        sizeof *row * (size_t)s->n_point_keys)) {
                snprintf(err, errlen, "%s: this point is listed twice (it would give identical "
                         "runs)", e->where);
                return -1;
            }
        s->n_points++;
    }
    for (int i = 0; i < s->n_entries; i++) {
        if (strcmp(s->entries[i].section, "points") == 0)
            free(s->entries[i].text);
        else
            s->entries[kept++] = s->entries[i];
    }
    s->n_entries = kept;
    return 0;
}

int spec_load_text_in(spec_t *s, const model_family_t *const *families, const char *path,
                      const char *text, const char *const *overrides, int n_overrides,
                      char *err, size_t errlen)
{
    spec_reader_t r;
    int rc = -1;
    char shown_path[256]; /* the path in messages */
    memset(s, 0, sizeof *s);
    memset(&r, 0, sizeof r);
    if (!families) families = model_families;
    if (!path) path = "<spec>";
    if (!text) text = "";
    spec_q(path, shown_path, sizeof shown_path);
    r.path = shown_path;
    r.text = text;
    r.len = strlen(text);
    r.err = err;
    r.errlen = errlen;
    if (spec_check_text(r.path, text, r.len, err, errlen)) goto cleanup;
    for (int i = 0; i < n_overrides; i++) {
        size_t n = strlen(overrides[i]), k = param_text_len(overrides[i], n);
        char what[64], q[240];
        if (k == n) continue;
        spec_bad_byte(overrides[i], n, k, what, sizeof what);
        snprintf(err, errlen, "--set %s: not one line of text: %s",
                 spec_q(overrides[i], q, sizeof q), what);
        goto cleanup;
    }
    s->path = strdup(path);
    s->text = spec_canonical(text, overrides, n_overrides);
    if (!s->path || !s->text) {
        snprintf(err, errlen, "%s: out of memory", r.path);
        goto cleanup;
    }
    spec_sha256_hex(s->text, strlen(s->text), s->sha256);

    int ret = ini_parse_stream(spec_read_line, &r, spec_handler, &r);
    if (ret < 0) {
        snprintf(err, errlen, "%s: out of memory while parsing", r.path);
        goto cleanup;
    }
    if (ret > 0 && (!r.err_line || ret < r.err_line)) {
        /* A line inih could not read: find its text for the message. */
        size_t n = 0;
        const char *line = spec_line_at(text, r.len, ret, &n);
        char shown[100];
        param_quote(line ? line : "", line ? n : 0, shown, sizeof shown);
        snprintf(err, errlen, "%s:%d: expected 'key = value', '[section]' or a comment, got "
                 "'%s'", r.path, ret, shown);
        goto cleanup;
    }
    if (r.err_line) goto cleanup;

    for (int i = 0; i < n_overrides; i++)
        if (spec_apply_override(&r, families, overrides[i], err, errlen)) goto cleanup;
    if (spec_resolve_family(s, &r, families, err, errlen)) goto cleanup;
    if (spec_build_schema(s, err, errlen)) goto cleanup;
    s->entries = r.entries;
    s->n_entries = r.n;
    r.entries = NULL;
    r.n = 0;
    if (spec_take_points(s, err, errlen)) goto cleanup;
    for (int i = 0; i < s->n_entries; i++)
        if (spec_resolve_entry(s, families, &s->entries[i], err, errlen)) goto cleanup;
    if (!s->files && spec_intern_file(s, "") != 0) {
        snprintf(err, errlen, "%s: out of memory", r.path);
        goto cleanup;
    }
    for (int i = 0; i < s->n_defs; i++) /* the file keys read their paths from the table */
        if (s->defs[i].type == PARAM_FILE) s->defs[i].choices = (const char *const *)s->files;
    if (spec_hash_files(s, err, errlen) != 0) goto cleanup;
    rc = 0;
cleanup:
    for (int i = 0; i < r.n; i++) free(r.entries[i].text);
    free(r.entries);
    if (rc) spec_free(s);
    return rc;
}

int spec_load_text(spec_t *s, const char *path, const char *text, const char *const *overrides,
                   int n_overrides, char *err, size_t errlen)
{
    return spec_load_text_in(s, NULL, path, text, overrides, n_overrides, err, errlen);
}

int spec_load(spec_t *s, const char *path, const char *const *overrides, int n_overrides,
              char *err, size_t errlen)
{
    FILE *fp = NULL;
    char *buf = NULL, shown[256];
    int rc = -1;
    long size;
    memset(s, 0, sizeof *s);
    path = path ? path : "<spec>";
    spec_q(path, shown, sizeof shown);
    fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open the spec: %s", shown, strerror(errno));
        goto cleanup;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file; expected a spec (.ini) file", shown);
        goto cleanup;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: cannot read the spec: %s", shown, strerror(errno));
        goto cleanup;
    }
    if (size > SPEC_MAX_BYTES) {
        snprintf(err, errlen, "%s: %ld bytes, more than a spec should be (limit %ld)", shown,
                 size, SPEC_MAX_BYTES);
        goto cleanup;
    }
    buf = malloc((size_t)size + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", shown);
        goto cleanup;
    }
    if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
        snprintf(err, errlen, "%s: read error: %s", shown, strerror(errno));
        goto cleanup;
    }
    buf[size] = '\0';
    if (spec_check_text(shown, buf, (size_t)size, err, errlen)) goto cleanup; /* NUL bytes too */
    rc = spec_load_text(s, path, buf, overrides, n_overrides, err, errlen);
cleanup:
    if (fp) fclose(fp);
    free(buf);
    return rc;
}

int spec_canonical_split(const char *canonical, char **body, const char ***ov, int *n)
{
    size_t cut = strlen(canonical);
    char *text = strdup(canonical);
    *body = NULL, *ov = NULL, *n = 0;
    if (!text) return -1;
    while (cut > 0) { /* the trailing "# --set " lines, last first */
        size_t start = cut - 1;
        while (start > 0 && text[start - 1] != '\n') start--;
        if (strncmp(text + start, "# --set ", 8) != 0) break;
        text[cut - 1] = '\0'; /* the line's newline */
        cut = start;
        (*n)++;
    }
    if (*n && !(*ov = malloc(sizeof **ov * (size_t)*n))) {
        free(text);
        return -1;
    }
    for (int i = 0, k = 0; i < *n; i++) { /* in file order */
        const char *line = text + cut + (size_t)k;
        (*ov)[i] = line + 8;
        k += (int)strlen(line) + 1;
    }
    if (*n) { /* the body ends where the overrides begin: move them past its terminator */
        size_t tail = 0;
        for (int i = 0; i < *n; i++) tail += strlen((*ov)[i] - 8) + 1;
        char *moved = malloc(cut + 1 + tail);
        if (!moved) {
            free(*ov), free(text);
            return -1;
        }
        memcpy(moved, text, cut);
        moved[cut] = '\0';
        memcpy(moved + cut + 1, text + cut, tail);
        for (int i = 0; i < *n; i++) (*ov)[i] = moved + cut + 1 + ((*ov)[i] - (text + cut));
        free(text);
        text = moved;
    }
    *body = text;
    return 0;
}

int spec_load_canonical(spec_t *s, const char *path, const char *canonical, char *err,
                        size_t errlen)
{
    char *body = NULL;
    const char **ov = NULL;
    int n = 0;
    memset(s, 0, sizeof *s);
    if (spec_canonical_split(canonical, &body, &ov, &n) != 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = spec_load_text(s, path, body, ov, n, err, errlen);
    free(ov);
    free(body);
    return rc;
}
