"""Runs that stop early (stop_when_converged) in a real sweep: the Sweep knows which and how many
steps they saved (the same numbers the sweep prints), means over seeds carry a stopped seed's
last value to the cell's last point instead of jumping or ending at the first stop, and
report.md / summary.csv say how many runs stopped and the steps saved."""
import csv
import math
import os
import re

import numpy as np

import analysis
from analysis import plots, report
from analysis.report import write_report
from analysis.stats import seed_curves


def test_stopped_runs_are_done_short_of_their_steps_with_nan_after_their_last_point(
        stopped_file):
    path, stdout = stopped_file
    s = analysis.load(path)
    done_steps, n_pts = s.summaries["steps_done"], s.summaries["n_points"]
    early = s.stopped_early
    assert np.array_equal(early, s.done & (done_steps < s.params["steps"]))
    assert 0 < early.sum() < s.n_runs
    t = s.trace("train_loss")
    for i in range(s.n_runs):
        assert np.all(np.isfinite(t[i, :n_pts[i]])) and np.all(np.isnan(t[i, n_pts[i]:]))
        if early[i]:  # stopped at a logged step: the converged one
            assert s.step[n_pts[i] - 1] == done_steps[i] == s.summaries["steps_to_converge"][i]
    saved, planned = s.steps_saved()
    assert saved == int(np.sum((s.params["steps"] - done_steps)[early]))
    assert planned == int(np.sum(s.params["steps"][s.done]))
    line = re.search(r"early stopping: (\d+) of \d+ done runs stopped before their last step, "
                     r"(\d+) steps saved", stdout)
    assert line, stdout
    assert (int(line.group(1)), int(line.group(2))) == (int(early.sum()), saved)


def test_a_stopped_seed_keeps_its_last_value_up_to_the_cells_last_point(stopped_file):
    s = analysis.load(stopped_file[0])
    t = s.trace("train_loss").astype(float)
    last = s.summaries["n_points"] - 1
    kinds = set()
    for _, ids in s.cells():
        y, stops = seed_curves(s, "train_loss", ids)
        early = s.stopped_early[ids]
        horizon = last[ids].max()
        assert np.array_equal(stops, last[ids][early])
        for r, i in enumerate(ids):
            assert np.array_equal(y[r, :last[i] + 1], t[i, :last[i] + 1])
            if early[r]:
                assert np.all(y[r, last[i]:horizon + 1] == t[i, last[i]])
            else:
                assert np.array_equal(y[r], t[i], equal_nan=True)
        assert np.all(np.isfinite(y[:, :horizon + 1])) and np.all(np.isnan(y[:, horizon + 1:]))
        kinds.add((bool(early.any()), bool(early.all())))
    assert kinds == {(False, False), (True, False), (True, True)}  # none, some, all stopped


def test_curves_draw_each_cell_to_its_last_point_with_a_mean_and_band_throughout(
        stopped_file, tmp_path):
    s = analysis.load(stopped_file[0])
    res = plots.curves(s, str(tmp_path), "loss", [("loss", ["train_loss"])], ["lr"], s.done,
                       "Loss", formats=("png",))
    last = s.summaries["n_points"] - 1
    assert len(res["drawn"]) == 8
    for d in res["drawn"]:
        ids, horizon = d["ids"], last[d["ids"]].max()
        assert len(ids) == 3
        for arr in (d["mean"], d["lo"], d["hi"]):  # never NaN before the cell's last point
            assert np.all(np.isfinite(arr[:horizon + 1])) and np.all(np.isnan(arr[horizon + 1:]))
        y = s.trace("train_loss")[ids].astype(float)
        carried = [y[r, min(horizon, last[i])] for r, i in enumerate(ids)]
        assert math.isclose(d["mean"][horizon], np.mean(carried), rel_tol=1e-12)
        assert sorted(d["stops"]) == sorted(s.step[last[ids][s.stopped_early[ids]]])


def test_report_and_summary_csv_count_the_runs_that_stopped_and_the_steps_saved(
        stopped_file, tmp_path, monkeypatch):
    path = stopped_file[0]
    s = analysis.load(path)
    monkeypatch.setattr(report, "make_plots", lambda *a: ([], []))  # the tables only: the
    write_report(path, str(tmp_path))  # curves with stops are the test above's
    with open(tmp_path / "summary.csv") as fh:
        cells = list(csv.DictReader(fh))
    for c in cells:
        sel = np.ones(s.n_runs, dtype=bool)
        for k in s.cell_keys:
            sel &= s.params[k] == type(s.params[k][0])(c[k])
        early = sel & s.stopped_early
        assert int(c["n_stopped_early"]) == early.sum()
        assert int(c["steps_saved"]) == np.sum(s.params["steps"][early] -
                                               s.summaries["steps_done"][early])
    saved, planned = s.steps_saved()
    assert sum(int(c["steps_saved"]) for c in cells) == saved > 0
    md = (tmp_path / "report.md").read_text()
    assert ("**Early stopping:** %d of 24 done runs stopped before their `steps` "
            "(stop_when_converged or patience), saving %d of %d planned steps (%.0f %%)"
            % (s.stopped_early.sum(), saved, planned, 100.0 * saved / planned)) in md


def test_a_file_without_early_stops_says_nothing_about_them(real_file, report_of):
    out, res = report_of(real_file)
    assert not res["sweep"].stopped_early.any()
    assert "Early stopping" not in open(os.path.join(out, "report.md")).read()
    with open(os.path.join(out, "summary.csv")) as fh:
        assert {r["steps_saved"] for r in csv.DictReader(fh)} == {"0"}
