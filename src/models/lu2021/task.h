/* task — the lu2021 family's data: the synthetic topic-word classification task of Lu, Mao &
 * Nayak 2021 (task.c) or labelled sentences read from data files (task_text.c), both as word ids
 * [n][len] and labels, split in order into train, valid and test.
 * Synthetic: a sentence is one topic word of its class plus m non-topic words drawn uniformly
 * with replacement; everything comes from (seed, RNG_STREAM_DATA) and the sizes alone. Word ids:
 * topic words first (topic k owns ids k·W .. k·W+W-1), then the V_n non-topic words.
 * Text: one "LABEL SENTENCE" per line, tokenised as the authors preprocess SST (task_text.c); the
 * "topic words" the metrics follow are chosen from the training labels. */
#ifndef ATTNSWEEP_LU2021_TASK_H
#define ATTNSWEEP_LU2021_TASK_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
    int vocab;               /* total vocabulary: topics·topic_words + vocab_nontopic (text: the
                              * file's words and PAD) */
    int len;                 /* tokens per sentence: words_per_sentence + 1 (topic word first);
                              * text: the longest sentence, the others padded with PAD */
    long n, n_train, n_valid, n_test; /* rows [0, n_train) train, then valid, then test */
    int32_t *tokens;         /* [n][len]; synthetic: position 0 holds the sentence's topic word */
    int32_t *labels;         /* [n] class in [0, topics) */
    /* The topic words: the words the trace's topic metrics follow (synthetic: ids 0..n_topic-1;
     * text: chosen by label purity, task_text.c), the m of each in the SEN identity, and the
     * training sentences that hold one (topic_attention averages over those). */
    int text;                /* 1: sentences from files (topic words anywhere in a sentence) */
    int n_topic;
    int32_t *topic;          /* [n_topic] their ids, topic k's first (k·W + j for topic k) */
    double *topic_m;         /* [n_topic] m of the SEN identity (synthetic: words_per_sentence) */
    uint8_t *is_topic;       /* [vocab] 1 for a topic word */
    long n_att;              /* training sentences holding a topic word (synthetic: n_train) */
} task_data_t;

/* Split sizes of a config: n_train = floor(N·train_frac), n_valid = floor(N·valid_frac),
 * n_test = the rest. */
void task_split(const task_config_t *c, long *n_train, long *n_valid, long *n_test);
/* The same for n sentences. */
void task_split_n(long n, double train_frac, double valid_frac, long *n_train, long *n_valid,
                  long *n_test);
/* Cross-key checks (single values were range-checked already): m < V_n, train_frac +
 * valid_frac < 1, every split holds at least one sentence, the vocabulary fits an int32.
 * 0 ok, -1 with err naming the key. */
int task_check(const task_config_t *c, char *err, size_t errlen);
/* Bytes task_generate allocates for c. */
size_t task_memory(const task_config_t *c);
/* Draw the data set. 0 ok, <0 with err (bad config or out of memory). */
int task_generate(task_data_t *d, const task_config_t *c, char *err, size_t errlen);
void task_free(task_data_t *d); /* unconditional; safe on a zeroed or failed task_data_t */
/* Allocate the topic-word arrays of d for n_topic words over d->vocab (zeroed). 0, or -1. */
int task_topics_alloc(task_data_t *d, int n_topic);

/* ---- labelled sentences from data files (task_text.c) ------------------------------------- */

#define TEXT_PAD "$PAD$"        /* the padding word, id 0: an ordinary trainable word */
#define TEXT_MAX_LEN 1000       /* words in one sentence (all are padded to the longest) */
#define TEXT_MAX_VOCAB 2000000  /* distinct words, PAD included */
#define TEXT_MAX_LINES 10000000 /* sentences in one file */
#define TEXT_MAX_BYTES (1L << 30) /* bytes of one file */

/* The sentences of a data_file value, read once per process (text_load). */
typedef struct {
    char *path;              /* the data_file value */
    int split_files;         /* 1: PATH ends in .train: it, PATH.dev and PATH.test are the splits */
    long n;                  /* sentences: the files' in order (train, dev, test), or the one's */
    long n_file[3];          /* split_files: sentences of the .train, .dev and .test files */
    int len;                 /* L: words of the longest sentence (at least 1) */
    int vocab;               /* V: distinct words of all files, and PAD */
    long max_label;          /* the largest label, first met at where_max ("path:line") */
    char where_max[4200];
    int32_t *tokens;         /* [n][len] word ids, each sentence right-padded with PAD (0) */
    int32_t *labels;         /* [n] */
    int32_t *lens;           /* [n] words before the padding */
    char *words;             /* the words, NUL-terminated, in id order: PAD, then byte order */
    size_t *word_at;         /* [vocab] offset of word w in words */
} text_corpus_t;

/* The corpus of path (an absolute path: the spec resolves it) — one file, or a .train file with
 * its .dev and .test beside it — read, checked and tokenised once per process: later calls give
 * the same corpus (*c stays valid to the end of the process), or an error when a file's size or
 * modification time changed since. 0, or -1 with a one-line err naming file:line (a failure is
 * remembered too). */
int text_load(const char *path, const text_corpus_t **c, char *err, size_t errlen);
/* The words of one line of text after the authors' preprocessing: every character that is
 * neither a word character nor whitespace deleted, then split on whitespace. Writes them
 * NUL-separated into out (at most outlen bytes, the same as the input at most) and returns their
 * count. For tests and the loader. */
int text_tokenise(const char *line, size_t n, char *out, size_t outlen);
/* Split sizes: the files' (split_files), else task_split_n's over c->n. */
void text_split(const text_corpus_t *c, double train_frac, double valid_frac, long *n_train,
                long *n_valid, long *n_test);
/* The cross-key checks of a run on c with K = topics classes: every label below K, every split
 * non-empty. 0, or -1 with err naming the key (and file:line). */
int text_check(const text_corpus_t *c, int topics, double train_frac, double valid_frac,
               char *err, size_t errlen);
/* Bytes text_task allocates. */
size_t text_memory(const text_corpus_t *c, int topics, int topic_words);
/* The run's data from c: its sentences and labels, split, and its topic words — for each class k,
 * the topic_words training words w whose share of class k, (n_k(w) + 1) / (n(w) + K) over the
 * training sentences holding w (add-one smoothed), is largest (ties: more sentences, then the
 * lower id), PAD and words of one-word sentences left out; m of each = the mean unpadded length
 * of the training sentences holding it, minus 1. 0, or -1 with err (out of memory). */
int text_task(task_data_t *d, const text_corpus_t *c, int topics, int topic_words,
              double train_frac, double valid_frac, char *err, size_t errlen);
/* Word w of c. */
const char *text_word(const text_corpus_t *c, int w);

#endif
