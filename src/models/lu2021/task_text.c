/* task_text — labelled sentences from data files for the lu2021 family (task.h), preprocessed as
 * Lu, Mao & Nayak preprocess SST: one "LABEL SENTENCE" per line; every character that is neither
 * a word character nor whitespace deleted, then split on whitespace; no other normalisation, no
 * unknown word, no minimum count; the vocabulary is every word of every split plus PAD (id 0,
 * the others in byte order), each sentence right-padded with PAD to the longest. A corpus is read
 * once per process (a small cache keyed by path, size and modification time); each run copies it
 * and picks its topic words from the training labels. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "attnsweep/param.h"
#include "task.h"

/* ---- characters ------------------------------------------------------------------------------ */

/* The code point at s[0..n) (valid UTF-8: param_text_len checked it) into *cp; its bytes. */
static int text_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
    int k = s[0] < 0x80 ? 1 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
    if ((size_t)k > n) k = (int)n;
    uint32_t c = k == 1 ? s[0] : s[0] & (0x7F >> k);
    for (int i = 1; i < k; i++) c = c << 6 | (s[i] & 0x3F);
    *cp = c;
    return k;
}

/* Python's str.isspace (the \s of the authors' regular expression). */
static int text_is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Python's \w (letters, digits, numerics and '_'): exact for ASCII and Latin-1; beyond them the
 * combining marks, the punctuation, symbol, arrow, box, dingbat and emoji blocks and the
 * fullwidth punctuation are not word characters, every other character is (letters of any
 * script). */
