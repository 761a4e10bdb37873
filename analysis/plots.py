"""plots — the report's figures from a Sweep, headless (Agg): training curves faceted by a key
(seeds as a band), heatmaps over two swept keys (log axes when the grid is logarithmic), the
lu2021 SEN identity (a word's score vs. ||q||·||v|| with the theory curve). Each function saves
NAME.png and NAME.svg into the output directory and returns a dict of what it drew. Means over
seeds carry a run that stopped early at its last value (stats.seed_curves); × marks the stops."""
import math
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator  # noqa: E402

from .load import fmt_value, grid_scale  # noqa: E402
from .stats import seed_curves  # noqa: E402

FORMATS = ("png", "svg")
PANEL_W, PANEL_H = 4.3, 3.3
MAX_FACETS = 12
MAX_BAND_LINES = 12
MAX_POINTS = 100_000
STOP_MARK = dict(marker="x", ms=5, mew=1.2, ls="none")  # where a seed stopped early

LABELS = {
    "train_loss": "train loss", "test_loss": "test loss", "valid_loss": "validation loss",
    "train_acc": "train accuracy", "test_acc": "test accuracy", "valid_acc": "validation accuracy",
    "topic_attention": "attention on the topic word", "clean_attention": "attention (clean)",
    "noisy_attention": "attention (label-flipped)", "attn_acc": "attention accuracy", "topic_score": "topic-word score $s_t$",
    "topic_embed_norm2": r"$\|q\|^2\|v_t\|^2$", "query_norm": "||q||", "sen_rhs": "SEN theory",
    "sen_residual": "SEN relative residual", "sen_residual_max": "SEN residual, worst word",
    "sen_worst_score": "score of the worst word", "sen_worst_norm2": r"worst word's $\|q\|^2\|v\|^2$",
    "sen_worst_rhs": "worst word's SEN theory", "steps_to_converge": "steps to converge",
    "lr": "learning rate", "vocab_size": "vocab_size (non-topic words)",
    "embed_dim": "embed_dim (D)", "words_per_sentence": "words_per_sentence (m)",
}
LINESTYLES = ["-", "--", ":", "-."]

plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "axes.grid": True,
                     "grid.alpha": 0.3, "font.size": 9, "axes.titlesize": 10,
                     "svg.fonttype": "none"})


def label(name):
    return LABELS.get(name, name)


def save(fig, outdir, name, formats=FORMATS):
    """Write the figure as NAME.<fmt> for each format, close it; returns the file names."""
    files = []
    for fmt in formats:
        fn = "%s.%s" % (name, fmt)
        fig.savefig(os.path.join(outdir, fn), bbox_inches="tight")
        files.append(fn)
    plt.close(fig)
    return files


def colors(n):
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    return [plt.get_cmap("viridis")(x) for x in np.linspace(0, 0.95, n)]


def facet_list(sweep, keys, runs):
    """[(title, ids)] of the combinations of keys among the runs (one facet if no keys)."""
    if not keys:
        return [("", np.nonzero(runs)[0])]
    return [(sweep.label(keys, vals), ids) for vals, ids in sweep.cells(keys, runs)]


def _grid(n_panels, ncol_max=4):
    ncol = min(n_panels, ncol_max)
    return ncol, int(math.ceil(n_panels / ncol))


