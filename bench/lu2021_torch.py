#!/usr/bin/python3
"""lu2021_torch — the lu2021 topic-word attention model (Lu, Mao & Nayak 2021) in plain PyTorch,
as a capable researcher would write it: the baseline that bench/lu2021.sh times against
`attnsweep train`. Same task, parameters, initialisation, loss, optimiser (full-batch GD with
torch.optim.SGD) and the same trace columns evaluated every log_every steps as attnsweep's
lu2021 family. The random numbers differ (torch.Generator, not attnsweep's rng), so
trajectories agree statistically; started from attnsweep's own data and weights (--init-from,
written by bench/lu2021_dump.c) in float64 they agree to rounding.

Formulations (--impl), all autograd, one thread:
  bmm       the textbook one: keys and embeddings gathered per position ([B, L, Dk] and
            [B, L, D] tensors), scores by matmul, context by bmm.
  bag       scores once per vocabulary word (V·Dk) and gathered as scalars; the context by the
            fused gather-and-sum F.embedding_bag(per_sample_weights = attention): no [B, L, D]
            tensor. Its backward sorts the B·L word ids every step (half its time here).
  pool      (default) the attention of a word is e_w / z_b with e_w = exp(s_w − max s) once per
            word, so h_b = Σ_i e_{w_i} v_{w_i} / z_b: an unweighted sum-pool of the rows
            [e_w·v_w, e_w] (V × (D+1), all dense), by embedding_bag forward and, through a
            10-line autograd.Function, by embedding_bag over each word's sentences backward
            (index arrays made once from the fixed data: no sort, no scatter).
  poolproj  as pool, with the classifier applied once per word first (P = E·U, V × K), so the
            pooled rows are K + 1 wide instead of D + 1 (the same function).
--runs S trains S runs side by side in one batched graph ([S, V, D] parameters, each run its
own initial weights, shared data; the loss is the sum of the runs' mean losses, so each run gets
its own gradient): what a capable user would do for a seed sweep. The trace printed is run 0's;
the stderr line gives the time of all S (bench/lu2021.sh divides by S).

Usage: /usr/bin/python3 bench/lu2021_torch.py [--embed-dim 10] [--n-sentences 5000] ...
Prints the trace as CSV on stdout (header first) and one line on stderr:
  torch: steps=S wall_seconds=T (init+loop) cpu_seconds=C (same span) loop_seconds=T2 runs=S ...
"""
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # torch.set_num_threads(1) does not stop
os.environ.setdefault("OMP_NUM_THREADS", "1")       # OpenBLAS worker threads spinning
import argparse
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

METRICS = ["train_loss", "train_acc", "valid_acc", "test_acc", "test_loss", "topic_attention",
           "topic_score", "topic_embed_norm2", "sen_rhs", "sen_residual", "query_norm",
           "nontopic_score", "nontopic_norm"]
SEN_EPS = 1e-3  # floor of the SEN residual's denominator (as attnsweep)


def make_data(K, W, Vn, m, N, train_frac, valid_frac, gen):
    """Sentences as word ids [N, m+1]: position 0 holds one topic word of the sentence's class
    (uniform class, uniform among the class's W topic words), positions 1..m hold non-topic words
    drawn uniformly with replacement. Word ids: topic words of class k are k*W .. k*W+W-1,
    non-topic words are K*W .. K*W+Vn-1. Split in order: n_train = floor(N·train_frac),
    n_valid = floor(N·valid_frac), the test set gets the rest (as attnsweep's task.c)."""
    y = torch.randint(0, K, (N,), generator=gen)
    topic = y * W + torch.randint(0, W, (N,), generator=gen)
    nontopic = K * W + torch.randint(0, Vn, (N, m), generator=gen)
    x = torch.cat([topic[:, None], nontopic], dim=1)
    n_train = math.floor(N * train_frac + 1e-9)
    n_valid = math.floor(N * valid_frac + 1e-9)
    sl = [slice(0, n_train), slice(n_train, n_train + n_valid), slice(n_train + n_valid, N)]
    return [(x[s].contiguous(), y[s].contiguous()) for s in sl]


