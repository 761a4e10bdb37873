#!/usr/bin/python3
"""Reproduction check for sakamoto2024 (ctest label `slow`, declared in tests/sakamoto2024.cmake).

Trains regime cells of Sakamoto & Sato (2024) with `attnsweep train` (5 seeds each, cells
selected with --set) and checks the mean final train/test accuracy against the paper within
+-0.05, for the paper version whose settings the spec uses:
  final  examples/sakamoto2024-regimes.ini (trained W, rho 0.1, lr 5e-3, 1000 steps)
  v1     examples/sakamoto2024-v1.ini      (W = I, only p, rho 0.2, lr 1e-4, 5000 steps)
Cells whose paper number is not known ("?") are reported, not asserted. The v1 run also checks
that the token trajectory metrics agree with the accuracies: where no flipped label is fitted,
the traced flipped sample has a negative margin and the traced clean sample a positive one.
Usage: sakamoto2024_regimes.py ATTNSWEEP SPEC final|v1
"""
import subprocess
import sys

# version: [((dim, signal_norm), name, paper train acc, paper test acc, asserted)]
CELLS = {
    "final": [
        ((2000, 20), "benign overfitting", 1.0, 0.996, True),
        ((4500, 5), "harmful overfitting", 1.0, 0.867, True),
        # The final version prints 0.8 / 1.0 for its large-signal cell but not that cell's d
        # and |mu|; d = 500 is this spec's choice.
        ((500, 80), "no overfitting (d ours)", 0.8, 1.0, True),
        # v1's no-overfitting cell under the final settings: no paper number for this mix;
        # reported (flipped samples get fitted late, ~step 900 of 1000).
        ((1000, 80), "v1's cell, final settings", None, None, False),
    ],
    "v1": [
        ((1000, 80), "no overfitting", 0.8, 1.0, True),
        ((2000, 20), "balanced (v1)", None, None, False),
        ((4500, 5), "large noise (v1)", None, None, False),
    ],
}
SEEDS = 5
TOL = 0.05


def final_row(exe, spec, dim, mu, run):
    out = subprocess.run(
        [exe, "train", spec, "--run", str(run), "--set", f"grid.dim={dim}",
         "--set", f"grid.signal_norm={mu}"],
        check=True, capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l.strip()]
    header = lines[0].split(",")
    return {k: float(v) for k, v in zip(header, lines[-1].split(","))}


def paper(x):
    return "?" if x is None else f"{x:.3f}"


def main():
    exe, spec, version = sys.argv[1], sys.argv[2], sys.argv[3]
    failed = 0
    print(f"paper version: {version}")
    print(f"{'regime':28s} {'dim':>5s} {'|mu|':>5s}  train (paper)   test (paper)   per seed")
    for (dim, mu), name, p_train, p_test, asserted in CELLS[version]:
        rows = [final_row(exe, spec, dim, mu, s) for s in range(SEEDS)]
        tr = sum(r["train_acc"] for r in rows) / SEEDS
        te = sum(r["test_acc"] for r in rows) / SEEDS
        ok = p_train is not None and abs(tr - p_train) <= TOL and abs(te - p_test) <= TOL
        verdict = "ok" if ok else ("FAIL" if asserted else "reported")
        seeds = " ".join(f"{r['train_acc']:.2f}/{r['test_acc']:.3f}" for r in rows)
        print(f"{name:28s} {dim:5d} {mu:5g}  {tr:.3f} ({paper(p_train)})  "
              f"{te:.3f} ({paper(p_test)})  {seeds}  {verdict}")
        failed += asserted and not ok
        if version == "v1" and asserted:
            for s, r in enumerate(rows):
                unfitted = abs(r["train_acc"] - 0.8) < 1e-9  # all 4 flips unfitted
                print(f"  seed {s}: clean sample {r['clean_index']:.0f} token 1 weight "
                      f"{r['clean_token_1']:.3f} margin {r['clean_margin']:+.3f}; flipped "
                      f"sample {r['flipped_index']:.0f} token 1 {r['flipped_token_1']:.3f} "
                      f"margin {r['flipped_margin']:+.3f}")
                if unfitted and not (r["flipped_margin"] < 0 < r["clean_margin"]):
                    print(f"  FAIL seed {s}: train_acc 0.8 but the traced margins disagree")
                    failed += 1
    print(f"{failed} failure(s)" if failed else "every asserted cell within +-0.05 of the paper")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
