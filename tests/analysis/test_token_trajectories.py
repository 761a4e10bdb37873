"""sakamoto2024's token trajectories in the report: the softmax weight of every token of the
traced clean and label-flipped training sample over training, one run per grid cell (its lowest
seed). Checked on synthetic files (closed-form curves, odd seq_len, no flipped sample) and on a
real tiny sweep, each drawn curve against the file; that report.py draws it for sakamoto2024
files is checked in test_families_and_compare.py."""
import os

import h5py
import numpy as np

import synth
from conftest import run_sweep

TINY_SAK = """[model]
model = sakamoto2024
[task]
dim = 30
n_train = 10
seq_len = 5
n_test = 40
label_noise = 0.2
[train]
steps = 100
lr = 0.5
log_every = 10
[grid]
signal_norm = 3, 30
seed = 0, 1
"""


def _panels(path, out):
    """Draw the token plot alone and return its result (panels with the curves drawn)."""
    from analysis import plots
    from analysis.load import load
    sweep = load(path)
    return sweep, plots.token_trajectories(sweep, out, "tt", sweep.done, formats=("svg",))


def _check_curves_against_file(path, res):
    with h5py.File(path, "r") as f:
        for p in res["panels"]:
            for k, y in p["curves"].items():
                want = f["traces"]["%s_token_%d" % (p["who"], k)][p["run"]]
                np.testing.assert_array_equal(y, want.astype(float))
            assert p["index"] == f["traces"][p["who"] + "_index"][p["run"], -1]


def test_the_lowest_seed_of_evenly_spread_cells_is_drawn_with_fitted_or_not(tmp_path):
    path = str(tmp_path / "sak.h5")
    synth.make_synthetic(path, model="sakamoto2024")  # 4 dims x 3 signal norms x 2 seeds
    sweep, tt = _panels(path, str(tmp_path))
    assert any("9 of 12 grid cells drawn" in n for n in tt["notes"])
    assert len(tt["panels"]) == 18
    assert all(sweep.params["seed"][p["run"]] == 0 for p in tt["panels"])
    assert all(sorted(p["curves"]) == list(range(1, 9)) for p in tt["panels"])
    _check_curves_against_file(path, tt)
    svg = open(os.path.join(str(tmp_path), "tt.svg")).read()
    assert "label-flipped sample 0: fitted (y f = +0.20)" in svg  # signal_norm 5: 0.3 - 0.1
    assert "label-flipped sample 0: not fitted" in svg            # signal_norm 15
    assert "clean sample 2: fitted (y f = +0.70)" in svg
    assert "token 3 (weakly opposite)" in svg and "tokens 4+ (irrelevant)" in svg


def test_only_the_tokens_a_sequence_has_are_drawn_and_long_ones_are_noted(tmp_path):
    path = str(tmp_path / "seq.h5")
    synth.make_synthetic(path, model="sakamoto2024", grid=[("seq_len", [5, 12]), ("seed", [0])])
    sweep, tt = _panels(path, str(tmp_path))
    drawn = {int(sweep.params["seq_len"][p["run"]]): sorted(p["curves"]) for p in tt["panels"]}
    assert drawn == {5: [1, 2, 3, 4, 5], 12: list(range(1, 9))}
    assert any("seq_len > 8: tokens 1..8" in n for n in tt["notes"])
    _check_curves_against_file(path, tt)


def test_a_cell_without_flipped_labels_says_there_is_no_such_sample(tmp_path):
    path = str(tmp_path / "clean.h5")
    synth.make_synthetic(path, model="sakamoto2024",
                         grid=[("label_noise", [0.0, 0.2]), ("seed", [0])])
    sweep, tt = _panels(path, str(tmp_path))
    flipped = {float(sweep.params["label_noise"][p["run"]]): p for p in tt["panels"]
               if p["who"] == "flipped"}
    assert flipped[0.0]["index"] == -1 and flipped[0.0]["curves"] == {}
    assert sorted(flipped[0.2]["curves"]) == list(range(1, 9))
    svg = open(os.path.join(str(tmp_path), "tt.svg")).read()
    assert "no label-flipped training sample" in svg


def test_a_real_sakamoto2024_sweep_feeds_the_token_trajectories(tmp_path):
    spec = tmp_path / "sak.ini"
    spec.write_text(TINY_SAK)
    path = run_sweep(str(spec), str(tmp_path / "sak.h5"))
    sweep, tt = _panels(path, str(tmp_path))
    assert len(tt["panels"]) == 4  # 2 cells x (clean, flipped), seed 0 each
    assert {p["cell"] for p in tt["panels"]} == {"signal_norm=3, seed 0", "signal_norm=30, seed 0"}
    for p in tt["panels"]:
        assert sorted(p["curves"]) == [1, 2, 3, 4, 5]  # seq_len 5
        assert all(abs(y[0] - 0.2) < 1e-6 for y in p["curves"].values())  # uniform at p = 0
        total = sum(p["curves"].values())
        np.testing.assert_allclose(total, 1.0, atol=1e-5)
        # 10 samples, 2 flipped (0 of class +1, 5 of class -1): the first clean one is 1
        assert p["index"] == (1 if p["who"] == "clean" else 0)
    _check_curves_against_file(path, tt)
