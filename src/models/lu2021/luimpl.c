/* luimpl — what lu2021's two precisions share (luimpl.h): a run's sizes from its params, its data
 * set, the initial weights in their fixed draw order, the mini-batch epoch order, the groups' names
 * and the trace metrics computed from a pass's sums and per-word values. lu2021.c (the family and
 * the float64 path) and luf32.c (the float32 path) both build on it; it calls neither. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "attnsweep/rng.h"
#include "luimpl.h"

#define LU_CHUNK 1024 /* sentences per forward chunk: bounds the classifier's activations */
#define LU_BLOCK_BYTES (4 << 20) /* the backward goes in blocks of sentences whose dH is this size
                                  * (at least LU_CHUNK sentences): bounds dH and keeps it in cache */

/* ---- sizes and data --------------------------------------------------------------------- */

void lu_dims(const params_t *p, lu_dims_t *d)
{
    memset(d, 0, sizeof *d);
    task_config_t *t = &d->task;
    t->topics = (int)params_geti(p, "topics");
    t->topic_words = (int)params_geti(p, "topic_words");
    t->vocab_size = (int)params_geti(p, "vocab_size");
    t->words_per_sentence = (int)params_geti(p, "words_per_sentence");
    t->n_sentences = params_geti(p, "n_sentences");
    t->train_frac = params_get(p, "train_frac");
    t->valid_frac = params_get(p, "valid_frac");
    t->first_class_ratio = params_get(p, "first_class_ratio");
    t->seed = (uint64_t)params_get(p, "seed");
    d->K = t->topics;
    /* sizes the check rejects (total vocabulary ≥ 2^31) are clamped here, not overflowed */
    double nv = (double)t->topics * t->topic_words + t->vocab_size;
    d->V = nv < INT_MAX ? (int)nv : INT_MAX;
    d->L = t->words_per_sentence + 1;
    const char *file = params_gets(p, "data_file");
    char err[8]; /* lu_check reports a file that cannot be read; here the sizes stay synthetic */
    if (file && *file && text_load(file, &d->text, err, sizeof err) == 0) {
        d->V = d->text->vocab;
        d->L = d->text->len;
    }
    d->D = (int)params_geti(p, "embed_dim");
    d->Dk = (int)params_geti(p, "key_dim");
    if (d->Dk == 0) d->Dk = d->D;
    d->Hd = (int)params_geti(p, "hidden");
    d->cls = (int)params_geti(p, "classifier");
    d->f32 = params_geti(p, "precision") == PREC_F32;
    if (d->text)
        text_split(d->text, t->train_frac, t->valid_frac, &d->n_train, &d->n_valid, &d->n_test);
    else
        task_split(t, &d->n_train, &d->n_valid, &d->n_test);
    long bs = params_geti(p, "batch_size");
    d->batch = (bs <= 0 || bs >= d->n_train) ? d->n_train : bs;
    d->tr_keys = !params_geti(p, "freeze_keys");
    d->tr_emb = !params_geti(p, "freeze_embeddings");
    d->tr_query = (int)params_geti(p, "train_query");
    d->tr_cls = d->cls != CLS_FIXED;
    d->need_ds = d->tr_keys || d->tr_query;
    d->need_dh = d->need_ds || d->tr_emb;
    long mx = d->n_train > d->n_valid ? d->n_train : d->n_valid;
    if (d->n_test > mx) mx = d->n_test;
    d->chunk = mx < LU_CHUNK ? (int)(mx > 0 ? mx : 1) : LU_CHUNK;
    d->n_pos = (size_t)d->batch * (size_t)d->L;
    d->n_wmax = d->n_pos < (size_t)d->V ? d->n_pos : (size_t)d->V;
    d->block = LU_BLOCK_BYTES / (8L * d->D);
    if (d->block < LU_CHUNK) d->block = LU_CHUNK;
    if (d->block > d->batch) d->block = d->batch;
    if (d->block < 1) d->block = 1; /* an empty training set (rejected by the check) */
    d->n_blocks = (int)((d->batch + d->block - 1) / d->block);
    d->n_wblk = (size_t)d->block * (size_t)d->L < (size_t)d->V ? (size_t)d->block * d->L
                                                               : (size_t)d->V;
    if (d->n_blocks == 1) d->n_wblk = 0;

    size_t V = (size_t)d->V, D = (size_t)d->D, Dk = (size_t)d->Dk, K = (size_t)d->K;
    size_t Hd = (size_t)d->Hd;
    d->n_group[LU2021_EMBED] = V * D;
    d->n_group[LU2021_KEYS] = V * Dk;
    d->n_group[LU2021_QUERY] = Dk;
    if (d->cls == CLS_MLP) {
        d->n_group[LU2021_CLS1] = D * Hd;
        d->n_group[LU2021_CLS2] = Hd;
        d->n_group[LU2021_CLS3] = Hd * K;
        d->n_group[LU2021_CLS4] = K;
    } else {
        d->n_group[LU2021_CLS1] = D * K;
    }
    for (int g = 0; g < LU2021_N_GROUPS; g++) d->n_par += d->n_group[g];
    d->n_gE = d->need_dh ? V * D : 0;
    size_t c = (size_t)d->chunk, hd = d->cls == CLS_MLP ? Hd : 0;
    size_t nA = (size_t)(d->block > d->chunk ? d->block : d->chunk) * (size_t)d->L;
    d->n_act = nA + (d->need_dh ? (size_t)d->block * (D + 2) + D : 0) + c * (D + 3 * hd + 2 * K);
}


