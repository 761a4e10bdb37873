"""phase — phase diagrams from scattered points: the (x, y) points of a sweep (a product grid, a
[points] section, or the rounds of `attnsweep refine`), each shaded by the mean of a metric over
its seeds (nearest-point regions, the points drawn on top), the boundary as a contour at a level
(linear interpolation over a Delaunay triangulation in the keys' spacing), and how many runs a
product grid at the finest spacing would have needed. Along one key (no y), the metric against x
with the level's crossings. `python3 -m analysis phase` and the report draw it."""
import math
import re
import shlex

import numpy as np
from matplotlib import tri as mtri
from matplotlib.colors import TwoSlopeNorm

from . import plots
from .load import AnalysisError, fmt_value

RASTER = 400                # nearest-point shading: raster cells per axis
REFINED = re.compile(r"^# refined by `attnsweep refine (.*?)`", re.M)


def refine_settings(spec):
    """The options of the latest `attnsweep refine` that wrote this spec (its first `# refined by`
    line): dict(x, y, metric, level, x_scale, y_scale); y and level may be None. None if the spec
    was not written by refine."""
    m = REFINED.search(spec or "")
    if not m:
        return None
    try:
        words = shlex.split(m.group(1))
    except ValueError:
        return None
    opts = {}
    for i, w in enumerate(words[:-1]):
        if w.startswith("--"):
            opts[w[2:]] = words[i + 1]
    if "x" not in opts or "metric" not in opts:
        return None
    try:
        level = float(opts["level"]) if "level" in opts else None
    except ValueError:
        level = None
    return dict(x=opts["x"], y=opts.get("y"), metric=opts["metric"], level=level,
                x_scale=opts.get("x-scale"), y_scale=opts.get("y-scale"))


def metric_values(sweep, metric):
    """float64 [n_runs] of a metric as refine reads it: a numeric /runs column (final_test_acc,
    steps_to_converge, ...), a trace metric (its last logged value), or "converged" (1 if the run
    reached converge_loss, else 0). NaN where a run has none."""
    if metric == "converged":
        stc = sweep.summaries.get("steps_to_converge")
        if stc is None:
            raise AnalysisError("%s: no steps_to_converge column for --metric converged"
                                % sweep.path)
        return (np.asarray(stc) >= 0).astype(float)
    col = sweep.summaries.get(metric)
    if col is not None and np.asarray(col).dtype.kind in "biuf":
        return np.asarray(col, dtype=float)
    if metric in sweep.metrics:
        return sweep.final(metric)
    raise AnalysisError("%s: metric %s is neither a numeric /runs column nor a trace metric "
                        "(traces: %s; or converged, final_test_acc, steps_to_converge, ...)"
                        % (sweep.path, metric, ", ".join(sweep.metrics)))


def axis_scale(values, forced=None):
    """'log' or 'linear': as refine decides, log when every value is positive and they span two
    decades, unless forced."""
    if forced in ("log", "linear"):
        return forced
    v = np.asarray(values, dtype=float)
    return "log" if len(v) and v.min() > 0 and v.max() >= 100 * v.min() else "linear"


def _at(v, scale):
    v = np.asarray(v, dtype=float)
    return np.log(v) if scale == "log" else v


def finest_count(values, scale):
    """Points per axis of a product grid spanning values at their finest spacing (in the key's
    spacing), as refine counts them."""
    t = np.unique(_at(values, scale))
    if len(t) < 2:
        return 1
    gaps = np.diff(t)
    gaps = gaps[gaps > 1e-12 * (abs(t).max() + 1)]
    return int(round((t[-1] - t[0]) / gaps.min())) + 1 if len(gaps) else 1


def _numeric(sweep, key):
    if key not in sweep.params:
        raise AnalysisError("%s: %s is not a parameter of this file (swept: %s)"
                            % (sweep.path, key, ", ".join(sweep.swept)))
    try:
        return np.asarray(sweep.params[key], dtype=float)
    except (TypeError, ValueError):
        raise AnalysisError("%s: %s is not numeric; a phase diagram needs numeric keys"
                            % (sweep.path, key)) from None


def _run_arrays(sweep, x, y, metric):
    """Per run: x, y (zeros along x alone), the metric, and whether it counts (finished: done or
    diverged, with a finite value)."""
    xv = _numeric(sweep, x)
    yv = _numeric(sweep, y) if y else np.zeros(sweep.n_runs)
    v = metric_values(sweep, metric)
    return xv, yv, v, sweep.mask("done", "diverged") & np.isfinite(v)


