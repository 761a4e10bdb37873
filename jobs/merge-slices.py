#!/usr/bin/python3
"""merge-slices.py — join the per-slice files of jobs/slurm-array.sbatch into one results file with
the usual layout (README "output"), for analysis/ and h5py/pandas.

  jobs/merge-slices.py OUT SLICE.0.h5 SLICE.1.h5 ...   [--partial]

Runs are concatenated in the order the files are given (give them by task index: slicing over the
first [grid] key then reproduces the unsliced sweep's run ids). Every slice must come from the
same model, step axis and metrics, and be complete (no pending/interrupted runs) unless
--partial. Root attributes come from the first slice, with n_runs, swept (+ the key that differs
between slices) and spec updated; merged_from lists the slices and their spec hashes. The merged
file is for reading: to finish or extend a slice, resume that slice's file and merge again."""
import argparse
import hashlib
import sys

import h5py
import numpy as np


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def set_text(obj, name, value):
    """A fixed-length string attribute, like the ones attnsweep writes."""
    obj.attrs.create(name, np.bytes_(value.encode()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("slices", nargs="+")
    ap.add_argument("--partial", action="store_true", help="merge slices that are not complete")
    a = ap.parse_args()
    fs = [h5py.File(p, "r") for p in a.slices]
    first = fs[0]
    for p, f in zip(a.slices, fs):
        for attr in ("format_version", "model", "metrics"):
            if f.attrs[attr] != first.attrs[attr]:
                sys.exit(f"merge-slices: {p}: {attr} differs from {a.slices[0]}")
        if sorted(f["runs"].keys()) != sorted(first["runs"].keys()) or \
                not np.array_equal(f["traces/step"][:], first["traces/step"][:]):
            sys.exit(f"merge-slices: {p}: its /runs columns or step axis differ from {a.slices[0]}")
        st = f["runs/status"][:]
        todo = int(((st == 0) | (st == 4)).sum())
        if todo and not a.partial:
            sys.exit(f"merge-slices: {p} has {todo} run(s) still to do: resume that slice first "
                     "(or --partial)")

    with h5py.File(a.out, "w") as o:
        for k, v in first.attrs.items():
            o.attrs[k] = v
        runs = o.create_group("runs")
        swept = [s for s in text(first.attrs["swept"]).split(",") if s]
        for key in first["runs"].keys():
            col = np.concatenate([f["runs"][key][:] for f in fs])
            d = runs.create_dataset(key, data=col)
            for k, v in first["runs"][key].attrs.items():
                d.attrs[k] = v
            if "swept" in d.attrs and len(np.unique(col)) > 1 and not d.attrs["swept"]:
                d.attrs["swept"] = 1
                if key not in swept:
                    swept.insert(0, key)    # the slice key: outermost, as recommended
        n = len(runs["status"])
        tr = o.create_group("traces")
        step = tr.create_dataset("step", data=first["traces/step"][:])
        step.make_scale("step")
        for m in first["traces"].keys():
            if m == "step":
                continue
            d = tr.create_dataset(m, data=np.concatenate([f["traces"][m][:] for f in fs]))
            for k, v in first["traces"][m].attrs.items():
                if k not in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"):
                    d.attrs[k] = v
            d.dims[1].attach_scale(step)
        spec = text(first.attrs["spec"]) + "".join(
            f"\n# merged slice {i}: {p} (spec_sha256 {text(f.attrs['spec_sha256'])})"
            for i, (p, f) in enumerate(zip(a.slices, fs)))
        set_text(o, "spec", spec)
        set_text(o, "spec_sha256", hashlib.sha256(spec.encode()).hexdigest())
        o.attrs["n_runs"] = np.int64(n).astype(first.attrs["n_runs"].dtype)
        set_text(o, "swept", ",".join(swept))
        set_text(o, "merged_from", ",".join(a.slices))
    print(f"merge-slices: {len(fs)} slices, {n} runs -> {a.out}")


if __name__ == "__main__":
    main()