static int text_is_word(uint32_t c)
{
    if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         c == '_';
    if (c < 0x100) /* Latin-1: ª ² ³ µ ¹ º ¼ ½ ¾ and the letters, not × ÷ */
        return c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
               (c >= 0xBC && c <= 0xBE) || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
    return !((c >= 0x0300 && c <= 0x036F) ||  /* combining diacritical marks */
             (c >= 0x2000 && c <= 0x206F) ||  /* general punctuation */
             (c >= 0x20A0 && c <= 0x20FF) ||  /* currency symbols, combining marks for symbols */
             (c >= 0x2190 && c <= 0x2BFF) ||  /* arrows, math operators, ..., dingbats */
             (c >= 0x3000 && c <= 0x3004) || (c >= 0x3008 && c <= 0x3020) || /* CJK punct. */
             (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || /* variation selectors, BOM */
             (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
             (c >= 0xFF3B && c <= 0xFF40 && c != 0xFF3F) || (c >= 0xFF5B && c <= 0xFF65) ||
             (c >= 0x1F000 && c <= 0x1FAFF)); /* emoji and pictographs */
}

int text_tokenise(const char *line, size_t n, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t o = 0;
    int words = 0, in_word = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        int k = text_utf8(s + i, n - i, &c);
        if (text_is_space(c)) {
            if (in_word && o < outlen) out[o++] = '\0';
            in_word = 0;
        } else if (text_is_word(c) && o + (size_t)k < outlen) {
            memcpy(out + o, s + i, (size_t)k);
            o += (size_t)k;
            words += !in_word;
            in_word = 1;
        } /* anything else is deleted: "re-imagining" is one word */
        i += (size_t)k;
    }
    if (in_word && o < outlen) out[o++] = '\0';
    return words;
}

/* ---- building a corpus ----------------------------------------------------------------------- */

/* The words met so far (ids in order of first appearance), their strings, and the sentences. */
typedef struct {
    int32_t *slot;      /* [cap] hash table of word ids, -1 empty */
    size_t cap;
    char *chars;        /* the words, NUL-terminated, in id order */
    size_t n_chars, cap_chars;
    size_t *at;         /* [n_words] offsets into chars */
    int n_words, cap_words;
    int32_t *ids;       /* every sentence's word ids, one after another */
    size_t n_ids, cap_ids;
    int32_t *labels, *lens; /* [n] */
    long n;
    size_t cap_labels, cap_lens;
    int len;            /* the longest sentence */
    char where_len[4200];
    long max_label;
    char where_max[4200];
} build_t;

static void build_free(build_t *b)
{
    free(b->slot), free(b->chars), free(b->at), free(b->ids), free(b->labels), free(b->lens);
}

/* Grow *p (of *cap elements of size each) to hold need. 0, or -1 out of memory. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static uint64_t fnv(const char *w, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)w[i]) * 1099511628211ULL;
    return h;
}

/* The id of word w (n bytes), added when new. -1 out of memory, -2 past TEXT_MAX_VOCAB. */
static int32_t build_word(build_t *b, const char *w, size_t n)
{
    if ((size_t)b->n_words * 2 + 2 > b->cap) { /* rehash at half full */
        size_t cap = b->cap ? 2 * b->cap : 4096;
        int32_t *slot = malloc(sizeof *slot * cap);
        if (!slot) return -1;
        memset(slot, 0xff, sizeof *slot * cap);
        for (int i = 0; i < b->n_words; i++) {
            const char *x = b->chars + b->at[i];
            size_t j = fnv(x, strlen(x)) & (cap - 1);
            while (slot[j] >= 0) j = (j + 1) & (cap - 1);
            slot[j] = i;
        }
        free(b->slot);
        b->slot = slot;
        b->cap = cap;
    }
    size_t j = fnv(w, n) & (b->cap - 1);
    for (; b->slot[j] >= 0; j = (j + 1) & (b->cap - 1)) {
        const char *x = b->chars + b->at[b->slot[j]];
        if (strncmp(x, w, n) == 0 && x[n] == '\0') return b->slot[j];
    }
    if (b->n_words + 1 >= TEXT_MAX_VOCAB) return -2; /* PAD takes one id */
    size_t cw = (size_t)b->cap_words;
    if (grow((void **)&b->at, &cw, (size_t)b->n_words + 1, sizeof *b->at) ||
        grow((void **)&b->chars, &b->cap_chars, b->n_chars + n + 1, 1))
        return -1;
    b->cap_words = (int)cw;
    b->at[b->n_words] = b->n_chars;
    memcpy(b->chars + b->n_chars, w, n);
    b->chars[b->n_chars + n] = '\0';
    b->n_chars += n + 1;
    b->slot[j] = b->n_words;
    return b->n_words++;
}

/* One line (label, then the sentence) at where ("path:line"). 0, or -1 with err. */
static int build_line(build_t *b, const char *line, size_t n, const char *where, char *tok,
                      char *err, size_t errlen)
{
    char shown[64];
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t l0 = i; /* a line is not blank here (build_file): it has a first token */
    while (i < n && line[i] != ' ' && line[i] != '\t') i++;
    long label = 0;
    for (size_t k = l0; k < i; k++) {
        if (line[k] < '0' || line[k] > '9' || i - l0 > 9) {
            snprintf(err, errlen, "%s: expected the label (an integer 0, 1, ...) first, got '%s'; "
                     "every line is 'LABEL SENTENCE'", where,
                     param_quote(line + l0, i - l0, shown, sizeof shown));
            return -1;
        }
        label = 10 * label + (line[k] - '0');
    }
    int words = text_tokenise(line + i, n - i, tok, n + 1);
    if (words > TEXT_MAX_LEN) {
        snprintf(err, errlen, "%s: a sentence of %d words; at most %d (every sentence is padded "
                 "to the longest)", where, words, TEXT_MAX_LEN);
        return -1;
    }
    if (b->n >= TEXT_MAX_LINES) {
        snprintf(err, errlen, "%s: more than %d sentences; a data file holds at most that many",
                 where, TEXT_MAX_LINES);
        return -1;
    }
    if (grow((void **)&b->ids, &b->cap_ids, b->n_ids + (size_t)words, sizeof *b->ids) ||
        grow((void **)&b->labels, &b->cap_labels, (size_t)b->n + 1, sizeof *b->labels) ||
        grow((void **)&b->lens, &b->cap_lens, (size_t)b->n + 1, sizeof *b->lens))
        goto oom;
    const char *w = tok;
    for (int k = 0; k < words; k++, w += strlen(w) + 1) {
        int32_t id = build_word(b, w, strlen(w));
        if (id == -2) {
            snprintf(err, errlen, "%s: more than %d distinct words by this line; a data file's "
                     "vocabulary is limited to that", where, TEXT_MAX_VOCAB - 1);
            return -1;
        }
        if (id < 0) goto oom;
        b->ids[b->n_ids++] = id;
    }
    b->labels[b->n] = (int32_t)label;
    b->lens[b->n] = words;
    if (label > b->max_label || b->n == 0) {
        b->max_label = label;
        snprintf(b->where_max, sizeof b->where_max, "%s", where);
    }
    if (words > b->len) {
        b->len = words;
        snprintf(b->where_len, sizeof b->where_len, "%s", where);
    }
    b->n++;
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", where);
    return -1;
}

/* The whole of file path (at most TEXT_MAX_BYTES) into *buf (malloc'd, NUL-terminated), its
 * length into *n. 0, or -1 with err. */
static int read_file(const char *path, char **buf, size_t *n, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    struct stat st;
    *buf = NULL;
    if (!fp || fstat(fileno(fp), &st) != 0) {
        snprintf(err, errlen, "%s: cannot open it: %s", path, strerror(errno));
        if (fp) fclose(fp);
        return -1;
    }
    if (st.st_size > TEXT_MAX_BYTES) {
        snprintf(err, errlen, "%s: %.3g GB; a data file is limited to %.3g GB", path,
                 1e-9 * (double)st.st_size, 1e-9 * (double)TEXT_MAX_BYTES);
        fclose(fp);
        return -1;
    }
    *n = (size_t)st.st_size;
    if (!(*buf = malloc(*n + 1)) || fread(*buf, 1, *n, fp) != *n) {
        snprintf(err, errlen, "%s: %s", path, *buf ? "read error" : "out of memory");
        free(*buf);
        *buf = NULL;
        fclose(fp);
        return -1;
    }
    (*buf)[*n] = '\0';
    fclose(fp);
    return 0;
}

/* Every line of file path into b. 0, or -1 with err naming path:line. */
static int build_file(build_t *b, const char *path, char *err, size_t errlen)
{
    char *text = NULL, *tok = NULL, where[4200];
    size_t len, pos = 0;
    long first = b->n;
    int rc = -1, line = 0;
    if (read_file(path, &text, &len, err, errlen) != 0) return -1;
    if (!(tok = malloc(len + 2))) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) pos = 3; /* a UTF-8 byte order mark */
    while (pos < len) {
        size_t n = strcspn(text + pos, "\n"), end = pos + n;
        const char *s = text + pos;
        line++;
        snprintf(where, sizeof where, "%s:%d", path, line);
        pos = end + (end < len);
        if (n && s[n - 1] == '\r') n--; /* CRLF */
        size_t ok = param_text_len(s, n);
        if (ok < n) {
            unsigned char c = (unsigned char)s[ok], c1 = ok + 1 < n ? (unsigned char)s[ok + 1] : 0;
            int control = c < 0x20 || c == 0x7f || (c == 0xc2 && c1 >= 0x80 && c1 <= 0x9f);
            snprintf(err, errlen, "%s: not text: byte %zu is 0x%02x, %s; a data file is UTF-8 text, "
                     "one 'LABEL SENTENCE' per line", where, ok + 1, c,
                     control ? "a control character" : "not UTF-8");
            goto cleanup;
        }
        if (strspn(s, " \t") >= n) { /* blank: allowed only at the end of the file */
            if (strspn(text + pos, " \t\r\n") == len - pos) break;
            snprintf(err, errlen, "%s: an empty line (no label); every line is 'LABEL SENTENCE'",
                     where);
            goto cleanup;
        }
        if (build_line(b, s, n, where, tok, err, errlen) != 0) goto cleanup;
    }
    if (b->n == first) {
        snprintf(err, errlen, "%s: no sentences; expected one 'LABEL SENTENCE' per line", path);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(text);
    free(tok);
    return rc;
}

static const char *sort_chars; /* the words being sorted (qsort has no context) */
static const size_t *sort_at;

static int by_bytes(const void *a, const void *b)
{
    return strcmp(sort_chars + sort_at[*(const int32_t *)a], sort_chars + sort_at[*(const int32_t *)b]);
}

static void corpus_free(text_corpus_t *c)
{
    if (!c) return;
    free(c->path), free(c->tokens), free(c->labels), free(c->lens), free(c->words), free(c->word_at);
    free(c);
}

/* The corpus from b: word ids renumbered (PAD 0, then byte order), sentences padded. */
static int build_corpus(build_t *b, text_corpus_t *c, char *err, size_t errlen)
{
    int V = b->n_words + 1;
    size_t L = (size_t)(b->len > 0 ? b->len : 1);
    int32_t *order = malloc(sizeof *order * (size_t)V), *rank = malloc(sizeof *rank * (size_t)V);
    int rc = -1;
    if ((double)b->n * (double)L > 2147483647.0) {
        snprintf(err, errlen, "%s: %ld sentences x %zu words (the longest, at %s) is more than 2^31 "
                 "positions", c->path, b->n, L, b->where_len);
        goto cleanup;
    }
    c->len = (int)L;
    c->vocab = V;
    c->n = b->n;
    c->max_label = b->max_label;
    snprintf(c->where_max, sizeof c->where_max, "%s", b->where_max);
    c->tokens = calloc((size_t)b->n * L, sizeof *c->tokens); /* 0 is PAD */
    c->labels = malloc(sizeof *c->labels * (size_t)b->n);
    c->lens = malloc(sizeof *c->lens * (size_t)b->n);
    c->words = malloc(b->n_chars + sizeof TEXT_PAD);
    c->word_at = malloc(sizeof *c->word_at * (size_t)V);
    if (!order || !rank || !c->tokens || !c->labels || !c->lens || !c->words || !c->word_at) {
        snprintf(err, errlen, "%s: out of memory", c->path);
        goto cleanup;
    }
    for (int32_t i = 0; i < b->n_words; i++) order[i] = i;
    sort_chars = b->chars, sort_at = b->at;
    qsort(order, (size_t)b->n_words, sizeof *order, by_bytes);
    size_t o = sizeof TEXT_PAD;
    memcpy(c->words, TEXT_PAD, sizeof TEXT_PAD);
    c->word_at[0] = 0;
    for (int k = 0; k < b->n_words; k++) {
        const char *w = b->chars + b->at[order[k]];
        rank[order[k]] = k + 1;
        c->word_at[k + 1] = o;
        memcpy(c->words + o, w, strlen(w) + 1);
        o += strlen(w) + 1;
    }
    const int32_t *id = b->ids;
    for (long s = 0; s < b->n; s++) {
        for (int i = 0; i < b->lens[s]; i++) c->tokens[(size_t)s * L + (size_t)i] = rank[*id++];
        c->labels[s] = b->labels[s];
        c->lens[s] = b->lens[s];
    }
    rc = 0;
cleanup:
    free(order);
    free(rank);
    return rc;
}

/* Read the files of c->path into c. 0, or -1 with err. */
static int corpus_read(text_corpus_t *c, char *const files[3], char *err, size_t errlen)
{
    build_t b;
    int rc = -1;
    memset(&b, 0, sizeof b);
    for (int f = 0; f < (c->split_files ? 3 : 1); f++) {
        long before = b.n;
        if (build_file(&b, files[f], err, errlen) != 0) goto cleanup;
        c->n_file[f] = b.n - before;
    }
    rc = build_corpus(&b, c, err, errlen);
cleanup:
    build_free(&b);
    return rc;
}

/* ---- the cache ------------------------------------------------------------------------------- */

/* What identifies a file's content here: the file and its size and modification time. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_id_t;

typedef struct {
    char *path;
    file_id_t id[3];
    text_corpus_t *corpus; /* NULL: reading failed with err */
    char *err;
} cache_entry_t;