def _aggregate(xv, yv, v, ok, two_d):
    """points() from the per-run arrays (of a whole sweep or of one panel's runs)."""
    keys, inv = np.unique(np.stack([xv, yv], axis=1), axis=0, return_inverse=True)
    inv = inv.ravel()
    n_runs = np.bincount(inv, minlength=len(keys))
    n_ok = np.bincount(inv, weights=ok, minlength=len(keys))
    total = np.bincount(inv, weights=np.where(ok, v, 0.0), minlength=len(keys))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n_ok > 0, total / np.maximum(n_ok, 1), np.nan)
    return dict(x=keys[:, 0], y=keys[:, 1] if two_d else None, value=value, n_runs=n_runs,
                n_measured=n_ok.astype(int), runs_per_point=int(round(len(xv) / len(keys))))


def points(sweep, x, y, metric):
    """The sweep's distinct (x, y) points (y None: along x) with the mean metric over their
    finished runs (done or diverged, finite values), as refine aggregates them. dict of arrays:
    x, y (None in 1-D), value (NaN: nothing finished yet), n_runs, n_measured; plus runs_per_point
    (the other swept keys crossed with every point, seeds above all)."""
    return _aggregate(*_run_arrays(sweep, x, y, metric), bool(y))


def full_grid(pts, x_scale, y_scale):
    """(points per axis, runs) of a product grid at the finest spacing of pts' x (and y)."""
    nx = finest_count(pts["x"], x_scale)
    ny = finest_count(pts["y"], y_scale) if pts["y"] is not None else 1
    return (nx, ny), nx * ny * pts["runs_per_point"]


def _triangulation(px, py, x_scale, y_scale):
    """Delaunay triangles over the points in the keys' spacing, each axis scaled to [0, 1] (so the
    triangles do not follow the keys' units), returned in data coordinates."""
    tx, ty = _at(px, x_scale), _at(py, y_scale)
    nx_ = (tx - tx.min()) / max(np.ptp(tx), 1e-300)
    ny_ = (ty - ty.min()) / max(np.ptp(ty), 1e-300)
    t = mtri.Triangulation(nx_, ny_)
    return mtri.Triangulation(px, py, triangles=t.triangles)


def boundary(pts, level, x_scale, y_scale):
    """The contour of the mean metric at level as a list of [k, 2] arrays of (x, y) vertices
    (2-D), or the crossing x values along x (1-D, interpolated in x's spacing). Points with no
    finished run are left out."""
    ok = np.isfinite(pts["value"])
    v = pts["value"][ok]
    if pts["y"] is None:
        order = np.argsort(pts["x"][ok])
        t, v = _at(pts["x"][ok][order], x_scale), v[order]
        out = []
        for i in range(len(v) - 1):
            a, b = v[i] - level, v[i + 1] - level
            if a == 0:
                out.append(t[i])
            elif a * b < 0:
                out.append(t[i] + (t[i + 1] - t[i]) * a / (a - b))
        if len(v) and v[-1] == level:
            out.append(t[-1])
        out = np.asarray(out)
        return list(np.exp(out) if x_scale == "log" else out)
    if ok.sum() < 3 or v.min() > level or v.max() < level:
        return []
    import matplotlib.pyplot as plt
    try:
        tr = _triangulation(pts["x"][ok], pts["y"][ok], x_scale, y_scale)
    except (ValueError, RuntimeError):  # collinear points
        return []
    fig, ax = plt.subplots()
    if x_scale == "log":
        ax.set_xscale("log")
    if y_scale == "log":
        ax.set_yscale("log")
    cs = ax.tricontour(tr, v, levels=[level])
    segs = [np.asarray(s) for s in cs.allsegs[0] if len(s) > 1]
    plt.close(fig)
    return segs


def _nearest(ax, pts, ok, x_scale, y_scale, cmap, norm):
    """Shade every raster cell by the value of the nearest measured point (in the keys' spacing,
    each axis scaled to [0, 1])."""
    tx, ty = _at(pts["x"][ok], x_scale), _at(pts["y"][ok], y_scale)
    lo_x, lo_y, sx, sy = tx.min(), ty.min(), max(np.ptp(tx), 1e-300), max(np.ptp(ty), 1e-300)
    pad = 0.03  # the edge points drawn whole
    gx = np.linspace(lo_x - pad * sx, lo_x + (1 + pad) * sx, RASTER)
    gy = np.linspace(lo_y - pad * sy, lo_y + (1 + pad) * sy, RASTER)
    ux, uy = (tx - lo_x) / sx, (ty - lo_y) / sy
    best = np.full((RASTER, RASTER), np.inf)
    val = np.zeros((RASTER, RASTER))
    vals = pts["value"][ok]
    gxn, gyn = (gx - lo_x) / sx, (gy - lo_y) / sy
    for k in range(len(ux)):  # O(points · raster²) with no scipy; fine for thousands of points
        d = (gyn[:, None] - uy[k]) ** 2 + (gxn[None, :] - ux[k]) ** 2
        closer = d < best
        best[closer] = d[closer]
        val[closer] = vals[k]
    ex = np.exp(gx) if x_scale == "log" else gx
    ey = np.exp(gy) if y_scale == "log" else gy
    return ax.pcolormesh(ex, ey, val, cmap=cmap, norm=norm, shading="nearest", rasterized=True)


