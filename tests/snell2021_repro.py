#!/usr/bin/python3
"""Reproduction check for snell2021 (ctest label `slow`, declared in tests/snell2021.cmake).

Trains two runs of examples/snell2021-copy.ini (E = H = 64, the authors' output layer, Adam lr
1e-3, batch 128, 200 steps) side by side with `attnsweep train` and checks the contrast of Snell
et al. (2021) on them: 40 distinct tokens of 60 are copied (test token accuracy and attention
accuracy >= 0.95, KTIW probe > 2), while V = 40 permutations are not (test accuracy < 0.5,
attention accuracy < 0.5, KTIW probe below 0, near its chance value log(1/41) = -3.7).
Measured (x86-64, OpenBLAS): 0.998 / 0.998 / +3.20 and 0.115 / 0.002 / -3.49.
Usage: snell2021_repro.py ATTNSWEEP SPEC
"""
import subprocess
import sys

# (vocab, seed): name, check of the final (test_acc, attn_acc, ktiw)
CASES = [
    ((60, 0), "40 of 60, seed 0: copies", lambda a, t, k: a >= 0.95 and t >= 0.95 and k > 2),
    ((40, 2), "V = 40 permutations, seed 2: fails", lambda a, t, k: a < 0.5 and t < 0.5 and k < 0),
]


def start(exe, spec, vocab, seed):
    return subprocess.Popen(
        [exe, "train", spec, "--run", "0", "--set", f"grid.vocab={vocab}",
         "--set", f"grid.seed={seed}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def final(proc):
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit("attnsweep train failed: " + err)
    lines = [l for l in out.splitlines() if l.strip()]
    row = dict(zip(lines[0].split(","), lines[-1].split(",")))
    return float(row["test_acc"]), float(row["attn_acc"]), float(row["ktiw"])


def main():
    exe, spec = sys.argv[1], sys.argv[2]
    procs = [start(exe, spec, v, s) for (v, s), _, _ in CASES]
    failed = 0
    print(f"{'case':40s} test_acc attn_acc  ktiw")
    for proc, (_, name, ok) in zip(procs, CASES):
        a, t, k = final(proc)
        good = ok(a, t, k)
        print(f"{name:40s} {a:8.3f} {t:8.3f} {k:+6.2f}  {'ok' if good else 'FAIL'}")
        failed += not good
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
