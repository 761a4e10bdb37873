/* lu2021 — the model family of Lu, Mao & Nayak 2021: per word an embedding v_w ∈ R^D and a key
 * κ_w ∈ R^Dk, one query q, softmax attention over a sentence's words (score s_w = q·κ_w), a
 * fixed / linear / MLP classifier on the pooled context, cross-entropy, and plain (full-batch or
 * mini-batch) gradient descent. This file holds the family table (keys, metrics, checks) and the
 * float64 path (model.precision = float64): forward and backward by hand over lukern.c in double
 * precision. The default float32 path is luf32.c, dispatched to from here. Data from task.c.
 * Implements model.h; tests reach more through lu2021.h. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/kernels.h"
#include "attnsweep/rng.h"
#include "lu2021.h"
#include "luimpl.h"
#include "lukern.h"
#include "task.h"

static const char *const classifier_choices[] = {"fixed", "linear", "mlp", NULL};
static const char *const precision_choices[] = {"float32", "float64", NULL};

static const param_def_t lu_params[] = {
    {.name = "topics", .section = "task", .type = PARAM_INT, .def = 4, .min = 1, .max = 1e6,
     .help = "K: topics = classes"},
    {.name = "topic_words", .section = "task", .type = PARAM_INT, .def = 2, .min = 1, .max = 1e6,
     .help = "topic words per topic (a sentence holds one of its class's)"},
    {.name = "vocab_size", .section = "task", .type = PARAM_INT, .def = 5000, .min = 1, .max = 1e9,
     .help = "V_n: number of NON-topic words; total vocabulary = vocab_size + topics*topic_words"},
    {.name = "words_per_sentence", .section = "task", .type = PARAM_INT, .def = 20, .min = 1,
     .max = 1e6,
     .help = "m: non-topic words per sentence, uniform with replacement (< vocab_size); length "
             "m+1"},
    {.name = "n_sentences", .section = "task", .type = PARAM_INT, .def = 5000, .min = 3, .max = 1e9,
     .help = "N: sentences in train + valid + test"},
    {.name = "train_frac", .section = "task", .type = PARAM_REAL, .def = 0.8, .min = 0, .max = 1,
     .min_exclusive = 1,
     .help = "training fraction: n_train = floor(N*train_frac)"},
    {.name = "valid_frac", .section = "task", .type = PARAM_REAL, .def = 0.01, .min = 0, .max = 1,
     .help = "validation fraction: n_valid = floor(N*valid_frac) >= 1; the test set gets the rest"},
    {.name = "first_class_ratio", .section = "task", .type = PARAM_REAL, .def = 1, .min = 0,
     .max = 1e6, .min_exclusive = 1,
     .help = "class 0 is this many times as likely as each other class (1 = uniform)"},
    {.name = "data_file", .section = "task", .type = PARAM_FILE,
     .help = "labelled sentences instead of the synthetic task, one 'LABEL SENTENCE' per line; "
             "PATH.train with PATH.dev and PATH.test beside it gives the splits (none: synthetic)"},
    {.name = "embed_dim", .section = "model", .type = PARAM_INT, .def = 10, .min = 1, .max = 1e5,
     .help = "D: word embedding dimension"},
    {.name = "key_dim", .section = "model", .type = PARAM_INT, .def = 0, .min = 0, .max = 1e5,
     .help = "Dk: key and query dimension; 0 = same as embed_dim"},
    {.name = "classifier", .section = "model", .type = PARAM_ENUM, .choices = classifier_choices,
     .def = CLS_FIXED,
     .help = "fixed: U (D x K) ~ N(0,1) with U_kk = 1, never trained (FC); linear: trained, no "
             "bias (TC); mlp: Linear(D,hidden)+ReLU+Linear(hidden,K), trained (TL)"},
    {.name = "hidden", .section = "model", .type = PARAM_INT, .def = 10, .min = 1, .max = 1e5,
     .help = "hidden units of the mlp classifier"},
    {.name = "embed_std", .section = "model", .type = PARAM_REAL, .def = 1e-6, .min = 0, .max = 1e3,
     .help = "initial embeddings ~ N(0, embed_std^2) per coordinate"},
    {.name = "query_std", .section = "model", .type = PARAM_REAL, .def = 0.3, .min = 0, .max = 1e3,
     .help = "initial query ~ N(0, query_std^2) per coordinate (a standard deviation)"},
    {.name = "freeze_keys", .section = "model", .type = PARAM_BOOL, .def = 0,
     .help = "keys stay 0 (KF ablation)"},
    {.name = "freeze_embeddings", .section = "model", .type = PARAM_BOOL, .def = 0,
     .help = "embeddings keep their initial values (EF ablation)"},
    {.name = "train_query", .section = "model", .type = PARAM_BOOL, .def = 0,
     .help = "train the query too (fixed by default)"},
    {.name = "precision", .section = "model", .type = PARAM_ENUM, .choices = precision_choices,
     .def = PREC_F32,
     .help = "float32: single precision, per-word projected rows (fast); float64: double "
             "precision throughout (the gradient checks and the PyTorch cross-check run on it)"},
    {.name = "batch_size", .section = "train", .type = PARAM_INT, .def = 0, .min = 0, .max = 1e9,
     .help = "sentences per step; 0 or >= n_train: full-batch GD, else SGD over epoch-shuffled "
             "batches"},
};

static const metric_def_t lu_metrics[] = {
    {"train_loss", "mean cross-entropy over the training set", "1"},
    {"train_acc", "fraction of training sentences classified correctly", "1"},
    {"valid_acc", "fraction of validation sentences classified correctly", "1"},
    {"test_acc", "fraction of test sentences classified correctly", "1"},
    {"test_loss", "mean cross-entropy over the test set", "1"},
    {"valid_loss", "mean cross-entropy over the validation set", "1"},
    {"topic_attention", "mean softmax attention on the topic words, training sentences that hold "
     "one", "1"},
    {"topic_score", "mean score q.k_t of the topic words", "1"},
    {"topic_embed_norm2", "SEN left side: mean over topic words of |q|^2 |v_t|^2", "1"},
    {"sen_rhs", "SEN right side: mean over topic words of 2 s_t + (2/m)(exp(s_t) - 1)", "1"},
    {"sen_residual", "mean over topic words of |lhs - rhs| / max(rhs, 1e-3) of the SEN identity",
     "1"},
    {"sen_residual_max", "largest over topic words of |lhs - rhs| / max(rhs, 1e-3) of the SEN "
     "identity", "1"},
    {"sen_worst_score", "score s_w of the worst topic word: |q||v_w| farthest from "
     "sqrt(2 s_w + (2/m)(exp(s_w) - 1))", "1"},
    {"sen_worst_norm2", "|q|^2 |v_w|^2 of the worst topic word (SEN left side)", "1"},
    {"sen_worst_rhs", "2 s_w + (2/m)(exp(s_w) - 1) of the worst topic word (SEN right side)", "1"},
    {"query_norm", "|q|, the query's Euclidean norm", "1"},
    {"nontopic_score", "mean score q.k_w of the non-topic words", "1"},
    {"nontopic_norm", "mean Euclidean norm |v_w| of the non-topic word embeddings", "1"},
};
_Static_assert(M_COUNT == sizeof lu_metrics / sizeof lu_metrics[0], "one enum entry a metric");
_Static_assert(M_COUNT <= MODEL_MAX_METRICS, "at most MODEL_MAX_METRICS metrics");


/* The float64 state. */
typedef struct {
    lu_head_t head; /* f32 = 0 */
    lu_dims_t d;
    double lr;
    task_data_t data;
    double *par;   /* all parameters, one block */
    double *grp[LU2021_N_GROUPS];
    double *grad;  /* gradients: classifier groups, gq [Dk], gword [V] (∂L/∂s_w), gE [V×D]
                    * (whenever embeddings, keys or query train: it also yields gword) */
    double *gcls[4], *gq, *gword, *gE;
    double *work;  /* score [V], ew [V] */
    double *score, *ew;
    double *act;   /* A [max(block, chunk)×L]; dH [block×D], c, zinv [block], tmp [D] (only when
                    * the attention trains); per chunk H [×D], Z1, R1, dR [×hidden], Z, dZ [×K] */
    double *A, *dH, *c, *zinv, *tmp, *H, *Z1, *R1, *dR, *Z, *dZ;
    int32_t *idx;  /* the batch index (lukern_batch_t arrays), then slot [V] */
    int32_t *slot;
    lukern_batch_t bt;    /* the batch: its words (ascending), and its occurrences when it is one block */
    lukern_batch_t *blk;  /* [n_blocks] the blocks' indexes when there are several */
    int n_blk;          /* blocks of the current batch */
    uint32_t *mark; /* [V] stamp of the last batch that listed the word */
    uint32_t stamp;
    long *perm;     /* [n_train] epoch order (mini-batch only) */
    long pos;       /* next position in perm */
    rng_t batch_rng;
    int grad_ready;   /* an eval left the full-batch gradient at the current weights in the
                       * buffers (it runs the training pass anyway): the next step applies it */
    double grad_loss; /* ... and that step's loss */
} lu_t;