def load_dump(path):
    """Data and initial weights of one attnsweep run, written by bench/lu2021_dump.c."""
    import numpy as np
    with open(path, "rb") as f:
        if f.read(8) != b"LU21DUMP":
            sys.exit("lu2021_torch: %s is not an lu2021_dump file" % path)
        N, L, ntr, nva, nte, V, D, Dk, K, W = np.fromfile(f, "<i8", 10).tolist()
        tok = torch.from_numpy(np.fromfile(f, "<i4", N * L).astype(np.int64).reshape(N, L))
        lab = torch.from_numpy(np.fromfile(f, "<i4", N).astype(np.int64))
        w = {k: torch.from_numpy(np.fromfile(f, "<f8", n)) for k, n in
             [("E", V * D), ("keys", V * Dk), ("q", Dk), ("U", D * K)]}
    sl = [slice(0, ntr), slice(ntr, ntr + nva), slice(ntr + nva, N)]
    sets = [(tok[s].contiguous(), lab[s].contiguous()) for s in sl]
    dims = dict(V=V, D=D, Dk=Dk, K=K, W=W, m=L - 1)
    return sets, dims, w


class SumPool(torch.autograd.Function):
    """out[b] = Σ_i Y[x[b, i]] (rows of Y summed per sentence, no weights) and its adjoint
    gY[w] = Σ over w's occurrences (b, i) of G[b], both by embedding_bag(mode="sum") on index
    arrays fixed by the data (the adjoint's = each word's sentences, made once): no sort, no
    scatter in either direction."""

    @staticmethod
    def forward(ctx, Y, pool):
        ctx.pool = pool
        return F.embedding_bag(pool.x, Y, mode="sum")

    @staticmethod
    def backward(ctx, G):
        p = ctx.pool
        return F.embedding_bag(p.sen, G, p.ptr, mode="sum"), None


class Pool:
    """The fixed index arrays of SumPool for sentences x [B, L] over V words."""

    def __init__(self, x, V):
        self.x = x
        order = torch.argsort(x.reshape(-1), stable=True)
        self.sen = (order // x.shape[1]).contiguous()              # sentences, word by word
        counts = torch.bincount(x.reshape(-1), minlength=V)
        self.ptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)[:-1]])


