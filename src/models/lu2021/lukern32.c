/* lukern32 — the lu2021 family's float32 kernels (lukern32.h): each fast kernel is one body in
 * GCC vector extensions (8 floats), compiled twice — for any x86-64 (SSE2: two 4-lane halves)
 * and for AVX2 CPUs (one 8-lane register) — and chosen at run time; beside each, its `_ref` twin
 * in textbook loops for the tests. Element-wise operations only (the build's ISO C mode keeps
 * a·b + c from being fused), so both compilations give the same bits. No allocation, no state
 * but the AVX2 switch. */
#include <math.h>
#include <string.h>
#include "lukern32.h"
#include "luvec.h"

#define BODY VEC_INLINE
#define UNROLL _Pragma("GCC unroll 8") /* the small constant loops: accumulators in registers */

/* Sentence b's tokens. */
BODY const int32_t *sentence(const int32_t *tokens, const long *rows, int b, int L)
{
    return tokens + (size_t)(rows ? rows[b] : b) * (size_t)L;
}

/* ---- e^x ------------------------------------------------------------------------------ */

#define EXP_LO -87.0f              /* below: 0 (e^-87 > FLT_MIN, so every result is normal) */
#define EXP_HI 88.3762626647949f   /* above: +inf (keeps n ≤ 127 below) */

/* e^x = 2^n·e^r, n = round(x·log2 e), r = x − n·ln 2 in two parts (Cody–Waite), e^r by the
 * Cephes polynomial (|r| ≤ ln2/2). */
BODY v8f exp8(v8f x)
{
    const float magic = 12582912.0f; /* 1.5·2^23: t − magic rounds x·log2 e to an integer */
    v8f t = x * SPLAT(1.44269504088896341f) + SPLAT(magic);
    v8f n = t - SPLAT(magic);
    v8i ni = (v8i)t - SPLATI(0x4B400000); /* the integer n from t's mantissa */
    v8f r = x - n * SPLAT(0.693359375f);
    r = r - n * SPLAT(-2.12194440e-4f);
    v8f p = SPLAT(1.9875691500e-4f);
    p = p * r + SPLAT(1.3981999507e-3f);
    p = p * r + SPLAT(8.3334519073e-3f);
    p = p * r + SPLAT(4.1665795894e-2f);
    p = p * r + SPLAT(1.6666665459e-1f);
    p = p * r + SPLAT(5.0000001201e-1f);
    v8f y = (p * (r * r) + r) + SPLAT(1.0f);
    y = y * (v8f)((ni + SPLATI(127)) << 23);
    v8i lo = x < SPLAT(EXP_LO), hi = x > SPLAT(EXP_HI);
    return (v8f)(((v8i)y & ~(lo | hi)) | (hi & SPLATI(0x7F800000)));
}

BODY void exp_body(long n, const float *x, float *y)
{
    long i = 0;
    for (; i + 8 <= n; i += 8) store8(y + i, exp8(load8(x + i)));
    if (i < n) { /* the tail through a padded vector: the same element-wise bits */
        float buf[8] = {0};
        memcpy(buf, x + i, sizeof(float) * (size_t)(n - i));
        store8(buf, exp8(load8(buf)));
        memcpy(y + i, buf, sizeof(float) * (size_t)(n - i));
    }
}

/* ---- pooling and its adjoint ------------------------------------------------------------ */

/* ns sentences at once (ns·nv ≤ 8 vector accumulators, W = 8·nv): each keeps one chain per
 * column block, summed over i in order. */
BODY void pool_group(int ns, int nv, int b, int L, const int32_t *tokens, const long *rows,
                     const float *T, float *out)
{
    const int W = 8 * nv;
    const int32_t *t[8];
    v8f s[8];
    UNROLL
    for (int j = 0; j < ns; j++) t[j] = sentence(tokens, rows, b + j, L);
    UNROLL
    for (int k = 0; k < ns * nv; k++) s[k] = SPLAT(0.0f);
    for (int i = 0; i < L; i++) {
        UNROLL
        for (int j = 0; j < ns; j++) {
            const float *x = T + (size_t)t[j][i] * W;
            UNROLL
            for (int v = 0; v < nv; v++) s[j * nv + v] += load8(x + 8 * v);
        }
    }
    UNROLL
    for (int j = 0; j < ns; j++) {
        UNROLL
        for (int v = 0; v < nv; v++) store8(out + (size_t)(b + j) * W + 8 * v, s[j * nv + v]);
    }
}

