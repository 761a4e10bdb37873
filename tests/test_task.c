/* Tests of the lu2021 family's data (src/models/lu2021/task.c, task_text.c). Synthetic: sentence
 * structure, vocabulary layout, split sizes, class frequencies (uniform and skewed), determinism
 * from (seed, RNG_STREAM_DATA) alone, the cross-key checks with messages naming the key. Text
 * (small files the tests write): the authors' tokenisation, the vocabulary over every split with
 * PAD, the padding, labels, split files used as they are or one file split by the fractions, the
 * topic words and their m, and one-line errors naming file:line. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

Test(task, memory_is_the_token_and_label_arrays_and_the_topic_words)
{
    task_config_t c = config();
    cr_expect_eq(task_memory(&c), sizeof(int32_t) * 5000u * 22u + 12u * 8u + 508u);
}

Test(task, the_topic_words_are_the_first_ids_with_m_the_sentence_length_minus_1)
{
    task_config_t c = config();
    task_data_t d;
    char err[256];
    cr_assert_eq(task_generate(&d, &c, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.text, 0);
    cr_assert_eq(d.n_topic, 8);
    for (int k = 0; k < 8; k++) {
        cr_expect_eq(d.topic[k], k);
        cr_expect_eq(d.topic_m[k], 20.0);
    }
    for (int w = 0; w < d.vocab; w++) cr_expect_eq(d.is_topic[w], w < 8);
    cr_expect_eq(d.n_att, d.n_train);
    task_free(&d);
}

/* ---- text ------------------------------------------------------------------------------------ */

static char dir[48];

static void text_setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/attnsweep-test-text-%d", (int)getpid());
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    cr_assert_eq(system(cmd), 0);
}

static void text_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(text, .init = text_setup, .fini = text_teardown);

