#!/usr/bin/python3
"""lu2021_torch — the lu2021 topic-word attention model (Lu, Mao & Nayak 2021) in plain PyTorch,
as a competent researcher would write it: the baseline that bench/lu2021.sh times against
`attnsweep train`. Same task, parameters, initialisation, loss, optimiser (full-batch GD with
torch.optim.SGD) and the same trace columns evaluated every log_every steps as attnsweep's
lu2021 family. The random numbers differ (torch.Generator, not attnsweep's rng), so
trajectories agree statistically; started from attnsweep's own data and weights (--init-from,
written by bench/lu2021_dump.c) in float64 they agree to rounding.

Usage: /usr/bin/python3 bench/lu2021_torch.py [--embed-dim 10] [--n-sentences 5000] ...
Prints the trace as CSV on stdout (header first) and one line on stderr:
  torch: steps=S wall_seconds=T (init+loop) cpu_seconds=C (same span) loop_seconds=T2 ...
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


class TopicAttention(nn.Module):
    """score_i = q·κ_{w_i}; a = softmax over the sentence's positions; h = Σ_i a_i v_{w_i};
    logits = Uᵀh with U ∈ R^{D×K} ~ N(0,1), U_kk = 1, fixed (the authors' FC classifier)."""

    def __init__(self, V, D, Dk, K, embed_std, query_std, gen, dtype, impl="bmm", sparse=False):
        super().__init__()
        self.impl = impl
        self.embed = (nn.EmbeddingBag(V, D, mode="sum", dtype=dtype, sparse=sparse)
                      if impl == "bag" else nn.Embedding(V, D, dtype=dtype, sparse=sparse))
        self.keys = nn.Embedding(V, Dk, dtype=dtype, sparse=sparse)
        with torch.no_grad():
            self.embed.weight.normal_(0.0, embed_std, generator=gen)
            self.keys.weight.zero_()
        self.query = nn.Parameter(torch.randn(Dk, generator=gen, dtype=dtype) * query_std,
                                  requires_grad=False)
        U = torch.randn(D, K, generator=gen, dtype=dtype)
        for k in range(min(D, K)):
            U[k, k] = 1.0
        self.register_buffer("U", U)

    def forward(self, x):
        """x [B, L] word ids → logits [B, K], attention [B, L], scores [B, L]."""
        kx = self.keys(x)                                   # [B, L, Dk]
        scores = torch.matmul(kx, self.query)               # [B, L]
        att = torch.softmax(scores, dim=1)                  # [B, L]
        if self.impl == "bag":                              # fused gather + weighted sum
            h = self.embed(x, per_sample_weights=att)       # [B, D]
        else:
            vx = self.embed(x)                              # [B, L, D]
            h = torch.bmm(att.unsqueeze(1), vx).squeeze(1)  # [B, D]
        return h @ self.U, att, scores


@torch.no_grad()
def evaluate(model, sets, K, W, m):
    """The trace row at the current weights (same columns as attnsweep's lu2021 family)."""
    (xtr, ytr), (xva, yva), (xte, yte) = sets
    logits, att, _ = model(xtr)
    loss = F.cross_entropy(logits, ytr).item()
    acc = lambda lg, y: (lg.argmax(1) == y).double().mean().item() if len(y) else float("nan")
    tr_acc = acc(logits, ytr)
    va_acc = acc(model(xva)[0], yva)
    te_logits = model(xte)[0]
    te_acc = acc(te_logits, yte)
    te_loss = F.cross_entropy(te_logits, yte).item()
    topic_att = att[:, 0].double().mean().item()          # topic word sits at position 0
    # SEN identity per topic word t: lhs = ||q||²||v_t||², rhs = 2 s_t + (2/m)(e^{s_t} - 1)
    q = model.query.double()
    s_t = model.keys.weight[: K * W].double() @ q
    v2 = (model.embed.weight[: K * W].double() ** 2).sum(1)
    q2 = (q * q).sum()
    lhs = q2 * v2
    rhs = 2 * s_t + (2.0 / m) * (torch.exp(s_t) - 1)
    resid = (lhs - rhs).abs() / torch.clamp(rhs, min=SEN_EPS)
    nt_score = (model.keys.weight[K * W:].double() @ q).mean().item()
    nt_norm = model.embed.weight[K * W:].double().norm(dim=1).mean().item()
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
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--impl", choices=["bmm", "bag"], default="bmm",
                    help="bmm: nn.Embedding gather [B,L,D] + bmm (the baseline); bag: "
                         "nn.EmbeddingBag(mode='sum', per_sample_weights=attention), fused")
    ap.add_argument("--init-from", metavar="FILE",
                    help="data + initial weights from bench/lu2021_dump (attnsweep's exactly); "
                         "overrides the task/model sizes; use with --dtype float64")
    ap.add_argument("--sparse", action="store_true",
                    help="sparse embedding gradients (nn.Embedding(sparse=True); SGD takes them)")
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
    model = TopicAttention(V, D, Dk, K, a.embed_std, a.query_std, gen, dtype, a.impl, a.sparse)
    if a.init_from:
        with torch.no_grad():
            model.embed.weight.copy_(w0["E"].view(V, D))
            model.keys.weight.copy_(w0["keys"].view(V, Dk))
            model.query.copy_(w0["q"])
            model.U.copy_(w0["U"].view(D, K))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=a.lr)
    xtr, ytr = sets[0]

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
        logits, _, _ = model(xtr)
        loss = F.cross_entropy(logits, ytr)
        loss.backward()
        opt.step()
    t2, c2 = time.perf_counter(), time.process_time()

    print("step," + ",".join(METRICS))
    for r in rows:
        print("%d," % r[0] + ",".join("%.9g" % v for v in r[1:]))
    wall = t2 - t0
    print("torch: steps=%d wall_seconds=%.4f cpu_seconds=%.4f loop_seconds=%.4f steps_per_s=%.3f "
          "impl=%s sparse=%d dtype=%s torch=%s threads=%d"
          % (a.steps, wall, c2 - c0, t2 - t1, a.steps / wall, a.impl, a.sparse, a.dtype,
             torch.__version__, torch.get_num_threads()), file=sys.stderr)


if __name__ == "__main__":
    main()