def _panel_2d(fig, ax, pts, metric, level, x, y, x_scale, y_scale):
    ok = np.isfinite(pts["value"])
    vals = pts["value"][ok]
    lo, hi = (vals.min(), vals.max()) if len(vals) else (0.0, 1.0)
    if level is not None and lo < level < hi:  # the two sides in two hues, the level white
        norm = TwoSlopeNorm(vcenter=level, vmin=lo, vmax=hi)
        cmap = plots.plt.get_cmap("PuOr_r").copy()
    else:
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        norm = plots.Normalize(vmin=lo, vmax=hi)
        cmap = plots.plt.get_cmap("viridis").copy()
    if x_scale == "log":
        ax.set_xscale("log")
    if y_scale == "log":
        ax.set_yscale("log")
    ax.grid(False)
    if ok.sum() >= 1:
        mesh = _nearest(ax, pts, ok, x_scale, y_scale, cmap, norm)
        fig.colorbar(mesh, ax=ax, label="mean " + plots.label(metric), fraction=0.05, pad=0.03)
    segs = boundary(pts, level, x_scale, y_scale) if level is not None else []
    for k, s in enumerate(segs):  # black on a white halo, above the points
        ax.plot(s[:, 0], s[:, 1], color="white", lw=3.2, zorder=4)
        ax.plot(s[:, 0], s[:, 1], color="black", lw=1.6, zorder=5,
                label="%s = %s" % (metric, fmt_value(level)) if k == 0 else None)
    size = 10 if ok.sum() <= 150 else 4
    ax.scatter(pts["x"][ok], pts["y"][ok], s=size, color="black", linewidths=0, zorder=3,
               label="measured points")
    if (~ok).any():  # points still to run
        ax.scatter(pts["x"][~ok], pts["y"][~ok], s=14, facecolors="none", edgecolors="#555555",
                   linewidths=0.7, zorder=3, label="not run yet")
    ax.legend(loc="upper right", fontsize=7, framealpha=0.85)
    ax.set_xlabel(plots.label(x) + (" (log scale)" if x_scale == "log" else ""))
    ax.set_ylabel(plots.label(y) + (" (log scale)" if y_scale == "log" else ""))
    return segs


def _panel_1d(ax, xv, v, ok, pts, metric, level, x, x_scale):
    """The metric of every counted run (xv, v, ok: the panel's runs) and the mean along x."""
    ax.scatter(xv[ok], v[ok], s=10, color="#888888", label="runs")
    good = np.isfinite(pts["value"])
    order = np.argsort(pts["x"][good])
    ax.plot(pts["x"][good][order], pts["value"][good][order], "o-", color="C0", ms=4,
            label="mean over seeds")
    cross = []
    if level is not None:
        ax.axhline(level, color="black", lw=1, ls="--", label="level %s" % fmt_value(level))
        cross = boundary(pts, level, x_scale, None)
        for c in cross:
            ax.axvline(c, color="C3", lw=1.2)
    if x_scale == "log":
        ax.set_xscale("log")
    ax.set_xlabel(plots.label(x) + (" (log scale)" if x_scale == "log" else ""))
    ax.set_ylabel(plots.label(metric))
    ax.legend(fontsize=7)
    return cross