/* ---- checks, memory, cost ---------------------------------------------------------------- */

/* With data_file: the data file's checks (read, labels within topics, splits), and the
 * synthetic task's keys left at their defaults (and the split fractions, when the file comes
 * with its own splits): a value set for them would be ignored. */
static int lu_check_text(const params_t *p, const char *file, const lu_dims_t *d, char *err,
                         size_t errlen)
{
    static const char *const unused[] = {"vocab_size", "words_per_sentence", "n_sentences",
                                         "first_class_ratio", "train_frac", "valid_frac", NULL};
    const text_corpus_t *c;
    char msg[4600];
    if (text_load(file, &c, msg, sizeof msg) != 0) {
        snprintf(err, errlen, "data_file: %s", msg);
        return -1;
    }
    for (int k = 0; unused[k]; k++) {
        int i = param_index(p->defs, p->n, unused[k]);
        if (k >= 4 && !c->split_files) break; /* the fractions split a single file */
        if (i < 0 || p->v[i] == p->defs[i].def) continue;
        snprintf(err, errlen, "%s: not used with data_file (%s); leave it at its default",
                 unused[k], k >= 4 ? "its .train, .dev and .test files are the splits"
                                   : "the sentences come from the file");
        return -1;
    }
    return text_check(c, d->K, d->task.train_frac, d->task.valid_frac, err, errlen);
}

