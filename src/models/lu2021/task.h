/* task — the synthetic topic-word classification data of Lu, Mao & Nayak 2021 (the lu2021
 * family's task). A sentence is one topic word of its class plus m non-topic words drawn uniformly
 * with replacement; everything comes from (seed, RNG_STREAM_DATA) and the sizes alone.
 * Word ids: topic words first (topic k owns ids k·W .. k·W+W-1), then the V_n non-topic words. */
#ifndef ATTNSWEEP_LU2021_TASK_H
#define ATTNSWEEP_LU2021_TASK_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int topics;              /* K: classes, one per topic */
    int topic_words;         /* W: topic words per topic */
    int vocab_size;          /* V_n: non-topic words (the sweepable vocabulary knob) */
    int words_per_sentence;  /* m: non-topic words per sentence; sentence length m + 1 */
    long n_sentences;        /* N: train + valid + test */
    double train_frac, valid_frac; /* test gets the rest */
    double first_class_ratio; /* P(class 0) / P(any other class); 1 = uniform */
    uint64_t seed;
} task_config_t;

typedef struct {
    int topics, topic_words, vocab_nontopic;
    int vocab;               /* total vocabulary: topics·topic_words + vocab_nontopic */
    int len;                 /* tokens per sentence: words_per_sentence + 1 (topic word first) */
    long n, n_train, n_valid, n_test; /* rows [0, n_train) train, then valid, then test */
    int32_t *tokens;         /* [n][len]; position 0 holds the sentence's topic word */
    int32_t *labels;         /* [n] class in [0, topics) */
} task_data_t;

/* Split sizes of a config: n_train = floor(N·train_frac), n_valid = floor(N·valid_frac),
 * n_test = the rest. */
void task_split(const task_config_t *c, long *n_train, long *n_valid, long *n_test);
/* Cross-key checks (single values were range-checked already): m < V_n, train_frac +
 * valid_frac < 1, every split holds at least one sentence, the vocabulary fits an int32.
 * 0 ok, -1 with err naming the key. */
int task_check(const task_config_t *c, char *err, size_t errlen);
/* Bytes task_generate allocates for c. */
size_t task_memory(const task_config_t *c);
/* Draw the data set. 0 ok, <0 with err (bad config or out of memory). */
int task_generate(task_data_t *d, const task_config_t *c, char *err, size_t errlen);
void task_free(task_data_t *d); /* unconditional; safe on a zeroed or failed task_data_t */

#endif
