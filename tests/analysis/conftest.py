"""Fixtures of the analysis tests: the results file of a REAL tiny sweep (tests/analysis/tiny.ini,
`attnsweep run` under mpiexec on 3 ranks; ctest passes the binary in ATTNSWEEP_BIN and the
launcher in MPIEXEC), synthetic files in the same layout (synth.py) for the other families and
odd cases, and reports made once per file and shared by the tests that read them."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

import synth  # noqa: E402

TINY = os.path.join(HERE, "tiny.ini")
MPI_FLAGS = ["--oversubscribe", "--mca", "io", "romio321", "--bind-to", "none"]


def _binary():
    b = os.environ.get("ATTNSWEEP_BIN")
    if b:
        return b
    for cand in ("build/attnsweep", "build-analysis/attnsweep"):
        p = os.path.join(REPO, cand)
        if os.path.exists(p):
            return p
    return None


def mpi_env():
    env = dict(os.environ)
    if os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def sweep_cmd(spec, out, *extra, np_=3):
    """The mpiexec command line of `attnsweep run spec --out out extra...`. Skips the test when
    no binary is known (pytest outside ctest with nothing built)."""
    b = _binary()
    if b is None:
        pytest.skip("no attnsweep binary: set ATTNSWEEP_BIN (ctest does) or build into build/")
    return [os.environ.get("MPIEXEC", "mpirun")] + MPI_FLAGS + \
        ["-np", str(np_), b, "run", spec, "--out", out] + list(extra)


def run_sweep(spec, out, np_=3):
    """Run `attnsweep run spec --out out` under mpiexec; fails the test with the output if the
    sweep fails."""
    cmd = sweep_cmd(spec, out, np_=np_)
    p = subprocess.run(cmd, env=mpi_env(), capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or not os.path.exists(out):
        pytest.fail("the tiny sweep failed (exit %d): %s\nstdout:\n%s\nstderr:\n%s"
                    % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return out


def run_cli(*args, env=None):
    """`python3 -m analysis ARGS` from the repository root; returns the CompletedProcess."""
    e = dict(os.environ, **(env or {}))
    e["PYTHONPATH"] = REPO + os.pathsep + e.get("PYTHONPATH", "")
    e["MPLBACKEND"] = e.get("MPLBACKEND", "Agg")
    return subprocess.run([sys.executable, "-m", "analysis"] + [str(a) for a in args], cwd=REPO,
                          env=e, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def real_file(tmp_path_factory):
    """results.h5 of the real tiny sweep (24 lu2021 runs, all done)."""
    d = tmp_path_factory.mktemp("real")
    return run_sweep(TINY, str(d / "results.h5"))


@pytest.fixture(scope="session")
def stopped_file(tmp_path_factory):
    """(results.h5, sweep stdout) of the tiny sweep with stop_when_converged = true: 12 of its
    24 runs stop early, some seeds of a cell and not others, and all seeds of other cells."""
    out = str(tmp_path_factory.mktemp("stopped") / "results.h5")
    cmd = sweep_cmd(TINY, out, "--set", "train.stop_when_converged=true", "--progress", "0")
    p = subprocess.run(cmd, env=mpi_env(), capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        pytest.fail("the early-stopping sweep failed (exit %d): %s\n%s"
                    % (p.returncode, " ".join(cmd), p.stderr))
    return out, p.stdout


@pytest.fixture(scope="session")
def synth_file(tmp_path_factory):
    """A synthetic lu2021 file (54 runs) with one diverged and one failed run."""
    p = str(tmp_path_factory.mktemp("synth") / "synth.h5")
    synth.make_synthetic(p, statuses={4: 2}, diverge=[7])
    return p


@pytest.fixture(scope="session", params=["real", "synthetic"])
def sweep_file(request):
    return request.getfixturevalue("real_file" if request.param == "real" else "synth_file")


_REPORTS = {}


@pytest.fixture(scope="session")
def report_of(tmp_path_factory):
    """report_of(path) → (output dir, write_report result), made once per file per session."""
    from analysis.report import write_report

    def make(path):
        if path not in _REPORTS:
            out = str(tmp_path_factory.mktemp("report"))
            _REPORTS[path] = (out, write_report(path, out))
        return _REPORTS[path]
    return make


@pytest.fixture
def copy_of(tmp_path):
    """copy_of(path) → a fresh copy of a results file in the test's tmp dir."""
    def make(path, name="copy.h5"):
        dst = str(tmp_path / name)
        shutil.copyfile(path, dst)
        return dst
    return make