static int lu_check(const params_t *p, char *err, size_t errlen)
{
    lu_dims_t d;
    int cls = (int)params_geti(p, "classifier");
    const char *file = params_gets(p, "data_file");
    if (cls < CLS_FIXED || cls > CLS_MLP) {
        snprintf(err, errlen, "classifier: expected one of fixed, linear, mlp");
        return -1;
    }
    lu_dims(p, &d);
    if (file && *file ? lu_check_text(p, file, &d, err, errlen) != 0
                      : task_check(&d.task, err, errlen) != 0)
        return -1;
    if ((double)d.batch * d.L > 2147483647.0) {
        snprintf(err, errlen, "batch_size: a batch of %ld sentences x %d words is more than 2^31 "
                 "positions; set batch_size (or lower n_sentences)", d.batch, d.L);
        return -1;
    }
    if ((double)d.V * ((double)d.D + d.Dk) > 4e9) {
        snprintf(err, errlen, "%s: %d words x (embed_dim %d + key_dim %d) parameters is "
                 "more than 4e9 (%.3g GB); lower %s or the dimensions", d.text ? "data_file"
                 : "vocab_size", d.V, d.D, d.Dk, 16e-9 * d.V * (d.D + d.Dk),
                 d.text ? "the vocabulary" : "vocab_size");
        return -1;
    }
    return 0;
}

static size_t lu_memory(const params_t *p)
{
    lu_dims_t d;
    lu_dims(p, &d);
    if (d.f32) return luf32_memory(&d);
    size_t V = (size_t)d.V;
    size_t bytes = sizeof(lu_t) + lu_data_memory(&d);
    bytes += sizeof(double) * d.n_par;                                   /* parameters */
    bytes += sizeof(double) * (d.n_par - d.n_group[LU2021_EMBED] - d.n_group[LU2021_KEYS] +
                               V + d.n_gE);                              /* gradients */
    bytes += sizeof(double) * 2 * V + sizeof(double) * d.n_act;          /* scores, activations */
    bytes += sizeof(int32_t) * (2 * d.n_pos + 2 * d.n_wmax + 1 + V);     /* batch index, slots */
    bytes += (sizeof(int32_t) * (2 * d.n_wblk + 1) + sizeof(lukern_batch_t)) *
             (d.n_blocks > 1 ? (size_t)d.n_blocks : 0);                  /* block indexes */
    bytes += sizeof(uint32_t) * V;                                       /* marks */
    if (d.batch < d.n_train) bytes += sizeof(long) * (size_t)d.n_train;  /* epoch order */
    return bytes;
}

/* Flops of one pass over B sentences: forward (gather, classifier, softmax), plus backward when
 * bwd (classifier, c_b and the 1/z_b scaling, one gather per word occurrence). */
static double pass_flops(const lu_dims_t *d, double B, int bwd)
{
    double L = d->L, D = d->D, K = d->K, Hd = d->Hd;
    double cls = d->cls == CLS_MLP ? 2 * (D * Hd + Hd * K) : 2 * D * K;
    double f = B * (L * (2 * D + 2) + 2 * D + cls + 6 * K);
    if (bwd) {
        f += B * (d->tr_cls ? 2 * cls : cls);
        if (d->need_dh) f += B * (3 * D + 1) + B * L * (2 * D + 2);
    }
    return f;
}

static double lu_cost(const params_t *p)
{
    lu_dims_t d;
    lu_dims(p, &d);
    double steps = (double)params_geti(p, "steps");
    double evals = floor(steps / (double)params_geti(p, "log_every")) + 1;
    if (d.f32) {
        double step, eval, init;
        luf32_cost(&d, &step, &eval, &init);
        return steps * step + evals * eval + init;
    }
    double words = d.batch < d.n_train ? fmin((double)d.V, (double)d.batch * d.L) : d.V;
    /* per word: score and exp, ∂/∂s (a dot), and the key / embedding / query updates */
    double step = pass_flops(&d, (double)d.batch, 1) + words * (2.0 * d.Dk + 20) +
                  (d.need_ds ? 2.0 * words * d.D : 0) + (d.tr_keys ? 2.0 * words * d.Dk : 0) +
                  (d.tr_query ? 2.0 * words * d.Dk : 0) + (d.tr_emb ? 2.0 * words * d.D : 0);
    double eval = pass_flops(&d, (double)(d.n_train + d.n_valid + d.n_test), 0) +
                  (double)d.V * (2.0 * d.Dk + 2.0 * d.D + 20);
    return steps * step + evals * eval;
}

/* ---- init / free ------------------------------------------------------------------------- */

static void lu_free(void *state)
{
    lu_t *S = state;
    if (!S) return;
    if (S->head.f32) {
        luf32_free(state);
        return;
    }
    task_free(&S->data);
    free(S->par);
    free(S->grad);
    free(S->work);
    free(S->act);
    free(S->idx);
    free(S->blk);
    free(S->mark);
    free(S->perm);
    free(S);
}