def draw(sweep, outdir, name, x, y, metric, level=None, x_scale=None, y_scale=None,
         formats=plots.FORMATS):
    """Draw the phase diagram of metric over x × y (or along x) into outdir/NAME.{png,svg}, one
    panel per combination of the other swept keys (seeds excepted). Returns dict(files, panels
    [{title, n_points, n_measured, boundary}], n_points, n_runs, grid (points per axis), full_grid
    (runs of a product grid at the finest spacing), text (one sentence on the counts), notes)."""
    xv, yv, v, ok = _run_arrays(sweep, x, y, metric)  # errors before anything is drawn
    x_scale = axis_scale(xv, x_scale)
    if y:
        y_scale = axis_scale(yv, y_scale)
    pts = _aggregate(xv, yv, v, ok, bool(y))
    grid, full = full_grid(pts, x_scale, y_scale)
    facet_keys = [k for k in sweep.cell_keys if k not in (x, y)]
    facets = plots.facet_list(sweep, facet_keys, np.ones(sweep.n_runs, dtype=bool))
    notes = []
    if len(facets) > plots.MAX_FACETS:
        notes.append("only the first %d of %d panels are drawn" % (plots.MAX_FACETS, len(facets)))
        facets = facets[:plots.MAX_FACETS]
    ncol = min(len(facets), 3)
    nrow = int(math.ceil(len(facets) / ncol))
    fig, axes = plots.plt.subplots(nrow, ncol, squeeze=False,
                                   figsize=(5.2 * ncol + 0.6, 4.4 * nrow))
    panels = []
    for i, (ftitle, ids) in enumerate(facets):
        ax = axes[i // ncol][i % ncol]
        p = _aggregate(xv[ids], yv[ids], v[ids], ok[ids], bool(y))
        if y:
            b = _panel_2d(fig, ax, p, metric, level, x, y, x_scale, y_scale)
        else:
            b = _panel_1d(ax, xv[ids], v[ids], ok[ids], p, metric, level, x, x_scale)
        n_meas = int(np.isfinite(p["value"]).sum())
        ax.set_title("%s%s points (%d measured)" % ((ftitle + ": ") if ftitle else "",
                                                    len(p["x"]), n_meas))
        panels.append(dict(title=ftitle, n_points=len(p["x"]), n_measured=n_meas, boundary=b))
    for j in range(len(facets), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    shape = "%d × %d" % grid if y else "%d" % grid[0]
    rpp = pts["runs_per_point"]
    text = ("%d points, %d runs; a product grid at the finest spacing (%s points, %d run%s per "
            "point) would need %d runs (this file has %.0f %% of them)"
            % (len(pts["x"]), sweep.n_runs, shape, rpp, "" if rpp == 1 else "s", full,
               100.0 * sweep.n_runs / max(full, 1)))
    what = "%s over %s × %s" % (plots.label(metric), x, y) if y else \
        "%s along %s" % (plots.label(metric), x)
    lvl = ", boundary at %s" % fmt_value(level) if level is not None else ""
    fig.suptitle("Phase diagram: mean %s%s\n%s" % (what, lvl, text), y=1.0)
    fig.tight_layout()
    return dict(files=plots.save(fig, outdir, name, formats), panels=panels,
                n_points=len(pts["x"]), n_runs=sweep.n_runs, grid=grid, full_grid=full,
                x_scale=x_scale, y_scale=y_scale if y else None, text=text, notes=notes)


def is_scattered(sweep, x, y):
    """True if the file's (x, y) points are not the full product of their x and y values (a
    [points] section or a refined sweep): a heatmap over the product would be mostly empty."""
    xv, yv = sweep.params[x], sweep.params[y]
    pairs = set(zip(xv.tolist(), yv.tolist()))
    return len(pairs) < len(set(xv.tolist())) * len(set(yv.tolist()))


def write_phase(path, outdir, x=None, y=None, metric=None, level=None, x_scale=None,
                y_scale=None, formats=plots.FORMATS):
    """`python3 -m analysis phase`: draw phase.{png,svg} into outdir. Options not given come from
    the spec's `# refined by` line (a file refine grew); x and metric are needed otherwise.
    Returns draw()'s dict plus crossings (one line per panel: where the boundary lies)."""
    import os

    from .load import load
    sweep = load(path)
    got = refine_settings(sweep.spec) or {}
    if x is None and y is None:  # y follows x: --x alone means along x
        x, y = got.get("x"), got.get("y")
    metric = metric or got.get("metric")
    level = level if level is not None else got.get("level")
    same = x == got.get("x")
    x_scale = None if x_scale == "auto" else x_scale or (got.get("x_scale") if same else None)
    y_scale = None if y_scale == "auto" else y_scale or (got.get("y_scale") if same else None)
    if not x or not metric:
        raise AnalysisError("%s: give --x KEY (and --y KEY) and --metric NAME: the file's spec "
                            "was not written by `attnsweep refine`" % path)
    os.makedirs(outdir, exist_ok=True)
    res = draw(sweep, outdir, "phase", x, y, metric, level, x_scale, y_scale, formats)
    res["crossings"] = []
    for p in res["panels"]:
        head = (p["title"] + ": ") if p["title"] else ""
        if level is None:
            continue
        if y:
            n = sum(len(s) for s in p["boundary"])
            k = len(p["boundary"])
            res["crossings"].append("%sboundary at %s = %s: %d contour piece%s, %d vertices"
                                    % (head, metric, fmt_value(level), k, "" if k == 1 else "s",
                                       n))
        else:
            res["crossings"].append("%s%s crosses %s at %s = %s" % (
                head, metric, fmt_value(level), x,
                ", ".join("%.4g" % c for c in p["boundary"]) or "nowhere measured"))
    return res
