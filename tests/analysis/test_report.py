"""`python3 -m analysis report`: every CSV row and value checked against the file (h5py +
an independent numpy computation), every plot produced (PNG signature, SVG text), report.md
linking all of it with the spec and the timing summary."""
import csv
import math
import os
import re

import h5py
import numpy as np

import synth
from conftest import run_cli

PLOTS_LU = ["loss_curves", "accuracy_curves", "steps_to_converge_heatmap", "topic_attention",
            "sen_identity", "all_metrics"]
STATUS = {0: "pending", 1: "done", 2: "failed", 3: "diverged", 4: "interrupted"}


def read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def same(text, value):
    """A CSV field equals a value from the file: exactly for ints, strings and floats (the
    writer uses repr, which round-trips), NaN as 'nan'."""
    if isinstance(value, bytes):
        return text == value.decode().rstrip("\0")
    if isinstance(value, (float, np.floating)):
        return (text == "nan") if math.isnan(value) else float(text) == float(value)
    return int(text) == int(value)


def check_png(path):
    with open(path, "rb") as fh:
        head = fh.read(8)
    assert head == b"\x89PNG\r\n\x1a\n", path
    assert os.path.getsize(path) > 5000, path


def check_svg(path):
    with open(path) as fh:
        text = fh.read()
    assert text.startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>"), path


