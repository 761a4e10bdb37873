"""Phase diagrams from scattered points (analysis/phase.py) on real sweeps of the test family with a
known boundary (tests/plugins/phase.c: test_acc 1 inside a circle): a coarse 8 × 8 grid refined
once by `attnsweep refine` and run with --reuse, a [points] spec, and a threshold along a
log-spaced key. The boundary must lie within one coarse cell of the circle, the full-grid count
must be refine's own, and the report must draw the map instead of a mostly empty heatmap."""
import math
import os
import re
import subprocess

import numpy as np
import pytest

from conftest import _binary, mpi_env, run_cli, sweep_cmd

CX, CY, R = 3.6, 4.1, 2.3
COARSE = 1.0  # the coarse grid's spacing: linspace(0, 7, 8)


def _plugin():
    p = os.environ.get("PHASE_PLUGIN")
    if not p or not os.path.exists(p):
        pytest.skip("no phase test plugin: ctest sets PHASE_PLUGIN")
    return p


def _run(spec, out, *extra):
    p = subprocess.run(sweep_cmd(spec, out, "--progress", "0", *extra), env=mpi_env(),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


def _refine(*args):
    p = subprocess.run([_binary(), "refine"] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def refined(tmp_path_factory):
    """(round-0 file, round-1 file, refine's output): a coarse 8 × 8 grid × 2 seeds, refined where
    test_acc crosses 0.5, the new points run with --reuse."""
    d = tmp_path_factory.mktemp("phase")
    (d / "r0.ini").write_text(
        "[model]\nmodel = plugin:%s\n[task]\ncx = %g\ncy = %g\nr = %g\n[train]\nsteps = 1\n"
        "[grid]\nx = linspace(0, 7, 8)\ny = linspace(0, 7, 8)\nseed = 0..1\n"
        % (_plugin(), CX, CY, R))
    r0 = _run(str(d / "r0.ini"), str(d / "r0.h5"))
    log = _refine(r0, "--x", "x", "--y", "y", "--metric", "test_acc", "--level", "0.5",
                  "--budget", "60", "--out", d / "r1.ini")
    r1 = _run(str(d / "r1.ini"), str(d / "r1.h5"), "--reuse", r0)
    return r0, r1, log


def test_refine_settings_are_read_back_from_the_spec_refine_wrote(refined):
    from analysis import load
    from analysis.phase import refine_settings
    got = refine_settings(load(refined[1]).spec)
    assert got == dict(x="x", y="y", metric="test_acc", level=0.5, x_scale="linear",
                       y_scale="linear")
    assert refine_settings(load(refined[0]).spec) is None


def test_the_boundary_of_a_refined_sweep_lies_within_one_coarse_cell_of_the_circle(refined, tmp_path):
    from analysis import load
    from analysis.phase import draw
    res = draw(load(refined[1]), str(tmp_path), "phase", "x", "y", "test_acc", 0.5,
               formats=("png",))
    segs = res["panels"][0]["boundary"]
    assert segs, "no boundary drawn"
    v = np.concatenate(segs)
    dist = np.abs(np.hypot(v[:, 0] - CX, v[:, 1] - CY) - R)
    assert dist.max() < COARSE * math.sqrt(2), dist.max()
    # it goes round the circle: vertices in every quadrant around the centre
    ang = np.arctan2(v[:, 1] - CY, v[:, 0] - CX)
    assert len(np.unique(np.floor(ang / (math.pi / 2)))) == 4
    assert os.path.getsize(tmp_path / "phase.png") > 10_000


def test_the_full_grid_count_is_the_one_refine_reports(refined, tmp_path):
    from analysis import load
    from analysis.phase import draw
    sweep = load(refined[1])
    res = draw(sweep, str(tmp_path), "phase", "x", "y", "test_acc", 0.5, formats=("png",))
    n_new = int(re.search(r"refine: (\d+) new points", refined[2]).group(1))
    assert res["n_points"] == 64 + n_new and res["n_runs"] == 2 * (64 + n_new)
    refine_full = int(re.search(r"would need (\d+) runs", refined[2]).group(1))
    assert res["full_grid"] == refine_full  # runs: 2 seeds at each of 15 × 15 points
    assert res["grid"] == (15, 15) and res["full_grid"] == 450


def test_the_report_of_a_refined_file_draws_the_phase_map_not_a_heatmap(refined, tmp_path):
    from analysis.report import write_report
    write_report(refined[1], str(tmp_path))
    md = (tmp_path / "report.md").read_text()
    assert "### phase_map" in md and "would need 450 runs" in md
    assert "### phase_diagram" not in md
    assert (tmp_path / "phase_map.png").exists()


def test_the_phase_command_takes_its_options_from_the_refined_spec(refined, tmp_path):
    p = run_cli("phase", refined[1], "--out", tmp_path / "ph", "--formats", "png")
    assert p.returncode == 0, p.stderr
    assert "would need 450 runs" in p.stdout
    assert re.search(r"boundary at test_acc = 0.5: \d+ contour piece", p.stdout)
    assert (tmp_path / "ph" / "phase.png").exists()


def test_the_phase_command_needs_its_keys_for_a_file_refine_did_not_write(refined, tmp_path):
    p = run_cli("phase", refined[0], "--out", tmp_path)
    assert p.returncode == 2 and "give --x KEY" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_an_unknown_metric_is_a_one_line_error(refined, tmp_path):
    p = run_cli("phase", refined[1], "--x", "x", "--y", "y", "--metric", "nope", "--out", tmp_path)
    assert p.returncode == 2 and "metric nope" in p.stderr and "test_acc" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_points_not_run_yet_are_drawn_and_not_measured(refined, tmp_path):
    from analysis import load
    from analysis.phase import points
    sweep = load(refined[1])
    pts = points(sweep, "x", "y", "test_acc")
    assert np.all(pts["n_measured"] == 2) and np.all(np.isin(pts["value"], (0.0, 1.0)))
    inside = np.hypot(pts["x"] - CX, pts["y"] - CY) < R
    assert np.array_equal(pts["value"] == 1.0, inside)


def test_a_spec_with_points_gets_a_phase_map_in_its_report(tmp_path):
    pts = "\n".join("point = %g, %g" % (x, y) for x in range(8) for y in range(8) if (x + y) % 2)
    (tmp_path / "p.ini").write_text(
        "[model]\nmodel = plugin:%s\n[task]\ncx = %g\ncy = %g\nr = %g\n[train]\nsteps = 1\n"
        "[points]\nkeys = x, y\n%s\n" % (_plugin(), CX, CY, R, pts))
    f = _run(str(tmp_path / "p.ini"), str(tmp_path / "p.h5"))
    from analysis.report import write_report
    write_report(f, str(tmp_path / "rep"))
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "### phase_map_test_acc" in md and "32 points, 32 runs" in md
    assert "### phase_diagram" not in md


def test_a_threshold_along_a_log_spaced_key_is_found_between_its_neighbours(tmp_path):
    (tmp_path / "t.ini").write_text(
        "[model]\nmodel = plugin:%s\n[task]\nlog_x = true\ncx = 6.2\nr = 4\n[train]\nsteps = 1\n"
        "[grid]\nx = logspace(1, 10000, 9)\n" % _plugin())
    f = _run(str(tmp_path / "t.ini"), str(tmp_path / "t.h5"))
    p = run_cli("phase", f, "--x", "x", "--metric", "test_acc", "--level", "0.5",
                "--out", tmp_path / "ph", "--formats", "png")
    assert p.returncode == 0, p.stderr
    m = re.search(r"test_acc crosses 0.5 at x = ([0-9.e+]+)$", p.stdout, re.M)
    assert m, p.stdout
    # the step is at 10^2.2 ≈ 158; the grid's points around it are 100 and 316 (log spacing: the
    # crossing is interpolated in log x, halfway: sqrt(100 · 316) ≈ 178)
    assert 100 < float(m.group(1)) < 316.3
    assert abs(math.log10(float(m.group(1))) - 2.25) < 0.01
    assert "9 points, 9 runs" in p.stdout
