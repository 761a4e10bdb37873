#!/usr/bin/python3
"""phase_compare.py — how close adaptive phase diagrams come to a full grid's: for each adaptive
file (the rounds of `attnsweep refine` → `run --reuse`), the runs it holds and the CPU seconds they
cost against the full grid's, and the distance between its boundary (the metric's contour at the
level, analysis.phase.boundary) and the full grid's, in units of the full grid's spacing per axis:
the median and the largest distance from a point of either contour to the other (Hausdorff), and
the share of the full grid's points whose side of the level the adaptive file's map (nearest
measured point) gets wrong. The cost of an adaptive file is its runs' time as the full grid
measured it at the nearest full-grid point (the files may have run under different loads, so
their own run seconds do not compare).

  bench/phase_compare.py FULL.h5 ROUND0.h5 ROUND1.h5 ... [--x dim --y signal_norm]
                         [--metric final_train_acc] [--level 0.825]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from analysis import load  # noqa: E402
from analysis.phase import boundary, points  # noqa: E402


def _densify(segs, step):
    """Contour polylines as points at most `step` apart (in the scaled units)."""
    out = []
    for s in segs:
        for a, b in zip(s[:-1], s[1:]):
            n = max(1, int(np.ceil(np.hypot(*(b - a)) / step)))
            out.append(a + (b - a) * np.linspace(0, 1, n, endpoint=False)[:, None])
        out.append(s[-1:])
    return np.concatenate(out) if out else np.zeros((0, 2))


def _dist(a, b):
    """For each point of a, the distance to the nearest point of b."""
    if not len(a) or not len(b):
        return np.array([np.inf])
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).min(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("full")
    ap.add_argument("rounds", nargs="+")
    ap.add_argument("--x", default="dim")
    ap.add_argument("--y", default="signal_norm")
    ap.add_argument("--metric", default="final_train_acc")
    ap.add_argument("--level", type=float, default=0.825)
    a = ap.parse_args()

    full = load(a.full)
    fp = points(full, a.x, a.y, a.metric)
    xs, ys = np.unique(fp["x"]), np.unique(fp["y"])
    sx, sy = np.diff(xs).min(), np.diff(ys).min()  # the full grid's spacing: the unit

    def scaled(segs):
        return [np.column_stack([s[:, 0] / sx, s[:, 1] / sy]) for s in segs]

    ref = _densify(scaled(boundary(fp, a.level, "linear", "linear")), 0.05)
    side_full = fp["value"] >= a.level
    cpu_full = float(np.nansum(full.summaries["wall_seconds"]))
    print("| file | points | runs | % of full | cost: full-grid run seconds (% of full) | boundary "
          "distance median / max (grid steps) | points on the wrong side |")
    print("|---|---|---|---|---|---|---|")
    print("| %s (full %d × %d) | %d | %d | 100 | %.0f (100) | 0 / 0 | 0 |"
          % (os.path.basename(a.full), len(xs), len(ys), len(fp["x"]), full.n_runs, cpu_full))
    for path in a.rounds:
        s = load(path)
        p = points(s, a.x, a.y, a.metric)
        ok = np.isfinite(p["value"])
        own = _densify(scaled(boundary(p, a.level, "linear", "linear")), 0.05)
        d = np.concatenate([_dist(own, ref), _dist(ref, own)])
        # the adaptive map at every full-grid point: its nearest measured point's side
        px, py = p["x"][ok] / sx, p["y"][ok] / sy
        near = ((fp["x"][:, None] / sx - px[None]) ** 2 +
                (fp["y"][:, None] / sy - py[None]) ** 2).argmin(1)
        wrong = np.mean((p["value"][ok][near] >= a.level) != side_full)
        # cost: each run at the full grid's measured time of its nearest point
        rx, ry = np.asarray(s.params[a.x], float) / sx, np.asarray(s.params[a.y], float) / sy
        fx, fy = np.asarray(full.params[a.x], float) / sx, np.asarray(full.params[a.y], float) / sy
        nearest = ((rx[:, None] - fx[None]) ** 2 + (ry[:, None] - fy[None]) ** 2).argmin(1)
        cpu = float(np.nansum(full.summaries["wall_seconds"][nearest]))
        print("| %s | %d | %d | %.0f | %.0f (%.0f) | %.2f / %.2f | %.1f %% |"
              % (os.path.basename(path), len(p["x"]), s.n_runs, 100.0 * s.n_runs / full.n_runs,
                 cpu, 100.0 * cpu / cpu_full, np.median(d), d.max(), 100.0 * wrong))


if __name__ == "__main__":
    main()
