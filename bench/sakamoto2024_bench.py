#!/usr/bin/python3
"""Benchmark driver: sakamoto2024 in attnsweep (both solvers) vs PyTorch (1 thread), same config.

For each d it times, on one core (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)):
  * seconds per training step — attnsweep: (time of S steps - time of 0 steps) / S via
    `attnsweep train` with log_every = S; PyTorch: bench/sakamoto2024_torch.py's timed loop;
  * the full run of examples/sakamoto2024-regimes.ini (1000 steps, train+test eval every 10
    steps, data generation and init included) — measured for attnsweep, extrapolated from the
    timed steps and evaluations for PyTorch.
All times are CPU seconds (user + sys; every side runs one thread), so load from other processes
inflates them less than wall time would. Prints a Markdown table.

  bench/sakamoto2024_bench.py BUILD_DIR [--dims 1000,2000,4500] [--torch-steps 10]
"""
import argparse
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "..", "examples", "sakamoto2024-regimes.ini")
MU = {1000: 80, 2000: 20, 4500: 5}
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def attnsweep_seconds(exe, dim, solver, steps, log_every):
    """CPU seconds (user + sys) of one `attnsweep train`: robust to other load on the machine."""
    mu = MU.get(dim, 20)
    cmd = [exe, "train", SPEC, "--run", "0", "--set", f"grid.dim={dim}",
           "--set", f"grid.signal_norm={mu}", "--set", "grid.seed=0",
           "--set", f"model.solver={solver}", "--set", f"train.steps={steps}",
           "--set", f"train.log_every={log_every}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def attnsweep_step(exe, dim, solver, steps):
    t0 = min(attnsweep_seconds(exe, dim, solver, 0, 1) for _ in range(2))
    tS = min(attnsweep_seconds(exe, dim, solver, steps, steps) for _ in range(2))
    return max(tS - t0, 1e-9) / steps


def torch_run(dim, order, steps):
    out = subprocess.run([sys.executable, os.path.join(HERE, "sakamoto2024_torch.py"),
                          "--dim", str(dim), "--signal-norm", str(MU.get(dim, 20)),
                          "--steps", str(steps), "--order", order],
                         capture_output=True, text=True, env=ENV, check=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("--dims", default="1000,2000,4500")
    ap.add_argument("--torch-steps", type=int, default=10)
    a = ap.parse_args()
    exe = os.path.join(a.build_dir, "attnsweep")
    rows = []
    for dim in [int(x) for x in a.dims.split(",")]:
        sub_step = attnsweep_step(exe, dim, "subspace", 200000)  # O((nT)^2) a step: many steps
        dir_step = attnsweep_step(exe, dim, "direct", 300 if dim <= 2000 else 60)
        sub_run = attnsweep_seconds(exe, dim, "subspace", 1000, 10)
        dir_run = attnsweep_seconds(exe, dim, "direct", 1000, 10)
        tp = torch_run(dim, "paper", a.torch_steps)
        tw = torch_run(dim, "wp", a.torch_steps)
        t_step = min(tp["sec_per_step"], tw["sec_per_step"])
        t_run = min(tp["sec_full_run"], tw["sec_full_run"])
        rows.append((dim, sub_step, dir_step, tp["sec_per_step"], tw["sec_per_step"], t_step,
                     sub_run, dir_run, tp["sec_full_run"], tw["sec_full_run"], t_run))
    print("| d | attnsweep subspace steps/s | attnsweep direct steps/s | torch (XW)p steps/s "
          "| torch X(Wp) steps/s | step ratio direct/torch-best | step ratio subspace/torch-best "
          "| full run: subspace s | direct s | torch best s | run ratio torch-best/subspace |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (dim, ss, ds, tps, tws, tb, sr, dr, tpr, twr, tbr) in rows:
        print(f"| {dim} | {1/ss:,.0f} | {1/ds:,.1f} | {1/tps:,.1f} | {1/tws:,.1f} | "
              f"{tb/ds:.1f}x | {tb/ss:,.0f}x | {sr:.2f} | {dr:.1f} | {tbr:.1f} | {tbr/sr:,.0f}x |")


if __name__ == "__main__":
    main()
