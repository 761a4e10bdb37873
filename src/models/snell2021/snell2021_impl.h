/* snell2021_impl — the precision-generic body of the snell2021 network (snell2021.h), included
 * twice by snell2021.c: once with R = float, once with R = double. Expects the macros
 *   R        the real type          SN(x)    a name suffixed by precision (x##_f / x##_d)
 *   KGEMM, KGEMM_REF  kern_gemm_f/_ref_f or kern_gemm_d/_ref_d (kernels.h)
 *   RTANH, REXP       tanhf/expf or tanh/exp
 * Activations are time-major: row (t, b) of a [T][nb][D] buffer is at (t·nb + b)·D, so each time
 * step, and the whole sequence, is one contiguous matrix for the BLAS calls. */

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

/* ---- activation buffers ------------------------------------------------------------------ */

typedef struct {
    R *Xe, *Ge, *Ce, *He;  /* encoder: inputs [S][B][E], gates [S][B][4H], c and h [S+1][B][H] */
    R *Xd, *Gd, *Cd, *Hd;  /* decoder: the same over T; Cd[0], Hd[0] = encoder final state */
    R *Q, *Al, *Cx, *U, *Lg; /* query [T][B][K], attention [B][T][S], context [T][B][K],
                                u [T][B][H], logits→probabilities [T][B][N]; K = key size */
    R *dU, *dCx, *dD, *dQ, *dK, *dAl, *dG, *dh, *dc, *dXd, *Lk; /* gradients; Lk: KTIW */
} SN(bufs_t);

/* Lay the buffers out from base (NULL: count only). Returns the number of reals. */
static size_t SN(layout)(const snell_net_t *m, SN(bufs_t) *b, R *base)
{
    size_t B = (size_t)m->c.B, E = (size_t)m->c.E, H = (size_t)m->c.H, N = (size_t)m->N;
    size_t S = (size_t)m->S, T = (size_t)m->T, ST = S > T ? S : T, K = E > H ? E : H;
    size_t n = 0;
#define TAKE(p, cnt) (b->p = base ? base + n : NULL, n += (cnt))
    TAKE(Xe, S * B * E); TAKE(Ge, S * B * 4 * H); TAKE(Ce, (S + 1) * B * H);
    TAKE(He, (S + 1) * B * H);
    TAKE(Xd, T * B * E); TAKE(Gd, T * B * 4 * H); TAKE(Cd, (T + 1) * B * H);
    TAKE(Hd, (T + 1) * B * H);
    TAKE(Q, T * B * K); TAKE(Al, B * T * S); TAKE(Cx, T * B * K); TAKE(U, T * B * H);
    TAKE(Lg, T * B * N);
    TAKE(dU, T * B * H); TAKE(dCx, T * B * K); TAKE(dD, T * B * H); TAKE(dQ, T * B * K);
    TAKE(dK, S * B * K);
    TAKE(dAl, B * T * S); TAKE(dG, ST * B * 4 * H); TAKE(dh, B * H); TAKE(dc, B * H);
TAKE(dXd, T * B * E); TAKE(Lk, T * B * N);
#undef TAKE
    return n;
}

/* ---- init -------------------------------------------------------------------------------- */

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

    rng_t r;
    rng_init(&r, seed, RNG_STREAM_INIT);
    int KD = m->c.attend_embed ? m->c.E : m->c.H;
    double kH = m->c.init_scale / sqrt((double)m->c.H), kK = m->c.init_scale / sqrt((double)KD);
    for (int t = 0; t < SNELL_N_TENSORS; t++) {
        double bound = (t == SNELL_OUT_P) ? kK : kH; /* fan_in: K for P, H otherwise */
        for (long i = m->off[t]; i < m->off[t + 1]; i++) {
            if (t == SNELL_EMB)
                w[i] = (R)(m->c.embed_std * rng_normal(&r));
            else
                w[i] = (R)(bound * (2.0 * rng_uniform(&r) - 1.0));
        }
    }
    return 0;
}

/* ---- LSTM -------------------------------------------------------------------------------- */

/* Forward over `steps` time steps for nb rows. X [steps][nb][E]; G [steps][nb][4H] (overwritten
 * with the gate activations i f g o); C, Hh [steps+1][nb][H] with slot 0 the initial state. */
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
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < H4; j++) db[j] += dG[r * H4 + j];
}

/* ---- the network ------------------------------------------------------------------------- */