static void lu_put(void *ctx, int g, size_t off, const double *v, size_t n)
{
    memcpy(((lu_t *)ctx)->grp[g] + off, v, sizeof(double) * n);
}

static void lu_init_weights(lu_t *S, const params_t *p)
{
    lu_draw_weights(&S->d, p, lu_put, S);
    memset(S->grp[LU2021_KEYS], 0, sizeof(double) * S->d.n_group[LU2021_KEYS]);
}

/* Index a batch of B training rows (rows == NULL: the first B): its distinct words into S->bt
 * and, when it spans several backward blocks, each block's occurrences into S->blk. */
static void lu_index(lu_t *S, const long *rows, long B)
{
    const lu_dims_t *d = &S->d;
    S->bt.B = (int)B;
    S->bt.rows = rows;
    lukern_batch_index(&S->bt, S->mark, lukern_next_stamp(&S->stamp, S->mark, S->d.V), S->slot);
    S->n_blk = (int)((B + d->block - 1) / d->block);
    if (S->n_blk <= 1) return;
    for (int k = 0; k < S->n_blk; k++) { /* each block's occurrences over its slice of pos/sen */
        long s0 = (long)k * d->block;
        lukern_batch_t *b = &S->blk[k];
        b->B = (int)(B - s0 < d->block ? B - s0 : d->block);
        b->rows = rows ? rows + s0 : NULL;
        b->tokens = rows ? S->data.tokens : S->data.tokens + (size_t)s0 * d->L;
        b->pos = S->bt.pos + (size_t)s0 * d->L;
        b->sen = S->bt.sen + (size_t)s0 * d->L;
        lukern_batch_index(b, S->mark, lukern_next_stamp(&S->stamp, S->mark, S->d.V), S->slot);
    }
}

/* One allocation per tensor group: parameters, gradients, per-word work, activations, the batch
 * index and word stamps (and the epoch order for mini-batches). 0, or -1 when memory runs out. */
static int lu_alloc(lu_t *S)
{
    const lu_dims_t *d = &S->d;
    size_t V = (size_t)d->V, n_cls = 0;
    for (int g = LU2021_CLS1; g < LU2021_N_GROUPS; g++) n_cls += d->n_group[g];
    S->par = malloc(sizeof(double) * d->n_par);
    S->grad = calloc(n_cls + (size_t)d->Dk + V + d->n_gE, sizeof(double));
    S->work = calloc(2 * V, sizeof(double));
    S->act = calloc(d->n_act, sizeof(double));
    size_t n_blk_idx = d->n_blocks > 1 ? (size_t)d->n_blocks * (2 * d->n_wblk + 1) : 0;
    S->idx = malloc(sizeof(int32_t) * (2 * d->n_pos + 2 * d->n_wmax + 1 + V + n_blk_idx));
    if (d->n_blocks > 1) S->blk = calloc((size_t)d->n_blocks, sizeof(lukern_batch_t));
    S->mark = calloc(V, sizeof(uint32_t));
    if (d->batch < d->n_train) S->perm = malloc(sizeof(long) * (size_t)d->n_train);
    return !S->par || !S->grad || !S->work || !S->act || !S->idx || !S->mark ||
                   (d->n_blocks > 1 && !S->blk) || (d->batch < d->n_train && !S->perm)
               ? -1 : 0;
}

/* Point the named tensors into their groups' blocks (the layout lu_dims sized). */
static void lu_carve(lu_t *S)
{
    const lu_dims_t *d = &S->d;
    size_t V = (size_t)d->V;
    double *x = S->par;
    for (int g = 0; g < LU2021_N_GROUPS; g++) {
        S->grp[g] = d->n_group[g] ? x : NULL;
        x += d->n_group[g];
    }
    x = S->grad;
    for (int g = 0; g < 4; g++) {
        S->gcls[g] = d->n_group[LU2021_CLS1 + g] ? x : NULL;
        x += d->n_group[LU2021_CLS1 + g];
    }
    S->gq = x;
    S->gword = x + d->Dk;
    S->gE = d->n_gE ? S->gword + V : NULL;
    S->score = S->work;
    S->ew = S->work + V;
    size_t c = (size_t)d->chunk, hd = d->cls == CLS_MLP ? (size_t)d->Hd : 0;
    size_t nA = (size_t)(d->block > d->chunk ? d->block : d->chunk) * (size_t)d->L;
    size_t nb = d->need_dh ? (size_t)d->block : 0;
    S->A = S->act;
    S->dH = S->A + nA;
    S->c = S->dH + nb * d->D;
    S->zinv = S->c + nb;
    S->tmp = S->zinv + nb;
    S->H = S->tmp + (d->need_dh ? (size_t)d->D : 0);
    S->Z1 = S->H + c * (size_t)d->D;
    S->R1 = S->Z1 + c * hd;
    S->dR = S->R1 + c * hd;
    S->Z = S->dR + c * hd;
    S->dZ = S->Z + c * (size_t)d->K;
    S->bt.L = d->L;
    S->bt.V = d->V;
    S->bt.tokens = S->data.tokens;
    S->bt.words = S->idx;
    S->bt.ptr = S->bt.words + d->n_wmax;
    S->bt.pos = S->bt.ptr + d->n_wmax + 1;
    S->bt.sen = S->bt.pos + d->n_pos;
    S->slot = S->bt.sen + d->n_pos;
    int32_t *bi = S->slot + V;
    for (int k = 0; k < d->n_blocks && d->n_blocks > 1; k++) {
        S->blk[k].L = d->L;
        S->blk[k].V = d->V;
        S->blk[k].words = bi;
        S->blk[k].ptr = bi + d->n_wblk;
        bi += 2 * d->n_wblk + 1;
    }
}

