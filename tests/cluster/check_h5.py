#!/usr/bin/python3
"""check_h5.py — verdicts of the cluster tests on a finished sweep file, read with h5py (not with
attnsweep itself, so a bug in `attnsweep status` cannot hide one in the file).

  check_h5.py FILE --ref REF [--where KEY=VALUE] [--snapshot SNAP] [--max-extra-attempts K]
              [--min-extra-attempts K]

FILE must have every run done, and /traces/* and /runs/trace_crc32 bit-identical to REF (an
uninterrupted sweep of the same spec). With --where (FILE is a slice of REF's sweep: --set
KEY=VALUE): compared with the rows of REF whose /runs/KEY equals VALUE, per-run traces only. With
--snapshot (a copy of FILE taken right after the sweep was killed): a run done in SNAP was not run
again (same attempts, rank, host, wall_seconds), and a run not done in SNAP was started exactly
once more. --max/--min-extra-attempts bound
Σ(attempts - 1) over all runs: re-runs caused by interruptions. Exit 0 = all checks passed."""
import argparse
import sys

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--ref", required=True)
    ap.add_argument("--where", metavar="KEY=VALUE")
    ap.add_argument("--snapshot")
    ap.add_argument("--max-extra-attempts", type=int)
    ap.add_argument("--min-extra-attempts", type=int)
    a = ap.parse_args()
    bad = []
    with h5py.File(a.file, "r") as f, h5py.File(a.ref, "r") as r:
        st = f["runs/status"][:]
        n = len(st)
        print(f"{a.file}: {n} runs, status counts {np.bincount(st, minlength=5).tolist()} "
              "(pending, done, failed, diverged, interrupted)")
        if not (st == 1).all():
            bad.append(f"{int((st != 1).sum())} run(s) not done: ids {np.flatnonzero(st != 1)[:20].tolist()}")
        if (r["runs/status"][:] != 1).any():
            bad.append("the reference file itself has runs not done")
        sel = slice(None)   # REF's rows that FILE holds
        if a.where:
            key, value = a.where.split("=", 1)
            col = r["runs"][key][:]
            sel = col == (value.encode() if col.dtype.kind == "S" else col.dtype.type(value))
            print(f"{a.where}: {int(sel.sum())} of {len(col)} runs of the reference")
        def names(h):   # a slice: its run ids and coordinates differ, its per-run traces must not
            return sorted(m for m in h["traces"].keys() if not a.where or h["traces"][m].ndim == 2)
        metrics = names(r)
        if names(f) != metrics:
            bad.append(f"trace datasets differ: {names(f)} vs {metrics}")
        for m in metrics:
            x, y = f["traces"][m][...], r["traces"][m][...][sel if r["traces"][m].ndim == 2 else ...]
            if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
                rows = [i for i in range(min(len(x), len(y))) if x[i].tobytes() != y[i].tobytes()]
                bad.append(f"/traces/{m} differs from the reference (runs {rows[:10]})")
        if f["runs/trace_crc32"][:].tobytes() != r["runs/trace_crc32"][:][sel].tobytes():
            bad.append("/runs/trace_crc32 differs from the reference")
        att = f["runs/attempts"][:].astype(np.int64)
        extra = int((att - 1).clip(min=0).sum())
        print(f"attempts: histogram {np.bincount(att).tolist()}, re-runs Σ(attempts-1) = {extra}")
        if (att < 1).any():
            bad.append("runs with attempts < 1")
        if a.max_extra_attempts is not None and extra > a.max_extra_attempts:
            bad.append(f"{extra} re-runs > {a.max_extra_attempts} allowed: work done twice")
        if a.min_extra_attempts is not None and extra < a.min_extra_attempts:
            bad.append(f"{extra} re-runs < {a.min_extra_attempts} expected: was the sweep interrupted at all?")
        if a.snapshot:
            with h5py.File(a.snapshot, "r") as s:
                sst = s["runs/status"][:]
                satt = s["runs/attempts"][:].astype(np.int64)
                was_done = sst == 1
                print(f"snapshot: {int(was_done.sum())} done, {int((satt > 0).sum() - was_done.sum())} "
                      f"started but not done, {int((satt == 0).sum())} never started")
                if was_done.all():
                    bad.append("the snapshot already had every run done: the kill came too late")
                if not was_done.any():
                    bad.append("the snapshot had no run done: the kill came too early to test resume")
                for col in ("attempts", "rank", "host", "wall_seconds", "trace_crc32"):
                    if (f["runs"][col][:][was_done] != s["runs"][col][:][was_done]).any():
                        bad.append(f"a run done before the kill was run again (/runs/{col} changed)")
                redo = np.flatnonzero(~was_done)
                wrong = redo[att[redo] != satt[redo] + 1]
                if len(wrong):
                    bad.append(f"runs not done at the kill were not started exactly once more: ids "
                               f"{wrong[:10].tolist()} attempts {att[wrong][:10].tolist()} "
                               f"(snapshot {satt[wrong][:10].tolist()})")
    for b in bad:
        print("FAIL:", b)
    print("OK" if not bad else f"{len(bad)} check(s) failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