int lu_data_make(task_data_t *data, const lu_dims_t *d, char *err, size_t errlen)
{
    if (!d->text) return task_generate(data, &d->task, err, errlen);
    return text_task(data, d->text, d->K, d->task.topic_words, d->task.train_frac,
                     d->task.valid_frac, err, errlen);
}


size_t lu_data_memory(const lu_dims_t *d)
{
    return d->text ? text_memory(d->text, d->K, d->task.topic_words) : task_memory(&d->task);
}


/* n values of group g to put, a chunk at a time: scale·N(0,1) draws, or U(±scale) when uniform. */
static void draw(rng_t *r, int uniform, double scale, int g, size_t n, lu_put_fn put, void *ctx)
{
    double buf[1024];
    for (size_t off = 0; off < n; off += 1024) {
        size_t m = n - off < 1024 ? n - off : 1024;
        for (size_t i = 0; i < m; i++)
            buf[i] = uniform ? scale * (2.0 * rng_uniform(r) - 1.0) : scale * rng_normal(r);
        put(ctx, g, off, buf, m);
    }
}


void lu_draw_weights(const lu_dims_t *d, const params_t *p, lu_put_fn put, void *ctx)
{
    rng_t r;
    rng_init(&r, (uint64_t)params_get(p, "seed"), RNG_STREAM_INIT);
    draw(&r, 0, params_get(p, "query_std"), LU2021_QUERY, (size_t)d->Dk, put, ctx);
    if (d->cls == CLS_FIXED) {
        static const double one = 1.0;
        draw(&r, 0, 1.0, LU2021_CLS1, (size_t)d->D * d->K, put, ctx);
        for (int k = 0; k < d->K && k < d->D; k++) put(ctx, LU2021_CLS1, (size_t)k * d->K + k, &one, 1);
    } else if (d->cls == CLS_LINEAR) { /* PyTorch nn.Linear(D, K, bias=False) default */
        draw(&r, 1, 1.0 / sqrt((double)d->D), LU2021_CLS1, (size_t)d->D * d->K, put, ctx);
    } else { /* PyTorch nn.Linear defaults: U(±1/sqrt(fan_in)) for weights and biases */
        double b1 = 1.0 / sqrt((double)d->D), b2 = 1.0 / sqrt((double)d->Hd);
        for (int g = LU2021_CLS1; g <= LU2021_CLS4; g++)
            draw(&r, 1, g <= LU2021_CLS2 ? b1 : b2, g, d->n_group[g], put, ctx);
    }
    draw(&r, 0, params_get(p, "embed_std"), LU2021_EMBED, d->n_group[LU2021_EMBED], put, ctx);
}


void lu_epoch_init(long *perm, long n, long *pos, rng_t *r, uint64_t seed)
{
    for (long i = 0; i < n; i++) perm[i] = i;
    *pos = n; /* shuffle before the first batch */
    rng_init(r, seed, RNG_STREAM_BATCH);
}