class TopicAttention(nn.Module):
    """S independent runs of: score_i = q·κ_{w_i}; a = softmax over the sentence's positions;
    h = Σ_i a_i v_{w_i}; logits = Uᵀh with U ∈ R^{D×K} ~ N(0,1), U_kk = 1, fixed (the authors'
    FC classifier). Parameters E [S, V, D], keys [S, V, Dk]; q [S, Dk] and U [S, D, K] fixed."""

    def __init__(self, S, V, D, Dk, K, embed_std, query_std, gen, dtype, impl, sparse):
        super().__init__()
        self.S, self.V, self.D, self.K, self.impl, self.sparse = S, V, D, K, impl, sparse
        self.E = nn.Parameter(torch.empty(S, V, D, dtype=dtype))
        self.keys = nn.Parameter(torch.zeros(S, V, Dk, dtype=dtype))
        q, U = [], []
        with torch.no_grad():
            for s in range(S):  # run s: query, classifier, embeddings (in this order per run)
                q.append(torch.randn(Dk, generator=gen, dtype=dtype) * query_std)
                u = torch.randn(D, K, generator=gen, dtype=dtype)
                for k in range(min(D, K)):
                    u[k, k] = 1.0
                U.append(u)
                self.E[s].normal_(0.0, embed_std, generator=gen)
        self.register_buffer("q", torch.stack(q))
        self.register_buffer("U", torch.stack(U))
        self.cache = {}

    def cached(self, x, make):
        """Index arrays derived from a data set, made once per data set."""
        key = (x.data_ptr(), x.shape, make.__name__)
        if key not in self.cache:
            self.cache[key] = make(x)
        return self.cache[key]

    def bag_index(self, x):
        """Word ids of every run in one table of S·V rows: [S·B, L]."""
        off = (torch.arange(self.S) * self.V).view(self.S, 1, 1)
        return (x.unsqueeze(0) + off).reshape(self.S * x.shape[0], x.shape[1])

    def pool_index(self, x):
        return Pool(x, self.V)

    def forward(self, x):
        """x [B, L] word ids → logits [S, B, K], topic-word attention [S, B]."""
        S, B, L, V = self.S, x.shape[0], x.shape[1], self.V
        if self.impl == "bmm":
            kx = self.keys[:, x]                                      # [S, B, L, Dk]
            sx = (kx * self.q.view(S, 1, 1, -1)).sum(-1)              # [S, B, L]
            att = torch.softmax(sx, dim=2)
            vx = self.E[:, x].reshape(S * B, L, self.D)               # [S·B, L, D]
            h = torch.bmm(att.reshape(S * B, 1, L), vx).view(S, B, self.D)
            return torch.bmm(h, self.U), att[:, :, 0]
        s = torch.bmm(self.keys, self.q.unsqueeze(2)).squeeze(2)      # [S, V]: once per word
        if self.impl == "bag":
            sx = s.gather(1, x.reshape(1, -1).expand(S, -1)).view(S, B, L)  # scalars
            att = torch.softmax(sx, dim=2)
            idx, w = self.cached(x, self.bag_index), att.reshape(S * B, L)
            h = F.embedding_bag(idx, self.E.view(S * V, self.D), per_sample_weights=w,
                                mode="sum", sparse=self.sparse)
            return torch.bmm(h.view(S, B, self.D), self.U), att[:, :, 0]
        # pool / poolproj: a_bi = e_w / z_b with e_w = exp(s_w − max s) once per word, so
        # h_b = Σ_i e_{w_i} v_{w_i} / Σ_i e_{w_i}: one unweighted sum-pool of [e·v, e] rows
        e = torch.exp(s - s.max(dim=1, keepdim=True).values)          # [S, V]
        X = torch.bmm(self.E, self.U) if self.impl == "poolproj" else self.E  # [S, V, K or D]
        Y = torch.cat([e.unsqueeze(2) * X, e.unsqueeze(2)], dim=2)    # [S, V, F+1]
        Fw = Y.shape[2]
        Y = Y.permute(1, 0, 2).reshape(V, S * Fw)                     # runs side by side
        out = SumPool.apply(Y, self.cached(x, self.pool_index)).view(B, S, Fw).permute(1, 0, 2)
        z = out[:, :, -1:]
        h = out[:, :, :-1] / z
        att0 = e.gather(1, x[:, 0].reshape(1, -1).expand(S, -1)) / z[:, :, 0]
        return (h if self.impl == "poolproj" else torch.bmm(h, self.U)), att0


