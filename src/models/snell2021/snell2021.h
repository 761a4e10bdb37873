/* snell2021 (private) — the network of the snell2021 family: an LSTM or GRU encoder/decoder with
 * one or more dot-product attention heads over the encoder outputs and the authors' output layer,
 * forward and BPTT by hand, Adam, in float32 or float64 (runtime choice; the tests use float64).
 * snell2021.c implements it and wraps it as snell2021_family; tests/test_snell2021.c uses this
 * header directly. */
#ifndef ATTNSWEEP_SNELL2021_H
#define ATTNSWEEP_SNELL2021_H
#include "attnsweep/rng.h"

enum { SNELL_PERM = 0, SNELL_DISTINCT = 1, SNELL_IID = 2 };
enum { SNELL_LSTM = 0, SNELL_GRU = 1 };
#define SNELL_MAX_HEADS 16
#define SNELL_SEEDED_HEADS 8      /* heads 0..7 may take their init from their own seed */
#define SNELL_STREAM_HEAD 0x4845  /* rng stream of a head drawn from its own seed */

/* Parameter tensors, in the order of the flat parameter vector. G = 4 gates (LSTM: i f g o) or 3
 * (GRU: r z n). The base tensors come first, then the heads' (nh heads, one block per head). */
enum {
    SNELL_EMB,    /* [N][E] shared token embedding (N = V + 2: content, EOS = V, SOS = V+1) */
    SNELL_ENC_WX, /* [E][G·H] encoder input weights */
    SNELL_ENC_WH, /* [H][G·H] encoder recurrent weights */
    SNELL_ENC_B,  /* LSTM [4H] (b_ih + b_hh); GRU [6H]: b_ih [3H] then b_hh [3H] */
    SNELL_DEC_WX, /* decoder: the same three */
    SNELL_DEC_WH,
    SNELL_DEC_B,
    SNELL_OUT_W,  /* [2H][H] o_t = tanh([d_t; c_t] W + b): rows 0..H-1 take d_t, H..2H-1 c_t */
    SNELL_OUT_B,  /* [H] */
    SNELL_OUT_U,  /* [H][N] logits_t = o_t U + u */
    SNELL_OUT_UB, /* [N] */
    SNELL_ATT_A,  /* [nh][H][K] head k's query q = d_t A_k + a_k; score(t, s) = q · k_s, k_s the
                     encoder output h_s (K = H) or the source embedding e_s (K = E) */
    SNELL_ATT_a,  /* [nh][K] */
    SNELL_ATT_O,  /* [nh][K][H] head k's output map: c_t = mean_k ((Σ_s α^k_ts k_s) O_k + o_k) */
    SNELL_ATT_o,  /* [nh][H] */
    SNELL_N_TENSORS
};
#define SNELL_FIRST_HEAD_TENSOR SNELL_ATT_A

typedef struct {
    int V, L, E, H;      /* content vocabulary, sequence length, embedding and hidden sizes */
    int B;               /* largest batch the activations are sized for */
    int heads;           /* attention heads, 1..SNELL_MAX_HEADS */
    int cell;            /* SNELL_LSTM or SNELL_GRU */
    int uniform;         /* 1: attention fixed uniform (ablation; A and a get no gradient) */
    int attend_embed;    /* 1: keys/values are the source embeddings, 0: the encoder outputs */
    int dbl;             /* 1: float64, 0: float32 */
    double embed_std;    /* embedding init N(0, embed_std²) */
    double init_scale;   /* multiplies the PyTorch-default bounds U(±1/sqrt(fan_in)) */
    long base_seed;      /* -1: the base tensors from the run seed; >= 0 from this seed */
    long head_seed[SNELL_SEEDED_HEADS]; /* -1: head k from the run seed; >= 0 from this seed */
} snell_cfg_t;

/* Token-level statistics of one forward pass (sums, not means). */
typedef struct {
    double loss_sum;     /* Σ cross-entropy over the nb·T target tokens */
    long tokens, correct, seqs, seq_correct;
    long attn_correct[SNELL_MAX_HEADS]; /* per head: target steps whose argmax α is at s = t */
    double ktiw_sum;     /* Σ log-odds of the gold token with attention one-hot on s = t */
} snell_stats_t;

typedef struct {
    snell_cfg_t c;
    int N, S, T, K;      /* vocabulary with EOS/SOS, source and target length (both L + 1), key
                            size (H or E) */
    int use_ref;         /* 1: every matrix product through the plain _ref kernel */
    long P;              /* number of parameters */
    long off[SNELL_N_TENSORS + 1]; /* offset of each tensor in the flat vector */
    void *w, *g, *am, *av;  /* parameters, gradients, Adam moments: one allocation, 4·P reals */
    long adam_t;         /* Adam steps taken */
    void *act;           /* activations and their gradients for c.B sequences: one allocation */
    int *tok;            /* [3][T][B] source, decoder-input and target tokens, time-major */
} snell_net_t;

/* Allocate and initialise: base tensors from (base_seed or seed, RNG_STREAM_INIT); a head with
 * its own seed from (head_seed, SNELL_STREAM_HEAD), the others continue the run seed's INIT
 * stream. 0 ok, -1 on allocation failure. */
int snell_net_init(snell_net_t *m, const snell_cfg_t *c, uint64_t seed);
void snell_net_free(snell_net_t *m);
/* Forward (and, if want_grad, backward into m->g, overwritten) on nb <= c.B sequences seq[nb][L]
 * of content tokens. Returns the mean token cross-entropy; adds the pass's sums to st (may be
 * NULL). With want_grad the KTIW probe and attention statistics are skipped. */
double snell_net_forward(snell_net_t *m, const int *seq, int nb, int want_grad, snell_stats_t *st);
/* One Adam step (β1 0.9, β2 0.999, ε 1e-8, bias-corrected) of all parameters with m->g. */
void snell_net_adam(snell_net_t *m, double lr);
/* Element count of a tensor for cfg c (used by init and by the tests). */
long snell_tensor_size(const snell_cfg_t *c, int tensor);

/* Draw one sequence of c->L content tokens for the data mode. */
void snell_sample(int mode, int V, int L, rng_t *r, int *seq);

/* Adam over n values (overwrites w, m, v); t = 1 for the first step. */
void snell_adam_f(float *w, const float *g, float *m, float *v, long n, double lr, long t);
void snell_adam_d(double *w, const double *g, double *m, double *v, long n, double lr, long t);

#endif
