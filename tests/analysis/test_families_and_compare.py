"""The report is generic over families (metric names come from the file): sakamoto2024 gets its
phase diagram, snell2021 its curves, and plots a family cannot feed are skipped with a note.
`compare` matches the grid cells of two sweeps and reports B − A."""
import csv
import math
import os

import h5py
import numpy as np
import pytest

import synth
from conftest import run_cli


def _pngs(out):
    return sorted(f[:-4] for f in os.listdir(out) if f.endswith(".png"))


def test_sakamoto2024_gets_a_phase_diagram_over_dim_and_signal_norm(tmp_path, report_of):
    path = str(tmp_path / "sak.h5")
    synth.make_synthetic(path, model="sakamoto2024")
    out, res = report_of(path)
    assert _pngs(out) == ["accuracy_curves", "all_metrics", "attention_curves", "loss_curves",
                          "phase_diagram", "steps_to_converge_heatmap", "token_trajectories"]
    cap = [c for n, c, _, _ in res["plots"] if n == "phase_diagram"][0]
    assert "dim × signal_norm" in cap and "test_acc" in cap
    cap = [c for n, c, _, _ in res["plots"] if n == "token_trajectories"][0]
    assert "one clean and one label-flipped training sample" in cap
    assert "log_every = 1 gives every step" in cap
    md = open(os.path.join(out, "report.md")).read()
    assert "sen_identity: skipped, the sakamoto2024 family lacks topic_score" in md


def test_snell2021_gets_generic_curves_and_notes_for_what_it_cannot_feed(tmp_path, report_of):
    path = str(tmp_path / "snell.h5")
    synth.make_synthetic(path, model="snell2021")
    out, res = report_of(path)
    assert _pngs(out) == ["accuracy_curves", "all_metrics", "attention_curves", "loss_curves"]
    notes = "\n".join(res["notes"])
    assert "steps_to_converge_heatmap: skipped, needs two swept keys" in notes
    assert "phase_diagram: skipped" in notes and "sen_identity: skipped" in notes
    with open(os.path.join(out, "summary.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["vocab_size"] for r in rows] == ["40", "60"]
    assert all(r["n_seeds"] == "3" for r in rows)


def test_heatmap_axes_use_log_scale_for_log_grids(synth_file, report_of):
    # vocab_size 20, 200, 2000 and embed_dim 4, 8, 16 are geometric: both axes log
    out, _ = report_of(synth_file)
    svg = open(os.path.join(out, "steps_to_converge_heatmap.svg")).read()
    assert "vocab_size (non-topic words) (log scale)" in svg
    assert "embed_dim (D) (log scale)" in svg


def make_other_classifier(src, dst, factor=2.0):
    """A copy of src that looks like the same grid trained with classifier=linear, with every
    final train loss multiplied by factor."""
    import shutil
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        d = f["runs/classifier"]
        d[...] = np.array([b"linear"] * d.shape[0], dtype=d.dtype)
        f["runs/final_train_loss"][...] = f["runs/final_train_loss"][()] * factor
    return dst


def test_compare_matches_cells_and_reports_b_minus_a(real_file, tmp_path):
    other = make_other_classifier(real_file, str(tmp_path / "linear.h5"))
    out = tmp_path / "cmp"
    p = run_cli("compare", real_file, other, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "8 matching cells" in p.stdout
    assert "classifier: fixed → linear" in p.stdout
    with open(out / "compare.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    with h5py.File(real_file, "r") as f:
        loss = f["runs/final_train_loss"][()]
        keys = {k: f["runs"][k][()] for k in ("vocab_size", "embed_dim", "lr")}
    for r in rows:
        sel = np.ones(len(loss), dtype=bool)
        for k, v in keys.items():
            sel &= v == float(r[k])
        a = float(np.mean(loss[sel]))
        assert float(r["a_final_train_loss_mean"]) == pytest.approx(a, rel=1e-12)
        assert float(r["b_final_train_loss_mean"]) == pytest.approx(2 * a, rel=1e-12)
        assert float(r["diff_final_train_loss_mean"]) == pytest.approx(a, rel=1e-12)
        assert float(r["diff_final_test_acc_mean"]) == 0.0
        d = float(r["diff_steps_to_converge_mean"])
        assert d == 0.0 or math.isnan(d)
    for name in ("compare_loss", "compare_test_acc"):
        assert (out / (name + ".png")).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / (name + ".svg")).stat().st_size > 0
    md = (out / "compare.md").read_text()
    assert "8 matching cells, 0 only in A, 0 only in B" in md


def test_compare_counts_cells_found_in_one_file_only(tmp_path):
    from analysis.compare import write_compare
    a, b = str(tmp_path / "a.h5"), str(tmp_path / "b.h5")
    synth.make_synthetic(a, grid=[("vocab_size", [20, 200]), ("lr", [0.1, 0.2]), ("seed", [0, 1])])
    synth.make_synthetic(b, grid=[("vocab_size", [200, 2000]), ("lr", [0.1, 0.2]),
                                  ("seed", [0, 1])], statuses={0: 0, 1: 4})
    res = write_compare(a, b, str(tmp_path / "out"), formats=("png",))
    assert (res["n_matched"], res["only_a"], res["only_b"]) == (2, 2, 2)
    assert res["keys"] == ["vocab_size", "lr"]
    assert res["columns"]["b_n_seeds"] == [0, 2]  # vocab 200, lr 0.1: both runs unfinished


def test_swept_enum_and_bool_keys_are_grid_cells_and_panels(tmp_path):
    from analysis.report import write_report
    path = str(tmp_path / "enum.h5")
    synth.make_synthetic(path, grid=[("classifier", ["fixed", "mlp"]), ("vocab_size", [20, 200]),
                                     ("embed_dim", [4, 8]), ("freeze_keys", [0, 1]),
                                     ("seed", [0, 1])])
    out = str(tmp_path / "rep")
    write_report(path, out, formats=("png", "svg"))
    with open(os.path.join(out, "summary.csv")) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 16 and {r["classifier"] for r in rows} == {"fixed", "mlp"}
    assert all(r["n_seeds"] == "2" for r in rows)
    svg = open(os.path.join(out, "steps_to_converge_heatmap.svg")).read()
    assert "classifier=mlp, freeze_keys=1" in svg  # one panel per combination of the others


def test_a_sweep_over_seeds_only_has_one_cell_and_no_heatmap(tmp_path):
    from analysis.report import write_report
    path = str(tmp_path / "seeds.h5")
    synth.make_synthetic(path, grid=[("seed", [0, 1, 2])])
    res = write_report(path, str(tmp_path / "rep"), formats=("png",))
    assert res["n_cells"] == 1 and res["n_rows"] == 3
    assert any(n.startswith("steps_to_converge_heatmap: skipped") for n in res["notes"])
    assert "loss_curves" in [name for name, _, _, _ in res["plots"]]
