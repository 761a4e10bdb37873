#!/usr/bin/python3
"""sakamoto2024 in PyTorch, one thread: the reference the attnsweep family is timed against.

Same data and model as src/models/sakamoto2024.c (n = 20 sequences of T = 8 tokens in R^d,
signals |mu| e_1 / e_2, rho = 0.1, 20% labels flipped, 1000 clean test sequences;
f(X) = sum_t softmax(X W p)_t <x_t, nu>, W and p trained by full-batch GD on the logistic loss,
autograd). Prints one JSON line: seconds per training step (the loop alone), and the extrapolated
time of the full run (steps, with train+test evaluation every log_every steps); CPU seconds
(time.process_time: one thread, so less inflated than wall time by other load).

  sakamoto2024_torch.py --dim 2000 [--signal-norm 20] [--steps 20] [--dtype float64]
                        [--order paper|wp]

--full trains all --run-steps steps (timed ones included) and adds the final accuracies: an
independent check of the reproduction (other RNG, autograd). --order paper computes the scores as (X @ W) @ p, as the authors' code does (2·nT·d² flops
forward); --order wp as X @ (W @ p) (2·d² forward), the cheapest order for autograd.
"""
import argparse
import json
import math
import time

import torch


def make_data(n, T, d, mu, rho, eta, gen, dtype):
    y = torch.cat([torch.ones(n - n // 2), -torch.ones(n // 2)]).to(dtype)
    X = torch.randn(n, T, d, generator=gen, dtype=dtype)
    kp = torch.where(y > 0, 0, 1)
    idx = torch.arange(n)
    X[idx, 0, kp] += mu
    X[idx, 1, kp] += rho * mu
    X[idx, 2, 1 - kp] += rho * mu
    k = round(eta * n)
    flip = torch.zeros(n, dtype=torch.bool)
    flip[: k // 2] = True
    n_plus = n - n // 2
    flip[n_plus: n_plus + (k - k // 2)] = True
    return X, torch.where(flip, -y, y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=2000)
    ap.add_argument("--signal-norm", type=float, default=20.0)
    ap.add_argument("--steps", type=int, default=20, help="timed training steps")
    ap.add_argument("--run-steps", type=int, default=1000, help="steps of the full run")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--order", choices=["paper", "wp"], default="paper")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--full", action="store_true",
                    help="also train the full run (--run-steps) and report final accuracies")
    a = ap.parse_args()

    torch.set_num_threads(1)
    dtype = getattr(torch, a.dtype)
    d, n, T, mu = a.dim, 20, 8, a.signal_norm
    gen = torch.Generator().manual_seed(a.seed)

    t0 = time.process_time()
    X, y = make_data(n, T, d, mu, 0.1, 0.2, gen, dtype)
    Xt, yt = make_data(a.n_test, T, d, mu, 0.1, 0.0, gen, dtype)
    nu = torch.zeros(d, dtype=dtype)
    nu[0], nu[1] = 1.0 / (math.sqrt(2) * mu), -1.0 / (math.sqrt(2) * mu)
    bound = 1.0 / math.sqrt(d)
    W = (torch.rand(d, d, generator=gen, dtype=dtype) * 2 - 1).mul_(bound).requires_grad_()
    p = torch.zeros(d, dtype=dtype, requires_grad=True)
    t_init = time.process_time() - t0

    def forward(Xb):
        scores = (Xb @ W) @ p if a.order == "paper" else Xb @ (W @ p)
        s = torch.softmax(scores, dim=-1)
        return (s * (Xb @ nu)).sum(dim=1), s

    def step():
        f, _ = forward(X)
        loss = torch.nn.functional.softplus(-y * f).mean()
        W.grad = p.grad = None
        loss.backward()
        with torch.no_grad():
            W.sub_(5e-3 * W.grad)
            p.sub_(5e-3 * p.grad)
        return loss.item()

    def evaluate():
        with torch.no_grad():
            f, s = forward(X)
            ft, _ = forward(Xt)
            return ((y * f > 0).double().mean().item(), (yt * ft > 0).double().mean().item())

    step()  # warm-up
    t0 = time.process_time()
    for _ in range(a.steps):
        step()
    t_step = (time.process_time() - t0) / a.steps
    t0 = time.process_time()
    n_eval = 3
    for _ in range(n_eval):
        evaluate()
    t_eval = (time.process_time() - t0) / n_eval
    final = {}
    if a.full:
        for _ in range(a.run_steps - a.steps - 1):
            step()
        final = dict(zip(("final_train_acc", "final_test_acc"), evaluate()))
    run = t_init + a.run_steps * t_step + (a.run_steps // a.log_every + 1) * t_eval
    print(json.dumps({"impl": f"torch-{a.dtype}-{a.order}", "dim": d, "signal_norm": mu,
                      "sec_per_step": t_step, "steps_per_sec": 1.0 / t_step,
                      "sec_per_eval": t_eval, "sec_init": t_init,
                      "sec_full_run": run, "timed_steps": a.steps,
                      "torch": torch.__version__, "threads": torch.get_num_threads(), **final}))


if __name__ == "__main__":
    main()
