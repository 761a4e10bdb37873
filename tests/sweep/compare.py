#!/usr/bin/python3
"""compare.py A.h5 B.h5 — exit 0 iff two attnsweep files hold bit-identical results: every
/traces dataset and every /runs dataset except the per-execution columns (wall_seconds, rank,
host, attempts) are compared byte for byte (NaN payloads included). Used by tests/sweep.cmake."""
import sys

import h5py
import numpy as np

TIMING = {"wall_seconds", "rank", "host", "attempts"}


def raw(ds):
    a = ds[()]
    return a.tobytes(), a.dtype.str, a.shape


def main(a_path, b_path):
    bad = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for group, skip in (("traces", set()), ("runs", TIMING)):
            names = set(a[group]) | set(b[group])
            for name in sorted(names - skip):
                if name not in a[group] or name not in b[group]:
                    bad.append(f"/{group}/{name}: only in one file")
                    continue
                ra, rb = raw(a[group][name]), raw(b[group][name])
                if ra != rb:
                    x, y = a[group][name][()], b[group][name][()]
                    diff = np.nonzero(np.atleast_1d(x.view(np.uint8).reshape(x.shape[0], -1) !=
                                                    y.view(np.uint8).reshape(y.shape[0], -1)).any(axis=-1))[0] \
                        if x.shape == y.shape and x.ndim >= 1 else []
                    bad.append(f"/{group}/{name}: differs (runs {list(diff[:10])})")
        for key in ("spec_sha256", "n_runs", "metrics", "swept", "model"):
            if a.attrs.get(key) != b.attrs.get(key):
                bad.append(f"attribute {key}: {a.attrs.get(key)!r} != {b.attrs.get(key)!r}")
        n_done = int((a["runs/status"][()] == 1).sum())
    if bad:
        print(f"compare: {a_path} and {b_path} differ:\n  " + "\n  ".join(bad))
        return 1
    print(f"compare: {a_path} == {b_path} ({n_done} done runs, traces and results bit-identical)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
