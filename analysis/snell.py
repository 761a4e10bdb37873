"""snell — the report's figures for the snell2021 families: the success fraction of a sweep over
one swept key (heads, vocab, head_seed_0, ...; success = final test accuracy >= a threshold) with
k/n labels, the good/bad classes of a head screening, and the two-stage gated toy
(snell2021_gate) against the closed form of its gradient flow. Each plotting function saves
NAME.png and NAME.svg and returns a dict of what it drew (the numbers too)."""
import numpy as np

from . import plots
from .load import fmt_value

SUCCESS_ACC = 0.9


def success_table(sweep, key, threshold=SUCCESS_ACC, runs=None):
    """{(other cell values): [(value of key, successes, done runs)]}: per value of key, how many
    done runs end with final test_acc >= threshold; one entry per combination of the other cell
    keys (an empty tuple when key is the only one)."""
    runs = sweep.done if runs is None else runs
    acc = sweep.summaries["final_test_acc"] if "final_test_acc" in sweep.summaries \
        else sweep.final("test_acc")
    others = [k for k in sweep.cell_keys if k != key]
    table = {}
    for vals, ids in sweep.cells(others + [key], runs):
        a = acc[ids]
        table.setdefault(tuple(vals[:-1]), []).append(
            (vals[-1], int(np.sum(a >= threshold)), len(ids)))
    return others, table


def head_screen(sweep, key="head_seed_0", good_acc=0.95, bad_acc=0.6):
    """Classes of the heads of a screening sweep (one head per value of key, trained with several
    data seeds on a shared base), by the authors' rule: "good" when the test accuracy exceeds
    good_acc at some evaluation in every run, "bad" when the final test accuracy is below bad_acc
    in every run, else "neither". {value of key: class}, over done runs only."""
    acc = sweep.trace("test_acc")
    final = sweep.final("test_acc")
    out = {}
    for (v,), ids in sweep.cells([key], sweep.done):
        peak = np.nanmax(acc[ids], axis=1)
        if np.all(peak > good_acc):
            out[v] = "good"
        elif np.all(final[ids] < bad_acc):
            out[v] = "bad"
        else:
            out[v] = "neither"
    return out


def success_fraction(sweep, outdir, name, key, threshold=SUCCESS_ACC, formats=plots.FORMATS):
    """Fraction of done runs (seeds) with final test_acc >= threshold per value of key, one line
    per combination of the other cell keys, each point labelled k/n."""
    others, table = success_table(sweep, key, threshold)
    fig, ax = plots.plt.subplots(figsize=(plots.PANEL_W + 1.2, plots.PANEL_H))
    cols = plots.colors(len(table))
    cat = sweep.params[key].dtype == object
    xs = sweep.values(key)
    for ci, (ovals, rows) in enumerate(sorted(table.items())):
        x = [xs.index(v) if cat else float(v) for v, _, _ in rows]
        y = [k / n for _, k, n in rows]
        lab = sweep.label(others, ovals) or "all runs"
        ax.plot(x, y, "o-", color=cols[ci], label=lab)
        for xx, yy, (_, k, n) in zip(x, y, rows):
            ax.annotate("%d/%d" % (k, n), (xx, yy), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=7, color=cols[ci])
    if cat:
        ax.set_xticks(range(len(xs)), [fmt_value(v) for v in xs])
    else:
        ax.set_xticks([float(v) for v in xs], [fmt_value(v) for v in xs])
        if plots.grid_scale(xs) == "log":
            ax.set_xscale("log")
            ax.set_xticks([float(v) for v in xs], [fmt_value(v) for v in xs])
            ax.minorticks_off()
    ax.set_ylim(-0.05, 1.12)
    ax.set_xlabel(plots.label(key))
    ax.set_ylabel("fraction of seeds with final test acc ≥ %g" % threshold)
    if len(table) > 1:
        ax.legend(fontsize=7, frameon=False, title=", ".join(others), title_fontsize=7)
    ax.set_title("Success fraction over %s" % key)
    fig.tight_layout()
    return dict(files=plots.save(fig, outdir, name, formats), table=table, others=others)