static int lu_init(void **state, const params_t *p, char *err, size_t errlen)
{
    *state = NULL;
    if (params_geti(p, "precision") == PREC_F32)
        return lu_check(p, err, errlen) != 0 ? -1 : luf32_init(state, p, err, errlen);
    int rc = -1;
    lu_t *S = calloc(1, sizeof *S);
    if (!S) {
        snprintf(err, errlen, "out of memory for the lu2021 state");
        return -2;
    }
    if (lu_check(p, err, errlen) != 0) goto fail;
    lu_dims(p, &S->d);
    const lu_dims_t *d = &S->d;
    S->lr = params_get(p, "lr");
    rc = lu_data_make(&S->data, d, err, errlen);
    if (rc != 0) goto fail;
    rc = -2;
    if (lu_alloc(S) != 0) {
        snprintf(err, errlen, "out of memory: the run needs %.3g MB", 1e-6 * (double)lu_memory(p));
        goto fail;
    }
    lu_carve(S);
    S->stamp = 0;
    if (S->perm) {
        lu_epoch_init(S->perm, d->n_train, &S->pos, &S->batch_rng, (uint64_t)params_get(p, "seed"));
    } else { /* full batch: the same index every step */
        lu_index(S, NULL, d->n_train);
    }
    lu_init_weights(S, p);
    *state = S;
    return 0;
fail:
    lu_free(S);
    return rc;
}

/* ---- forward / backward ------------------------------------------------------------------ */

/* Scores s_w = q·κ_w of the n listed words (rows == NULL: all V), and ew_w = exp(s_w − max). */
static void lu_scores(lu_t *S, int n, const int32_t *rows)
{
    const lu_dims_t *d = &S->d;
    lukern_rows_dot(n, rows, d->Dk, S->grp[LU2021_KEYS], S->grp[LU2021_QUERY], S->score);
    double mx = -INFINITY;
    for (int j = 0; j < n; j++) {
        double s = S->score[rows ? rows[j] : j];
        if (s > mx) mx = s;
    }
    for (int j = 0; j < n; j++) {
        int w = rows ? rows[j] : j;
        S->ew[w] = exp(S->score[w] - mx);
    }
}

/* One pass over B sentences (rows of tokens, rows == NULL: the first B): forward in chunks (with
 * the topic attention summed into sums when att) and, when bwd, backward block by block — S->bt/S->blk must index this batch, and the gradients of
 * the mean over the B sentences go into S's buffers (the classifier's accumulate, gE and gword
 * are overwritten at the batch's words). The scores and ew of every word of these sentences
 * must be current. */
