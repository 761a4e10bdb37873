#!/usr/bin/python3
"""compare.py [--subset] A.h5 B.h5 — exit 0 iff two attnsweep files hold bit-identical results:
every /traces dataset and every /runs dataset except the per-execution columns (wall_seconds,
rank, host, attempts, reuse_id, reuse_file) are compared byte for byte (NaN payloads included). With --subset, A is a
file of an earlier format version: only its datasets are compared, by value (floats bit for bit,
strings as text), so datasets and attributes that B adds do not count. Used by tests/sweep.cmake."""
import sys

import h5py
import numpy as np

# per execution: where and when a run was trained, or which file it was copied from by --reuse
TIMING = {"wall_seconds", "rank", "host", "attempts", "reuse_id", "reuse_file"}


def raw(ds):
    a = ds[()]
    return a.tobytes(), a.dtype.str, a.shape


def values(ds):
    a = ds[()]
    if a.dtype.kind in "SO":
        return [x.decode() if isinstance(x, bytes) else str(x) for x in a.ravel()]
    return a.astype(np.float64 if a.dtype.kind == "f" else np.int64).tobytes()


def main_subset(a_path, b_path):
    bad = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for group, skip in (("traces", set()), ("runs", TIMING)):
            for name in sorted(set(a[group]) - skip):
                if name not in b[group]:
                    bad.append(f"/{group}/{name}: missing")
                elif values(a[group][name]) != values(b[group][name]):
                    bad.append(f"/{group}/{name}: differs")
        n_done = int((a["runs/status"][()] == 1).sum())
    if bad:
        print(f"compare: {b_path} does not reproduce {a_path}:\n  " + "\n  ".join(bad))
        return 1
    print(f"compare: {b_path} reproduces {a_path} ({n_done} done runs bit for bit)")
    return 0


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
    args = sys.argv[1:]
    subset = args[:1] == ["--subset"]
    if subset:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    sys.exit((main_subset if subset else main)(*args))