def gate_flow(sweep, outdir, name, runs=None, formats=plots.FORMATS):
    """snell2021_gate: per run, p and b1 − b0 over the flow time t = lr·step (solid) with the
    closed form (dashed) above, their absolute errors (log scale) below. Returns the largest
    error of p per run in max_err {run id: (|p − p_flow| max, |p_flow| there)}."""
    runs = sweep.done if runs is None else runs
    ids = np.nonzero(runs)[0][:plots.MAX_FACETS]
    fig, axes = plots.plt.subplots(2, len(ids), squeeze=False,
                                   figsize=(plots.PANEL_W * len(ids), plots.PANEL_H * 2))
    tr = {m: sweep.trace(m) for m in ("flow_time", "p", "p_flow", "gap", "gap_flow")}
    max_err = {}
    keys = sweep.cell_keys
    for j, i in enumerate(ids):
        ok = np.isfinite(tr["flow_time"][i])
        t = tr["flow_time"][i][ok]
        top, bot = axes[0][j], axes[1][j]
        for m, c in (("p", "C0"), ("gap", "C1")):
            top.plot(t, tr[m][i][ok], "-", color=c, lw=1.6, label=m + " (steps)")
            top.plot(t, tr[m + "_flow"][i][ok], "--", color="k" if m == "p" else "0.4", lw=1,
                     label=m + " (flow)")
            err = np.abs(tr[m][i][ok].astype(float) - tr[m + "_flow"][i][ok])
            bot.plot(t[1:], np.maximum(err[1:], 1e-300), color=c, label="|%s − flow|" % m)
        e = np.abs(tr["p"][i][ok].astype(float) - tr["p_flow"][i][ok])
        k = int(np.argmax(e))
        max_err[int(i)] = (float(e[k]), float(abs(tr["p_flow"][i][ok][k])))
        top.set_title(sweep.label(keys, [sweep.params[kk][i] for kk in keys]) or "run %d" % i)
        top.set_xlabel("flow time t = lr · step")
        bot.set_xlabel("flow time t = lr · step")
        bot.set_yscale("log")
        top.legend(fontsize=7, frameon=False)
        bot.legend(fontsize=7, frameon=False)
    axes[0][0].set_ylabel("value")
    axes[1][0].set_ylabel("absolute error vs closed form")
    fig.suptitle("Two-stage gated toy: gradient steps against the gradient flow", y=1.0)
    fig.tight_layout()
    return dict(files=plots.save(fig, outdir, name, formats), max_err=max_err)


def add_plots(sweep, out, add, notes, formats=plots.FORMATS):
    """The snell plots a file can feed, through report.make_plots' add(name, caption, res)."""
    runs = sweep.done
    if sweep.model == "snell2021_gate":
        if not all(m in sweep.metrics for m in ("flow_time", "p", "p_flow", "gap", "gap_flow")):
            notes.append("gate_flow: skipped, the file lacks the flow metrics")
            return
        res = gate_flow(sweep, out, "gate_flow", runs, formats)
        add("gate_flow", "Two-stage gated toy: p and b1 − b0 of the gradient steps (solid) against "
            "the closed form of the flow (dashed), absolute errors below. Largest |p − p_flow| "
            "per run: %s." % "; ".join("run %d: %.3g (|p_flow| %.3g there)" % (i, e, f)
                                       for i, (e, f) in res["max_err"].items()), res, res)
        return
    if sweep.model != "snell2021" or "heads" not in sweep.params:
        return
    swept = sweep.cell_keys
    if not swept:
        notes.append("success_fraction: skipped, no key is swept besides seed")
        return
    key = "heads" if "heads" in swept else swept[0]
    res = success_fraction(sweep, out, "success_fraction", key, SUCCESS_ACC, formats)
    screen = ""
    if key.startswith("head_seed") and not res["others"]:
        res["screen"] = head_screen(sweep, key)
        screen = " Head screening (good: test acc > 0.95 at some evaluation of every seed; bad: " \
            "final test acc < 0.6 for every seed): %s." % "; ".join(
                "%s %s" % (c, ", ".join(fmt_value(v) for v, cc in res["screen"].items() if cc == c)
                           or "none") for c in ("good", "bad", "neither"))
    add("success_fraction", "Success fraction over %s: share of done seeds whose final test "
        "accuracy is ≥ %g (k/n at each point)%s.%s" % (key, SUCCESS_ACC, (", one line per " +
                                                       ", ".join(res["others"])) if res["others"]
                                                      else "", screen), res, res)
