"""compare — `python3 -m analysis compare A.h5 B.h5 [--out DIR]`: two sweeps side by side (e.g.
the same grid with two classifiers). Grid cells are matched on the swept keys of either file
(every key but seed); the settings that differ between the files are named; compare.csv holds
both summaries and the differences B − A; overlaid curves show A solid, B dashed."""
import math
import os
import warnings

import numpy as np

from . import plots
from .load import AnalysisError, fmt_value, load
from .stats import fmt_pm, md_table, seed_curves, summary_table, write_csv

STEMS = ["final_train_loss", "final_train_acc", "final_test_acc", "steps_to_converge"]


def _constant(sweep, k):
    u = np.unique(sweep.params[k])
    return u[0] if len(u) == 1 else None


def match_keys(a, b):
    """(keys to match cells on, {key: (value in A, value in B)} for settings that differ)."""
    common = [k for k in a.param_keys if k in b.params]
    keys = [k for k in common if k != "seed" and (k in a.cell_keys or k in b.cell_keys)]
    differ = {}
    for k in common:
        if k in keys or k == "seed":
            continue
        va, vb = _constant(a, k), _constant(b, k)
        if va is not None and vb is not None and va != vb:
            differ[k] = (va, vb)
    if a.model != b.model:
        differ["model"] = (a.model, b.model)
    return keys, differ


def compare_table(a, b):
    """{column: list} of the matched cells: keys, then per statistic A, B and B − A. Also
    returns the numbers of cells only in A and only in B."""
    keys, _ = match_keys(a, b)
    ta, tb = summary_table(a, keys), summary_table(b, keys)
    ia = {tuple(ta[k][i] for k in keys): i for i in range(len(ta["n_runs"]))}
    ib = {tuple(tb[k][i] for k in keys): i for i in range(len(tb["n_runs"]))}
    both = [c for c in ia if c in ib]
    cols = {k: [] for k in keys}
    for name in ["n_seeds"]:
        cols["a_" + name], cols["b_" + name] = [], []
    for stem in STEMS:
        for p in ("a_%s_mean", "a_%s_std", "b_%s_mean", "b_%s_std", "diff_%s_mean"):
            cols[p % stem] = []
    cols.update(a_frac_converged=[], b_frac_converged=[], diff_frac_converged=[])
    for c in both:
        i, j = ia[c], ib[c]
        for k, v in zip(keys, c):
            cols[k].append(v)
        cols["a_n_seeds"].append(ta["n_seeds"][i])
        cols["b_n_seeds"].append(tb["n_seeds"][j])
        for stem in STEMS:
            am, bm = ta[stem + "_mean"][i], tb[stem + "_mean"][j]
            cols["a_%s_mean" % stem].append(am)
            cols["a_%s_std" % stem].append(ta[stem + "_std"][i])
            cols["b_%s_mean" % stem].append(bm)
            cols["b_%s_std" % stem].append(tb[stem + "_std"][j])
            cols["diff_%s_mean" % stem].append(bm - am)
        fa, fb = ta["frac_converged"][i], tb["frac_converged"][j]
        cols["a_frac_converged"].append(fa)
        cols["b_frac_converged"].append(fb)
        cols["diff_frac_converged"].append(fb - fa)
    return cols, keys, len(ia) - len(both), len(ib) - len(both)