@torch.no_grad()
def evaluate(model, sets, K, W, m):
    """Run 0's trace row at the current weights (same columns as attnsweep's lu2021 family)."""
    (xtr, ytr), (xva, yva), (xte, yte) = sets
    logits, att0 = model(xtr)
    logits, att0 = logits[0], att0[0]
    loss = F.cross_entropy(logits, ytr).item()
    acc = lambda lg, y: (lg.argmax(1) == y).double().mean().item() if len(y) else float("nan")
    tr_acc = acc(logits, ytr)
    va_acc = acc(model(xva)[0][0], yva)
    te_logits = model(xte)[0][0]
    te_acc = acc(te_logits, yte)
    te_loss = F.cross_entropy(te_logits, yte).item()
    topic_att = att0.double().mean().item()              # topic word sits at position 0
    # SEN identity per topic word t: lhs = ||q||²||v_t||², rhs = 2 s_t + (2/m)(e^{s_t} - 1)
    q, keys, E = model.q[0].double(), model.keys[0].double(), model.E[0].double()
    s_t = keys[: K * W] @ q
    v2 = (E[: K * W] ** 2).sum(1)
    q2 = (q * q).sum()
    lhs = q2 * v2
    rhs = 2 * s_t + (2.0 / m) * (torch.exp(s_t) - 1)
    resid = (lhs - rhs).abs() / torch.clamp(rhs, min=SEN_EPS)
    nt_score = (keys[K * W:] @ q).mean().item()
    nt_norm = E[K * W:].norm(dim=1).mean().item()
    return [loss, tr_acc, va_acc, te_acc, te_loss, topic_att, s_t.mean().item(),
            lhs.mean().item(), rhs.mean().item(), resid.mean().item(), math.sqrt(q2.item()),
            nt_score, nt_norm]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--topics", type=int, default=4)
    ap.add_argument("--topic-words", type=int, default=2)
    ap.add_argument("--vocab-size", type=int, default=5000, help="V_n, non-topic words")
    ap.add_argument("--words-per-sentence", type=int, default=20, help="m")
    ap.add_argument("--n-sentences", type=int, default=5000)
    ap.add_argument("--train-frac", type=float, default=0.8)
    ap.add_argument("--valid-frac", type=float, default=0.01)
    ap.add_argument("--embed-dim", type=int, default=10)
    ap.add_argument("--key-dim", type=int, default=0, help="0 = embed_dim")
    ap.add_argument("--embed-std", type=float, default=1e-6)
    ap.add_argument("--query-std", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=1,
                    help="S runs side by side in one batched graph (shared data)")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--impl", choices=["bmm", "bag", "pool", "poolproj"], default="pool",
                    help="bmm: per-position gathers + bmm (textbook); bag: scores per word, "
                         "embedding_bag with the attention as weights; pool: exp-scores per "
                         "word, sum-pooling both ways (default); poolproj: pool of E·U rows")
    ap.add_argument("--init-from", metavar="FILE",
                    help="data + initial weights from bench/lu2021_dump (attnsweep's exactly); "
                         "overrides the task/model sizes; use with --dtype float64, --runs 1")
    ap.add_argument("--sparse", action="store_true",
                    help="sparse embedding gradients (impl bag; SGD takes them)")
    a = ap.parse_args()

    torch.set_num_threads(1)
    dtype = getattr(torch, a.dtype)
    K, W, m = a.topics, a.topic_words, a.words_per_sentence
    D, Dk = a.embed_dim, a.key_dim or a.embed_dim

    t0, c0 = time.perf_counter(), time.process_time()
    gen = torch.Generator().manual_seed(a.seed)
    if a.init_from:
        sets, dm, w0 = load_dump(a.init_from)
        K, W, m, D, Dk, V = dm["K"], dm["W"], dm["m"], dm["D"], dm["Dk"], dm["V"]
    else:
        sets = make_data(K, W, a.vocab_size, m, a.n_sentences, a.train_frac, a.valid_frac, gen)
        V = K * W + a.vocab_size
    model = TopicAttention(a.runs, V, D, Dk, K, a.embed_std, a.query_std, gen, dtype, a.impl,
                           a.sparse and a.impl == "bag")
    if a.init_from:
        with torch.no_grad():
            model.E[0].copy_(w0["E"].view(V, D))
            model.keys[0].copy_(w0["keys"].view(V, Dk))
            model.q[0].copy_(w0["q"])
            model.U[0].copy_(w0["U"].view(D, K))
    params = [model.E, model.keys]
    opt = torch.optim.SGD(params, lr=a.lr)
    xtr, ytr = sets[0]
    ytr_all = ytr.repeat(a.runs)

    rows = []
    t1 = time.perf_counter()
    for step in range(a.steps + 1):
        if step % a.log_every == 0:
            rows.append([step] + evaluate(model, sets, K, W, m))
            if not all(math.isfinite(v) for v in rows[-1]):
                break
        if step == a.steps:
            break
        opt.zero_grad(set_to_none=True)
        logits, _ = model(xtr)
        # Σ over runs of each run's mean cross-entropy: every run gets its own mean's gradient
        loss = F.cross_entropy(logits.reshape(-1, K), ytr_all, reduction="sum") / len(ytr)
        loss.backward()
        opt.step()
    t2, c2 = time.perf_counter(), time.process_time()

    print("step," + ",".join(METRICS))
    for r in rows:
        print("%d," % r[0] + ",".join("%.9g" % v for v in r[1:]))
    wall = t2 - t0
    print("torch: steps=%d wall_seconds=%.4f cpu_seconds=%.4f loop_seconds=%.4f steps_per_s=%.3f "
          "runs=%d impl=%s sparse=%d dtype=%s torch=%s threads=%d"
          % (a.steps, wall, c2 - c0, t2 - t1, a.steps / wall, a.runs, a.impl, a.sparse, a.dtype,
             torch.__version__, torch.get_num_threads()), file=sys.stderr)


if __name__ == "__main__":
    main()
