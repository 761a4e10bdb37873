"""The snell plots on REAL sweeps: the two-stage gated toy (examples/snell2021-gate.ini, shortened)
gets gate_flow with errors that match the file and stay within the Euler bound; a tiny snell2021
sweep over heads gets success_fraction with the counts the file's final accuracies give, and the
head-screening rule classes its cells as the file's accuracies say."""
import os
import subprocess

import h5py
import numpy as np
import pytest

from conftest import REPO, mpi_env, sweep_cmd

TINY_COPY = """[model]
model = snell2021
embed_dim = 8
hidden_dim = 8
[task]
vocab = 10
seq_len = 6
data_mode = distinct
eval_size = 16
[train]
steps = 30
lr = 1e-2
batch_size = 8
log_every = 10
[grid]
heads = 1, 2
seed = 0..2
"""


def _sweep(spec, out, *extra):
    cmd = sweep_cmd(spec, out, *extra)
    p = subprocess.run(cmd, env=mpi_env(), capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        pytest.fail("sweep failed: %s\n%s\n%s" % (" ".join(cmd), p.stdout, p.stderr))
    return out


def test_gate_flow_plot_reports_the_files_errors_within_the_euler_bound(tmp_path, report_of):
    path = _sweep(os.path.join(REPO, "examples", "snell2021-gate.ini"), str(tmp_path / "g.h5"),
                  "--set", "train.steps=500")
    out, res = report_of(path)
    assert os.path.exists(os.path.join(out, "gate_flow.png"))
    extra = [e for n, _, _, e in res["plots"] if n == "gate_flow"][0]
    with h5py.File(path, "r") as f:
        p, pf = f["traces/p"][()].astype(float), f["traces/p_flow"][()].astype(float)
        t, gap = f["traces/flow_time"][()].astype(float), f["traces/gap"][()].astype(float)
    assert sorted(extra["max_err"]) == [0, 1, 2]
    for i, (err, _) in extra["max_err"].items():
        assert err == pytest.approx(np.max(np.abs(p[i] - pf[i])), rel=1e-6)
        # Euler: |p - p_flow| <= t lr (|p0| + |u0|/sqrt2) cosh(sqrt2 t), lr = 1e-3 (float32 trace)
        bound = t[i] * 1e-3 * (abs(p[i, 0]) + abs(gap[i, 0]) / np.sqrt(2)) * np.cosh(np.sqrt(2) * t[i])
        assert np.all(np.abs(p[i] - pf[i]) <= 1.2 * bound + 1e-5 * (1 + np.abs(pf[i])))
        assert err > 0


def test_success_fraction_counts_the_seeds_above_the_threshold_per_head_count(tmp_path):
    from analysis.load import load
    from analysis.report import write_report
    from analysis.snell import head_screen, success_table
    spec = tmp_path / "tiny_copy.ini"
    spec.write_text(TINY_COPY)
    path = _sweep(str(spec), str(tmp_path / "c.h5"))
    out = str(tmp_path / "rep")
    res = write_report(path, out)
    assert "success_fraction" in [n for n, _, _, _ in res["plots"]]
    assert os.path.exists(os.path.join(out, "success_fraction.svg"))
    sweep = load(path)
    acc = sweep.summaries["final_test_acc"]
    thr = float(np.median(acc))  # a threshold that splits the runs: the counts are not trivial
    others, table = success_table(sweep, "heads", thr)
    assert others == [] and list(table) == [()]
    heads = sweep.params["heads"]
    want = [(h, int(np.sum(acc[heads == h] >= thr)), int(np.sum(heads == h))) for h in (1, 2)]
    assert [(int(h), k, n) for h, k, n in table[()]] == want
    assert 0 < sum(k for _, k, _ in want) < 6
    # the screening rule on the same runs, thresholds set from the file so both classes can occur
    peak = np.nanmax(sweep.trace("test_acc"), axis=1)
    good, bad = float(np.min(peak)) - 1e-6, float(np.max(acc)) + 1e-6
    assert head_screen(sweep, "heads", good, bad) == {1: "good", 2: "good"}
    assert head_screen(sweep, "heads", 2.0, bad) == {1: "bad", 2: "bad"}
    lo = float(np.min(acc[heads == 1]))
    want1 = "bad" if np.all(acc[heads == 1] < lo + 1e-6) else "neither"
    assert head_screen(sweep, "heads", 2.0, lo + 1e-6)[1] == want1