/* Every corpus this process read (a spec names a few data files). Kept to the end. */
static cache_entry_t *text_cache;
static int text_cache_n;

static int same_id(const file_id_t *a, const file_id_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The files of path into files[0..nf) (malloc'd) and their identities. 0, or -1 with err. */
static int text_files(const char *path, int nf, char *files[3], file_id_t id[3], char *err,
                      size_t errlen)
{
    size_t n = strlen(path);
    for (int f = 0; f < nf; f++) {
        struct stat st;
        if (!(files[f] = malloc(n + 2))) {
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        snprintf(files[f], n + 2, "%.*s%s", (int)(f ? n - 6 : n), path,
                 f == 1 ? ".dev" : f == 2 ? ".test" : "");
        if (stat(files[f], &st) != 0) {
            if (f) snprintf(err, errlen, "%s: a data file named *.train comes with its .dev and "
                            ".test files beside it, and %s is missing", path, files[f]);
            else snprintf(err, errlen, "%s: cannot open it: %s", path, strerror(errno));
            return -1;
        }
        id[f] = (file_id_t){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    }
    return 0;
}

int text_load(const char *path, const text_corpus_t **out, char *err, size_t errlen)
{
    size_t n = strlen(path);
    int split = n > 6 && strcmp(path + n - 6, ".train") == 0, nf = split ? 3 : 1;
    char *files[3] = {NULL, NULL, NULL};
    file_id_t id[3];
    text_corpus_t *c = NULL;
    int rc = -1;
    *out = NULL;
    memset(id, 0, sizeof id);
    if (text_files(path, nf, files, id, err, errlen) != 0) goto cleanup;
    for (int e = 0; e < text_cache_n; e++) {
        cache_entry_t *x = &text_cache[e];
        if (strcmp(x->path, path) != 0) continue;
        for (int f = 0; f < nf; f++)
            if (!same_id(&x->id[f], &id[f])) {
                snprintf(err, errlen, "%s changed (its size or modification time) since this "
                         "process first read it; a sweep reads its data once, at the start: "
                         "restore the file, or start the sweep again", files[f]);
                goto cleanup;
            }
        if (!x->corpus) snprintf(err, errlen, "%s", x->err);
        *out = x->corpus;
        rc = x->corpus ? 0 : -1;
        goto cleanup;
    }
    cache_entry_t *more = realloc(text_cache, sizeof *more * (size_t)(text_cache_n + 1));
    if (!more || !(c = calloc(1, sizeof *c)) || !(c->path = strdup(path))) {
        if (more) text_cache = more;
        free(c);
        snprintf(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    text_cache = more;
    c->split_files = split;
    cache_entry_t *x = &text_cache[text_cache_n];
    memset(x, 0, sizeof *x);
    char msg[4600]; /* the whole message is remembered, whatever errlen is */
    if (corpus_read(c, files, msg, sizeof msg) != 0) {
        corpus_free(c);
        c = NULL;
        x->err = strdup(msg);
        snprintf(err, errlen, "%s", msg);
    }
    x->path = strdup(path);
    memcpy(x->id, id, sizeof id);
    x->corpus = c;
    if (!x->path || (!c && !x->err)) { /* out of memory: not remembered */
        free(x->path), free(x->err), corpus_free(c);
        snprintf(err, errlen, "%s: out of memory", path);
        goto cleanup;
    }
    text_cache_n++;
    *out = c;
    rc = c ? 0 : -1;
cleanup:
    for (int f = 0; f < 3; f++) free(files[f]);
    return rc;
}

const char *text_word(const text_corpus_t *c, int w) { return c->words + c->word_at[w]; }

/* ---- a run's data ---------------------------------------------------------------------------- */

void text_split(const text_corpus_t *c, double train_frac, double valid_frac, long *n_train,
                long *n_valid, long *n_test)
{
    if (c->split_files) {
        *n_train = c->n_file[0], *n_valid = c->n_file[1], *n_test = c->n_file[2];
        return;
    }
    task_split_n(c->n, train_frac, valid_frac, n_train, n_valid, n_test);
}

int text_check(const text_corpus_t *c, int topics, double train_frac, double valid_frac,
               char *err, size_t errlen)
{
    long tr, va, te;
    if (c->max_label >= topics) {
        snprintf(err, errlen, "topics: the labels must lie in 0..%d (topics = %d), but "
                 "%s has label %ld; set topics to the number of classes", topics - 1, topics,
                 c->where_max, c->max_label);
        return -1;
    }
    text_split(c, train_frac, valid_frac, &tr, &va, &te);
    if (tr < 1 || va < 1 || te < 1) {
        snprintf(err, errlen, "%s: the %s set is empty (%ld sentences: %ld train, %ld valid, %ld "
                 "test); raise train_frac/valid_frac or lower them so that each split holds a "
                 "sentence", tr < 1 ? "train_frac" : va < 1 ? "valid_frac" : "train_frac",
                 tr < 1 ? "training" : va < 1 ? "validation" : "test", c->n, tr, va, te);
        return -1;
    }
    return 0;
}

size_t text_memory(const text_corpus_t *c, int topics, int topic_words)
{
    size_t nt = (size_t)topics * (size_t)topic_words;
    if (nt > (size_t)c->vocab) nt = (size_t)c->vocab;
    return sizeof(int32_t) * (size_t)c->n * ((size_t)c->len + 1) +
           (sizeof(double) + sizeof(int32_t)) * nt + (size_t)c->vocab;
}

/* A candidate topic word of one class: (n_k + 1) / (n + K) is its smoothed share of the class. */
typedef struct {
    int64_t num, den; /* n_k(w) + 1, n(w) + K */
    int32_t w, n_k;
} cand_t;

static int by_share(const void *pa, const void *pb)
{
    const cand_t *a = pa, *b = pb;
    int64_t x = a->num * b->den, y = b->num * a->den; /* exact: both < 2^31 · 2^31 */
    if (x != y) return x > y ? -1 : 1;
    if (a->n_k != b->n_k) return a->n_k > b->n_k ? -1 : 1;
    return (a->w > b->w) - (a->w < b->w);
}

/* d's topic words from its training sentences (see text_task in task.h). */
static int text_topics(task_data_t *d, const text_corpus_t *c, int K, int W)
{
    size_t V = (size_t)c->vocab, L = (size_t)c->len;
    int32_t *n_all = calloc(V, sizeof *n_all), *n_k = calloc(V, sizeof *n_k);
    int32_t *stamp = calloc(V, sizeof *stamp), *taken = calloc(V, sizeof *taken);
    double *len_sum = calloc(V, sizeof *len_sum);
    cand_t *cand = malloc(sizeof *cand * V);
    int rc = -1, n_topic = 0, n_class = 0;
    if (!n_all || !n_k || !stamp || !taken || !len_sum || !cand) goto cleanup;
    for (long b = 0; b < d->n_train; b++) /* the classes that have training sentences */
        if (d->labels[b] >= n_class) n_class = d->labels[b] + 1;
    for (long b = 0; b < d->n_train; b++) /* n(w): training sentences holding w; their lengths */
        for (int i = 0; i < c->lens[b]; i++) {
            int32_t w = d->tokens[(size_t)b * L + (size_t)i];
            if (stamp[w] == b + 1) continue;
            stamp[w] = (int32_t)(b + 1);
            n_all[w]++;
            len_sum[w] += c->lens[b];
        }
    size_t most = (size_t)K * (size_t)W < V ? (size_t)K * (size_t)W : V;
    if (task_topics_alloc(d, (int)most) != 0) goto cleanup;
    for (int k = 0; k < n_class && k < K; k++) {
        size_t nc = 0;
        memset(n_k, 0, sizeof *n_k * V);
        for (long b = 0; b < d->n_train; b++) /* n_k(w): those of class k */
            for (int i = 0; d->labels[b] == k && i < c->lens[b]; i++) {
                int32_t w = d->tokens[(size_t)b * L + (size_t)i];
                if (stamp[w] == -(b + 1)) continue;
                stamp[w] = (int32_t)-(b + 1);
                n_k[w]++;
            }
        for (size_t w = 1; w < V; w++) /* PAD (0) never; nor a word of one-word sentences */
            if (n_k[w] > 0 && !taken[w] && len_sum[w] > n_all[w])
                cand[nc++] = (cand_t){n_k[w] + 1, (int64_t)n_all[w] + K, (int32_t)w, n_k[w]};
        qsort(cand, nc, sizeof *cand, by_share);
        for (size_t j = 0; j < nc && (int)j < W; j++) {
            int32_t w = cand[j].w;
            taken[w] = 1;
            d->topic[n_topic] = w;
            d->topic_m[n_topic++] = len_sum[w] / n_all[w] - 1.0;
            d->is_topic[w] = 1;
        }
    }
    d->n_topic = n_topic;
    d->n_att = 0;
    for (long b = 0; b < d->n_train; b++) {
        int any = 0;
        for (int i = 0; i < c->lens[b] && !any; i++) any = d->is_topic[d->tokens[(size_t)b * L + (size_t)i]];
        d->n_att += any;
    }
    rc = 0;
cleanup:
    free(n_all), free(n_k), free(stamp), free(taken), free(len_sum), free(cand);
    return rc;
}

int text_task(task_data_t *d, const text_corpus_t *c, int topics, int topic_words,
              double train_frac, double valid_frac, char *err, size_t errlen)
{
    size_t n = (size_t)c->n, L = (size_t)c->len;
    memset(d, 0, sizeof *d);
    d->text = 1;
    d->topics = topics;
    d->topic_words = topic_words;
    d->vocab = c->vocab;
    d->len = c->len;
    d->n = c->n;
    text_split(c, train_frac, valid_frac, &d->n_train, &d->n_valid, &d->n_test);
    if (!(d->tokens = malloc(sizeof(int32_t) * n * (L + 1)))) goto oom;
    d->labels = d->tokens + n * L;
    memcpy(d->tokens, c->tokens, sizeof(int32_t) * n * L);
    memcpy(d->labels, c->labels, sizeof(int32_t) * n);
    if (text_topics(d, c, topics, topic_words) != 0) goto oom;
    d->vocab_nontopic = d->vocab - d->n_topic;
    return 0;
oom:
    task_free(d);
    snprintf(err, errlen, "out of memory for the data of %s", c->path);
    return -2;
}