static void lu_pass(lu_t *S, const int32_t *tokens, const int32_t *labels, const long *rows,
                    long B, int bwd, int att, lu_sums_t *sums)
{
    const lu_dims_t *d = &S->d;
    const int L = d->L, D = d->D, K = d->K, Hd = d->Hd, mlp = d->cls == CLS_MLP;
    const double *E = S->grp[LU2021_EMBED], *C1 = S->grp[LU2021_CLS1];
    int need_dh = bwd && d->need_dh, need_dz = bwd && (d->tr_cls || d->need_dh);
    double scale = 1.0 / (double)B, *gs = d->need_ds ? S->gword : NULL;
    long block = need_dh ? d->block : B;
    int several = need_dh && S->n_blk > 1;
    if (several) /* the blocks add up: start from 0 at the batch's words */
        for (int j = 0; j < S->bt.n_words; j++) {
            size_t w = (size_t)S->bt.words[j];
            memset(S->gE + w * D, 0, sizeof(double) * (size_t)D);
            if (gs) gs[w] = 0.0;
        }
    for (long s0 = 0, k = 0; s0 < B; s0 += block, k++) {
        long Bk = B - s0 < block ? B - s0 : block;
        int fallbacks = 0;
        for (long c0 = s0; c0 < s0 + Bk; c0 += d->chunk) {
            int nb = (int)(s0 + Bk - c0 < d->chunk ? s0 + Bk - c0 : d->chunk);
            const int32_t *tk = rows ? tokens : tokens + (size_t)c0 * L;
            const int32_t *lb = rows ? labels : labels + c0;
            const long *rw = rows ? rows + c0 : NULL;
            /* a step does not store the attention (a_bi = ew_w·zinv_b); an evaluation stores it
             * chunk by chunk for the topic attention (at the chunk's place in the block when the
             * attention backward follows: its rare per-sentence path rewrites the same values) */
            double *A = !att ? NULL : need_dh ? S->A + (size_t)(c0 - s0) * L : S->A;
            fallbacks += lukern_attend_fwd(nb, L, D, tk, rw, S->score, S->ew, E, A,
                                         need_dh ? S->zinv + (c0 - s0) : NULL, S->H);
            if (A && !S->data.text)
                for (int b = 0; b < nb; b++) sums->att_sum += A[(size_t)b * L];
            else if (A) /* text: the topic words may be anywhere in a sentence */
                for (int b = 0; b < nb; b++) {
                    const int32_t *t = tk + (size_t)(rw ? rw[b] : b) * L;
                    for (int i = 0; i < L; i++)
                        if (S->data.is_topic[t[i]]) sums->att_sum += A[(size_t)b * L + i];
                }
            const double *feat = S->H; /* the classifier's last hidden layer */
            int F = D;
            if (mlp) {
                kern_gemm_d(0, 0, nb, Hd, D, 1.0, S->H, D, C1, Hd, 0.0, S->Z1, Hd);
                lukern_add_bias(nb, Hd, S->grp[LU2021_CLS2], S->Z1);
                lukern_relu((long)nb * Hd, S->Z1, S->R1);
                kern_gemm_d(0, 0, nb, K, Hd, 1.0, S->R1, Hd, S->grp[LU2021_CLS3], K, 0.0, S->Z, K);
                lukern_add_bias(nb, K, S->grp[LU2021_CLS4], S->Z);
                feat = S->R1;
                F = Hd;
            } else {
                kern_gemm_d(0, 0, nb, K, D, 1.0, S->H, D, C1, K, 0.0, S->Z, K);
            }
            sums->loss_sum += lukern_xent(nb, K, S->Z, lb, rw, scale, need_dz ? S->dZ : NULL,
                                        &sums->correct);
            if (!need_dz) continue;
            /* classifier backward: its gradients, and dH of this chunk */
            double *dH = S->dH + (size_t)(c0 - s0) * D;
            if (mlp) {
                const double *W2 = S->grp[LU2021_CLS3];
                kern_gemm_d(1, 0, Hd, K, nb, 1.0, feat, F, S->dZ, K, 1.0, S->gcls[2], K);
                lukern_colsum(nb, K, S->dZ, S->gcls[3]);
                kern_gemm_d(0, 1, nb, Hd, K, 1.0, S->dZ, K, W2, K, 0.0, S->dR, Hd);
                lukern_relu_bwd((long)nb * Hd, S->Z1, S->dR);
                kern_gemm_d(1, 0, D, Hd, nb, 1.0, S->H, D, S->dR, Hd, 1.0, S->gcls[0], Hd);
                lukern_colsum(nb, Hd, S->dR, S->gcls[1]);
                if (need_dh) kern_gemm_d(0, 1, nb, D, Hd, 1.0, S->dR, Hd, C1, Hd, 0.0, dH, D);
            } else {
                if (d->tr_cls) kern_gemm_d(1, 0, D, K, nb, 1.0, S->H, D, S->dZ, K, 1.0, S->gcls[0], K);
                if (need_dh) kern_gemm_d(0, 1, nb, D, K, 1.0, S->dZ, K, C1, K, 0.0, dH, D);
            }
            if (need_dh) /* c_b = dH_b·H_b: the softmax backward's Σ_i a_i da_i */
                for (int b = 0; b < nb; b++) {
                    double acc = 0.0;
                    for (int j = 0; j < D; j++) acc += dH[(size_t)b * D + j] * S->H[(size_t)b * D + j];
                    S->c[c0 - s0 + b] = acc;
                }
        }
        if (!need_dh) continue;
        /* attention backward of the block, word by word; with a_bi = ew_w·zinv_b (the usual
         * case: no sentence needed its own shift) it reads dH_b·zinv_b instead of A */
        const double *ew = NULL;
        if (fallbacks == 0) {
            for (long b = 0; b < Bk; b++) {
                double z = S->zinv[b], *dh = S->dH + (size_t)b * D;
                for (int j = 0; j < D; j++) dh[j] *= z;
                S->c[b] *= z;
            }
            ew = S->ew;
        } else { /* some sentence needed its own shift: store the block's attention (rare) */
            for (long c0 = s0; c0 < s0 + Bk; c0 += d->chunk) {
                int nb = (int)(s0 + Bk - c0 < d->chunk ? s0 + Bk - c0 : d->chunk);
                lukern_attend_fwd(nb, L, D, rows ? tokens : tokens + (size_t)c0 * L,
                                rows ? rows + c0 : NULL, S->score, S->ew, E,
                                S->A + (size_t)(c0 - s0) * L, NULL, S->H);
            }
        }
        lukern_attend_bwd(several ? &S->blk[k] : &S->bt, D, S->A, ew, S->dH, S->c, E, several,
                        S->tmp, S->gE, gs);
    }
}

/* The batch's word list for the per-word kernels: NULL (= 0..V-1) when the batch holds the
 * whole vocabulary, so they can take their dense BLAS paths. */
static const int32_t *lu_word_list(const lu_t *S)
{
    return S->bt.n_words == S->d.V ? NULL : S->bt.words;
}

/* Gradient of the mean loss over the batch that S->bt indexes, into S's buffers; returns the
 * mean loss. */
