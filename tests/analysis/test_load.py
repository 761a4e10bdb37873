"""analysis.load: a Sweep holds exactly what the file holds; grid cells, log-grid detection,
final values; the pandas DataFrame in one call, and a clear message without pandas."""
import sys

import h5py
import numpy as np
import pytest

import analysis
from analysis.load import grid_scale


def _txt(a):
    return [x.decode().rstrip("\0") if isinstance(x, bytes) else str(x) for x in a]


def test_params_status_and_summaries_are_the_values_in_the_file(sweep_file):
    s = analysis.load(sweep_file)
    with h5py.File(sweep_file, "r") as f:
        runs = f["runs"]
        assert s.n_runs == len(runs["status"]) == f.attrs["n_runs"]
        assert np.array_equal(s.status, runs["status"][()])
        sections = [k for k in runs if "section" in runs[k].attrs]
        assert sorted(s.params) == sorted(sections)
        assert "seed" in s.params and "status" not in s.params
        for k in sections:
            want = runs[k][()]
            if want.dtype.kind == "S":
                assert list(s.params[k]) == _txt(want)
            else:
                assert np.array_equal(s.params[k], want)
        for k in ("final_train_loss", "steps_to_converge", "wall_seconds", "rank", "host"):
            want = runs[k][()]
            got = s.summaries[k]
            if want.dtype.kind == "S":
                assert list(got) == _txt(want)
            else:
                assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f")
        names = f.attrs["metrics"]
        names = names.decode() if isinstance(names, bytes) else str(names)
        assert s.metrics == names.split(",")
        for m in s.metrics:
            assert np.array_equal(s.trace(m), f["traces"][m][()], equal_nan=True)
        assert np.array_equal(s.step, f["traces/step"][()])


def test_cell_keys_are_the_swept_keys_without_seed(real_file):
    s = analysis.load(real_file)
    assert s.swept == ["vocab_size", "embed_dim", "lr", "seed"]
    assert s.cell_keys == ["vocab_size", "embed_dim", "lr"]
    cells = s.cells()
    assert len(cells) == 8 and all(len(ids) == 3 for _, ids in cells)
    for vals, ids in cells:
        for k, v in zip(s.cell_keys, vals):
            assert np.all(s.params[k][ids] == v)
        assert sorted(s.params["seed"][ids]) == [0, 1, 2]


def test_status_counts_add_up_and_name_every_code(synth_file):
    s = analysis.load(synth_file)
    c = s.counts()
    assert sum(c.values()) == s.n_runs
    assert c["diverged"] == 1 and c["failed"] == 1 and c["done"] == s.n_runs - 2
    assert s.status_names[7] == "diverged" and s.status_names[4] == "failed"


def test_final_is_the_last_logged_value_of_each_run(real_file):
    s = analysis.load(real_file)
    fin = s.final("train_loss")
    t = s.trace("train_loss")
    for i in range(s.n_runs):
        row = t[i][~np.isnan(t[i])]
        assert fin[i] == row[-1]
    # the sweep's summary column is the same number (stored in float64, traced in float32)
    assert np.allclose(fin, s.summaries["final_train_loss"], rtol=1e-6)


@pytest.mark.parametrize("values,scale", [
    (np.logspace(-3, 0, 7), "log"), ([16, 32, 64, 128], "log"), ([20, 200], "log"),
    ([100, 5000], "log"), (list(range(250, 5001, 125)), "linear"),
    (np.arange(5, 100.1, 2.5), "linear"), ([4, 16], "linear"), ([0, 1, 2], "linear"),
    ([0.1], "linear"), (["fixed", "mlp"], "linear")])
def test_grid_scale_detects_logarithmic_grids(values, scale):
    assert grid_scale(values) == scale


def test_to_dataframe_is_the_runs_table_in_one_call(real_file):
    pd = pytest.importorskip("pandas")
    s = analysis.load(real_file)
    df = s.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == s.n_runs
    assert list(df.columns[:4]) == ["run", "vocab_size", "embed_dim", "lr"]
    assert (df["status"] == "done").all()
    assert np.array_equal(df["final_train_loss"].to_numpy(), s.summaries["final_train_loss"])
    long = s.to_dataframe(traces=True)
    assert len(long) == int(s.summaries["n_points"].sum())
    one = long[long["run"] == 5]
    assert np.array_equal(one["train_loss"].to_numpy(),
                          s.trace("train_loss")[5][: s.summaries["n_points"][5]])


def test_without_pandas_to_dataframe_says_what_to_install_and_table_still_works(
        real_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    s = analysis.load(real_file)
    with pytest.raises(ImportError, match="python3-pandas"):
        s.to_dataframe()
    t = s.table()
    assert len(t["run"]) == s.n_runs and list(t)[-1] == "message"


def test_the_report_never_imports_pandas(synth_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    from analysis.report import write_report
    res = write_report(synth_file, str(tmp_path), formats=("png",))
    assert (tmp_path / "runs.csv").exists() and res["n_rows"] == 54