/* dir/name holding text; its path in a static buffer. */
static const char *write_file(const char *name, const char *text)
{
    static char path[4][256];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* The words of a tokenised line, space-separated. */
static const char *tokens(const char *line)
{
    static char out[256], buf[256];
    int n = text_tokenise(line, strlen(line), buf, sizeof buf);
    size_t o = 0;
    for (const char *w = buf; n-- > 0; w += strlen(w) + 1) {
        if (o) out[o++] = ' ';
        memcpy(out + o, w, strlen(w));
        o += strlen(w);
    }
    out[o] = '\0';
    return out;
}

Test(text, tokenising_deletes_what_is_neither_word_nor_space_then_splits_on_space)
{
    cr_expect_str_eq(tokens("it wo n't work"), "it wo nt work");
    cr_expect_str_eq(tokens("-lrb- a re-imagining -rrb- ."), "lrb a reimagining rrb");
    cr_expect_str_eq(tokens("a , b ; c ... ! ? ` '' --"), "a b c");
    cr_expect_str_eq(tokens("snake_case 3.5 x\ty"), "snake_case 35 x y");
    cr_expect_str_eq(tokens("caf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve\xc2\xa0ok \xc2\xab!\xc2\xbb"),
                     "caf\xc3\xa9 na\xc3\xafve ok"); /* café — naïve\u00a0ok «!» */
    cr_expect_str_eq(tokens("   "), "");
}

Test(text, split_files_are_used_as_they_are_with_one_vocabulary_and_pad_over_all_of_them)
{
    const char *train = write_file("s.train", "1 a powerful sequel , and one of the best .\n"
                                              "0\tit wo n't work : a mess\n");
    write_file("s.dev", "1 the best\r\n");
    write_file("s.test", "0 -lrb- a re-imagining -rrb- that suffers , suffers and suffers from "
                         "everything\n\n");
    const text_corpus_t *c;
    char err[512];
    cr_assert_eq(text_load(train, &c, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c->split_files, 1);
    cr_expect_eq(c->n, 4);
    cr_expect(c->n_file[0] == 2 && c->n_file[1] == 1 && c->n_file[2] == 1);
    cr_expect_eq(c->len, 11, "the longest sentence, in the test file, has 11 words");
    /* PAD, then every word of every split in byte order */
    static const char *const vocab[] = {TEXT_PAD, "a", "and", "best", "everything", "from", "it",
                                        "lrb", "mess", "nt", "of", "one", "powerful", "reimagining",
                                        "rrb", "sequel", "suffers", "that", "the", "wo", "work"};
    cr_assert_eq(c->vocab, 21);
    for (int w = 0; w < 21; w++) cr_expect_str_eq(text_word(c, w), vocab[w]);
    static const int32_t first[11] = {1, 12, 15, 2, 11, 10, 18, 3, 0, 0, 0}; /* then PAD (0) */
    for (int i = 0; i < 11; i++) cr_expect_eq(c->tokens[i], first[i], "position %d", i);
    cr_expect_eq(c->lens[0], 8);
    cr_expect_eq(c->lens[3], 11);
    static const int32_t labels[4] = {1, 0, 1, 0};
    for (int s = 0; s < 4; s++) cr_expect_eq(c->labels[s], labels[s]);
    long tr, va, te;
    text_split(c, 0.5, 0.25, &tr, &va, &te); /* the fractions do not apply */
    cr_expect(tr == 2 && va == 1 && te == 1);
    const text_corpus_t *again;
    cr_expect_eq(text_load(train, &again, err, sizeof err), 0);
    cr_expect_eq(again, c, "read once per process");
}

Test(text, a_single_file_is_split_in_order_by_the_fractions)
{
    char text[2000] = "";
    for (int i = 0; i < 20; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d word%d common\n", i % 2, i);
    const char *one = write_file("one.tsv", text);
    const text_corpus_t *c;
    char err[512];
    long tr, va, te;
    cr_assert_eq(text_load(one, &c, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c->split_files, 0);
    text_split(c, 0.6, 0.15, &tr, &va, &te);
    cr_expect(tr == 12 && va == 3 && te == 5, "%ld %ld %ld", tr, va, te);
    cr_expect_eq(text_check(c, 2, 0.6, 0.15, err, sizeof err), 0, "%s", err);
    cr_expect_neq(text_check(c, 2, 0.6, 0.01, err, sizeof err), 0);
    cr_expect(strstr(err, "valid_frac"), "%s", err);
}

Test(text, topic_words_are_each_class_s_most_label_pure_training_words)
{
    /* class 1: "great" in 3 of 3 positive sentences, "fine" in 2 positive + 1 negative;
     * class 0: "awful" in 2 of 2 negative ones, "dull" in 1; "the" everywhere; "rare" only in
     * the test set; "solo" only as a one-word sentence */
    const char *train = write_file("p.train", "1 the great film\n1 great and fine\n"
                                              "1 the great story is fine\n0 awful the fine\n"
                                              "0 the awful dull\n0 solo\n");
    write_file("p.dev", "1 great\n");
    write_file("p.test", "0 rare awful\n");
    const text_corpus_t *c;
    task_data_t d;
    char err[512];
    cr_assert_eq(text_load(train, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(text_task(&d, c, 2, 2, 0.8, 0.1, err, sizeof err), 0, "%s", err);
    cr_expect_eq(d.text, 1);
    cr_assert_eq(d.n_topic, 4);
    /* class 0: awful (2+1)/(2+2), then dull (1+1)/(1+2); class 1: great (3+1)/(3+2), then the
     * words of one positive sentence at (1+1)/(1+2) — and, film, is, story: the lowest id — ahead
     * of fine's (2+1)/(3+2) and the's (2+1)/(4+2). m: mean sentence length minus 1 */
    static const char *const want[4] = {"awful", "dull", "great", "and"};
    static const double m[4] = {2.0, 2.0, 11.0 / 3 - 1, 2.0};
    for (int k = 0; k < 4; k++) {
        cr_expect_str_eq(text_word(c, d.topic[k]), want[k], "topic word %d", k);
        cr_expect_float_eq(d.topic_m[k], m[k], 1e-12, "m of %s", want[k]);
        cr_expect_eq(d.is_topic[d.topic[k]], 1);
    }
    cr_expect_eq(d.n_att, 5, "every training sentence but 'solo' holds a topic word");
    cr_expect_eq(d.n_train, 6);
    cr_expect_eq(d.len, 5);
    cr_expect_eq(memcmp(d.tokens, c->tokens, sizeof(int32_t) * 8 * 5), 0, "the corpus, copied");
    task_free(&d);
}

/* text_load(file) fails with a one-line message holding want. */
static void expect_load_error(const char *file, const char *want)
{
    const text_corpus_t *c;
    char err[4096] = "";
    cr_expect_neq(text_load(file, &c, err, sizeof err), 0, "%s was accepted", file);
    cr_expect(strstr(err, want) != NULL, "the message lacks '%s': %s", want, err);
    cr_expect(strchr(err, '\n') == NULL, "not one line: %s", err);
}

Test(text, bad_files_give_one_line_errors_naming_file_and_line)
{
    char want[256];
    snprintf(want, sizeof want, "%s/label.tsv:2: expected the label", dir);
    expect_load_error(write_file("label.tsv", "1 fine\npos fine\n"), want);
    snprintf(want, sizeof want, "%s/none.tsv:2: an empty line", dir);
    expect_load_error(write_file("none.tsv", "1 fine\n   \t\n0 bad\n"), want);
    snprintf(want, sizeof want, "%s/gap.tsv:2: an empty line", dir);
    expect_load_error(write_file("gap.tsv", "1 fine\n\n0 bad\n"), want);
    snprintf(want, sizeof want, "%s/latin1.tsv:1: not text: byte 6 is 0xe9, not UTF-8", dir);
    expect_load_error(write_file("latin1.tsv", "1 caf\xe9 ok\n"), want);
    expect_load_error(write_file("empty.tsv", ""), "empty.tsv: no sentences");
    expect_load_error("/nonexistent/x.tsv", "/nonexistent/x.tsv: cannot open it");
    snprintf(want, sizeof want, "%s/alone.dev is missing", dir);
    expect_load_error(write_file("alone.train", "1 fine\n"), want);
    char *longer = malloc(3 * TEXT_MAX_LEN + 16);
    strcpy(longer, "1");
    for (int i = 0; i <= TEXT_MAX_LEN; i++) strcat(longer, " w");
    snprintf(want, sizeof want, "%s/long.tsv:1: a sentence of %d words", dir, TEXT_MAX_LEN + 1);
    expect_load_error(write_file("long.tsv", longer), want);
    free(longer);
    /* a label the run's classes do not cover: the check names topics and the line */
    const text_corpus_t *c;
    char err[512];
    cr_assert_eq(text_load(write_file("k.tsv", "1 a\n0 b\n4 c\n2 d\n"), &c, err, sizeof err), 0);
    cr_expect_neq(text_check(c, 3, 0.5, 0.25, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/k.tsv:3 has label 4", dir);
    cr_expect(strstr(err, "topics") && strstr(err, want), "%s", err);
    cr_expect_eq(text_check(c, 5, 0.5, 0.25, err, sizeof err), 0, "%s", err);
}

Test(text, a_file_that_changes_after_it_was_read_is_an_error_not_a_silent_reload)
{
    const char *f = write_file("c.tsv", "1 a\n0 b\n1 c\n");
    const text_corpus_t *c;
    char err[512];
    cr_assert_eq(text_load(f, &c, err, sizeof err), 0, "%s", err);
    write_file("c.tsv", "1 a\n0 b\n1 c d\n");
    cr_expect_neq(text_load(f, &c, err, sizeof err), 0);
    cr_expect(strstr(err, "changed"), "%s", err);
}
