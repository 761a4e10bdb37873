/* luimpl (internal) — what the lu2021 family's two precisions share: the sizes of a run worked
 * out from its params, the classifier and metric enums, the shared pieces in luimpl.c (data,
 * initial weights, epoch order, trace metrics), and the float32 path's entry points (luf32.c),
 * which lu2021.c (the family table and the float64 path) dispatches to. */
#ifndef ATTNSWEEP_LU2021_LUIMPL_H
#define ATTNSWEEP_LU2021_LUIMPL_H
#include <stddef.h>
#include "attnsweep/param.h"
#include "attnsweep/rng.h"
#include "lu2021.h"
#include "task.h"

enum { CLS_FIXED, CLS_LINEAR, CLS_MLP };
enum { PREC_F32, PREC_F64 }; /* model.precision: float32, float64 */
enum {
    M_TRAIN_LOSS, M_TRAIN_ACC, M_VALID_ACC, M_TEST_ACC, M_TEST_LOSS, M_VALID_LOSS,
    M_TOPIC_ATT, M_TOPIC_SCORE, M_TOPIC_NORM2, M_SEN_RHS, M_SEN_RES, M_SEN_RES_MAX,
    M_SEN_WORST_SCORE, M_SEN_WORST_NORM2, M_SEN_WORST_RHS,
    M_QUERY_NORM, M_NT_SCORE, M_NT_NORM, M_COUNT
};
#define SEN_EPS 1e-3 /* floor of the SEN residual's denominator */

/* Every size of a run, from its params alone (shared by init, memory and cost). */
typedef struct {
    task_config_t task;
    const text_corpus_t *text; /* data_file's sentences (task_text.c), or NULL: synthetic */
    int f32;              /* model.precision = float32 */
    int K, V, L, D, Dk, Hd, cls;
    long n_train, n_valid, n_test, batch; /* batch: sentences per step (n_train if full) */
    int tr_keys, tr_emb, tr_query, tr_cls, need_ds, need_dh, chunk;
    size_t n_group[LU2021_N_GROUPS];
    size_t n_par, n_gE;   /* parameters; embedding-gradient rows (0 when nothing needs them) */
    size_t n_act;         /* doubles of activations */
    size_t n_pos, n_wmax; /* positions of a batch (batch·L); most distinct words of a batch */
    long block;           /* sentences per backward block (≤ batch) */
    int n_blocks;         /* blocks of a full batch */
    size_t n_wblk;        /* most distinct words of a block (only allocated when n_blocks > 1) */
} lu_dims_t;

void lu_dims(const params_t *p, lu_dims_t *d);
/* The run's data set (synthetic, or from d->text) into data; its bytes. 0, or <0 with err. */
int lu_data_make(task_data_t *data, const lu_dims_t *d, char *err, size_t errlen);
size_t lu_data_memory(const lu_dims_t *d);

/* Receives n initial values of group g at offset off (the float64 path stores them, the float32
 * one rounds them). */
typedef void (*lu_put_fn)(void *ctx, int g, size_t off, const double *v, size_t n);
/* The initial weights from (seed, RNG_STREAM_INIT) in a fixed order — query, classifier, then the
 * embeddings word by word (topic words first) — so the query and classifier do not depend on the
 * vocabulary size; to put. Keys (not drawn) start at exactly 0. */
void lu_draw_weights(const lu_dims_t *d, const params_t *p, lu_put_fn put, void *ctx);
/* Mini-batch order: perm [n] = 0..n-1, reshuffled from (seed, RNG_STREAM_BATCH) before the
 * first batch. */
void lu_epoch_init(long *perm, long n, long *pos, rng_t *r, uint64_t seed);
/* The next batch of at most batch rows: perm + *pos on return (its size in *B; the last batch of
 * an epoch may be short); a new Fisher–Yates order when *pos reaches n. Advances *pos. */
const long *lu_epoch_next(long *perm, long n, long batch, long *pos, rng_t *r, long *B);
/* Names, sizes and trained flags of the groups (values NULL). */
void lu_groups_info(const lu_dims_t *d, lu2021_group_t groups[LU2021_N_GROUPS]);

/* A pass's sums: Σ cross-entropy, Σ attention on the topic words of each sentence, hits. */
typedef struct {
    double loss_sum, att_sum;
    long correct;
} lu_sums_t;

/* The trace's split metrics (losses, accuracies, topic attention) from the passes' sums. */
void lu_split_metrics(const lu_dims_t *d, const task_data_t *t, const lu_sums_t *tr,
                      const lu_sums_t *va, const lu_sums_t *te, double *metrics);
/* A per-word quantity of a model state (its score s_w, its |v_w|²), in double. */
typedef double (*lu_word_fn)(const void *ctx, size_t w);
/* The trace's word metrics (topic score, the SEN identity's sides and residuals, its worst topic
 * word, |q|, non-topic score and norm) from |q|² and each word's score and |v_w|². */
void lu_word_metrics(const lu_dims_t *d, const task_data_t *t, double q2, lu_word_fn score,
                     lu_word_fn norm2, const void *ctx, double *metrics);

/* Both states start with this, so the family's functions can tell them apart. */
typedef struct {
    int f32;
} lu_head_t;

/* The float32 path (luf32.c): the model.h functions for a run whose params passed the check. */
int luf32_init(void **state, const params_t *p, char *err, size_t errlen);
int luf32_step(void *state, long step, double *loss, char *err, size_t errlen);
int luf32_eval(void *state, double *metrics, char *err, size_t errlen);
void luf32_free(void *state);
size_t luf32_memory(const lu_dims_t *d);
/* Flops of one step, of one evaluation and of the set-up. */
void luf32_cost(const lu_dims_t *d, double *step, double *eval, double *init);
/* The lu2021.h test access, float32 side. */
void luf32_groups(void *state, lu2021_group_t groups[LU2021_N_GROUPS]);
int luf32_loss_and_grad(void *state, double *loss, double *const grads[LU2021_N_GROUPS]);
void luf32_get(void *state, double *const vals[LU2021_N_GROUPS]);
void luf32_set(void *state, const double *const vals[LU2021_N_GROUPS]);
const task_data_t *luf32_data(void *state);

#endif
