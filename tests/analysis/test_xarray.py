"""results.h5 as a netCDF-4/CF file: README's two-statement reads for h5py, pandas, xarray and
analysis run as written; xarray (h5netcdf, no netCDF-C) opens /runs and /traces as Datasets with
the run (and step) dimension and the swept keys as coordinates; the status decodes through its
CF flag_values/flag_meanings; Sweep.to_xarray merges both groups, for format 2 and format 1."""
import os
import re
import sys

import h5py
import numpy as np
import pytest

import analysis
from analysis.load import STATUS_NAMES

xr = pytest.importorskip("xarray", reason="needs python3-xarray")
pytest.importorskip("h5netcdf", reason="needs python3-h5netcdf")
pd = pytest.importorskip("pandas", reason="needs python3-pandas")

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "..", "README.md")
V1_FILE = os.path.join(HERE, "..", "data", "demo-v1.h5")  # a real format-1 file
ENGINE = dict(engine="h5netcdf")


def readme_reads():
    """The python blocks of README's "Reading results" subsection."""
    text = open(README, encoding="utf-8").read()
    sec = text[text.index("### Reading results"):]
    sec = sec[:sec.index("\n## ")]
    return re.findall(r"```python\n(.*?)```", sec, re.S)


def values(d):
    """An h5py dataset's values, fixed strings as str."""
    return d.asstr()[()] if d.dtype.kind == "S" else d[()]


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f")


def same_attrs(a, b):
    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)


def test_readme_reads_run_as_written(stopped_file):
    path = stopped_file[0]
    s = analysis.load(path)
    kinds = set()
    for block in readme_reads():
        ns = {}
        exec(compile(block.replace('"results.h5"', repr(path)), "README.md", "exec"), ns)
        if "loss" in ns:  # h5py
            assert same(ns["loss"], s.trace("train_loss"))
            kinds.add("h5py")
        elif isinstance(ns.get("runs"), pd.DataFrame):
            df = ns["runs"]
            assert len(df) == s.n_runs and list(df["run"]) == list(range(s.n_runs))
            assert list(df["classifier"]) == list(s.params["classifier"])  # str, not bytes
            assert same(df["steps_done"], s.summaries["steps_done"])
            kinds.add("pandas")
        elif "traces" in ns:
            runs, traces = ns["runs"], ns["traces"]
            assert same(runs.status, s.status) and same(traces.train_loss, s.trace("train_loss"))
            assert set(s.swept) <= set(runs.coords) and set(s.swept) <= set(traces.coords)
            kinds.add("xarray")
        else:
            assert list(ns["ds"].status_name.values) == list(s.status_names)
            kinds.add("analysis")
    assert kinds == {"h5py", "pandas", "xarray", "analysis"}


def test_runs_group_is_a_dataset_over_run_with_the_swept_keys_as_coordinates(real_file):
    s = analysis.load(real_file)
    with xr.open_dataset(real_file, group="runs", **ENGINE) as ds, \
            h5py.File(real_file, "r") as f:
        assert dict(ds.sizes) == {"run": s.n_runs}
        assert list(ds.indexes) == ["run"] and same(ds.run, np.arange(s.n_runs))
        assert set(ds.coords) == {"run"} | set(s.swept)
        for k, d in f["runs"].items():
            v = ds[k]
            assert v.dims == ("run",) and same(v.values, values(d)), k
            assert v.attrs["long_name"] and v.attrs["help"], k
        assert ds.final_train_loss.attrs["units"] == "1" and ds.wall_seconds.attrs["units"] == "s"
        assert ds.classifier.dtype == object and isinstance(ds.classifier.values[0], str)


def test_traces_group_is_a_dataset_over_run_and_step_with_the_same_coordinates(real_file):
    s = analysis.load(real_file)
    with xr.open_dataset(real_file, group="traces", **ENGINE) as ds:
        assert dict(ds.sizes) == {"run": s.n_runs, "step": len(s.step)}
        assert set(ds.coords) == {"run", "step"} | set(s.swept)
        assert same(ds.step, s.step) and same(ds.lr, s.params["lr"])
        assert sorted(ds.data_vars) == sorted(s.metrics)
        for m in s.metrics:
            assert ds[m].dims == ("run", "step") and ds[m].dtype == np.float32
            assert same(ds[m], s.trace(m)) and ds[m].attrs["long_name"], m


