/* Tests of the topic-word data (src/task.c): sentence structure, vocabulary layout, split sizes,
 * class frequencies (uniform and skewed), determinism from (seed, RNG_STREAM_DATA) alone, and the
 * cross-key checks with messages naming the key. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "models/lu2021/task.h"

static task_config_t config(void)
{
    task_config_t c = {.topics = 4, .topic_words = 2, .vocab_size = 500, .words_per_sentence = 20,
                       .n_sentences = 5000, .train_frac = 0.8, .valid_frac = 0.01,
                       .first_class_ratio = 1.0, .seed = 3};
    return c;
}

Test(task, sentences_hold_one_topic_word_of_their_class_then_m_non_topic_words)
{
    task_config_t c = config();
    task_data_t d;
    char err[256];
    cr_assert_eq(task_generate(&d, &c, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.vocab, 4 * 2 + 500);
    cr_expect_eq(d.len, 21);
    int *hits = calloc((size_t)d.vocab, sizeof(int));
    for (long n = 0; n < d.n; n++) {
        const int32_t *t = d.tokens + n * d.len;
        int y = d.labels[n];
        cr_assert(y >= 0 && y < 4);
        cr_expect(t[0] >= y * 2 && t[0] < y * 2 + 2, "sentence %ld: topic word %d, class %d", n,
                  t[0], y);
        for (int i = 1; i < d.len; i++) {
            cr_expect(t[i] >= 8 && t[i] < d.vocab, "non-topic word %d out of range", t[i]);
            hits[t[i]]++;
        }
        hits[t[0]]++;
    }
    /* 5,000 topic words over 8 (625 each, sd ≈ 24); 100,000 non-topic draws over 500 words
     * (200 each, sd ≈ 14) */
    for (int w = 0; w < 8; w++) cr_expect(hits[w] > 500 && hits[w] < 750, "topic word %d: %d", w, hits[w]);
    for (int w = 8; w < d.vocab; w++) cr_expect(hits[w] > 120 && hits[w] < 280, "word %d: %d", w, hits[w]);
    free(hits);
    task_free(&d);
}

Test(task, splits_follow_the_fractions)
{
    task_config_t c = config();
    long tr, va, te;
    task_split(&c, &tr, &va, &te);
    cr_expect_eq(tr, 4000);
    cr_expect_eq(va, 50);
    cr_expect_eq(te, 950);
    c.n_sentences = 2000;
    c.train_frac = 0.7;
    c.valid_frac = 0.1;
    task_split(&c, &tr, &va, &te);
    cr_expect(tr == 1400 && va == 200 && te == 400, "%ld %ld %ld", tr, va, te);
}

static void class_counts(task_config_t c, long counts[4])
{
    task_data_t d;
    char err[256];
    cr_assert_eq(task_generate(&d, &c, err, sizeof err), 0, "%s", err);
    memset(counts, 0, 4 * sizeof(long));
    for (long n = 0; n < d.n; n++) counts[d.labels[n]]++;
    task_free(&d);
}

Test(task, classes_are_uniform_by_default_and_the_first_class_can_be_skewed)
{
    task_config_t c = config();
    c.n_sentences = 40000;
    long k[4];
    class_counts(c, k);
    for (int i = 0; i < 4; i++) /* 10,000 expected, sd ≈ 87 */
        cr_expect(labs(k[i] - 10000) < 450, "class %d: %ld", i, k[i]);
    c.first_class_ratio = 5.0; /* P(0) = 5/8, others 1/8 */
    class_counts(c, k);
    cr_expect(labs(k[0] - 25000) < 500, "class 0: %ld", k[0]);
    for (int i = 1; i < 4; i++) cr_expect(labs(k[i] - 5000) < 350, "class %d: %ld", i, k[i]);
}

Test(task, data_depend_only_on_the_seed_and_earlier_sentences_do_not_depend_on_n)
{
    task_config_t c = config();
    task_data_t a, b, e;
    char err[256];
    cr_assert_eq(task_generate(&a, &c, err, sizeof err), 0);
    cr_assert_eq(task_generate(&b, &c, err, sizeof err), 0);
    cr_expect(memcmp(a.tokens, b.tokens, sizeof(int32_t) * (size_t)a.n * a.len) == 0);
    cr_expect(memcmp(a.labels, b.labels, sizeof(int32_t) * (size_t)a.n) == 0);
    task_free(&b);
    c.n_sentences = 7000; /* more sentences: the first 5,000 are the same */
    cr_assert_eq(task_generate(&b, &c, err, sizeof err), 0);
    cr_expect(memcmp(a.tokens, b.tokens, sizeof(int32_t) * (size_t)a.n * a.len) == 0);
    c.n_sentences = 5000;
    c.seed = 4;
    cr_assert_eq(task_generate(&e, &c, err, sizeof err), 0);
    cr_expect(memcmp(a.tokens, e.tokens, sizeof(int32_t) * (size_t)a.n * a.len) != 0);
    task_free(&a), task_free(&b), task_free(&e);
}

static void expect_bad(task_config_t c, const char *key)
{
    char err[256] = "";
    task_data_t d;
    cr_expect_neq(task_check(&c, err, sizeof err), 0, "accepted a bad %s", key);
    cr_expect(strstr(err, key) != NULL, "message does not name %s: %s", key, err);
    cr_expect_neq(task_generate(&d, &c, err, sizeof err), 0);
    cr_expect_null(d.tokens);
    task_free(&d); /* safe after a failure */
}

Test(task, bad_configurations_are_rejected_naming_the_key)
{
    task_config_t c = config();
    char err[256];
    cr_expect_eq(task_check(&c, err, sizeof err), 0, "%s", err);
    c.words_per_sentence = 500; /* m >= V_n */
    expect_bad(c, "words_per_sentence");
    c = config();
    c.train_frac = 0.95;
    c.valid_frac = 0.05;
    expect_bad(c, "valid_frac");
    c = config();
    c.valid_frac = 0.0;
    expect_bad(c, "valid_frac");
    c = config();
    c.n_sentences = 3;
    c.train_frac = 0.1;
    c.valid_frac = 0.5;
    expect_bad(c, "train_frac");
    c = config();
    c.first_class_ratio = -1.0;
    expect_bad(c, "first_class_ratio");
    c = config();
    c.vocab_size = -5;
    expect_bad(c, "vocab_size");
}

Test(task, memory_is_the_token_and_label_arrays)
{
    task_config_t c = config();
    cr_expect_eq(task_memory(&c), sizeof(int32_t) * 5000u * 22u);
}
