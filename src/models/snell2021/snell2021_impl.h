/* snell2021_impl — the precision-generic body of the snell2021 network (snell2021.h), included
 * twice by snell2021.c: once with R = float, once with R = double. Expects the macros
 *   R        the real type          SN(x)    a name suffixed by precision (x##_f / x##_d)
 *   KGEMM, KGEMM_REF  kern_gemm_f/_ref_f or kern_gemm_d/_ref_d (kernels.h)
 *   RTANH, REXP       tanhf/expf or tanh/exp
 * Activations are time-major: row (t, b) of a [T][nb][D] buffer is at (t·nb + b)·D, so each time
 * step, and the whole sequence, is one contiguous matrix for the BLAS calls. The forward pass is
 * embed → encode_decode (lstm_fwd or gru_fwd) → head_fwd (every head) → combine → out_fwd →
 * softmax_ce; the backward pass runs out_bwd → head_bwd (every head) → encdec_bwd. */

/* ---- kernels ----------------------------------------------------------------------------- */

static void SN(mm)(const snell_net_t *m, int ta, int tb, int M, int N, int K, R alpha,
                   const R *A, int lda, const R *B, int ldb, R beta, R *C, int ldc)
{
    if (m->use_ref)
        KGEMM_REF(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        KGEMM(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Adam, bias-corrected; overwrites w, mo, ve. n values, step t >= 1. */
void SN(snell_adam)(R *w, const R *g, R *mo, R *ve, long n, double lr, long t)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
    for (long i = 0; i < n; i++) {
        double gi = g[i];
        double mi = b1 * mo[i] + (1.0 - b1) * gi;
        double vi = b2 * ve[i] + (1.0 - b2) * gi * gi;
        mo[i] = (R)mi;
        ve[i] = (R)vi;
        w[i] = (R)(w[i] - lr * (mi / c1) / (sqrt(vi / c2) + eps));
    }
}

static R SN(sigm)(R x) { return (R)1 / ((R)1 + REXP(-x)); }

/* y[rows][n] (row stride ld) += bias[n] on every row; accumulate. */
static void SN(add_rows)(R *y, const R *bias, size_t rows, int n, int ld)
{
    for (size_t k = 0; k < rows; k++)
        for (int j = 0; j < n; j++) y[k * ld + j] += bias[j];
}

/* acc[n] += alpha · Σ_rows x[rows][n] (row stride ld); accumulate. */
static void SN(sum_rows)(R *acc, const R *x, size_t rows, int n, int ld, R alpha)
{
    for (size_t k = 0; k < rows; k++)
        for (int j = 0; j < n; j++) acc[j] += alpha * x[k * ld + j];
}

/* ---- activation buffers ------------------------------------------------------------------ */

typedef struct {
    R *Xe, *Ge, *Ce, *He;  /* encoder: inputs [S][B][E], gates [S][B][4H], c and h [S+1][B][H] */
    R *Xd, *Gd, *Cd, *Hd;  /* decoder: the same over T; Cd[0], Hd[0] = encoder final state */
    R *Q, *Al, *Cr;        /* per head: query [nh][T][B][K], attention [nh][B][T][S], raw
                              context Σ_s α_ts k_s [nh][T][B][K]; K = key size */
    R *Cx, *O, *Lg;        /* context [T][B][H], o_t [T][B][H], logits→probabilities [T][B][N] */
    R *dO, *dCx, *dD, *dCr, *dQ, *dK, *dAl, *dG, *dh, *dc, *dX, *Lk; /* gradients; Lk: KTIW */
} SN(bufs_t);

/* Lay the buffers out from base (NULL: count only). Returns the number of reals. */
static size_t SN(layout)(const snell_net_t *m, SN(bufs_t) *b, R *base)
{
    size_t B = (size_t)m->c.B, E = (size_t)m->c.E, H = (size_t)m->c.H, N = (size_t)m->N;
    size_t S = (size_t)m->S, T = (size_t)m->T, ST = S > T ? S : T, K = (size_t)m->K;
    size_t nh = (size_t)m->c.heads, n = 0;
#define TAKE(p, cnt) (b->p = base ? base + n : NULL, n += (cnt))
    TAKE(Xe, S * B * E); TAKE(Ge, S * B * 4 * H); TAKE(Ce, (S + 1) * B * H);
    TAKE(He, (S + 1) * B * H);
    TAKE(Xd, T * B * E); TAKE(Gd, T * B * 4 * H); TAKE(Cd, (T + 1) * B * H);
    TAKE(Hd, (T + 1) * B * H);
    TAKE(Q, nh * T * B * K); TAKE(Al, nh * B * T * S); TAKE(Cr, nh * T * B * K);
    TAKE(Cx, T * B * H); TAKE(O, T * B * H); TAKE(Lg, T * B * N);
    TAKE(dO, T * B * H); TAKE(dCx, T * B * H); TAKE(dD, T * B * H); TAKE(dCr, T * B * K);
    TAKE(dQ, T * B * K); TAKE(dK, S * B * K); TAKE(dAl, B * T * S);
    TAKE(dG, ST * B * 4 * H); TAKE(dh, B * H); TAKE(dc, B * H); TAKE(dX, ST * B * E);
    TAKE(Lk, T * B * N);
#undef TAKE
    return n;
}

/* ---- init -------------------------------------------------------------------------------- */

/* w[n] ~ U(±bound); with twice, each value is the sum of two such draws (PyTorch's b_ih + b_hh). */
static void SN(fill_uniform)(R *w, long n, double bound, int twice, rng_t *r)
{
    for (long i = 0; i < n; i++) {
        double x = bound * (2.0 * rng_uniform(r) - 1.0);
        if (twice) x += bound * (2.0 * rng_uniform(r) - 1.0);
        w[i] = (R)x;
    }
}

/* PyTorch's default bound 1/sqrt(fan_in) of each tensor (before init_scale). */
static double SN(fan_bound)(const snell_net_t *m, int t)
{
    int fan = t == SNELL_OUT_W || t == SNELL_OUT_B ? 2 * m->c.H
            : t == SNELL_ATT_O || t == SNELL_ATT_o ? m->K : m->c.H;
    return m->c.init_scale / sqrt((double)fan);
}

/* Base tensors (embedding, both RNNs, output layer) from r, in tensor order. */
static void SN(init_base)(snell_net_t *m, rng_t *r)
{
    R *w = m->w;
    for (int t = 0; t < SNELL_FIRST_HEAD_TENSOR; t++) {
        long n = m->off[t + 1] - m->off[t];
        if (t == SNELL_EMB) {
            for (long i = 0; i < n; i++) w[i] = (R)(m->c.embed_std * rng_normal(r));
            continue;
        }
        int lstm_bias = m->c.cell == SNELL_LSTM && (t == SNELL_ENC_B || t == SNELL_DEC_B);
        SN(fill_uniform)(w + m->off[t], n, SN(fan_bound)(m, t), lstm_bias, r);
    }
}

/* Head k's four blocks (A_k, a_k, O_k, o_k) from r, in that order. */
static void SN(init_head)(snell_net_t *m, int k, rng_t *r)
{
    R *w = m->w;
    for (int t = SNELL_FIRST_HEAD_TENSOR; t < SNELL_N_TENSORS; t++) {
        long n = (m->off[t + 1] - m->off[t]) / m->c.heads;
        SN(fill_uniform)(w + m->off[t] + (long)k * n, n, SN(fan_bound)(m, t), 0, r);
    }
}

static int SN(init)(snell_net_t *m, uint64_t seed)
{
    SN(bufs_t) b;
    size_t nact = SN(layout)(m, &b, NULL);
    R *w = calloc((size_t)m->P * 4, sizeof(R));
    R *act = calloc(nact, sizeof(R));
    if (!w || !act) {
        free(w);
        free(act);
        return -1;
    }
    m->w = w;
    m->g = w + m->P;
    m->am = w + 2 * m->P;
    m->av = w + 3 * m->P;
    m->act = act;

    rng_t run, own;
    rng_init(&run, seed, RNG_STREAM_INIT);
    if (m->c.base_seed >= 0) {
        rng_init(&own, (uint64_t)m->c.base_seed, RNG_STREAM_INIT);
        SN(init_base)(m, &own);
    } else {
        SN(init_base)(m, &run);
    }
    for (int k = 0; k < m->c.heads; k++) {
        long hs = k < SNELL_SEEDED_HEADS ? m->c.head_seed[k] : -1;
        if (hs >= 0) rng_init(&own, (uint64_t)hs, SNELL_STREAM_HEAD);
        SN(init_head)(m, k, hs >= 0 ? &own : &run);
    }
    return 0;
}

/* ---- recurrent cells --------------------------------------------------------------------- */

/* LSTM forward over `steps` time steps for nb rows (measured hot kernel: the gate loop). X
 * [steps][nb][E]; G [steps][nb][4H] (overwritten with the gate activations i f g o); C, Hh
 * [steps+1][nb][H] with slot 0 the initial state. */
static void SN(lstm_fwd)(const snell_net_t *m, int steps, int nb, const R *X, const R *Wx,
                         const R *Wh, const R *bias, R *G, R *C, R *Hh)
{
    int E = m->c.E, H = m->c.H, H4 = 4 * H;
    SN(mm)(m, 0, 0, steps * nb, H4, E, 1, X, E, Wx, H4, 0, G, H4); /* all input terms at once */
    for (int s = 0; s < steps; s++) {
        R *g = G + (size_t)s * nb * H4;
        const R *hp = Hh + (size_t)s * nb * H, *cp = C + (size_t)s * nb * H;
        R *hn = Hh + (size_t)(s + 1) * nb * H, *cn = C + (size_t)(s + 1) * nb * H;
        SN(mm)(m, 0, 0, nb, H4, H, 1, hp, H, Wh, H4, 1, g, H4);
        for (int r = 0; r < nb; r++) {
            R *gr = g + (size_t)r * H4;
            for (int j = 0; j < H; j++) {
                R i = SN(sigm)(gr[j] + bias[j]), f = SN(sigm)(gr[H + j] + bias[H + j]);
                R gg = RTANH(gr[2 * H + j] + bias[2 * H + j]);
                R o = SN(sigm)(gr[3 * H + j] + bias[3 * H + j]);
                gr[j] = i;
                gr[H + j] = f;
                gr[2 * H + j] = gg;
                gr[3 * H + j] = o;
                R c = f * cp[(size_t)r * H + j] + i * gg;
                cn[(size_t)r * H + j] = c;
                hn[(size_t)r * H + j] = o * RTANH(c);
            }
        }
    }
}

/* Backward through lstm_fwd. dHext [steps][nb][H] (or NULL): gradient reaching each output h
 * from outside. dh, dc [nb][H]: in, the gradient on the final state; out, on the initial state.
 * dG [steps][nb][4H] scratch. Accumulates into dWx, dWh, db; overwrites dX [steps][nb][E]. */
static void SN(lstm_bwd)(const snell_net_t *m, int steps, int nb, const R *X, const R *Wx,
                         const R *Wh, const R *G, const R *C, const R *Hh, const R *dHext,
                         R *dh, R *dc, R *dG, R *dWx, R *dWh, R *db, R *dX)
{
    int E = m->c.E, H = m->c.H, H4 = 4 * H;
    for (int s = steps - 1; s >= 0; s--) {
        const R *g = G + (size_t)s * nb * H4;
        const R *cp = C + (size_t)s * nb * H, *cn = C + (size_t)(s + 1) * nb * H;
        const R *dx = dHext ? dHext + (size_t)s * nb * H : NULL;
        R *dg = dG + (size_t)s * nb * H4;
        for (int r = 0; r < nb; r++) {
            const R *gr = g + (size_t)r * H4;
            R *dgr = dg + (size_t)r * H4;
            for (int j = 0; j < H; j++) {
                size_t k = (size_t)r * H + j;
                R i = gr[j], f = gr[H + j], gg = gr[2 * H + j], o = gr[3 * H + j];
                R tc = RTANH(cn[k]);
                R dhk = dh[k] + (dx ? dx[k] : 0);
                R dck = dc[k] + dhk * o * (1 - tc * tc);
                dgr[j] = dck * gg * i * (1 - i);
                dgr[H + j] = dck * cp[k] * f * (1 - f);
                dgr[2 * H + j] = dck * i * (1 - gg * gg);
                dgr[3 * H + j] = dhk * tc * o * (1 - o);
                dc[k] = dck * f;
            }
        }
        /* dh for the previous step: dG_s · Whᵀ */
        SN(mm)(m, 0, 1, nb, H, H4, 1, dg, H4, Wh, H4, 0, dh, H);
    }
    size_t rows = (size_t)steps * nb;
    SN(mm)(m, 1, 0, H, H4, (int)rows, 1, Hh, H, dG, H4, 1, dWh, H4); /* h_{s-1}ᵀ dG_s */
    SN(mm)(m, 1, 0, E, H4, (int)rows, 1, X, E, dG, H4, 1, dWx, H4);
    SN(mm)(m, 0, 1, (int)rows, E, H4, 1, dG, H4, Wx, H4, 0, dX, E);
    SN(sum_rows)(db, dG, rows, H4, H4, 1);
}

/* GRU forward (PyTorch's: r, z = σ(x W_ir,z + b_i + h W_hr,z + b_h), n = tanh(x W_in + b_in +
 * r ⊙ (h W_hn + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h). X [steps][nb][E]; G [steps][nb][4H]
 * overwritten with r z n and h W_hn + b_hn; Hh [steps+1][nb][H], slot 0 the initial state;
 * gh [nb][3H] scratch. Measured hot kernel (the gate loop), like lstm_fwd. */
static void SN(gru_fwd)(const snell_net_t *m, int steps, int nb, const R *X, const R *Wx,
                        const R *Wh, const R *bias, R *G, R *Hh, R *gh)
{
    const int E = m->c.E, H = m->c.H, H3 = 3 * H, H4 = 4 * H;
    const R *bi = bias, *bh = bias + H3;
    SN(mm)(m, 0, 0, steps * nb, H3, E, 1, X, E, Wx, H3, 0, G, H4);
    for (int s = 0; s < steps; s++) {
        R *g = G + (size_t)s * nb * H4;
        const R *hp = Hh + (size_t)s * nb * H;
        R *hn = Hh + (size_t)(s + 1) * nb * H;
        SN(mm)(m, 0, 0, nb, H3, H, 1, hp, H, Wh, H3, 0, gh, H3);
        for (int r = 0; r < nb; r++) {
            R *gr = g + (size_t)r * H4;
            const R *hr = gh + (size_t)r * H3;
            for (int j = 0; j < H; j++) {
                R rr = SN(sigm)(gr[j] + bi[j] + hr[j] + bh[j]);
                R zz = SN(sigm)(gr[H + j] + bi[H + j] + hr[H + j] + bh[H + j]);
                R hl = hr[2 * H + j] + bh[2 * H + j];
                R nn = RTANH(gr[2 * H + j] + bi[2 * H + j] + rr * hl);
                gr[j] = rr;
                gr[H + j] = zz;
                gr[2 * H + j] = nn;
                gr[3 * H + j] = hl;
                size_t k = (size_t)r * H + j;
                hn[k] = (1 - zz) * nn + zz * hp[k];
            }
        }
    }
}

/* Backward through gru_fwd; arguments as lstm_bwd (no cell state). dG row: the pre-activation
 * gradients of r and z, of h W_hn + b_hn, and of the input part of n; its first 3H columns are
 * the recurrent gates' gradient, columns 0..2H-1 and 3H..4H-1 the input gates'. */
static void SN(gru_bwd)(const snell_net_t *m, int steps, int nb, const R *X, const R *Wx,
                        const R *Wh, const R *G, const R *Hh, const R *dHext, R *dh, R *dG,
                        R *dWx, R *dWh, R *db, R *dX)
{
    const int E = m->c.E, H = m->c.H, H2 = 2 * H, H3 = 3 * H, H4 = 4 * H;
    for (int s = steps - 1; s >= 0; s--) {
        const R *g = G + (size_t)s * nb * H4, *hp = Hh + (size_t)s * nb * H;
        const R *dx = dHext ? dHext + (size_t)s * nb * H : NULL;
        R *dg = dG + (size_t)s * nb * H4;
        for (int r = 0; r < nb; r++) {
            const R *gr = g + (size_t)r * H4;
            R *dgr = dg + (size_t)r * H4;
            for (int j = 0; j < H; j++) {
                size_t k = (size_t)r * H + j;
                R rr = gr[j], zz = gr[H + j], nn = gr[2 * H + j], hl = gr[3 * H + j];
                R dhk = dh[k] + (dx ? dx[k] : 0);
                R dn = dhk * (1 - zz) * (1 - nn * nn);
                dgr[j] = dn * hl * rr * (1 - rr);
                dgr[H + j] = dhk * (hp[k] - nn) * zz * (1 - zz);
                dgr[2 * H + j] = dn * rr;
                dgr[3 * H + j] = dn;
                dh[k] = dhk * zz;
            }
        }
        SN(mm)(m, 0, 1, nb, H, H3, 1, dg, H4, Wh, H3, 1, dh, H);
    }
    const int rows = steps * nb;
    SN(mm)(m, 1, 0, H, H3, rows, 1, Hh, H, dG, H4, 1, dWh, H3);
    SN(mm)(m, 1, 0, E, H2, rows, 1, X, E, dG, H4, 1, dWx, H3);
    SN(mm)(m, 1, 0, E, H, rows, 1, X, E, dG + H3, H4, 1, dWx + H2, H3);
    SN(mm)(m, 0, 1, rows, E, H2, 1, dG, H4, Wx, H3, 0, dX, E);
    SN(mm)(m, 0, 1, rows, E, H, 1, dG + H3, H4, Wx + H2, H3, 1, dX, E);
    SN(sum_rows)(db, dG, (size_t)rows, H2, H4, 1);           /* b_ir, b_iz */
    SN(sum_rows)(db + H2, dG + H3, (size_t)rows, H, H4, 1);  /* b_in */
    SN(sum_rows)(db + H3, dG, (size_t)rows, H3, H4, 1);      /* b_hr, b_hz, b_hn */
}

/* One RNN (tensors wx, wx+1, wx+2: SNELL_ENC_WX or SNELL_DEC_WX) forward; scratch [nb][3H]. */
static void SN(rnn_fwd)(const snell_net_t *m, int wx, int steps, int nb, const R *X, R *G, R *C,
                        R *Hh, R *scratch)
{
    const R *w = m->w;
    const R *Wx = w + m->off[wx], *Wh = w + m->off[wx + 1], *bias = w + m->off[wx + 2];
    if (m->c.cell == SNELL_GRU)
        SN(gru_fwd)(m, steps, nb, X, Wx, Wh, bias, G, Hh, scratch);
    else
        SN(lstm_fwd)(m, steps, nb, X, Wx, Wh, bias, G, C, Hh);
}

/* Backward of rnn_fwd into m->g (accumulate); dh, dc as lstm_bwd (dc unused by the GRU). */
static void SN(rnn_bwd)(snell_net_t *m, int wx, int steps, int nb, const R *X, const R *G,
                        const R *C, const R *Hh, const R *dHext, R *dh, R *dc, R *dG, R *dX)
{
    const R *w = m->w;
    R *g = m->g;
    const R *Wx = w + m->off[wx], *Wh = w + m->off[wx + 1];
    R *gx = g + m->off[wx], *gh = g + m->off[wx + 1], *gb = g + m->off[wx + 2];
    if (m->c.cell == SNELL_GRU)
        SN(gru_bwd)(m, steps, nb, X, Wx, Wh, G, Hh, dHext, dh, dG, gx, gh, gb, dX);
    else
        SN(lstm_bwd)(m, steps, nb, X, Wx, Wh, G, C, Hh, dHext, dh, dc, dG, gx, gh, gb, dX);
}

/* ---- forward ----------------------------------------------------------------------------- */

/* Tokens of nb sequences into m->tok (source x_0..x_{L-1} EOS; decoder input SOS x_0..x_{L-1};
 * target x_0..x_{L-1} EOS) and their embeddings into Xe [S][nb][E], Xd [T][nb][E]. */
static void SN(embed)(snell_net_t *m, SN(bufs_t) *b, const int *seq, int nb)
{
    const int V = m->c.V, L = m->c.L, E = m->c.E, S = m->S, T = m->T;
    const R *emb = (const R *)m->w + m->off[SNELL_EMB];
    int *src = m->tok, *din = m->tok + (size_t)T * nb, *tgt = m->tok + (size_t)2 * T * nb;
    for (int bi = 0; bi < nb; bi++)
        for (int t = 0; t < T; t++) {
            int x = t < L ? seq[(size_t)bi * L + t] : V;
            src[(size_t)t * nb + bi] = x;
            tgt[(size_t)t * nb + bi] = x;
            din[(size_t)t * nb + bi] = t == 0 ? V + 1 : seq[(size_t)bi * L + t - 1];
        }
    for (size_t k = 0; k < (size_t)S * nb; k++)
        memcpy(b->Xe + k * E, emb + (size_t)src[k] * E, sizeof(R) * E);
    for (size_t k = 0; k < (size_t)T * nb; k++)
        memcpy(b->Xd + k * E, emb + (size_t)din[k] * E, sizeof(R) * E);
}

/* Encoder from the zero state, decoder from the encoder's final state. */
static void SN(encode_decode)(snell_net_t *m, SN(bufs_t) *b, int nb)
{
    const int H = m->c.H, S = m->S, T = m->T;
    memset(b->He, 0, sizeof(R) * nb * H);
    memset(b->Ce, 0, sizeof(R) * nb * H);
    SN(rnn_fwd)(m, SNELL_ENC_WX, S, nb, b->Xe, b->Ge, b->Ce, b->He, b->dG);
    memcpy(b->Hd, b->He + (size_t)S * nb * H, sizeof(R) * nb * H);
    memcpy(b->Cd, b->Ce + (size_t)S * nb * H, sizeof(R) * nb * H);
    SN(rnn_fwd)(m, SNELL_DEC_WX, T, nb, b->Xd, b->Gd, b->Cd, b->Hd, b->dG);
}

/* Softmax of each of rows rows of a [rows][n] in place. */
static void SN(softmax_rows)(R *a, size_t rows, int n)
{
    for (size_t k = 0; k < rows; k++, a += n) {
        R mx = a[0];
        for (int s = 1; s < n; s++) mx = a[s] > mx ? a[s] : mx;
        double z = 0;
        for (int s = 0; s < n; s++) z += (a[s] = REXP(a[s] - mx));
        for (int s = 0; s < n; s++) a[s] = (R)(a[s] / z);
    }
}

/* Head k: attention α^k [nb][T][S] = softmax_s((d_t A_k + a_k) · k_s) (or uniform) and raw
 * context Cr_k [T][nb][K] = Σ_s α^k_ts k_s (overwrite). Kv [S][nb][K] keys, D [T][nb][H]. */
static void SN(head_fwd)(snell_net_t *m, SN(bufs_t) *b, int nb, int k, const R *Kv, const R *D)
{
    const int H = m->c.H, K = m->K, S = m->S, T = m->T, BK = nb * K;
    const R *w = m->w;
    R *Q = b->Q + (size_t)k * T * BK, *Al = b->Al + (size_t)k * nb * T * S;
    R *Cr = b->Cr + (size_t)k * T * BK;
    if (m->c.uniform) {
        for (size_t i = 0; i < (size_t)nb * T * S; i++) Al[i] = (R)1 / (R)S;
    } else {
        const R *A = w + m->off[SNELL_ATT_A] + (size_t)k * H * K;
        SN(mm)(m, 0, 0, T * nb, K, H, 1, D, H, A, K, 0, Q, K);
        SN(add_rows)(Q, w + m->off[SNELL_ATT_a] + (size_t)k * K, (size_t)T * nb, K, K);
        for (int bi = 0; bi < nb; bi++)
            SN(mm)(m, 0, 1, T, S, K, 1, Q + (size_t)bi * K, BK, Kv + (size_t)bi * K, BK, 0,
                   Al + (size_t)bi * T * S, S);
        SN(softmax_rows)(Al, (size_t)nb * T, S);
    }
    for (int bi = 0; bi < nb; bi++)
        SN(mm)(m, 0, 0, T, K, S, 1, Al + (size_t)bi * T * S, S, Kv + (size_t)bi * K, BK, 0,
               Cr + (size_t)bi * K, BK);
}

/* The heads' combined context C [rows][H] = mean_k (Cr_k O_k + o_k) (overwrite), Cr_k = Cr +
 * k·hstride [rows][K] (hstride 0: every head reads the same matrix). */
static void SN(combine)(const snell_net_t *m, const R *Cr, size_t hstride, size_t rows, R *C)
{
    const int nh = m->c.heads, K = m->K, H = m->c.H;
    const R inv = (R)1 / (R)nh, *O = (const R *)m->w + m->off[SNELL_ATT_O];
    const R *o = (const R *)m->w + m->off[SNELL_ATT_o];
    for (int k = 0; k < nh; k++)
        SN(mm)(m, 0, 0, (int)rows, H, K, inv, Cr + k * hstride, K, O + (size_t)k * K * H, H,
               k ? 1 : 0, C, H);
    for (int k = 0; k < nh; k++)
        for (size_t r = 0; r < rows; r++)
            for (int j = 0; j < H; j++) C[r * H + j] += inv * o[(size_t)k * H + j];
}

/* The output layer on rows rows: O = tanh([D; C] W + b) [rows][H], logits Lg = O U + u
 * [rows][N] (both overwritten). */
static void SN(out_fwd)(const snell_net_t *m, const R *D, const R *C, size_t rows, R *O, R *Lg)
{
    const int H = m->c.H, N = m->N;
    const R *w = m->w, *W = w + m->off[SNELL_OUT_W];
    SN(mm)(m, 0, 0, (int)rows, H, H, 1, D, H, W, H, 0, O, H);
    SN(mm)(m, 0, 0, (int)rows, H, H, 1, C, H, W + (size_t)H * H, H, 1, O, H);
    SN(add_rows)(O, w + m->off[SNELL_OUT_B], rows, H, H);
    for (size_t k = 0; k < rows * H; k++) O[k] = RTANH(O[k]);
    SN(mm)(m, 0, 0, (int)rows, N, H, 1, O, H, w + m->off[SNELL_OUT_U], N, 0, Lg, N);
    SN(add_rows)(Lg, w + m->off[SNELL_OUT_UB], rows, N, N);
}

/* Summed cross-entropy of logits Lg [rows][N] against tgt [rows]; Lg is overwritten by the
 * probabilities and *correct counts the rows whose argmax is the target. */
static double SN(softmax_ce)(const snell_net_t *m, R *Lg, const int *tgt, size_t rows,
                             long *correct)
{
    const int N = m->N;
    double loss = 0;
    for (size_t k = 0; k < rows; k++) {
        R *l = Lg + k * N;
        int arg = 0;
        for (int j = 1; j < N; j++) arg = l[j] > l[arg] ? j : arg;
        double z = 0;
        for (int j = 0; j < N; j++) z += exp((double)l[j] - (double)l[arg]);
        double lse = (double)l[arg] + log(z);
        loss += lse - (double)l[tgt[k]];
        *correct += arg == tgt[k];
        for (int j = 0; j < N; j++) l[j] = (R)exp((double)l[j] - lse);
    }
    return loss;
}

/* Whole sequences right, and per head the target steps whose attention argmax is at s = t. */
static void SN(eval_stats)(const snell_net_t *m, const SN(bufs_t) *b, int nb, snell_stats_t *st)
{
    const int N = m->N, S = m->S, T = m->T;
    const int *tgt = m->tok + (size_t)2 * T * nb;
    for (int bi = 0; bi < nb; bi++) {
        int ok = 1;
        for (int t = 0; t < T; t++) {
            const R *p = b->Lg + ((size_t)t * nb + bi) * N;
            int arg = 0;
            for (int j = 1; j < N; j++) arg = p[j] > p[arg] ? j : arg;
            ok &= arg == tgt[(size_t)t * nb + bi];
            for (int k = 0; k < m->c.heads; k++) {
                const R *a = b->Al + (((size_t)k * nb + bi) * T + t) * S;
                int as = 0;
                for (int s = 1; s < S; s++) as = a[s] > a[as] ? s : as;
                st->attn_correct[k] += as == t;
            }
        }
        st->seq_correct += ok;
    }
}

/* The KTIW probe: every head's attention one-hot on the aligned s = t, so each head's raw
 * context is the key k_t, i.e. the key matrix itself (T = S); adds the clipped log-odds
 * log p/(1-p) of the gold token to st. Uses dCx, dO and Lk as scratch. */
static void SN(ktiw)(snell_net_t *m, SN(bufs_t) *b, int nb, const R *Kv, const R *D,
                     snell_stats_t *st)
{
    const int N = m->N, T = m->T;
    const size_t TB = (size_t)T * nb;
    const int *tgt = m->tok + (size_t)2 * T * nb;
    SN(combine)(m, Kv, 0, TB, b->dCx);
    SN(out_fwd)(m, D, b->dCx, TB, b->dO, b->Lk);
    for (size_t k = 0; k < TB; k++) {
        const R *l = b->Lk + k * N;
        int y = tgt[k];
        double mx = -INFINITY;
        for (int j = 0; j < N; j++) mx = fmax(mx, (double)l[j]);
        double zy = exp((double)l[y] - mx), zo = 0;
        for (int j = 0; j < N; j++)
            if (j != y) zo += exp((double)l[j] - mx);
        st->ktiw_sum += fmin(fmax(log(zy) - log(zo), -50.0), 50.0);
    }
}

/* ---- backward ---------------------------------------------------------------------------- */

/* From the probabilities in Lg: dlogits (p − onehot)/TB in place, the output layer's gradients
 * (accumulated into m->g), and dD, dCx [T][nb][H] (overwritten). */
static void SN(out_bwd)(snell_net_t *m, SN(bufs_t) *b, int nb, const R *D)
{
    const int H = m->c.H, N = m->N, TB = m->T * nb;
    const int *tgt = m->tok + (size_t)2 * m->T * nb;
    const R *w = m->w, *W = w + m->off[SNELL_OUT_W];
    R *g = m->g, *gW = g + m->off[SNELL_OUT_W], *dL = b->Lg, *dO = b->dO;
    for (int k = 0; k < TB; k++) {
        R *l = dL + (size_t)k * N;
        l[tgt[k]] -= 1;
        for (int j = 0; j < N; j++) l[j] /= (R)TB;
    }
    SN(sum_rows)(g + m->off[SNELL_OUT_UB], dL, (size_t)TB, N, N, 1);
    SN(mm)(m, 1, 0, H, N, TB, 1, b->O, H, dL, N, 1, g + m->off[SNELL_OUT_U], N);
    SN(mm)(m, 0, 1, TB, H, N, 1, dL, N, w + m->off[SNELL_OUT_U], N, 0, dO, H);
    for (size_t k = 0; k < (size_t)TB * H; k++) dO[k] *= 1 - b->O[k] * b->O[k]; /* tanh */
    SN(sum_rows)(g + m->off[SNELL_OUT_B], dO, (size_t)TB, H, H, 1);
    SN(mm)(m, 1, 0, H, H, TB, 1, D, H, dO, H, 1, gW, H);
    SN(mm)(m, 1, 0, H, H, TB, 1, b->Cx, H, dO, H, 1, gW + (size_t)H * H, H);
    SN(mm)(m, 0, 1, TB, H, H, 1, dO, H, W, H, 0, b->dD, H);
    SN(mm)(m, 0, 1, TB, H, H, 1, dO, H, W + (size_t)H * H, H, 0, b->dCx, H);
}

/* Softmax backward of each of T rows of S in place: d ← a ⊙ (d − a·d). */
static void SN(softmax_bwd)(const R *a, R *d, int T, int S)
{
    for (int t = 0; t < T; t++, a += S, d += S) {
        double dot = 0;
        for (int s = 0; s < S; s++) dot += (double)a[s] * d[s];
        for (int s = 0; s < S; s++) d[s] = (R)(a[s] * (d[s] - dot));
    }
}

/* Backward through head k from its share dCx/nh of the context gradient: gO_k, go_k, the keys'
 * gradient dK [S][nb][K] (accumulate) and, unless uniform, gA_k, ga_k and dD (accumulate). */
static void SN(head_bwd)(snell_net_t *m, SN(bufs_t) *b, int nb, int k, const R *Kv, const R *D)
{
    const int H = m->c.H, K = m->K, S = m->S, T = m->T, BK = nb * K, TB = T * nb;
    const R inv = (R)1 / (R)m->c.heads, *w = m->w;
    const R *Q = b->Q + (size_t)k * T * BK, *Al = b->Al + (size_t)k * nb * T * S;
    const R *A = w + m->off[SNELL_ATT_A] + (size_t)k * H * K;
    R *g = m->g;
    SN(mm)(m, 1, 0, K, H, TB, inv, b->Cr + (size_t)k * T * BK, K, b->dCx, H, 1,
           g + m->off[SNELL_ATT_O] + (size_t)k * K * H, H);
    SN(sum_rows)(g + m->off[SNELL_ATT_o] + (size_t)k * H, b->dCx, (size_t)TB, H, H, inv);
    SN(mm)(m, 0, 1, TB, K, H, inv, b->dCx, H, w + m->off[SNELL_ATT_O] + (size_t)k * K * H, H, 0,
           b->dCr, K);
    for (int bi = 0; bi < nb; bi++) {
        const R *al = Al + (size_t)bi * T * S, *kv = Kv + (size_t)bi * K;
        const R *dcr = b->dCr + (size_t)bi * K;
        R *dk = b->dK + (size_t)bi * K, *dal = b->dAl + (size_t)bi * T * S;
        SN(mm)(m, 1, 0, S, K, T, 1, al, S, dcr, BK, 1, dk, BK); /* value path */
        if (m->c.uniform) continue;
        SN(mm)(m, 0, 1, T, S, K, 1, dcr, BK, kv, BK, 0, dal, S);
        SN(softmax_bwd)(al, dal, T, S);
        SN(mm)(m, 0, 0, T, K, S, 1, dal, S, kv, BK, 0, b->dQ + (size_t)bi * K, BK);
        SN(mm)(m, 1, 0, S, K, T, 1, dal, S, Q + (size_t)bi * K, BK, 1, dk, BK); /* key path */
    }
    if (m->c.uniform) return;
    SN(mm)(m, 1, 0, H, K, TB, 1, D, H, b->dQ, K, 1, g + m->off[SNELL_ATT_A] + (size_t)k * H * K, K);
    SN(sum_rows)(g + m->off[SNELL_ATT_a] + (size_t)k * K, b->dQ, (size_t)TB, K, K, 1);
    SN(mm)(m, 0, 1, TB, H, K, 1, b->dQ, K, A, K, 1, b->dD, H);
}

/* emb[tok[k]] += dX[k] (+ dK[k] when dK is not NULL) for rows k < rows; accumulate. */
static void SN(scatter)(R *gemb, const int *tok, const R *dX, const R *dK, size_t rows, int E)
{
    for (size_t k = 0; k < rows; k++) {
        R *ge = gemb + (size_t)tok[k] * E;
        for (int e = 0; e < E; e++) ge[e] += dX[k * E + e];
        if (dK)
            for (int e = 0; e < E; e++) ge[e] += dK[k * E + e];
    }
}

/* Decoder, then encoder (which also receives the decoder's initial-state gradient and, when the
 * keys are the encoder outputs, dK), then the embedding rows of both inputs. */
static void SN(encdec_bwd)(snell_net_t *m, SN(bufs_t) *b, int nb)
{
    const int E = m->c.E, H = m->c.H, S = m->S, T = m->T;
    R *gemb = (R *)m->g + m->off[SNELL_EMB];
    memset(b->dh, 0, sizeof(R) * nb * H);
    memset(b->dc, 0, sizeof(R) * nb * H);
    SN(rnn_bwd)(m, SNELL_DEC_WX, T, nb, b->Xd, b->Gd, b->Cd, b->Hd, b->dD, b->dh, b->dc, b->dG,
                b->dX);
    SN(scatter)(gemb, m->tok + (size_t)T * nb, b->dX, NULL, (size_t)T * nb, E);
    SN(rnn_bwd)(m, SNELL_ENC_WX, S, nb, b->Xe, b->Ge, b->Ce, b->He,
                m->c.attend_embed ? NULL : b->dK, b->dh, b->dc, b->dG, b->dX);
    SN(scatter)(gemb, m->tok, b->dX, m->c.attend_embed ? b->dK : NULL, (size_t)S * nb, E);
}

/* ---- the network ------------------------------------------------------------------------- */

static double SN(forward)(snell_net_t *m, const int *seq, int nb, int want_grad,
                          snell_stats_t *st)
{
    SN(bufs_t) b;
    SN(layout)(m, &b, (R *)m->act);
    const int H = m->c.H, K = m->K, T = m->T;
    const size_t TB = (size_t)T * nb;
    SN(embed)(m, &b, seq, nb);
    SN(encode_decode)(m, &b, nb);
    const R *D = b.Hd + (size_t)nb * H; /* decoder outputs d_0..d_{T-1} */
    const R *Kv = m->c.attend_embed ? b.Xe : b.He + (size_t)nb * H; /* keys = values */
    for (int k = 0; k < m->c.heads; k++) SN(head_fwd)(m, &b, nb, k, Kv, D);
    SN(combine)(m, b.Cr, TB * K, TB, b.Cx);
    SN(out_fwd)(m, D, b.Cx, TB, b.O, b.Lg);
    long correct = 0;
    double loss = SN(softmax_ce)(m, b.Lg, m->tok + 2 * TB, TB, &correct) / (double)TB;
    if (st) {
        st->loss_sum += loss * (double)TB;
        st->tokens += (long)TB;
        st->correct += correct;
        st->seqs += nb;
    }
    if (!want_grad) {
        if (st) {
            SN(eval_stats)(m, &b, nb, st);
            SN(ktiw)(m, &b, nb, Kv, D, st);
        }
        return loss;
    }
    memset(m->g, 0, sizeof(R) * m->P);
    SN(out_bwd)(m, &b, nb, D);
    memset(b.dK, 0, sizeof(R) * (size_t)m->S * nb * K);
    for (int k = 0; k < m->c.heads; k++) SN(head_bwd)(m, &b, nb, k, Kv, D);
    SN(encdec_bwd)(m, &b, nb);
    return loss;
}