def test_status_decodes_through_its_cf_flags_like_analysis_names_it(real_file, copy_of):
    path = copy_of(real_file)
    codes = np.arange(24) % 5
    with h5py.File(path, "r+") as f:  # every status, as a sweep leaves them
        f["runs/status"][...] = codes.astype(np.int8)
    with xr.open_dataset(path, group="runs", **ENGINE) as ds:
        st = ds.status
        fv, fm = st.attrs["flag_values"], st.attrs["flag_meanings"].split()
        assert st.dtype == np.int8 and fv.dtype == st.dtype  # CF: flag_values of the var's type
        assert list(fv) == list(STATUS_NAMES) and fm == list(STATUS_NAMES.values())
        decoded = [fm[list(fv).index(c)] for c in st.values]
    s = analysis.load(path)
    assert decoded == list(s.status_names) == [STATUS_NAMES[c] for c in codes]
    assert list(s.to_xarray().status_name.values) == decoded


def test_to_xarray_merges_runs_and_traces_of_a_format_2_file(stopped_file):
    path = stopped_file[0]
    s = analysis.load(path)
    ds = s.to_xarray()
    assert dict(ds.sizes) == {"run": s.n_runs, "step": len(s.step)}
    assert set(ds.coords) == {"run", "step"} | set(s.swept)
    with xr.open_dataset(path, group="runs", **ENGINE) as runs, \
            xr.open_dataset(path, group="traces", **ENGINE) as traces:
        for grp in (runs, traces):  # every variable of both groups, same values and attributes
            for k, v in grp.variables.items():
                assert ds[k].dims == v.dims and same(ds[k].values, v.values), k
                assert same_attrs(ds[k].attrs, v.attrs), k
    for m in s.metrics:  # NaN after a stopped run's last point, as in the file
        assert same(ds[m], s.trace(m))
    assert ds.attrs["format_version"] == 2 and ds.attrs["spec"] == s.spec
    assert list(ds.status_name.values) == list(s.status_names)


def test_to_xarray_reads_a_format_1_file_with_cf_status_flags(synth_file):
    for path in (V1_FILE, synth_file):
        s = analysis.load(path)
        ds = analysis.to_xarray(path)
        assert ds.attrs["format_version"] == 1 and ds.attrs["spec"] == s.spec
        assert dict(ds.sizes) == {"run": s.n_runs, "step": len(s.step)}
        assert set(ds.coords) == {"run", "step"} | set(s.swept)
        with h5py.File(path, "r") as f:
            for k, d in f["runs"].items():
                assert same(ds[k].values, values(d)), k
            for m in s.metrics:
                assert ds[m].dims == ("run", "step") and same(ds[m], f["traces"][m][()]), m
        st = ds.status
        assert list(st.attrs["flag_values"]) == list(STATUS_NAMES)
        assert st.attrs["flag_meanings"].split() == list(STATUS_NAMES.values())
        assert list(ds.status_name.values) == list(s.status_names)
    assert {ds.status_name.values[7], ds.status_name.values[4]} == {"diverged", "failed"}


def test_h5netcdf_is_enough_netcdf4_is_never_imported(real_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "netCDF4", None)  # importing netCDF4 now fails
    with xr.open_dataset(real_file, group="runs", **ENGINE) as ds:
        ds.load()
    with xr.open_dataset(real_file, group="traces", **ENGINE) as ds:
        ds.load()
    assert analysis.to_xarray(real_file).sizes["run"] == 24


def test_the_file_format_docs_recipes_run_on_a_format_2_file(stopped_file):
    path = stopped_file[0]
    text = open(os.path.join(HERE, "..", "..", "docs", "file-format.md"), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    for block in blocks:  # the CRC check asserts, the others must simply run (lr 0.1: tiny's 0.2)
        block = block.replace('"results.h5"', repr(path)).replace("== 0.1", "== 0.2")
        exec(compile(block, "file-format.md", "exec"), {})