/* Columns [d, d + 8·nv) of one sentence (nv ≤ 8 chains, constant per call site). */
BODY void pool_cols(int nv, int W, int d, int L, const int32_t *t, const float *T, float *out)
{
    v8f s[8];
    UNROLL
    for (int v = 0; v < nv; v++) s[v] = SPLAT(0.0f);
    for (int i = 0; i < L; i++) {
        const float *x = T + (size_t)t[i] * W + d;
        UNROLL
        for (int v = 0; v < nv; v++) s[v] += load8(x + 8 * v);
    }
    UNROLL
    for (int v = 0; v < nv; v++) store8(out + d + 8 * v, s[v]);
}

BODY void pool_body(int B, int L, int W, const int32_t *tokens, const long *rows, const float *T,
                    float *out)
{
    int b = 0;
    if (W == 8)
        for (; b + 8 <= B; b += 8) pool_group(8, 1, b, L, tokens, rows, T, out);
    else if (W == 16)
        for (; b + 4 <= B; b += 4) pool_group(4, 2, b, L, tokens, rows, T, out);
    for (; b < B; b++) { /* one sentence, 64 columns (8 chains) at a time */
        const int32_t *t = sentence(tokens, rows, b, L);
        float *o = out + (size_t)b * W;
        int d = 0;
        for (; d + 64 <= W; d += 64) pool_cols(8, W, d, L, t, T, o);
        switch ((W - d) / 8) {
        case 7: pool_cols(7, W, d, L, t, T, o); break;
        case 6: pool_cols(6, W, d, L, t, T, o); break;
        case 5: pool_cols(5, W, d, L, t, T, o); break;
        case 4: pool_cols(4, W, d, L, t, T, o); break;
        case 3: pool_cols(3, W, d, L, t, T, o); break;
        case 2: pool_cols(2, W, d, L, t, T, o); break;
        case 1: pool_cols(1, W, d, L, t, T, o); break;
        default: break;
        }
    }
}

/* nw words at once (nw·nv ≤ 8 chains, W = 8·nv), the shorter lists padded by skipping. */
BODY void gather_group(int nw, int nv, int j, const int32_t *words, const int32_t *ptr,
                       const int32_t *sen, const float *G, float *R)
{
    const int W = 8 * nv;
    v8f s[8];
    int n[8], nmin = ptr[j + 1] - ptr[j];
    UNROLL
    for (int k = 0; k < nw; k++) {
        n[k] = ptr[j + k + 1] - ptr[j + k];
        if (n[k] < nmin) nmin = n[k];
    }
    UNROLL
    for (int k = 0; k < nw * nv; k++) s[k] = SPLAT(0.0f);
    for (int i = 0; i < nmin; i++) {
        UNROLL
        for (int k = 0; k < nw; k++) {
            const float *g = G + (size_t)sen[ptr[j + k] + i] * W;
            UNROLL
            for (int v = 0; v < nv; v++) s[k * nv + v] += load8(g + 8 * v);
        }
    }
    UNROLL
    for (int k = 0; k < nw; k++) { /* each list's rest */
        for (int i = nmin; i < n[k]; i++) {
            const float *g = G + (size_t)sen[ptr[j + k] + i] * W;
            UNROLL
            for (int v = 0; v < nv; v++) s[k * nv + v] += load8(g + 8 * v);
        }
        UNROLL
        for (int v = 0; v < nv; v++) store8(R + (size_t)words[j + k] * W + 8 * v, s[k * nv + v]);
    }
}

