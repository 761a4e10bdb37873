/* task — draws the synthetic topic-word data set of the lu2021 family (see task.h): per sentence,
 * its class, its topic word and its m non-topic words, in that order, from one RNG_STREAM_DATA
 * stream, so sentence n depends only on the seed and the sentences before it. Split by position.
 * Also what both kinds of data share: the split sizes and the topic-word arrays. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/rng.h"
#include "task.h"

void task_split_n(long n, double train_frac, double valid_frac, long *n_train, long *n_valid,
                  long *n_test)
{
    /* The small epsilon keeps 5000 · 0.8 at 4000 whatever the last bit of 0.8. */
    long tr = (long)floor((double)n * train_frac + 1e-9);
    long va = (long)floor((double)n * valid_frac + 1e-9);
    if (tr < 0) tr = 0;
    if (va < 0) va = 0;
    *n_train = tr;
    *n_valid = va;
    *n_test = n - tr - va;
}

void task_split(const task_config_t *c, long *n_train, long *n_valid, long *n_test)
{
    task_split_n(c->n_sentences, c->train_frac, c->valid_frac, n_train, n_valid, n_test);
}

int task_check(const task_config_t *c, char *err, size_t errlen)
{
    long tr, va, te;
    if (c->topics < 1 || c->topic_words < 1 || c->vocab_size < 1 || c->words_per_sentence < 1) {
        snprintf(err, errlen, "topics, topic_words, vocab_size, words_per_sentence: must be >= 1 "
                 "(got %d, %d, %d, %d)", c->topics, c->topic_words, c->vocab_size,
                 c->words_per_sentence);
        return -1;
    }
    if (c->words_per_sentence >= c->vocab_size) {
        snprintf(err, errlen, "words_per_sentence: must be < vocab_size, the number of non-topic "
                 "words (got %d >= %d)", c->words_per_sentence, c->vocab_size);
        return -1;
    }
    if ((double)c->topics * c->topic_words + c->vocab_size > 2147483647.0) {
        snprintf(err, errlen, "vocab_size: total vocabulary vocab_size + topics*topic_words = "
                 "%.0f exceeds 2^31 - 1", (double)c->topics * c->topic_words + c->vocab_size);
        return -1;
    }
    if (!(c->train_frac + c->valid_frac < 1.0)) {
        snprintf(err, errlen, "valid_frac: train_frac + valid_frac must be < 1 so the test set is "
                 "not empty (got %g + %g)", c->train_frac, c->valid_frac);
        return -1;
    }
    if (!(c->first_class_ratio > 0) || !isfinite(c->first_class_ratio)) {
        snprintf(err, errlen, "first_class_ratio: must be > 0 (got %g)", c->first_class_ratio);
        return -1;
    }
    task_split(c, &tr, &va, &te);
    if (tr < 1) {
        snprintf(err, errlen, "train_frac: the training set is empty (floor(%ld * %g) = 0 "
                 "sentences); raise train_frac or n_sentences", c->n_sentences, c->train_frac);
        return -1;
    }
    if (va < 1) {
        snprintf(err, errlen, "valid_frac: the validation set is empty (floor(%ld * %g) = 0 "
                 "sentences); raise valid_frac or n_sentences", c->n_sentences, c->valid_frac);
        return -1;
    }
    if (te < 1) {
        snprintf(err, errlen, "n_sentences: the test set is empty (%ld - %ld - %ld = %ld "
                 "sentences); lower train_frac/valid_frac or raise n_sentences",
                 c->n_sentences, tr, va, te);
        return -1;
    }
    return 0;
}

/* Bytes of the topic-word arrays for n_topic words over a vocabulary of V. */
static size_t task_topics_bytes(int n_topic, size_t V)
{
    return (sizeof(double) + sizeof(int32_t)) * (size_t)n_topic + V;
}

size_t task_memory(const task_config_t *c)
{
    size_t len = (size_t)c->words_per_sentence + 1, nt = (size_t)c->topics * c->topic_words;
    return sizeof(int32_t) * (size_t)c->n_sentences * (len + 1) +
           task_topics_bytes((int)nt, nt + (size_t)c->vocab_size);
}

int task_topics_alloc(task_data_t *d, int n_topic)
{
    double *buf = calloc(1, task_topics_bytes(n_topic, (size_t)d->vocab) + 1);
    if (!buf) return -1;
    d->n_topic = n_topic;
    d->topic_m = buf;
    d->topic = (int32_t *)(buf + n_topic);
    d->is_topic = (uint8_t *)(d->topic + n_topic);
    return 0;
}

/* Class of a sentence: class 0 has weight first_class_ratio, every other class weight 1. */
static int draw_class(rng_t *r, int k, double ratio)
{
    if (ratio == 1.0 || k == 1) return (int)rng_below(r, (uint64_t)k);
    double p0 = ratio / (ratio + (double)(k - 1));
    double u = rng_uniform(r);
    if (u < p0) return 0;
    int c = 1 + (int)floor((u - p0) / (1.0 - p0) * (double)(k - 1));
    return c < k ? c : k - 1;
}

int task_generate(task_data_t *d, const task_config_t *c, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (task_check(c, err, errlen) != 0) return -1;
    int len = c->words_per_sentence + 1;
    size_t n = (size_t)c->n_sentences;
    int32_t *buf = malloc(sizeof(int32_t) * n * ((size_t)len + 1));
    if (!buf) {
        snprintf(err, errlen, "out of memory for %zu sentences of %d words", n, len);
        return -2;
    }
    d->topics = c->topics;
    d->topic_words = c->topic_words;
    d->vocab_nontopic = c->vocab_size;
    d->vocab = c->topics * c->topic_words + c->vocab_size;
    d->len = len;
    d->n = (long)n;
    task_split(c, &d->n_train, &d->n_valid, &d->n_test);
    d->tokens = buf;
    d->labels = buf + n * (size_t)len;
    int n_topic = c->topics * c->topic_words;
    if (task_topics_alloc(d, n_topic) != 0) {
        task_free(d);
        snprintf(err, errlen, "out of memory for %d topic words", n_topic);
        return -2;
    }
    for (int w = 0; w < n_topic; w++) {
        d->topic[w] = w;
        d->topic_m[w] = c->words_per_sentence;
        d->is_topic[w] = 1;
    }
    d->n_att = d->n_train;

    rng_t r;
    rng_init(&r, c->seed, RNG_STREAM_DATA);
    for (size_t i = 0; i < n; i++) {
        int32_t *t = d->tokens + i * (size_t)len;
        int cls = draw_class(&r, c->topics, c->first_class_ratio);
        d->labels[i] = cls;
        t[0] = cls * c->topic_words + (int32_t)rng_below(&r, (uint64_t)c->topic_words);
        for (int j = 1; j < len; j++)
            t[j] = n_topic + (int32_t)rng_below(&r, (uint64_t)c->vocab_size);
    }
    return 0;
}

void task_free(task_data_t *d)
{
    free(d->tokens);  /* labels share the allocation */
    free(d->topic_m); /* topic and is_topic too */
    d->tokens = d->labels = d->topic = NULL;
    d->topic_m = NULL;
    d->is_topic = NULL;
    d->n = d->n_train = d->n_valid = d->n_test = d->n_att = 0;
    d->n_topic = 0;
}
