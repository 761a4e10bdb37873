"""Partial files (a sweep still running or interrupted) are reported with the unfinished runs
skipped and counted; damaged or foreign files give a one-line error and exit status 2, never a
traceback."""
import csv
import os

import h5py
import numpy as np
import pytest

import analysis
from conftest import run_cli

try:
    import xarray as xr
    import h5netcdf  # noqa: F401
except ImportError:  # the xarray reads of the live-file test need python3-xarray, -h5netcdf
    xr = None

PENDING, INTERRUPTED = [1, 2, 9], [4, 17]


def make_partial(path):
    """Turn some done runs back into pending/interrupted the way the engine leaves them: a
    pending run has no trace (NaN) and no summary; an interrupted one keeps its partial trace."""
    with h5py.File(path, "r+") as f:
        st = f["runs/status"][()]
        st[PENDING] = 0
        st[INTERRUPTED] = 4
        f["runs/status"][...] = st
        for m in f.attrs["metrics"].decode().split(","):
            d = f["traces"][m]
            for i in PENDING:
                d[i, :] = np.nan
        for c in ("final_train_loss", "final_train_acc", "final_test_acc", "wall_seconds"):
            d = f["runs"][c]
            for i in PENDING:
                d[i] = np.nan
    return path


def test_partial_file_is_reported_with_unfinished_runs_skipped_and_counted(real_file, copy_of,
                                                                           tmp_path):
    part = make_partial(copy_of(real_file))
    out = tmp_path / "rep"
    p = run_cli("report", part, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "3 pending" in p.stdout and "2 interrupted" in p.stdout and "19 done" in p.stdout
    md = (out / "report.md").read_text()
    assert "**Partial file:** 5 runs not finished (3 pending, 2 interrupted)" in md
    assert "| 3 | 19 | 0 | 0 | 2 |" in md
    with open(out / "runs.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 24  # every run is listed, with its status
    assert [r["status"] for r in rows if r["status"] != "done"] == \
        ["pending", "pending", "interrupted", "pending", "interrupted"]
    with open(out / "summary.csv") as fh:
        cells = list(csv.DictReader(fh))
    assert sum(int(c["n_skipped"]) for c in cells) == 5
    assert sum(int(c["n_seeds"]) for c in cells) == 19
    assert sum(int(c["n_runs"]) for c in cells) == 24
    s = analysis.load(part)
    for c in cells:  # means are over the done runs of the cell only
        sel = s.done.copy()
        for k in ("vocab_size", "embed_dim"):
            sel &= s.params[k] == int(c[k])
        sel &= s.params["lr"] == float(c["lr"])
        assert int(c["n_done"]) == sel.sum()
        assert float(c["final_train_loss_mean"]) == pytest.approx(
            np.mean(s.summaries["final_train_loss"][sel]), rel=1e-12)
    for name in ("loss_curves", "steps_to_converge_heatmap", "sen_identity"):
        assert (out / (name + ".png")).stat().st_size > 0


def test_a_file_with_nothing_done_yet_gives_tables_and_no_plots(synth_file, copy_of, tmp_path):
    path = copy_of(synth_file)
    with h5py.File(path, "r+") as f:
        f["runs/status"][...] = np.zeros(len(f["runs/status"]), dtype=np.int8)
    p = run_cli("report", path, "--out", tmp_path)
    assert p.returncode == 0, p.stderr
    assert "54 pending" in p.stdout
    md = (tmp_path / "report.md").read_text()
    assert "no run is `done` yet" in md
    assert not list(tmp_path.glob("*.png"))
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == 55


def test_a_file_being_written_by_a_running_sweep_can_be_reported_any_time(tmp_path):
    """Once the sweep has created its file, every report made while it runs succeeds and sees
    done + pending (+ interrupted) = all runs; so do to_xarray() and xarray's h5netcdf reads."""
    import subprocess
    import time
    from conftest import TINY, mpi_env, sweep_cmd
    from analysis.report import write_report
    out = str(tmp_path / "live.h5")
    cmd = sweep_cmd(TINY, out, "--set", "train.steps=3000", "--set", "task.n_sentences=600",
                    "--progress", "0")
    proc = subprocess.Popen(cmd, env=mpi_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while True:  # wait for the collective create to finish (the file is then readable)
            try:
                analysis.load(out)
                break
            except analysis.AnalysisError:
                assert proc.poll() is None and time.time() < deadline, "sweep never made a file"
                time.sleep(0.2)
        seen = []
        while proc.poll() is None:  # a full report first, then quick loads until the end
            if xr is not None:  # xarray reads the growing file too: to_xarray and each group
                ds = analysis.to_xarray(out)
                with xr.open_dataset(out, engine="h5netcdf", group="runs") as runs:
                    assert int((runs.status == 1).sum()) >= int((ds.status_name == "done").sum())
                with xr.open_dataset(out, engine="h5netcdf", group="traces") as traces:
                    assert traces.train_loss.shape == ds.train_loss.shape == (24, 301)
            if not seen:
                c = write_report(out, str(tmp_path / "r"), formats=("png",))["counts"]
            else:
                s = analysis.load(out)
                s.trace("train_loss")
                c = s.counts()
            assert c["done"] + c["pending"] + c["interrupted"] == 24 and c["failed"] == 0
            seen.append(c["done"])
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    print("done counts seen while running:", seen)
    assert seen, "no report was made while the sweep ran"
    assert seen == sorted(seen)  # done only grows
    assert analysis.load(out).counts()["done"] == 24


def assert_clean_error(p, *phrases):
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and p.stderr.startswith("analysis: error: ")
    assert len(p.stderr.strip().splitlines()) == 1
    for ph in phrases:
        assert ph in p.stderr, p.stderr


@pytest.mark.parametrize("keep", [0.5, 0.1, 0.001])
def test_a_truncated_file_is_a_clear_error(real_file, copy_of, keep, tmp_path):
    path = copy_of(real_file)
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(int(size * keep))
    p = run_cli("report", path, "--out", tmp_path / "r")
    assert_clean_error(p, path)
    assert "truncated" in p.stderr or "damaged" in p.stderr


def test_a_file_that_is_not_hdf5_is_a_clear_error(tmp_path):
    path = tmp_path / "results.h5"
    path.write_text("run,status\n0,done\n")
    assert_clean_error(run_cli("report", path, "--out", tmp_path / "r"), "not a readable HDF5")


def test_a_missing_file_is_a_clear_error(tmp_path):
    assert_clean_error(run_cli("report", tmp_path / "nope.h5"), "no such file")


def test_an_hdf5_file_from_something_else_is_a_clear_error(tmp_path):
    path = str(tmp_path / "other.h5")
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    assert_clean_error(run_cli("report", path, "--out", tmp_path / "r"),
                       "not an attnsweep results file")


def test_an_unknown_format_version_is_refused(synth_file, copy_of, tmp_path):
    path = copy_of(synth_file)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = np.int32(99)
    assert_clean_error(run_cli("compare", synth_file, path, "--out", tmp_path),
                       "format_version 99 is not supported")


def test_a_missing_trace_dataset_is_named(synth_file, copy_of):
    path = copy_of(synth_file)
    with h5py.File(path, "r+") as f:
        del f["traces/topic_score"]
    with pytest.raises(analysis.AnalysisError, match="topic_score"):
        analysis.load(path)


def test_a_file_with_wrong_dataset_lengths_is_damaged(synth_file, copy_of):
    path = copy_of(synth_file)
    with h5py.File(path, "r+") as f:
        del f["runs/wall_seconds"]
        f["runs/wall_seconds"] = np.zeros(3)
    with pytest.raises(analysis.AnalysisError, match="wall_seconds has shape"):
        analysis.load(path)