static double SN(forward)(snell_net_t *m, const int *seq, int nb, int want_grad,
                          snell_stats_t *st)
{
    SN(bufs_t) b;
    SN(layout)(m, &b, (R *)m->act);
    const int V = m->c.V, L = m->c.L, E = m->c.E, H = m->c.H, N = m->N, S = m->S, T = m->T;
    const int KD = m->c.attend_embed ? E : H; /* attention key/value size */
    const size_t BK = (size_t)nb * KD;
    R *w = m->w;
    const R *emb = w + m->off[SNELL_EMB];
    const R *A = w + m->off[SNELL_ATT_A], *av = w + m->off[SNELL_ATT_a];
    const R *P = w + m->off[SNELL_OUT_P], *Wo = w + m->off[SNELL_OUT_W];
    const R *bo = w + m->off[SNELL_OUT_B];
    int *src = m->tok, *din = m->tok + (size_t)T * nb, *tgt = m->tok + (size_t)2 * T * nb;

    /* tokens: source x_0..x_{L-1} EOS; decoder input SOS x_0..x_{L-1}; target x_0.. EOS */
    for (int bi = 0; bi < nb; bi++)
        for (int t = 0; t < T; t++) {
            int x = t < L ? seq[(size_t)bi * L + t] : V;
            src[(size_t)t * nb + bi] = x;
            tgt[(size_t)t * nb + bi] = x;
            din[(size_t)t * nb + bi] = t == 0 ? V + 1 : seq[(size_t)bi * L + t - 1];
        }
    for (size_t k = 0; k < (size_t)S * nb; k++)
        memcpy(b.Xe + k * E, emb + (size_t)src[k] * E, sizeof(R) * E);
    for (size_t k = 0; k < (size_t)T * nb; k++)
        memcpy(b.Xd + k * E, emb + (size_t)din[k] * E, sizeof(R) * E);

    /* encoder from zero state; decoder from the encoder's final state */
    memset(b.He, 0, sizeof(R) * nb * H);
    memset(b.Ce, 0, sizeof(R) * nb * H);
    SN(lstm_fwd)(m, S, nb, b.Xe, w + m->off[SNELL_ENC_WX], w + m->off[SNELL_ENC_WH],
                 w + m->off[SNELL_ENC_B], b.Ge, b.Ce, b.He);
    memcpy(b.Hd, b.He + (size_t)S * nb * H, sizeof(R) * nb * H);
    memcpy(b.Cd, b.Ce + (size_t)S * nb * H, sizeof(R) * nb * H);
    SN(lstm_fwd)(m, T, nb, b.Xd, w + m->off[SNELL_DEC_WX], w + m->off[SNELL_DEC_WH],
                 w + m->off[SNELL_DEC_B], b.Gd, b.Cd, b.Hd);
    const R *D = b.Hd + (size_t)nb * H; /* decoder outputs d_0..d_{T-1} */
    /* keys = values: the encoder outputs h_0..h_{S-1}, or the source embeddings */
    const R *Kv = m->c.attend_embed ? b.Xe : b.He + (size_t)nb * H;

    /* attention: q = d A + a; score = q · k_s; softmax over s (or uniform) */
    if (m->c.uniform) {
        for (size_t k = 0; k < (size_t)nb * T * S; k++) b.Al[k] = (R)1 / (R)S;
    } else {
        SN(mm)(m, 0, 0, T * nb, KD, H, 1, D, H, A, KD, 0, b.Q, KD);
        for (size_t k = 0; k < (size_t)T * nb; k++)
            for (int e = 0; e < KD; e++) b.Q[k * KD + e] += av[e];
        for (int bi = 0; bi < nb; bi++)
            SN(mm)(m, 0, 1, T, S, KD, 1, b.Q + (size_t)bi * KD, (int)BK, Kv + (size_t)bi * KD,
                   (int)BK, 0, b.Al + (size_t)bi * T * S, S);
        for (size_t k = 0; k < (size_t)nb * T; k++) {
            R *a = b.Al + k * S, mx = a[0];
            for (int s = 1; s < S; s++) mx = a[s] > mx ? a[s] : mx;
            double z = 0;
            for (int s = 0; s < S; s++) z += (a[s] = REXP(a[s] - mx));
            for (int s = 0; s < S; s++) a[s] = (R)(a[s] / z);
        }
    }
    for (int bi = 0; bi < nb; bi++) /* context c_t = Σ_s α_ts k_s */
        SN(mm)(m, 0, 0, T, KD, S, 1, b.Al + (size_t)bi * T * S, S, Kv + (size_t)bi * KD,
               (int)BK, 0, b.Cx + (size_t)bi * KD, (int)BK);

    /* output: u = tanh(c P + d); logits = u W + b; softmax cross-entropy */
    const size_t TB = (size_t)T * nb;
    memcpy(b.U, D, sizeof(R) * TB * H);
    SN(mm)(m, 0, 0, (int)TB, H, KD, 1, b.Cx, KD, P, H, 1, b.U, H);
    for (size_t k = 0; k < TB * H; k++) b.U[k] = RTANH(b.U[k]);
    SN(mm)(m, 0, 0, (int)TB, N, H, 1, b.U, H, Wo, N, 0, b.Lg, N);
    double loss = 0;
    long correct = 0, seq_ok = 0;
    for (size_t k = 0; k < TB; k++) {
        R *l = b.Lg + k * N;
        int arg = 0;
        for (int j = 0; j < N; j++) {
            l[j] += bo[j];
            if (l[j] > l[arg]) arg = j;
        }
        double z = 0;
        for (int j = 0; j < N; j++) z += exp((double)l[j] - (double)l[arg]);
        double lse = (double)l[arg] + log(z);
        loss += lse - (double)l[tgt[k]];
        correct += arg == tgt[k];
        for (int j = 0; j < N; j++) l[j] = (R)exp((double)l[j] - lse); /* probabilities */
    }
    loss /= (double)TB;

    if (st) {
        st->loss_sum += loss * (double)TB;
        st->tokens += (long)TB;
        st->correct += correct;
        st->seqs += nb;
    }
    if (!want_grad) {
        if (!st) return loss;
        for (int bi = 0; bi < nb; bi++) { /* whole sequences right, attention argmax at s = t */
            int ok = 1;
            for (int t = 0; t < T; t++) {
                const R *p = b.Lg + ((size_t)t * nb + bi) * N;
                int arg = 0;
                for (int j = 1; j < N; j++) arg = p[j] > p[arg] ? j : arg;
                ok &= arg == tgt[(size_t)t * nb + bi];
                const R *a = b.Al + ((size_t)bi * T + t) * S;
                int as = 0;
                for (int s = 1; s < S; s++) as = a[s] > a[as] ? s : as;
                st->attn_correct += as == t;
            }
            seq_ok += ok;
        }
        st->seq_correct += seq_ok;
        /* KTIW probe: attention one-hot on s = t makes the context k_t: the key matrix itself */
        memcpy(b.dU, D, sizeof(R) * TB * H);
        SN(mm)(m, 0, 0, (int)TB, H, KD, 1, Kv, KD, P, H, 1, b.dU, H);
        for (size_t k = 0; k < TB * H; k++) b.dU[k] = RTANH(b.dU[k]);
        SN(mm)(m, 0, 0, (int)TB, N, H, 1, b.dU, H, Wo, N, 0, b.Lk, N);
        for (size_t k = 0; k < TB; k++) {
            const R *l = b.Lk + k * N;
            int y = tgt[k];
            double mx = -INFINITY;
            for (int j = 0; j < N; j++) mx = fmax(mx, (double)l[j] + bo[j]);
            double zy = exp((double)l[y] + bo[y] - mx), zo = 0;
            for (int j = 0; j < N; j++)
                if (j != y) zo += exp((double)l[j] + bo[j] - mx);
            double lo = log(zy) - log(zo); /* log p/(1-p) */
            st->ktiw_sum += fmin(fmax(lo, -50.0), 50.0);
        }
        return loss;
    }

    /* ---- backward ---- */
    R *g = m->g;
    memset(g, 0, sizeof(R) * m->P);
    R *gemb = g + m->off[SNELL_EMB], *gA = g + m->off[SNELL_ATT_A], *ga = g + m->off[SNELL_ATT_a];
    R *gP = g + m->off[SNELL_OUT_P], *gW = g + m->off[SNELL_OUT_W], *gb = g + m->off[SNELL_OUT_B];
    R *dL = b.Lg; /* dlogits in place: (p - onehot) / TB */
    for (size_t k = 0; k < TB; k++) {
        R *l = dL + k * N;
        l[tgt[k]] -= 1;
        for (int j = 0; j < N; j++) {
            l[j] /= (R)TB;
            gb[j] += l[j];
        }
    }
    SN(mm)(m, 1, 0, H, N, (int)TB, 1, b.U, H, dL, N, 1, gW, N);
    SN(mm)(m, 0, 1, (int)TB, H, N, 1, dL, N, Wo, N, 0, b.dU, H);
    for (size_t k = 0; k < TB * H; k++) b.dU[k] *= 1 - b.U[k] * b.U[k]; /* through tanh */
    SN(mm)(m, 1, 0, KD, H, (int)TB, 1, b.Cx, KD, b.dU, H, 1, gP, H);
    SN(mm)(m, 0, 1, (int)TB, KD, H, 1, b.dU, H, P, H, 0, b.dCx, KD);
    memcpy(b.dD, b.dU, sizeof(R) * TB * H);

    /* attention: value path always, score path unless uniform */
    memset(b.dK, 0, sizeof(R) * S * BK);
    for (int bi = 0; bi < nb; bi++) {
        const R *al = b.Al + (size_t)bi * T * S, *kv = Kv + (size_t)bi * KD;
        const R *dcx = b.dCx + (size_t)bi * KD;
        R *dk = b.dK + (size_t)bi * KD, *dal = b.dAl + (size_t)bi * T * S;
        SN(mm)(m, 1, 0, S, KD, T, 1, al, S, dcx, (int)BK, 1, dk, (int)BK);
        if (m->c.uniform) continue;
        SN(mm)(m, 0, 1, T, S, KD, 1, dcx, (int)BK, kv, (int)BK, 0, dal, S);
        for (int t = 0; t < T; t++) { /* softmax backward */
            const R *a = al + (size_t)t * S;
            R *d = dal + (size_t)t * S;
            double dot = 0;
            for (int s = 0; s < S; s++) dot += (double)a[s] * d[s];
            for (int s = 0; s < S; s++) d[s] = (R)(a[s] * (d[s] - dot));
        }
        SN(mm)(m, 0, 0, T, KD, S, 1, dal, S, kv, (int)BK, 0, b.dQ + (size_t)bi * KD, (int)BK);
        SN(mm)(m, 1, 0, S, KD, T, 1, dal, S, b.Q + (size_t)bi * KD, (int)BK, 1, dk, (int)BK);
    }
    if (!m->c.uniform) {
        SN(mm)(m, 1, 0, H, KD, (int)TB, 1, D, H, b.dQ, KD, 1, gA, KD);
        for (size_t k = 0; k < TB; k++)
            for (int e = 0; e < KD; e++) ga[e] += b.dQ[k * KD + e];
        SN(mm)(m, 0, 1, (int)TB, H, KD, 1, b.dQ, KD, A, KD, 1, b.dD, H);
    }

    /* decoder, then encoder (gradients: the decoder's initial state, and the keys when they
     * are the encoder outputs) */
    memset(b.dh, 0, sizeof(R) * nb * H);
    memset(b.dc, 0, sizeof(R) * nb * H);
    SN(lstm_bwd)(m, T, nb, b.Xd, w + m->off[SNELL_DEC_WX], w + m->off[SNELL_DEC_WH], b.Gd, b.Cd,
                 b.Hd, b.dD, b.dh, b.dc, b.dG, g + m->off[SNELL_DEC_WX],
                 g + m->off[SNELL_DEC_WH], g + m->off[SNELL_DEC_B], b.dXd);
    /* scatter the decoder's input gradient, then reuse dXd for the encoder's */
    for (size_t k = 0; k < TB; k++) {
        R *ge = gemb + (size_t)din[k] * E;
        const R *d = b.dXd + k * E;
        for (int e = 0; e < E; e++) ge[e] += d[e];
    }
    SN(lstm_bwd)(m, S, nb, b.Xe, w + m->off[SNELL_ENC_WX], w + m->off[SNELL_ENC_WH], b.Ge, b.Ce,
                 b.He, m->c.attend_embed ? NULL : b.dK, b.dh, b.dc, b.dG, g + m->off[SNELL_ENC_WX],
                 g + m->off[SNELL_ENC_WH], g + m->off[SNELL_ENC_B], b.dXd);
    for (size_t k = 0; k < (size_t)S * nb; k++) {
        R *ge = gemb + (size_t)src[k] * E;
        const R *d1 = b.dXd + k * E, *d2 = b.dK + k * E;
        for (int e = 0; e < E; e++) ge[e] += d1[e];
        if (m->c.attend_embed)
            for (int e = 0; e < E; e++) ge[e] += d2[e];
    }
    return loss;
}