static double lu_batch_grad(lu_t *S)
{
    lu_sums_t sums = {0};
    lu_scores(S, S->bt.n_words, lu_word_list(S));
    lu_pass(S, S->data.tokens, S->data.labels, S->bt.rows, S->bt.B, 1, 0, &sums);
    return sums.loss_sum / (double)S->bt.B;
}

/* dq = Σ_w gword[w]·κ_w over the batch's words (keys before the update) into S->gq. */
static void lu_query_grad(lu_t *S)
{
    memset(S->gq, 0, sizeof(double) * (size_t)S->d.Dk);
    lukern_rows_gemv_t(S->bt.n_words, lu_word_list(S), S->d.Dk, 1.0, S->gword,
                     S->grp[LU2021_KEYS], S->gq);
}

/* Gradient step on every trained group (at the batch's words), then clear the classifier's
 * accumulated gradients. */
static void lu_apply(lu_t *S)
{
    const lu_dims_t *d = &S->d;
    const int32_t *words = lu_word_list(S);
    int n = S->bt.n_words;
    double lr = S->lr;
    if (d->tr_query) lu_query_grad(S);
    if (d->tr_keys) /* ∂L/∂κ_w = gword[w]·q: a rank-1 update over the batch's words */
        lukern_rows_rank1(n, words, d->Dk, -lr, S->gword, S->grp[LU2021_QUERY],
                        S->grp[LU2021_KEYS]);
    if (d->tr_emb) lukern_rows_axpy(n, words, d->D, -lr, S->gE, S->grp[LU2021_EMBED]);
    if (d->tr_query)
        for (int k = 0; k < d->Dk; k++) S->grp[LU2021_QUERY][k] -= lr * S->gq[k];
    if (d->tr_cls)
        for (int g = 0; g < 4; g++) {
            size_t ng = d->n_group[LU2021_CLS1 + g];
            double *w = S->grp[LU2021_CLS1 + g], *gw = S->gcls[g];
            for (size_t i = 0; i < ng; i++) {
                w[i] -= lr * gw[i];
                gw[i] = 0.0;
            }
        }
}

/* Index the next mini-batch into S->bt: consecutive rows of an epoch order reshuffled from
 * RNG_STREAM_BATCH at each epoch start (the last batch of an epoch may be short). */
static void lu_next_batch(lu_t *S)
{
    long B;
    const long *rows = lu_epoch_next(S->perm, S->d.n_train, S->d.batch, &S->pos, &S->batch_rng, &B);
    lu_index(S, rows, B);
}

/* Drop a gradient cached by an eval and clear the classifier's accumulators. */
static void lu_drop_grad(lu_t *S)
{
    S->grad_ready = 0;
    for (int g = 0; g < 4; g++)
        if (S->gcls[g]) memset(S->gcls[g], 0, sizeof(double) * S->d.n_group[LU2021_CLS1 + g]);
}

static int lu_step(void *state, long step, double *loss, char *err, size_t errlen)
{
    if (((lu_head_t *)state)->f32) return luf32_step(state, step, loss, err, errlen);
    lu_t *S = state;
    (void)step;
    (void)err;
    (void)errlen;
    if (S->grad_ready) { /* the eval just before ran this step's pass at these weights */
        *loss = S->grad_loss;
        S->grad_ready = 0;
    } else {
        if (S->perm) lu_next_batch(S); /* full batch: S->bt was indexed once at init */
        *loss = lu_batch_grad(S);
    }
    lu_apply(S);
    return 0;
}

/* ---- evaluation -------------------------------------------------------------------------- */

static double lu_word_score(const void *ctx, size_t w) { return ((const lu_t *)ctx)->score[w]; }

static double lu_word_norm2(const void *ctx, size_t w)
{
    const lu_t *S = ctx;
    const double *v = S->grp[LU2021_EMBED] + w * (size_t)S->d.D;
    double v2 = 0.0;
    for (int k = 0; k < S->d.D; k++) v2 += v[k] * v[k];
    return v2;
}

static int lu_eval(void *state, double *metrics, char *err, size_t errlen)
{
    if (((lu_head_t *)state)->f32) return luf32_eval(state, metrics, err, errlen);
    lu_t *S = state;
    const lu_dims_t *d = &S->d;
    const task_data_t *t = &S->data;
    (void)err;
    (void)errlen;
    lu_sums_t tr = {0}, va = {0}, te = {0};
    size_t L = (size_t)d->L;
    /* Full batch: the training pass is the next step's forward, so run it as that step would
     * (its scores, its blocks, with the backward) and leave the gradient for the step. It needs
     * the step's chunk boundaries, which the blocks keep when they are whole chunks. train_loss
     * is then exactly the step's loss; when the training set lacks some words, the step's scores
     * (its words only) can differ from all-word scores in the last bit, and so can train_loss
     * and topic_attention (the trajectory does not change). */
    lu_drop_grad(S);
    if (!S->perm && (!d->need_dh || S->n_blk <= 1 || d->block % d->chunk == 0)) {
        lu_scores(S, S->bt.n_words, lu_word_list(S));
        lu_pass(S, t->tokens, t->labels, S->bt.rows, S->bt.B, 1, 1, &tr);
        S->grad_loss = tr.loss_sum / (double)S->bt.B;
        S->grad_ready = 1;
        if (lu_word_list(S)) lu_scores(S, d->V, NULL); /* else that was already every word */
    } else {
        lu_scores(S, d->V, NULL);
        lu_pass(S, t->tokens, t->labels, NULL, d->n_train, 0, 1, &tr);
    }
    lu_pass(S, t->tokens + (size_t)d->n_train * L, t->labels + d->n_train, NULL, d->n_valid, 0, 1,
            &va);
    lu_pass(S, t->tokens + (size_t)(d->n_train + d->n_valid) * L,
            t->labels + d->n_train + d->n_valid, NULL, d->n_test, 0, 1, &te);
    lu_split_metrics(d, t, &tr, &va, &te, metrics);
    const double *q = S->grp[LU2021_QUERY];
    double q2 = 0.0;
    for (int k = 0; k < d->Dk; k++) q2 += q[k] * q[k];
    lu_word_metrics(d, t, q2, lu_word_score, lu_word_norm2, S, metrics);
    return 0;
}