def test_cli_report_exits_0_and_writes_csvs_report_and_every_plot(real_file, tmp_path):
    out = tmp_path / "rep"
    p = run_cli("report", real_file, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "24 runs (24 done)" in p.stdout and "6 plots" in p.stdout
    for f in ("runs.csv", "summary.csv", "report.md"):
        assert (out / f).stat().st_size > 0
    for name in PLOTS_LU:
        check_png(str(out / (name + ".png")))
        check_svg(str(out / (name + ".svg")))


def test_runs_csv_has_one_row_per_run_and_every_value_of_the_file(sweep_file, report_of):
    out, res = report_of(sweep_file)
    header, rows = read_csv(os.path.join(out, "runs.csv"))
    with h5py.File(sweep_file, "r") as f:
        runs = f["runs"]
        n = len(runs["status"])
        assert len(rows) == n
        params = [k for k in runs if "section" in runs[k].attrs]
        summaries = [k for k in runs if "section" not in runs[k].attrs and k not in ("status", "run")]
        assert header[0] == "run" and "status" in header
        assert sorted(header) == sorted(["run", "status"] + params + summaries)
        # swept keys first, in grid order
        swept = f.attrs["swept"]
        swept = (swept.decode() if isinstance(swept, bytes) else swept).split(",")
        assert header[1:1 + len(swept)] == swept
        cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
        assert cols["run"] == [str(i) for i in range(n)]
        assert cols["status"] == [STATUS[int(s)] for s in runs["status"][()]]
        for k in params + summaries:
            vals = runs[k][()]
            bad = [i for i in range(n) if not same(cols[k][i], vals[i])]
            assert not bad, "%s: rows %s differ (csv %r, file %r)" % (
                k, bad[:3], cols[k][bad[0]], vals[bad[0]])


def expected_summary(path):
    """summary.csv recomputed from the file with plain loops: cell = every swept key but seed."""
    with h5py.File(path, "r") as f:
        runs = f["runs"]
        swept = f.attrs["swept"]
        swept = (swept.decode() if isinstance(swept, bytes) else swept).split(",")
        keys = [k for k in swept if k != "seed"]
        kv = {k: runs[k][()] for k in keys}
        st = runs["status"][()]
        col = {c: runs[c][()] for c in ("final_train_loss", "final_train_acc", "final_test_acc",
                                        "steps_to_converge")}
    cells = {}
    for i in range(len(st)):
        cells.setdefault(tuple(kv[k][i] for k in keys), []).append(i)
    out = {}
    for cell, ids in cells.items():
        done = [i for i in ids if st[i] == 1]
        fin = [i for i in ids if st[i] in (1, 2, 3)]
        conv = [i for i in done if col["steps_to_converge"][i] >= 0]
        row = dict(n_runs=len(ids), n_seeds=len(fin), n_done=len(done),
                   n_skipped=sum(st[i] in (0, 4) for i in ids), n_converged=len(conv),
                   frac_converged=len(conv) / len(fin) if fin else math.nan)
        for c in ("final_train_loss", "final_train_acc", "final_test_acc"):
            v = [col[c][i] for i in done if np.isfinite(col[c][i])]
            row[c + "_mean"] = sum(v) / len(v) if v else math.nan
            row[c + "_std"] = float(np.std(v, ddof=1)) if len(v) > 1 else math.nan
        v = [float(col["steps_to_converge"][i]) for i in conv]
        row["steps_to_converge_mean"] = sum(v) / len(v) if v else math.nan
        row["steps_to_converge_std"] = float(np.std(v, ddof=1)) if len(v) > 1 else math.nan
        out[tuple(field(x) for x in cell)] = row
    return keys, out


def field(x):
    """How a key value appears in a CSV: ints plainly, floats by repr, strings decoded."""
    if isinstance(x, bytes):
        return x.decode().rstrip("\0")
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    return str(int(x))


def test_summary_csv_is_mean_and_std_over_seeds_per_grid_cell(sweep_file, report_of):
    out, _ = report_of(sweep_file)
    header, rows = read_csv(os.path.join(out, "summary.csv"))
    keys, want = expected_summary(sweep_file)
    assert header[:len(keys)] == keys
    assert len(rows) == len(want)
    for r in rows:
        got = dict(zip(header, r))
        cell = tuple(got[k] for k in keys)
        assert cell in want, cell
        w = want.pop(cell)
        for k, v in w.items():
            g = float(got[k])
            if math.isnan(v):
                assert math.isnan(g), (cell, k)
            else:
                assert math.isclose(g, v, rel_tol=1e-12, abs_tol=1e-12), (cell, k, g, v)


def test_report_md_links_every_file_and_has_the_spec_status_and_timing(real_file, report_of):
    out, res = report_of(real_file)
    md = open(os.path.join(out, "report.md")).read()
    links = re.findall(r"\]\(([^)]+)\)", md)
    for name in PLOTS_LU:
        assert name + ".png" in links and name + ".svg" in links
    assert "runs.csv" in links and "summary.csv" in links
    for link in links:
        assert os.path.exists(os.path.join(out, link)), link
    spec = open(os.path.join(os.path.dirname(__file__), "tiny.ini")).read()
    assert spec.strip() in md  # the canonical spec text, unchanged
    assert "| 0 | 24 | 0 | 0 | 0 |" in md  # status counts: pending done failed diverged interr.
    assert "training time summed over 24 finished runs" in md
    assert "Max per-word |measured − theory|" in md
    assert "### Not drawn" not in md  # lu2021 feeds every plot


def test_sen_identity_gap_reported_is_the_per_word_gap_of_the_traces(real_file, report_of):
    _, res = report_of(real_file)
    extra = [e for name, _, _, e in res["plots"] if name == "sen_identity"][0]
    assert extra["per_word"]
    with h5py.File(real_file, "r") as f:
        s = f["traces/sen_worst_score"][()].astype(float)
        y = np.sqrt(f["traces/sen_worst_norm2"][()].astype(float))
        rhs = f["traces/sen_worst_rhs"][()].astype(float)
        m = f["runs/words_per_sentence"][()][:, None].astype(float)
    # each point is one word's pair: its theory is the curve at its own score
    assert np.allclose(rhs, 2 * s + (2 / m) * np.expm1(s), rtol=1e-5, atol=1e-9)
    gap = np.abs(y - np.sqrt(np.maximum(rhs, 0)))
    assert extra["n_points"] == int(np.isfinite(gap).sum())
    assert math.isclose(extra["max_abs_gap"], float(np.nanmax(gap)), rel_tol=1e-9)


def test_sen_identity_of_an_older_file_uses_the_means_and_says_so(tmp_path, report_of):
    p = str(tmp_path / "old.h5")
    synth.make_synthetic(p)
    with h5py.File(p, "a") as f:  # as written before the per-word traces
        names = [m for m in f.attrs["metrics"].decode().split(",") if not m.startswith("sen_worst")]
        f.attrs["metrics"] = np.array(",".join(names).encode())
        for m in ("sen_worst_score", "sen_worst_norm2", "sen_worst_rhs"):
            del f["traces/" + m]
    out, res = report_of(p)
    extra = [e for name, _, _, e in res["plots"] if name == "sen_identity"][0]
    assert not extra["per_word"]
    assert "predates the per-word traces" in open(os.path.join(out, "report.md")).read()


def test_sen_identity_of_text_runs_draws_each_point_s_own_theory(tmp_path, report_of):
    p = str(tmp_path / "text.h5")
    synth.make_synthetic(p, grid=[("data_file", ["", "/data/sst/stsa.binary.train"]),
                                  ("seed", [0, 1])])
    out, res = report_of(p)
    extra = [e for name, _, _, e in res["plots"] if name == "sen_identity"][0]
    with h5py.File(p, "r") as f:
        y = np.sqrt(f["traces/sen_worst_norm2"][()].astype(float))
        th = np.sqrt(f["traces/sen_worst_rhs"][()].astype(float))
    assert math.isclose(extra["max_abs_gap"], float(np.nanmax(np.abs(y - th))), rel_tol=1e-9)
    svg = open(os.path.join(out, "sen_identity.svg")).read()
    assert "theory of each point (text data" in svg
    assert "Max per-word |measured − theory|" in open(os.path.join(out, "report.md")).read()


def test_band_minmax_and_png_only(synth_file, tmp_path):
    p = run_cli("report", synth_file, "--out", tmp_path, "--band", "minmax", "--formats", "png")
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "loss_curves.png").exists()
    assert not list(tmp_path.glob("*.svg"))
    assert "1 diverged" in p.stdout and "1 failed" in p.stdout
