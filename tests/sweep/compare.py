#!/usr/bin/python3
"""compare.py [--subset] A.h5 B.h5 — exit 0 iff two attnsweep files hold bit-identical results:
every /traces dataset and every /runs dataset except the per-execution columns (wall_seconds,
rank, host, attempts, reuse_id, reuse_file) are compared byte for byte (NaN payloads included). With --subset, A is a
file of an earlier format version: only its datasets are compared, by value (floats bit for bit,
strings as text), so datasets and attributes that B adds do not count; when B traces more metrics
than A, A's trace_crc32 is checked against the CRC of B's rows of A's metrics. Used by
tests/sweep.cmake."""
import sys
import zlib

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


def metric_names(f):
    m = f.attrs["metrics"]
    return (m.decode() if isinstance(m, bytes) else str(m)).split(",")


def crc_of(f, metrics):
    """Each run's CRC-32 of its float32 rows of metrics (in that order), as attnsweep computes
    /runs/trace_crc32 over a file's metrics."""
    rows = np.stack([f["traces"][m][()].astype(np.float32) for m in metrics], axis=1)
    return np.array([zlib.crc32(r.tobytes()) for r in rows], dtype=np.uint32)


def main_subset(a_path, b_path):
    bad = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        more = metric_names(a) != metric_names(b)  # B traces metrics added since A
        if more:
            done = a["runs/status"][()] == 1
            if (crc_of(b, metric_names(a))[done] != a["runs/trace_crc32"][()][done]).any():
                bad.append("/runs/trace_crc32: B's rows of A's metrics do not give A's CRCs")
        for group, skip in (("traces", set()), ("runs", TIMING | ({"trace_crc32"} if more else set()))):
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