BODY void gather_body(int n, const int32_t *words, const int32_t *ptr, const int32_t *sen, int W,
                      const float *G, float *R)
{
    int j = 0;
    if (W == 8)
        for (; j + 8 <= n; j += 8) gather_group(8, 1, j, words, ptr, sen, G, R);
    else if (W == 16)
        for (; j + 4 <= n; j += 4) gather_group(4, 2, j, words, ptr, sen, G, R);
    for (; j < n; j++) {
        float *r = R + (size_t)words[j] * W;
        for (int d = 0; d < W; d += 8) {
            v8f s = SPLAT(0.0f);
            for (int k = ptr[j]; k < ptr[j + 1]; k++) s += load8(G + (size_t)sen[k] * W + d);
            store8(r + d, s);
        }
    }
}

/* ---- the classifier and cross-entropy on one-vector rows ------------------------------- */

/* Transpose of 8 rows of 8: out[c][j] = in[j][c]. */
BODY void transpose8(const v8f in[8], v8f out[8])
{
    const v8i lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
    const v8i s0 = {0, 1, 8, 9, 4, 5, 12, 13}, s1 = {2, 3, 10, 11, 6, 7, 14, 15};
    const v8i h0 = {0, 1, 2, 3, 8, 9, 10, 11}, h1 = {4, 5, 6, 7, 12, 13, 14, 15};
    v8f t[8], u[8];
    for (int k = 0; k < 4; k++) {
        t[2 * k] = __builtin_shuffle(in[2 * k], in[2 * k + 1], lo);
        t[2 * k + 1] = __builtin_shuffle(in[2 * k], in[2 * k + 1], hi);
    }
    for (int k = 0; k < 2; k++) {
        u[4 * k] = __builtin_shuffle(t[4 * k], t[4 * k + 2], s0);
        u[4 * k + 1] = __builtin_shuffle(t[4 * k], t[4 * k + 2], s1);
        u[4 * k + 2] = __builtin_shuffle(t[4 * k + 1], t[4 * k + 3], s0);
        u[4 * k + 3] = __builtin_shuffle(t[4 * k + 1], t[4 * k + 3], s1);
    }
    for (int k = 0; k < 4; k++) {
        out[k] = __builtin_shuffle(u[k], u[k + 4], h0);
        out[k + 4] = __builtin_shuffle(u[k], u[k + 4], h1);
    }
}

BODY v8f select8(v8i m, v8f a, v8f b) { return (v8f)((m & (v8i)a) | (~m & (v8i)b)); }

/* Eight sentences (the first n real): rows p[8] in, inv, m, s [8] and the G rows g[8] (when
 * want_g) out; the lanes are the sentences. Returns the hits among the n. */
BODY int xent8_group(int K, int n, const v8f p[8], v8i y, float scale, float *inv, float *m,
                     float *s, v8f g[8], int want_g)
{
    v8f col[8], Z[8], e[8], vi = SPLAT(0.0f);
    transpose8(p, col);
    UNROLL
    for (int c = 0; c < 8; c++) {
        Z[c] = e[c] = SPLAT(0.0f);
        if (c == K) vi = SPLAT(1.0f) / col[c];
    }
    v8f best = SPLAT(0.0f), zy = SPLAT(0.0f), sum = SPLAT(0.0f);
    v8i arg = SPLATI(0);
    UNROLL
    for (int c = 0; c < 7; c++)
        if (c < K) {
            Z[c] = col[c] * vi;
            v8i gt = c == 0 ? SPLATI(-1) : Z[c] > best; /* the first maximum */
            best = select8(gt, Z[c], best);
            arg = (gt & SPLATI(c)) | (~gt & arg);
            zy = select8(y == SPLATI(c), Z[c], zy);
        }
    UNROLL
    for (int c = 0; c < 7; c++)
        if (c < K) {
            e[c] = exp8(Z[c] - best);
            sum += e[c];
        }
    store8(inv, vi);
    store8(m, best - zy);
    store8(s, sum);
    if (want_g) {
        v8f f = SPLAT(scale) / sum, t[8];
        UNROLL
        for (int c = 0; c < 8; c++) {
            if (c < K) {
                v8f dz = e[c] * f - select8(y == SPLATI(c), SPLAT(scale), SPLAT(0.0f));
                t[c] = dz * Z[c];
                col[c] = dz * vi;
            } else {
                t[c] = col[c] = SPLAT(0.0f);
            }
        }
        /* c_b = Σ_c dZ_c·Z_c in hsum8's order over the 8 lanes (the generic code's row dot) */
        v8f cc = ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
        UNROLL
        for (int c = 0; c < 8; c++)
            if (c == K) col[c] = -cc * vi;
        transpose8(col, g);
    }
    const v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
    v8i hit = (arg == y) & (lane < SPLATI(n));
    int h = 0;
    UNROLL
    for (int j = 0; j < 8; j++) h -= hit[j];
    return h;
}