def curves(sweep, outdir, name, groups, facet_keys, runs, title, band="std", formats=FORMATS):
    """Trace curves: one row of panels per group (a list of metrics overlaid, told apart by line
    style), one panel per facet (combination of facet_keys), one colour per cell of the other
    cell keys; mean over the seeds of each cell, band = ±1 std or min–max over seeds. A seed that
    stopped early counts with its last value after its stop (× on the mean marks each stop).
    Returns files, notes and drawn [dict(metric, facet, cell, ids, mean, lo, hi, stops)]."""
    facets = facet_list(sweep, facet_keys, runs)
    notes, drawn = [], []
    if len(facets) > MAX_FACETS:
        notes.append("only the first %d of %d panels (%s) are drawn"
                     % (MAX_FACETS, len(facets), ", ".join(facet_keys)))
        facets = facets[:MAX_FACETS]
    line_keys = [k for k in sweep.cell_keys if k not in facet_keys]
    ncol, nrow_per = _grid(len(facets))
    nrow = nrow_per * len(groups)
    fig, axes = plt.subplots(nrow, ncol, figsize=(PANEL_W * ncol, PANEL_H * nrow), squeeze=False)
    x = sweep.step
    handles = {}
    max_lines = 0
    for gi, (gname, metrics) in enumerate(groups):
        logy = all(m.endswith("loss") for m in metrics)
        bounded = all(m.endswith("acc") or "attention" in m for m in metrics)
        for fi, (ftitle, fids) in enumerate(facets):
            ax = axes[gi * nrow_per + fi // ncol][fi % ncol]
            cells = sweep.cells(line_keys, fids)
            max_lines = max(max_lines, len(cells))
            cols = colors(len(cells))
            for ci, (vals, ids) in enumerate(cells):
                lab = sweep.label(line_keys, vals) or "all runs"
                for mi, m in enumerate(metrics):
                    y, stops = seed_curves(sweep, m, ids)
                    if logy:
                        y = np.where(y > 0, y, np.nan)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        mean = np.nanmean(y, axis=0)
                        if band == "minmax":
                            lo, hi = np.nanmin(y, axis=0), np.nanmax(y, axis=0)
                        else:
                            sd = np.nanstd(y, axis=0, ddof=1) if len(ids) > 1 else 0 * mean
                            lo, hi = mean - sd, mean + sd
                    ls = LINESTYLES[mi % len(LINESTYLES)]
                    (h,) = ax.plot(x, mean, ls, color=cols[ci], lw=1.4)
                    if len(stops):
                        ax.plot(x[stops], mean[stops], color=cols[ci], **STOP_MARK)
                    drawn.append(dict(metric=m, facet=ftitle, cell=lab, ids=ids, mean=mean,
                                      lo=lo, hi=hi, stops=x[stops]))
                    if len(ids) > 1 and len(cells) <= MAX_BAND_LINES:
                        if logy:
                            lo = np.where(lo > 0, lo, mean)
                        if bounded:
                            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
                        ax.fill_between(x, lo, hi, color=cols[ci], alpha=0.18, lw=0)
                    if mi == 0:
                        handles.setdefault(lab, h)
            if logy:
                ax.set_yscale("log")
            if bounded:
                ax.set_ylim(-0.02, 1.02)
            ax.set_title(ftitle or gname)
            ax.set_ylabel(gname if len(metrics) > 1 else label(metrics[0]))
            ax.set_xlabel("training step")
        for fi in range(len(facets), nrow_per * ncol):
            axes[gi * nrow_per + fi // ncol][fi % ncol].set_visible(False)
    style_handles = []
    if any(len(ms) > 1 for _, ms in groups):
        ms = max((ms for _, ms in groups), key=len)
        style_handles = [plt.Line2D([], [], ls=LINESTYLES[i % 4], color="k", label=label(m))
                         for i, m in enumerate(ms)]
    n_early = int(np.sum(sweep.stopped_early & np.asarray(runs, dtype=bool)))
    if n_early:
        style_handles.append(plt.Line2D([], [], color="k", label="a seed stopped early",
                                        **STOP_MARK))
    pairs = list(handles.items()) + [(h.get_label(), h) for h in style_handles]
    if len(pairs) > 1:
        fig.legend([h for _, h in pairs], [lab for lab, _ in pairs], loc="center left",
                   bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False,
                   title=", ".join(line_keys) if line_keys else None, title_fontsize=8,
                   ncol=1 if len(pairs) <= 24 else 2)
    nruns = int(np.sum(runs))
    bandtxt = "band min–max" if band == "minmax" else "band ±1 std"
    if max_lines > MAX_BAND_LINES:
        bandtxt = "no seed bands (more than %d lines per panel)" % MAX_BAND_LINES
    early = ("; %d stopped early (×), kept at their last value after it" % n_early
             if n_early else "")
    fig.suptitle("%s\nmean over seeds, %s; %d runs%s" % (title, bandtxt, nruns, early), y=1.0)
    fig.tight_layout()
    return dict(files=save(fig, outdir, name, formats), notes=notes, drawn=drawn)


def _edges(vals, scale):
    v = np.asarray(vals, dtype=float)
    t = np.log(v) if scale == "log" else v
    if len(t) == 1:
        e = np.array([t[0] - 0.5, t[0] + 0.5]) if scale == "log" else \
            np.array([t[0] - max(0.5, abs(t[0]) * 0.1), t[0] + max(0.5, abs(t[0]) * 0.1)])
    else:
        mid = (t[1:] + t[:-1]) / 2
        e = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    return np.exp(e) if scale == "log" else e


def _axis(ax, which, key, vals, scale):
    """Set one heatmap axis: log scale when the grid is, ticks at the grid values."""
    setscale, setticks, setlabel = ((ax.set_xscale, ax.set_xticks, ax.set_xlabel) if which == "x"
                                    else (ax.set_yscale, ax.set_yticks, ax.set_ylabel))
    if scale == "cat":
        setticks(np.arange(len(vals)), [fmt_value(v) for v in vals])
        setlabel(label(key))
        return
    if scale == "log":
        setscale("log")
    setticks([], minor=True)
    step = max(1, int(math.ceil(len(vals) / 10)))
    shown = list(vals)[::step]
    setticks([float(v) for v in shown], [fmt_value(v) for v in shown])
    setlabel(label(key) + (" (log scale)" if scale == "log" else ""))


def heatmap(sweep, outdir, name, xkey, ykey, facet_keys, rows, title, formats=FORMATS):
    """Heatmaps over xkey × ykey, one panel per facet (columns) and per quantity (rows).
    rows: [(row title, colorbar label, fn(ids) -> (value or NaN, text), cmap, norm kind, vlim)];
    norm kind 'log' | 'linear'; vlim (lo, hi) or None for the data range. Cells with no runs are
    blank, cells whose fn gives NaN are grey with fn's text (e.g. 'never')."""
    runs = sweep.finished
    facets = facet_list(sweep, facet_keys, runs)
    notes = []
    if len(facets) > MAX_FACETS:
        notes.append("only the first %d of %d panels are drawn" % (MAX_FACETS, len(facets)))
        facets = facets[:MAX_FACETS]
    xs, ys = sweep.values(xkey), sweep.values(ykey)
    xscale = "cat" if sweep.params[xkey].dtype == object else grid_scale(xs)
    yscale = "cat" if sweep.params[ykey].dtype == object else grid_scale(ys)
    xi = {v: i for i, v in enumerate(xs)}
    yi = {v: i for i, v in enumerate(ys)}
    if len(facets) == 1:  # one panel per quantity, two per line
        ncol = min(len(rows), 2)
        nrow = int(math.ceil(len(rows) / ncol))

        def pos(ri, fi):
            return ri // ncol, ri % ncol
    else:  # a block of facet panels per quantity
        ncol = min(len(facets), 4)
        nrow_f = int(math.ceil(len(facets) / ncol))
        nrow = nrow_f * len(rows)

        def pos(ri, fi):
            return ri * nrow_f + fi // ncol, fi % ncol
    fig, axes = plt.subplots(nrow, ncol, squeeze=False,
                             figsize=(PANEL_W * ncol + 0.8, (PANEL_H + 0.2) * nrow))
    used = set()
    annotate = len(xs) * len(ys) <= 100
    for ri, (rtitle, cblabel, fn, cmap, normkind, vlim) in enumerate(rows):
        grids = []
        for ftitle, fids in facets:
            val = np.full((len(ys), len(xs)), np.nan)
            txt = np.full((len(ys), len(xs)), "", dtype=object)
            for (xv, yv), ids in sweep.cells([xkey, ykey], fids):
                v, t = fn(ids)
                val[yi[yv], xi[xv]] = v
                txt[yi[yv], xi[xv]] = t
            grids.append((val, txt))
        allv = np.concatenate([g[0].ravel() for g in grids])
        allv = allv[np.isfinite(allv)]
        lo, hi = vlim if vlim else ((allv.min(), allv.max()) if len(allv) else (0.0, 1.0))
        if normkind == "log" and len(allv) and allv.min() > 0 and hi / max(lo, 1e-300) > 10:
            norm = LogNorm(vmin=lo, vmax=hi)
        else:
            if hi <= lo:
                lo, hi = (lo - 0.5 * abs(lo), hi + 0.5 * abs(hi)) if lo else (-1.0, 1.0)
            norm = Normalize(vmin=lo, vmax=hi)
        cm = plt.get_cmap(cmap).copy()
        cm.set_bad("#d9d9d9")
        for fi, ((ftitle, _), (val, txt)) in enumerate(zip(facets, grids)):
            r_, c_ = pos(ri, fi)
            used.add((r_, c_))
            ax = axes[r_][c_]
            xe = np.arange(len(xs) + 1) - 0.5 if xscale == "cat" else _edges(xs, xscale)
            ye = np.arange(len(ys) + 1) - 0.5 if yscale == "cat" else _edges(ys, yscale)
            ax.grid(False)
            mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(val), cmap=cm, norm=norm,
                                 edgecolors="white", linewidth=0.5)
            _axis(ax, "x", xkey, xs, xscale)
            _axis(ax, "y", ykey, ys, yscale)
            ax.set_title("%s%s" % (rtitle, (" — " + ftitle) if ftitle else ""))
            if annotate:
                for yy in range(len(ys)):
                    for xx in range(len(xs)):
                        if not txt[yy, xx]:
                            continue
                        cx = xx if xscale == "cat" else float(xs[xx])
                        cy = yy if yscale == "cat" else float(ys[yy])
                        v = val[yy, xx]
                        if np.isfinite(v):
                            r, g, b, _ = cm(norm(v))
                            tc = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
                        else:
                            tc = "#444444"
                        ax.text(cx, cy, txt[yy, xx], ha="center", va="center", fontsize=7,
                                color=tc)
            cb = fig.colorbar(mesh, ax=ax, label=cblabel, fraction=0.05, pad=0.03)
            if isinstance(norm, LogNorm):
                cb.locator = LogLocator(subs=(1.0, 2.0, 5.0))
                cb.formatter = FormatStrFormatter("%g")
                cb.minorticks_off()
                cb.update_ticks()
    for r_ in range(nrow):
        for c_ in range(ncol):
            if (r_, c_) not in used:
                axes[r_][c_].set_visible(False)
    fig.suptitle(title, y=1.0)
    fig.tight_layout()
    return dict(files=save(fig, outdir, name, formats), notes=notes)


def sen_theory(s, m):
    """||q||·||v_t|| predicted by the SEN identity for score s and m words per sentence."""
    s = np.asarray(s, dtype=float)
    return np.sqrt(np.maximum(2 * s + (2.0 / m) * np.expm1(s), 0.0))


def sen_identity(sweep, outdir, name, score, norm2, m_key, runs, formats=FORMATS, rhs=None):
    """lu2021's identity: x = a topic-word score (trace `score`), y = measured sqrt(norm2) =
    ||q||·||v||, with sqrt(2s + (2/m)(e^s − 1)) per distinct m; right panel: measured − theory.
    With rhs (the per-word traces: the worst word's score, |q|²|v|² and right side) each point is
    one word's pair and its theory is sqrt(rhs) — which holds for runs on text data too, where
    every word has its own m (no common curve: their theory points are drawn instead). Without
    it (files written before the per-word traces) the means over the topic words are used."""
    s_all = sweep.trace(score).astype(float)
    y_all = np.sqrt(np.maximum(sweep.trace(norm2).astype(float), 0.0))
    r_all = np.sqrt(np.maximum(sweep.trace(rhs).astype(float), 0.0)) if rhs else None
    ms = sweep.params[m_key]
    text = np.array([bool(v) for v in sweep.params["data_file"]]) if "data_file" in sweep.params \
        else np.zeros(sweep.n_runs, dtype=bool)
    fig, (ax, axr) = plt.subplots(1, 2, figsize=(2 * PANEL_W + 1.2, PANEL_H + 0.6))
    rng = np.random.default_rng(0)
    ids_all = np.nonzero(runs)[0]
    n_total = int(np.sum(np.isfinite(s_all[ids_all]) & np.isfinite(y_all[ids_all])))
    keep = min(1.0, MAX_POINTS / max(1, n_total))
    m_vals = sorted(set(int(v) for v in ms[ids_all[~text[ids_all]]]))
    # colour the points by m when it varies, else by vocab_size (the identity assumes a large one)
    gkey = m_key if len(m_vals) > 1 else ("vocab_size" if "vocab_size" in sweep.cell_keys
                                          else None)
    gvals = sorted(set(sweep.params[gkey][ids_all])) if gkey else [None]
    cols = colors(len(gvals))
    mcol = dict(zip(gvals, cols)) if gkey == m_key else {mv: "k" for mv in m_vals}
    gaps = []
    smax = 0.0
    for gv, c in zip(gvals, cols):
        ids = ids_all[sweep.params[gkey][ids_all] == gv] if gkey else ids_all
        s, y = s_all[ids], y_all[ids]
        if r_all is not None:
            th = r_all[ids]
        else:
            th = sen_theory(s, np.broadcast_to(ms[ids].astype(float)[:, None], s.shape))
        tx = np.broadcast_to(text[ids][:, None], s.shape)
        s, y, th, tx = s.ravel(), y.ravel(), th.ravel(), tx.ravel()
        ok = np.isfinite(s) & np.isfinite(y) & np.isfinite(th)
        s, y, th, tx = s[ok], y[ok], th[ok], tx[ok]
        if not len(s):
            continue
        gap = y - th
        gaps.append(gap)
        sel = rng.random(len(s)) < keep if keep < 1 else np.ones(len(s), dtype=bool)
        lab = ("%s = %s (%d runs)" % (gkey, fmt_value(gv), len(ids)) if gkey
               else "measured (%d runs)" % len(ids))
        ax.scatter(s[sel], y[sel], s=6, alpha=0.4, color=c, lw=0, rasterized=True, label=lab)
        if tx.any():
            ax.scatter(s[sel & tx], th[sel & tx], s=8, color="0.3", marker="+", lw=0.6,
                       rasterized=True, label="theory of each point (text data: its word's m)")
        axr.scatter(s[sel], gap[sel], s=6, alpha=0.4, color=c, lw=0, rasterized=True)
        smax = max(smax, float(np.max(s)))
    grid = np.linspace(0, max(smax, 1e-3) * 1.05, 300)
    for mv in m_vals:
        ax.plot(grid, sen_theory(grid, mv), color=mcol[mv], lw=1.6,
                label=r"theory $\sqrt{2s + \frac{2}{m}(e^s-1)}$, m = %d" % mv)
    who = "the worst topic word" if rhs else "mean over the topic words"
    ax.set_xlabel("score $s$ (%s)" % who)
    ax.set_ylabel("measured ||q||·||v|| = sqrt(%s)" % norm2)
    ax.set_title("SEN identity: score vs. embedding norm")
    ax.legend(fontsize=7, loc="upper left")
    axr.axhline(0, color="k", lw=1)
    axr.set_xlabel("score $s$ (%s)" % who)
    axr.set_ylabel("measured − theory")
    axr.set_title("deviation from the identity")
    g = np.concatenate(gaps) if gaps else np.array([])
    sub = "%s, every logged step of %d runs" % ("one word per step: the farthest from the curve"
                                               if rhs else "means over the topic words",
                                               len(ids_all))
    if keep < 1:
        sub += ", %d of %d points drawn" % (int(keep * n_total), n_total)
    fig.suptitle("lu2021 SEN identity (%s)" % sub, y=1.0)
    fig.tight_layout()
    return dict(files=save(fig, outdir, name, formats), notes=[], n_points=int(len(g)),
                max_abs_gap=float(np.max(np.abs(g))) if len(g) else math.nan,
                median_abs_gap=float(np.median(np.abs(g))) if len(g) else math.nan,
                max_measured=float(np.nanmax(y_all[ids_all])) if n_total else math.nan,
                per_word=bool(rhs))


def all_metrics(sweep, outdir, name, runs, formats=FORMATS):
    """Family-generic fallback: one panel per trace metric, one line per grid cell (mean over
    seeds, a seed that stopped early kept at its last value), so every family gets a look at
    everything it logs."""
    ms = sweep.metrics
    ncol, nrow = _grid(len(ms), 3)
    fig, axes = plt.subplots(nrow, ncol, figsize=(PANEL_W * ncol, PANEL_H * nrow), squeeze=False)
    keys = sweep.cell_keys
    cells = sweep.cells(keys, runs)
    cols = colors(len(cells))
    for i, m in enumerate(ms):
        ax = axes[i // ncol][i % ncol]
        t = sweep.trace(m).astype(float)
        for c, (vals, ids) in zip(cols, cells):
            y, stops = seed_curves(sweep, m, ids)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                y = np.nanmean(y, axis=0)
            ax.plot(sweep.step, y, color=c, lw=1.2, label=sweep.label(keys, vals) or "all runs")
            if len(stops):
                ax.plot(sweep.step[stops], y[stops], color=c, **STOP_MARK)
        if m.endswith("loss") and np.nanmin(np.where(np.isfinite(t[runs]), t[runs], np.inf)) > 0:
            ax.set_yscale("log")
        ax.set_title(label(m))
        ax.set_xlabel("training step")
        ax.set_ylabel(m)
    for i in range(len(ms), nrow * ncol):
        axes[i // ncol][i % ncol].set_visible(False)
    if 1 < len(cells) <= 30:
        h, lab = axes[0][0].get_legend_handles_labels()
        fig.legend(h, lab, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
                   frameon=False, title=", ".join(keys), title_fontsize=8)
    fig.suptitle("every trace metric (%s): mean over seeds per grid cell, %d runs"
                 % (sweep.model, int(np.sum(runs))), y=1.0)
    fig.tight_layout()
    return dict(files=save(fig, outdir, name, formats), notes=[])


# ---- sakamoto2024: token trajectories of the traced training samples --------------------------
TOKEN_MAX = 8  # tokens a sample's trace holds (<who>_token_1 .. _8; the family's TRACE_TOKENS)
TOKEN_WHO = (("clean", "clean"), ("flipped", "label-flipped"))
TOKEN_STYLE = {1: ("relevant", "#d62728", 2.2), 2: ("weakly relevant", "#1f77b4", 1.5),
               3: ("weakly opposite", "#2ca02c", 1.5)}  # tokens 4+: irrelevant, grey
MAX_TOKEN_CELLS = 9


def token_metrics(metrics):
    """The token-trajectory metrics among a family's metrics ({who}_token_{k}), or []."""
    return [m for who, _ in TOKEN_WHO for m in ("%s_token_%d" % (who, k)
                                                for k in range(1, TOKEN_MAX + 1))
            if m in metrics]


def _token_style(k):
    return TOKEN_STYLE.get(k, ("irrelevant", plt.get_cmap("Greys")(0.35 + 0.08 * (k - 4)), 0.9))


def token_trajectories(sweep, outdir, name, runs, formats=FORMATS):
    """sakamoto2024's per-sample attention (the paper's attention-trajectory figures): the softmax
    weight of every token of the traced clean and label-flipped training sample over training,
    one run per grid cell (its lowest seed: each seed traces a different sample), a pair of
    panels per cell. Titles give the sample's training index and whether its label (the flipped
    one for the flipped sample) is fitted at the end (y f > 0). Returns files, notes and panels
    [dict(run, cell, who, index, curves {token k: the values drawn}, margin at the end)]."""
    notes, panels = [], []
    keys = sweep.cell_keys
    cells = sweep.cells(keys, runs)
    if len(cells) > MAX_TOKEN_CELLS:
        pick = np.unique(np.round(np.linspace(0, len(cells) - 1, MAX_TOKEN_CELLS)).astype(int))
        notes.append("%d of %d grid cells drawn (evenly spaced in grid order); a sweep of one "
                     "cell (--set grid.KEY=VALUE) draws the one you want" % (len(pick), len(cells)))
        cells = [cells[i] for i in pick]
    seed = sweep.params.get("seed")
    seq = sweep.params.get("seq_len")
    chosen = [(vals, int(ids[np.argmin(seed[ids])]) if seed is not None else int(ids[0]))
              for vals, ids in cells]
    if seq is not None and any(seq[r] > TOKEN_MAX for _, r in chosen):
        notes.append("seq_len > %d: tokens 1..%d of each sample are traced (relevant, two weak, "
                     "then the first irrelevant ones); the rest are not in the file"
                     % (TOKEN_MAX, TOKEN_MAX))
    per_row = 1 if len(chosen) == 1 else 2
    ncol, nrow = 2 * per_row, int(math.ceil(len(chosen) / per_row))
    fig, axes = plt.subplots(nrow, ncol, figsize=(PANEL_W * ncol, (PANEL_H + 0.3) * nrow),
                             squeeze=False)
    x = sweep.step
    handles = {}
    for ci, (vals, r) in enumerate(chosen):
        n_tok = min(int(seq[r]), TOKEN_MAX) if seq is not None else TOKEN_MAX
        cell = ", ".join([t for t in (sweep.label(keys, vals),) if t] +
                         (["seed %s" % fmt_value(seed[r])] if seed is not None else [])) \
            or "all runs"
        for wi, (who, whotxt) in enumerate(TOKEN_WHO):
            ax = axes[ci // per_row][(ci % per_row) * 2 + wi]
            idx = float(sweep.final(who + "_index")[r]) if who + "_index" in sweep.metrics \
                else math.nan
            margin = float(sweep.final(who + "_margin")[r]) if who + "_margin" in sweep.metrics \
                else math.nan
            drawn = {}
            if idx < 0:  # the family traces zeros when there is no such sample
                ax.text(0.5, 0.5, "no %s training sample" % whotxt, ha="center", va="center",
                        transform=ax.transAxes, color="#444444")
                title = "%s\nno %s sample" % (cell, whotxt)
            else:
                for k in range(1, n_tok + 1):
                    m = "%s_token_%d" % (who, k)
                    if m not in sweep.metrics:
                        continue
                    role, color, lw = _token_style(k)
                    y = drawn[k] = sweep.trace(m)[r].astype(float)
                    (h,) = ax.plot(x, y, color=color, lw=lw)
                    handles.setdefault(min(k, 4), (h, "token %d (%s)" % (k, role) if k < 4
                                                   else "tokens 4+ (%s)" % role))
                sample = "%s sample %s" % (whotxt, fmt_value(idx) if np.isfinite(idx) else "?")
                if np.isfinite(margin):
                    sample += ": %s (y f = %+.2f)" % ("fitted" if margin > 0 else "not fitted",
                                                       margin)
                title = "%s\n%s" % (cell, sample)
            panels.append(dict(run=r, cell=cell, who=who, index=idx, curves=drawn,
                               margin=margin))
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(title, fontsize=8)
            ax.set_xlabel("training step")
            ax.set_ylabel("softmax weight")
    for ci in range(len(chosen), nrow * per_row):
        for wi in range(2):
            axes[ci // per_row][(ci % per_row) * 2 + wi].set_visible(False)
    if handles:
        hs = [handles[k] for k in sorted(handles)]
        fig.legend([h for h, _ in hs], [t for _, t in hs], loc="center left",
                   bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    every = int(x[1] - x[0]) if len(x) > 1 else 1
    fig.suptitle("Token trajectories of one clean and one label-flipped training sample "
                 "(logged every %d step%s)" % (every, "" if every == 1 else "s"), y=1.0)
    fig.tight_layout()
    return dict(files=save(fig, outdir, name, formats), notes=notes, panels=panels)
