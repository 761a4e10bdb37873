"""analysis — attnsweep's results.h5 → tables and plots. `python3 -m analysis report FILE --out
DIR` writes runs.csv, summary.csv, PNG/SVG plots and report.md; `python3 -m analysis compare A B`
puts two sweeps side by side. From Python: `analysis.load(FILE)` gives a Sweep (numpy arrays;
`.to_dataframe()` with pandas). Needs only python3-h5py, python3-numpy, python3-matplotlib."""
from .load import AnalysisError, Sweep, grid_scale, load, STATUS_NAMES

__all__ = ["AnalysisError", "Sweep", "load", "grid_scale", "STATUS_NAMES"]