BODY int xent8_body(int nb, int K, const float *pooled, const int32_t *labels, const long *rows,
                    float scale, float *inv, float *m, float *s, float *G)
{
    int hits = 0;
    for (int b = 0; b < nb; b += 8) {
        int n = nb - b < 8 ? nb - b : 8;
        v8f p[8], g[8];
        v8i y = SPLATI(0);
        float out[3][8];
        UNROLL
        for (int j = 0; j < 8; j++) { /* a short last group: rows of a harmless sentence */
            p[j] = j < n ? load8(pooled + (size_t)(b + j) * 8) : SPLAT(1.0f);
            y[j] = j < n ? labels[rows ? rows[b + j] : b + j] : 0;
        }
        hits += xent8_group(K, n, p, y, scale, out[0], out[1], out[2], g, G != NULL);
        memcpy(inv + b, out[0], sizeof(float) * (size_t)n);
        memcpy(m + b, out[1], sizeof(float) * (size_t)n);
        memcpy(s + b, out[2], sizeof(float) * (size_t)n);
        if (G)
            for (int j = 0; j < n; j++) store8(G + (size_t)(b + j) * 8, g[j]);
    }
    return hits;
}

/* ---- the two compilations and the switch ---------------------------------------------- */

static void exp_sse(long n, const float *x, float *y) { exp_body(n, x, y); }
static void pool_sse(int B, int L, int W, const int32_t *tk, const long *rw, const float *T,
                     float *out)
{
    pool_body(B, L, W, tk, rw, T, out);
}
static int xent8_sse(int nb, int K, const float *pooled, const int32_t *labels, const long *rows,
                     float scale, float *inv, float *m, float *s, float *G)
{
    return xent8_body(nb, K, pooled, labels, rows, scale, inv, m, s, G);
}