const long *lu_epoch_next(long *perm, long n, long batch, long *pos, rng_t *r, long *B)
{
    if (*pos >= n) {
        for (long i = n - 1; i > 0; i--) { /* Fisher–Yates */
            long j = (long)rng_below(r, (uint64_t)i + 1);
            long t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        *pos = 0;
    }
    *B = n - *pos < batch ? n - *pos : batch;
    const long *rows = perm + *pos;
    *pos += *B;
    return rows;
}


/* ---- evaluation ------------------------------------------------------------------------- */

void lu_split_metrics(const lu_dims_t *d, const task_data_t *t, const lu_sums_t *tr,
                      const lu_sums_t *va, const lu_sums_t *te, double *metrics)
{
    metrics[M_TRAIN_LOSS] = tr->loss_sum / (double)d->n_train;
    metrics[M_TRAIN_ACC] = (double)tr->correct / (double)d->n_train;
    metrics[M_VALID_ACC] = (double)va->correct / (double)d->n_valid;
    metrics[M_TEST_ACC] = (double)te->correct / (double)d->n_test;
    metrics[M_TEST_LOSS] = te->loss_sum / (double)d->n_test;
    metrics[M_VALID_LOSS] = va->loss_sum / (double)d->n_valid;
    metrics[M_TOPIC_ATT] = t->n_att ? tr->att_sum / (double)t->n_att : 0.0;
}


void lu_word_metrics(const lu_dims_t *d, const task_data_t *t, double q2, lu_word_fn score,
                     lu_word_fn norm2, const void *ctx, double *metrics)
{
    /* The SEN identity per topic word w: lhs = ||q||²||v_w||², rhs = 2 s_w + (2/m_w)(e^{s_w} − 1),
     * residual = |lhs − rhs| / max(rhs, SEN_EPS); each averaged over the topic words. The worst
     * word is the one whose measured ||q||·||v_w|| lies farthest from the curve's √rhs. */
    double s_sum = 0.0, lhs_sum = 0.0, rhs_sum = 0.0, res_sum = 0.0, res_max = 0.0, gap_max = -1.0;
    int nt = t->n_topic;
    metrics[M_SEN_WORST_SCORE] = metrics[M_SEN_WORST_NORM2] = metrics[M_SEN_WORST_RHS] = 0.0;
    for (int k = 0; k < nt; k++) {
        size_t w = (size_t)t->topic[k];
        double v2 = norm2(ctx, w), s = score(ctx, w);
        double lhs = q2 * v2, rhs = 2.0 * s + 2.0 / t->topic_m[k] * expm1(s);
        double res = fabs(lhs - rhs) / fmax(rhs, SEN_EPS);
        double gap = fabs(sqrt(fmax(lhs, 0.0)) - sqrt(fmax(rhs, 0.0)));
        s_sum += s;
        lhs_sum += lhs;
        rhs_sum += rhs;
        res_sum += res;
        res_max = fmax(res_max, res);
        if (gap > gap_max) {
            gap_max = gap;
            metrics[M_SEN_WORST_SCORE] = s;
            metrics[M_SEN_WORST_NORM2] = lhs;
            metrics[M_SEN_WORST_RHS] = rhs;
        }
    }
    double n = nt ? (double)nt : 1.0; /* no topic word (text data): zeros, not NaN */
    metrics[M_TOPIC_SCORE] = s_sum / n;
    metrics[M_TOPIC_NORM2] = lhs_sum / n;
    metrics[M_SEN_RHS] = rhs_sum / n;
    metrics[M_SEN_RES] = res_sum / n;
    metrics[M_SEN_RES_MAX] = res_max;
    metrics[M_QUERY_NORM] = sqrt(q2);
    double nt_s = 0.0, nt_n = 0.0;
    for (int w = 0; w < d->V; w++) {
        if (t->is_topic[w]) continue;
        double v2 = norm2(ctx, (size_t)w);
        nt_s += score(ctx, (size_t)w);
        nt_n += sqrt(v2);
    }
    double nn = d->V > nt ? (double)(d->V - nt) : 1.0;
    metrics[M_NT_SCORE] = nt_s / nn;
    metrics[M_NT_NORM] = nt_n / nn;
}


/* ---- test access (lu2021.h) ------------------------------------------------------------- */

void lu_groups_info(const lu_dims_t *d, lu2021_group_t groups[LU2021_N_GROUPS])
{
    static const char *const names[2][LU2021_N_GROUPS] = {
        {"embed", "keys", "query", "U", "", "", ""},
        {"embed", "keys", "query", "W1", "b1", "W2", "b2"}};
    for (int g = 0; g < LU2021_N_GROUPS; g++) {
        groups[g].name = names[d->cls == CLS_MLP][g];
        groups[g].values = NULL;
        groups[g].n = d->n_group[g];
    }
    groups[LU2021_EMBED].trained = d->tr_emb;
    groups[LU2021_KEYS].trained = d->tr_keys;
    groups[LU2021_QUERY].trained = d->tr_query;
    for (int g = LU2021_CLS1; g < LU2021_N_GROUPS; g++) groups[g].trained = d->tr_cls && d->n_group[g];
}

