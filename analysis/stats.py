"""stats — per-grid-cell statistics over seeds (summary.csv, the heatmaps, compare) and the CSV
writer. A grid cell is one combination of every parameter but seed. Pending and interrupted
runs are skipped (counted in n_skipped); losses and accuracies are averaged over `done` runs;
std is the sample standard deviation over seeds (ddof=1), NaN with fewer than two values. Runs
that stopped early are counted with the steps they saved, and seed_curves carries their last
value forward so that curves averaged over seeds stay defined after a stop."""
import csv
import math

import numpy as np

from .load import fmt_value

# (summary.csv name stem, /runs column) averaged over done runs
AVERAGED = [("final_train_loss", "final_train_loss"), ("final_train_acc", "final_train_acc"),
            ("final_test_acc", "final_test_acc")]


def mean_std(x):
    """(mean, sample std) of the finite values of x; NaN when there are none (std: fewer than 2)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan
    return float(np.mean(x)), float(np.std(x, ddof=1)) if len(x) > 1 else math.nan


def cell_stats(sweep, ids):
    """Statistics of one cell from its run ids: a dict of summary.csv's non-key columns."""
    st = sweep.status[ids]
    done = ids[st == 1]
    finished = ids[np.isin(st, (1, 2, 3))]
    row = {"n_runs": len(ids), "n_seeds": len(finished), "n_done": len(done),
           "n_diverged": int(np.sum(st == 3)), "n_failed": int(np.sum(st == 2)),
           "n_skipped": int(np.sum(np.isin(st, (0, 4)))),
           "n_stopped_early": int(np.sum(sweep.stopped_early[ids])),
           "steps_saved": sweep.steps_saved(ids)[0]}
    for stem, col in AVERAGED:
        vals = sweep.summaries[col][done] if col in sweep.summaries else np.array([])
        row[stem + "_mean"], row[stem + "_std"] = mean_std(vals)
    stc = sweep.summaries.get("steps_to_converge")
    conv = done[stc[done] >= 0] if stc is not None else done[:0]
    row["n_converged"] = len(conv)
    row["steps_to_converge_mean"], row["steps_to_converge_std"] = (
        mean_std(stc[conv]) if stc is not None else (math.nan, math.nan))
    row["frac_converged"] = len(conv) / len(finished) if len(finished) else math.nan
    return row


STAT_COLUMNS = ["n_runs", "n_seeds", "n_done", "n_diverged", "n_failed", "n_skipped",
                "n_stopped_early", "steps_saved",
                "final_train_loss_mean", "final_train_loss_std", "final_train_acc_mean",
                "final_train_acc_std", "final_test_acc_mean", "final_test_acc_std",
                "steps_to_converge_mean", "steps_to_converge_std", "n_converged",
                "frac_converged"]


def seed_curves(sweep, metric, ids):
    """The traces of one cell's runs (ids) for averaging over seeds: float64 [len(ids),
    n_points], and the point index where each run that stopped early (Sweep.stopped_early) took
    its last value. Such a run keeps that value from its stop to the cell's last logged point:
    its model does not change after it stops, so the mean and band over seeds neither jump
    (the slow seeds left alone) nor end at the first stop. Past the cell's last point, NaN."""
    y = sweep.trace(metric)[ids].astype(float)
    logged = sweep.summaries.get("n_points")
    last = (np.asarray(logged[ids], dtype=int) - 1 if logged is not None else
            np.where(np.isnan(y).all(axis=1), -1,
                     y.shape[1] - 1 - np.argmax(~np.isnan(y[:, ::-1]), axis=1)))
    early = sweep.stopped_early[ids] & (last >= 0)
    horizon = int(last.max()) if len(last) else -1
    for r in np.nonzero(early)[0]:
        y[r, last[r] + 1:horizon + 1] = y[r, last[r]]
    return y, last[early]


def summary_table(sweep, keys=None):
    """summary.csv as {column: list}: the cell keys, then STAT_COLUMNS; one entry per cell."""
    keys = sweep.cell_keys if keys is None else list(keys)
    cols = {k: [] for k in keys + STAT_COLUMNS}
    for values, ids in sweep.cells(keys):
        for k, v in zip(keys, values):
            cols[k].append(v)
        for k, v in cell_stats(sweep, ids).items():
            cols[k].append(v)
    return cols


def fmt_csv(v):
    """One CSV field: exact round-trip floats (repr), 'nan' for missing, plain ints and text."""
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return "nan" if math.isnan(v) else repr(v)
    if isinstance(v, (np.integer, np.bool_)):
        return str(int(v))
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return str(v)


def write_csv(path, cols):
    """Write {column: sequence} (equal lengths) to path; returns the number of rows."""
    names = list(cols)
    n = len(cols[names[0]]) if names else 0
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for i in range(n):
            w.writerow([fmt_csv(cols[c][i]) for c in names])
    return n


def fmt_pm(mean, std, digits=3):
    """'0.123 ± 0.004' for tables; '—' when missing."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    s = _num(mean, digits)
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        s += " ± " + _num(std, max(1, digits - 1))
    return s


def _num(x, digits):
    """%g without exponents for 100 <= |x| < 1e7 (step counts read better as 735 ± 230)."""
    if 100 <= abs(x) < 1e7:
        return "%d" % round(x)
    return "%.*g" % (digits, x)


def md_table(header, rows):
    """A markdown table from a header list and rows of already-formatted cells."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


__all__ = ["summary_table", "cell_stats", "write_csv", "fmt_pm", "md_table", "fmt_value",
           "STAT_COLUMNS", "mean_std", "seed_curves"]
