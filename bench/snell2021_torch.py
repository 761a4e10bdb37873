#!/usr/bin/python3
"""snell2021_torch — the snell2021 model of attnsweep (src/models/snell2021/) in PyTorch, for the
benchmark (bench/snell2021.sh): shared embedding, 1-layer LSTM (or GRU) encoder and decoder (the
decoder starts from the encoder's final state), per head k a query (A_k d_t + a_k) . k_s over the
encoder outputs (or the source embeddings) and an output map O_k (sum_s a_ts k_s) + o_k, heads
averaged into c_t; o_t = tanh(W [d_t; c_t] + b), logits U o_t + u; teacher forcing, token
cross-entropy, Adam; fresh batches every step. One thread. Prints one JSON line.

usage: snell2021_torch.py [--vocab 40] [--seq-len 40] [--data-mode perm|distinct|iid]
                          [--embed-dim 256] [--hidden-dim 256] [--batch 128] [--steps 50]
                          [--lr 1e-3] [--seed 0] [--attend-to encoder|embedding] [--uniform]
                          [--heads 1] [--cell lstm|gru] [--warmup 3] [--log-every 0]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Copier(nn.Module):
    def __init__(self, n_tok, E, H, attend_embed, uniform, heads=1, cell="lstm"):
        super().__init__()
        K = E if attend_embed else H
        self.attend_embed, self.uniform = attend_embed, uniform
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.emb = nn.Embedding(n_tok, E)
        self.enc = rnn(E, H)
        self.dec = rnn(E, H)
        self.query = nn.ModuleList(nn.Linear(H, K) for _ in range(heads))
        self.proj = nn.ModuleList(nn.Linear(K, H) for _ in range(heads))
        self.comb = nn.Linear(2 * H, H)
        self.out = nn.Linear(H, n_tok)

    def forward(self, src, din):  # time-major [S, B], [T, B]
        xe = self.emb(src)
        he, state = self.enc(xe)
        d, _ = self.dec(self.emb(din), state)
        keys = (xe if self.attend_embed else he).transpose(0, 1)      # [B, S, K]
        dq = d.transpose(0, 1)                                        # [B, T, H]
        ctx, alphas = 0, []
        for q, p in zip(self.query, self.proj):
            if self.uniform:
                alpha = torch.full((dq.shape[0], dq.shape[1], keys.shape[1]), 1.0 / keys.shape[1])
            else:
                alpha = torch.softmax(torch.bmm(q(dq), keys.transpose(1, 2)), dim=-1)
            ctx = ctx + p(torch.bmm(alpha, keys)) / len(self.query)   # [B, T, H]
            alphas.append(alpha)
        o = torch.tanh(self.comb(torch.cat([dq, ctx], -1)))
        return self.out(o), alphas[0]                                 # [B, T, N]


def sample(mode, V, L, B, gen):
    if mode == "iid":
        return torch.randint(V, (B, L), generator=gen)
    return torch.argsort(torch.rand(B, V, generator=gen), dim=1)[:, :L]


def tensors(x, V):
    B, L = x.shape
    eos = torch.full((B, 1), V, dtype=torch.long)
    sos = torch.full((B, 1), V + 1, dtype=torch.long)
    src = torch.cat([x, eos], 1).t().contiguous()
    din = torch.cat([sos, x], 1).t().contiguous()
    return src, din, src.t()                                          # target [B, T]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=40)
    ap.add_argument("--seq-len", type=int, default=40)
    ap.add_argument("--data-mode", default="perm", choices=["perm", "distinct", "iid"])
    ap.add_argument("--embed-dim", type=int, default=256)
    ap.add_argument("--hidden-dim", type=int, default=256)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attend-to", default="encoder", choices=["encoder", "embedding"])
    ap.add_argument("--uniform", action="store_true")
    ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--log-every", type=int, default=0, help="print test token accuracy (0: never)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    V, L = a.vocab, a.seq_len
    model = Copier(V + 2, a.embed_dim, a.hidden_dim, a.attend_to == "embedding", a.uniform,
                   a.heads, a.cell)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    test = tensors(sample(a.data_mode, V, L, 256, gen), V)

    def step():
        src, din, tgt = tensors(sample(a.data_mode, V, L, a.batch, gen), V)
        logits, _ = model(src, din)
        loss = F.cross_entropy(logits.reshape(-1, V + 2), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    loss = float("nan")
    for s in range(a.steps):
        loss = step()
        if a.log_every and (s + 1) % a.log_every == 0:
            with torch.no_grad():
                logits, alpha = model(test[0], test[1])
                acc = (logits.argmax(-1) == test[2]).float().mean().item()
                T = alpha.shape[1]
                attn = (alpha.argmax(-1) == torch.arange(T)).float().mean().item()
            print(json.dumps({"step": s + 1, "loss": loss, "test_acc": acc, "attn_acc": attn}),
                  flush=True)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "steps": a.steps,
                      "seconds": dt, "cpu_seconds": cpu, "steps_per_s": a.steps / dt,
                      "final_loss": loss,
                      "vocab": V, "seq_len": L, "embed_dim": a.embed_dim,
                      "hidden_dim": a.hidden_dim, "batch": a.batch, "heads": a.heads,
                      "cell": a.cell}))


if __name__ == "__main__":
    main()
