/* snell2021 (private) — the network of the snell2021 family: an LSTM encoder/decoder with one
 * dot-product attention head over the source embeddings, forward and BPTT by hand, Adam, in
 * float or double (runtime choice; the tests use double). snell2021.c implements it and wraps
 * it as snell2021_family; tests/test_snell2021.c uses this header directly. */
#ifndef ATTNSWEEP_SNELL2021_H
#define ATTNSWEEP_SNELL2021_H
#include "attnsweep/rng.h"

enum { SNELL_PERM = 0, SNELL_DISTINCT = 1, SNELL_IID = 2 };

/* Parameter tensors, in the order of the flat parameter vector (and of the init draws). */
enum {
    SNELL_EMB,    /* [N][E] shared token embedding (N = V + 2: content, EOS = V, SOS = V+1) */
    SNELL_ENC_WX, /* [E][4H] encoder LSTM input weights, gates i f g o */
    SNELL_ENC_WH, /* [H][4H] encoder LSTM recurrent weights */
    SNELL_ENC_B,  /* [4H] */
    SNELL_DEC_WX, /* [E][4H] decoder LSTM */
    SNELL_DEC_WH, /* [H][4H] */
    SNELL_DEC_B,  /* [4H] */
    SNELL_ATT_A,  /* [H][K] query map: score(t, s) = (d_t A + a) · k_s, k_s = encoder output
                     h_s (K = H) or source embedding e_s (K = E, attend_embed) */
    SNELL_ATT_a,  /* [K] */
    SNELL_OUT_P,  /* [K][H] context projection: u_t = tanh(c_t P + d_t), c_t = Σ_s α_ts k_s */
    SNELL_OUT_W,  /* [H][N] output layer: logits_t = u_t W + b */
    SNELL_OUT_B,  /* [N] */
    SNELL_N_TENSORS
};

typedef struct {
    int V, L, E, H;      /* content vocabulary, sequence length, embedding and hidden sizes */
    int B;               /* largest batch the activations are sized for */
    int uniform;         /* 1: attention fixed uniform (ablation; A and a get no gradient) */
    int attend_embed;    /* 1: keys/values are the source embeddings, 0: the encoder outputs */
    int dbl;             /* 1: double precision, 0: float */
    double embed_std;    /* embedding init N(0, embed_std²) */
    double init_scale;   /* multiplies the PyTorch-default bounds U(±1/sqrt(fan_in)) */
} snell_cfg_t;

/* Token-level statistics of one forward pass (sums, not means). */
typedef struct {
    double loss_sum;     /* Σ cross-entropy over the nb·T target tokens */
    long tokens, correct, seqs, seq_correct, attn_correct;
    double ktiw_sum;     /* Σ log-odds of the gold token with attention one-hot on s = t */
} snell_stats_t;

typedef struct {
    snell_cfg_t c;
    int N, S, T;         /* vocabulary with EOS/SOS, source and target length (both L + 1) */
    int use_ref;         /* 1: every matrix product through the plain _ref kernel */
    long P;              /* number of parameters */
    long off[SNELL_N_TENSORS + 1]; /* offset of each tensor in the flat vector */
    void *w, *g, *am, *av;  /* parameters, gradients, Adam moments: one allocation, 4·P reals */
    long adam_t;         /* Adam steps taken */
    void *act;           /* activations and their gradients for c.B sequences: one allocation */
    int *tok;            /* [3][T][B] source, decoder-input and target tokens, time-major */
} snell_net_t;

/* Allocate and initialise from (seed, RNG_STREAM_INIT). 0 ok, -1 on allocation failure. */
int snell_net_init(snell_net_t *m, const snell_cfg_t *c, uint64_t seed);
void snell_net_free(snell_net_t *m);
/* Forward (and, if want_grad, backward into m->g, overwritten) on nb <= c.B sequences seq[nb][L]
 * of content tokens. Returns the mean token cross-entropy; adds the pass's sums to st (may be
 * NULL). With want_grad the KTIW probe and attention statistics are skipped. */
double snell_net_forward(snell_net_t *m, const int *seq, int nb, int want_grad, snell_stats_t *st);
/* One Adam step (β1 0.9, β2 0.999, ε 1e-8, bias-corrected) of all parameters with m->g. */
void snell_net_adam(snell_net_t *m, double lr);

/* Draw one sequence of c->L content tokens for the data mode. */
void snell_sample(int mode, int V, int L, rng_t *r, int *seq);

/* Adam over n values (overwrites w, m, v); t = 1 for the first step. */
void snell_adam_f(float *w, const float *g, float *m, float *v, long n, double lr, long t);
void snell_adam_d(double *w, const double *g, double *m, double *v, long n, double lr, long t);

#endif