static void gather_sse(int n, const int32_t *words, const int32_t *ptr, const int32_t *sen, int W,
                       const float *G, float *R)
{
    gather_body(n, words, ptr, sen, W, G, R);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define KERN32_AVX2 1
#define AVX2 __attribute__((target("avx2")))
AVX2 static void exp_avx2(long n, const float *x, float *y) { exp_body(n, x, y); }
AVX2 static void pool_avx2(int B, int L, int W, const int32_t *tk, const long *rw, const float *T,
                           float *out)
{
    pool_body(B, L, W, tk, rw, T, out);
}
AVX2 static int xent8_avx2(int nb, int K, const float *pooled, const int32_t *labels,
                           const long *rows, float scale, float *inv, float *m, float *s, float *G)
{
    return xent8_body(nb, K, pooled, labels, rows, scale, inv, m, s, G);
}

AVX2 static void gather_avx2(int n, const int32_t *words, const int32_t *ptr, const int32_t *sen,
                             int W, const float *G, float *R)
{
    gather_body(n, words, ptr, sen, W, G, R);
}
#endif

static int avx2_on = -1; /* -1: not yet decided */

int lukern32_avx(int on)
{
    if (on < 0 && avx2_on >= 0) return avx2_on;
#ifdef KERN32_AVX2
    __builtin_cpu_init();
    int have = __builtin_cpu_supports("avx2") != 0;
    if (on >= 0 || avx2_on < 0) avx2_on = on == 0 ? 0 : have;
    return avx2_on;
#else
    (void)on;
    return avx2_on = 0;
#endif
}

static inline int use_avx2(void)
{
    if (avx2_on < 0) lukern32_avx(-1);
    return avx2_on;
}

void lukern32_exp(long n, const float *x, float *y)
{
#ifdef KERN32_AVX2
    if (use_avx2()) {
        exp_avx2(n, x, y);
        return;
    }
#endif
    exp_sse(n, x, y);
}

void lukern32_pool(int B, int L, int W, const int32_t *tokens, const long *rows, const float *T,
                   float *out)
{
#ifdef KERN32_AVX2
    if (use_avx2()) {
        pool_avx2(B, L, W, tokens, rows, T, out);
        return;
    }
#endif
    pool_sse(B, L, W, tokens, rows, T, out);
}

void lukern32_gather(int n, const int32_t *words, const int32_t *ptr, const int32_t *sen, int W,
                     const float *G, float *R)
{
#ifdef KERN32_AVX2
    if (use_avx2()) {
        gather_avx2(n, words, ptr, sen, W, G, R);
        return;
    }
#endif
    gather_sse(n, words, ptr, sen, W, G, R);
}

int lukern32_xent8(int nb, int K, const float *pooled, const int32_t *labels, const long *rows,
                   float scale, float *inv, float *m, float *s, float *G)
{
#ifdef KERN32_AVX2
    if (use_avx2()) return xent8_avx2(nb, K, pooled, labels, rows, scale, inv, m, s, G);
#endif
    return xent8_sse(nb, K, pooled, labels, rows, scale, inv, m, s, G);
}

/* ---- references --------------------------------------------------------------------------- */

void lukern32_exp_ref(long n, const float *x, float *y)
{
    for (long i = 0; i < n; i++) y[i] = expf(x[i]);
}

void lukern32_pool_ref(int B, int L, int W, const int32_t *tokens, const long *rows,
                       const float *T, float *out)
{
    for (int b = 0; b < B; b++) {
        const int32_t *t = tokens + (size_t)(rows ? rows[b] : b) * (size_t)L;
        for (int d = 0; d < W; d++) {
            float acc = 0.0f;
            for (int i = 0; i < L; i++) acc += T[(size_t)t[i] * W + d];
            out[(size_t)b * W + d] = acc;
        }
    }
}

void lukern32_gather_ref(int n, const int32_t *words, const int32_t *ptr, const int32_t *sen,
                         int W, const float *G, float *R)
{
    for (int j = 0; j < n; j++)
        for (int d = 0; d < W; d++) {
            float acc = 0.0f;
            for (int k = ptr[j]; k < ptr[j + 1]; k++) acc += G[(size_t)sen[k] * W + d];
            R[(size_t)words[j] * W + d] = acc;
        }
}

int lukern32_xent8_ref(int nb, int K, const float *pooled, const int32_t *labels,
                       const long *rows, float scale, float *inv, float *m, float *s, float *G)
{
    int hits = 0;
    for (int b = 0; b < nb; b++) {
        const float *p = pooled + (size_t)b * 8;
        int y = labels[rows ? rows[b] : b], arg = 0;
        float Z[8], e[8], vi = 1.0f / p[K], sum = 0.0f, cc = 0.0f;
        for (int c = 0; c < K; c++) {
            Z[c] = p[c] * vi;
            if (Z[c] > Z[arg]) arg = c;
        }
        for (int c = 0; c < K; c++) e[c] = Z[c] - Z[arg];
        lukern32_exp(K, e, e);
        for (int c = 0; c < K; c++) sum += e[c];
        inv[b] = vi;
        m[b] = Z[arg] - Z[y];
        s[b] = sum;
        hits += arg == y;
        if (!G) continue;
        float *g = G + (size_t)b * 8, f = scale / sum, t[8] = {0};
        for (int c = 0; c < 8; c++) g[c] = 0.0f;
        for (int c = 0; c < K; c++) {
            float dz = e[c] * f - (c == y ? scale : 0.0f);
            t[c] = dz * Z[c];
            g[c] = dz * vi;
        }
        cc = ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
        g[K] = -cc * vi;
    }
    return hits;
}