def _overlay(a, b, la, lb, keys, cells, out, name, metric, formats):
    """One panel per lr (if swept): A solid, B dashed, one colour per matched cell (mean over
    done seeds)."""
    import matplotlib.pyplot as plt
    facet = ["lr"] if "lr" in keys else []
    line_keys = [k for k in keys if k not in facet]
    fvals = sorted({c[keys.index("lr")] for c in cells}) if facet else [None]
    ncol = min(len(fvals), 4)
    nrow = int(math.ceil(len(fvals) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(plots.PANEL_W * ncol, plots.PANEL_H * nrow),
                             squeeze=False)
    handles = {}
    for fi, fv in enumerate(fvals):
        ax = axes[fi // ncol][fi % ncol]
        sub = [c for c in cells if not facet or c[keys.index("lr")] == fv]
        cols = plots.colors(len(sub))
        for col, c in zip(cols, sub):
            lab = a.label(line_keys, [c[keys.index(k)] for k in line_keys]) or "all runs"
            for sw, ls in ((a, "-"), (b, "--")):
                sel = sw.done.copy()
                for k, v in zip(keys, c):
                    sel &= sw.params[k] == v
                if not sel.any():
                    continue
                with warnings.catch_warnings():  # stopped seeds kept at their last value
                    warnings.simplefilter("ignore", RuntimeWarning)
                    y = np.nanmean(seed_curves(sw, metric, np.nonzero(sel)[0])[0], axis=0)
                (h,) = ax.plot(sw.step, y, ls, color=col, lw=1.4)
                if ls == "-":
                    handles.setdefault(lab, h)
        if metric.endswith("loss"):
            ax.set_yscale("log")
        ax.set_title("lr=%s" % fmt_value(fv) if facet else plots.label(metric))
        ax.set_xlabel("training step")
        ax.set_ylabel(plots.label(metric))
    for fi in range(len(fvals), nrow * ncol):
        axes[fi // ncol][fi % ncol].set_visible(False)
    style = [plt.Line2D([], [], ls="-", color="k", label="A: " + la),
             plt.Line2D([], [], ls="--", color="k", label="B: " + lb)]
    pairs = list(handles.items()) + [(h.get_label(), h) for h in style]
    fig.legend([h for _, h in pairs], [lab for lab, _ in pairs], loc="center left",
               bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False,
               title=", ".join(line_keys) or None, title_fontsize=8)
    fig.suptitle("%s: A (solid) vs B (dashed), mean over seeds of each matched cell"
                 % plots.label(metric), y=1.0)
    fig.tight_layout()
    return plots.save(fig, out, name, formats)


def write_compare(path_a, path_b, out, formats=plots.FORMATS):
    """compare.csv, compare.md and overlaid curves for two results files into out."""
    a, b = load(path_a), load(path_b)
    cols, keys, only_a, only_b = compare_table(a, b)
    _, differ = match_keys(a, b)
    os.makedirs(out, exist_ok=True)
    n = len(cols["a_n_seeds"])
    write_csv(os.path.join(out, "compare.csv"), cols)

    def desc(side):
        if not differ:
            return os.path.basename(a.path if side == 0 else b.path)
        return ", ".join("%s=%s" % (k, fmt_value(v[side])) for k, v in differ.items())
    la, lb = desc(0), desc(1)
    files = ["compare.csv", "compare.md"]
    notes = []
    cells = [tuple(cols[k][i] for k in keys) for i in range(n)]
    if n and a.done.any() and b.done.any():
        for metric, name in (("train_loss", "compare_loss"), ("test_acc", "compare_test_acc")):
            if metric in a.metrics and metric in b.metrics:
                files += _overlay(a, b, la, lb, keys, cells, out, name, metric, formats)
            else:
                notes.append("%s: skipped, %s is not a metric of both files" % (name, metric))
    else:
        notes.append("no overlaid curves: no matching cell with done runs in both files")
    rows = []
    for i in range(n):
        rows.append([fmt_value(cols[k][i]) for k in keys] + [
            "%d / %d" % (cols["a_n_seeds"][i], cols["b_n_seeds"][i]),
            fmt_pm(cols["a_final_train_loss_mean"][i], cols["a_final_train_loss_std"][i]),
            fmt_pm(cols["b_final_train_loss_mean"][i], cols["b_final_train_loss_std"][i]),
            fmt_pm(cols["a_final_test_acc_mean"][i], None),
            fmt_pm(cols["b_final_test_acc_mean"][i], None),
            fmt_pm(cols["a_steps_to_converge_mean"][i], None),
            fmt_pm(cols["b_steps_to_converge_mean"][i], None),
            fmt_pm(cols["diff_steps_to_converge_mean"][i], None)])
    header = keys + ["seeds A / B", "train loss A", "train loss B", "test acc A", "test acc B",
                     "steps A", "steps B", "steps B − A"]
    table = md_table(header, rows)
    md = ["# attnsweep compare", "",
          "- A: `%s` (%s, %d runs, %s)" % (a.path, a.model, a.n_runs, la),
          "- B: `%s` (%s, %d runs, %s)" % (b.path, b.model, b.n_runs, lb),
          "- settings that differ: %s" % (", ".join(
              "%s: %s → %s" % (k, fmt_value(v[0]), fmt_value(v[1])) for k, v in differ.items())
              or "none (same fixed settings)"),
          "- cells matched on: %s; %d matching cells, %d only in A, %d only in B"
          % (", ".join(keys) or "(no swept keys)", n, only_a, only_b),
          "- skipped (pending/interrupted): A %d, B %d" % (int(a.skipped.sum()),
                                                          int(b.skipped.sum())),
          "", "[compare.csv](compare.csv): every statistic of summary.csv for A and B, and "
          "diff_* = B − A.", "", table, ""]
    for f in files[2:]:
        if f.endswith(".png"):
            md += ["![%s](%s)" % (f[:-4], f), ""]
    md += ["- " + x for x in notes]
    with open(os.path.join(out, "compare.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    if not n:
        notes.append("no grid cell matches between the two files")
    text = "\n".join(md[2:7]) + "\n\n" + table
    return dict(a=a, b=b, n_matched=n, only_a=only_a, only_b=only_b, keys=keys, differ=differ,
                files=files, notes=notes, text=text, columns=cols)


__all__ = ["write_compare", "compare_table", "match_keys", "AnalysisError"]