/* ---- test access (lu2021.h) -------------------------------------------------------------- */

void lu2021_groups(void *state, lu2021_group_t groups[LU2021_N_GROUPS])
{
    if (((lu_head_t *)state)->f32) {
        luf32_groups(state, groups);
        return;
    }
    lu_t *S = state;
    lu_drop_grad(S); /* the caller may now change the weights */
    lu_groups_info(&S->d, groups);
    for (int g = 0; g < LU2021_N_GROUPS; g++) groups[g].values = S->grp[g];
}

int lu2021_loss_and_grad(void *state, double *loss, double *const grads[LU2021_N_GROUPS])
{
    if (((lu_head_t *)state)->f32) return luf32_loss_and_grad(state, loss, grads);
    lu_t *S = state;
    const lu_dims_t *d = &S->d;
    if (S->perm) return -1; /* full-batch runs only: S->bt indexes the training set */
    lu_drop_grad(S);
    *loss = lu_batch_grad(S);
    if (d->tr_query) lu_query_grad(S);
    if (grads) {
        for (int g = 0; g < LU2021_N_GROUPS; g++)
            if (grads[g]) memset(grads[g], 0, sizeof(double) * d->n_group[g]);
        for (int j = 0; j < S->bt.n_words; j++) {
            size_t w = (size_t)S->bt.words[j];
            if (grads[LU2021_EMBED] && d->tr_emb)
                memcpy(grads[LU2021_EMBED] + w * d->D, S->gE + w * d->D, sizeof(double) * d->D);
            if (grads[LU2021_KEYS] && d->tr_keys)
                for (int k = 0; k < d->Dk; k++)
                    grads[LU2021_KEYS][w * d->Dk + k] = S->gword[w] * S->grp[LU2021_QUERY][k];
        }
        if (grads[LU2021_QUERY] && d->tr_query)
            memcpy(grads[LU2021_QUERY], S->gq, sizeof(double) * (size_t)d->Dk);
        for (int g = 0; g < 4; g++)
            if (grads[LU2021_CLS1 + g] && d->tr_cls)
                memcpy(grads[LU2021_CLS1 + g], S->gcls[g],
                       sizeof(double) * d->n_group[LU2021_CLS1 + g]);
    }
    for (int g = 0; g < 4; g++) /* clear the accumulators as a step would */
        if (S->gcls[g]) memset(S->gcls[g], 0, sizeof(double) * d->n_group[LU2021_CLS1 + g]);
    return 0;
}

const task_data_t *lu2021_data(void *state)
{
    return ((lu_head_t *)state)->f32 ? luf32_data(state) : &((lu_t *)state)->data;
}

int lu2021_is_f32(void *state) { return ((lu_head_t *)state)->f32; }

void lu2021_get(void *state, double *const vals[LU2021_N_GROUPS])
{
    if (((lu_head_t *)state)->f32) {
        luf32_get(state, vals);
        return;
    }
    lu2021_group_t g[LU2021_N_GROUPS];
    lu2021_groups(state, g);
    for (int k = 0; k < LU2021_N_GROUPS; k++)
        if (vals[k] && g[k].n) memcpy(vals[k], g[k].values, sizeof(double) * g[k].n);
}

void lu2021_set(void *state, const double *const vals[LU2021_N_GROUPS])
{
    if (((lu_head_t *)state)->f32) {
        luf32_set(state, vals);
        return;
    }
    lu2021_group_t g[LU2021_N_GROUPS];
    lu2021_groups(state, g); /* drops a gradient an eval left */
    for (int k = 0; k < LU2021_N_GROUPS; k++)
        if (vals[k] && g[k].n) memcpy(g[k].values, vals[k], sizeof(double) * g[k].n);
}

const model_family_t lu2021_family = {
    .abi = ATTNSWEEP_MODEL_ABI,
    .name = "lu2021",
    .summary = "topic-word classification with one query, per-word keys (Lu, Mao & Nayak 2021)",
    .params = lu_params,
    .n_params = sizeof lu_params / sizeof lu_params[0],
    .metrics = lu_metrics,
    .n_metrics = M_COUNT,
    .check = lu_check,
    .cost = lu_cost,
    .init = lu_init,
    .step = lu_step,
    .eval = lu_eval,
    .memory = lu_memory,
    .free = lu_free,
};
