"""analysis — attnsweep's results.h5 → tables and plots. `python3 -m analysis report FILE --out
DIR` writes runs.csv, summary.csv, PNG/SVG plots and report.md; `python3 -m analysis compare A B`
puts two sweeps side by side; `python3 -m analysis phase FILE` draws a phase diagram from
scattered points (a refined sweep). From Python: `analysis.load(FILE)` gives a Sweep (numpy arrays;
`.to_dataframe()` with pandas, `.to_xarray()` with xarray; `analysis.to_xarray(FILE)` in one
call). Needs only python3-h5py, python3-numpy, python3-matplotlib."""
from .load import AnalysisError, Sweep, grid_scale, load, STATUS_NAMES


def to_xarray(path, metrics=None):
    """One results file as one xarray Dataset (load(path).to_xarray(metrics))."""
    return load(path).to_xarray(metrics)


__all__ = ["AnalysisError", "Sweep", "load", "to_xarray", "grid_scale", "STATUS_NAMES"]
