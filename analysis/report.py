"""report — `python3 -m analysis report results.h5 --out DIR`: runs.csv, summary.csv, the plots
(PNG + SVG) and report.md linking them, with the spec and a timing summary. Plots a family's
metrics cannot feed are skipped with a note in report.md; pending/interrupted runs are skipped
and counted, so a partial file (sweep running or interrupted) gives a partial report."""
import math
import os

import numpy as np

from . import phase, plots, snell
from .load import AnalysisError, load, fmt_value
from .stats import STAT_COLUMNS, fmt_pm, md_table, summary_table, write_csv

# lu2021 trace names the paper's figures need (the family's metric list decides what exists)
SCORE, NORM2, M_KEY = "topic_score", "topic_embed_norm2", "words_per_sentence"
WORST = ("sen_worst_score", "sen_worst_norm2", "sen_worst_rhs")  # the per-word SEN traces
MAX_MD_ROWS = 60


def _attention_metrics(sweep):
    return [m for m in sweep.metrics if "attn" in m or "attention" in m]


def _pair(sweep, exclude, prefer=()):
    """Two cell keys to put on a heatmap's axes: a preferred pair if both are swept, else the
    two numeric swept keys (not in exclude) with the most values. None if there are not two."""
    keys = sweep.cell_keys
    for a, b in prefer:
        if a in keys and b in keys:
            return a, b
    cand = [k for k in keys if k not in exclude and sweep.params[k].dtype != object]
    cand += [k for k in keys if k not in exclude and sweep.params[k].dtype == object]
    cand = sorted(cand, key=lambda k: -len(sweep.values(k)))[:2]
    if len(cand) < 2:
        return None
    a, b = cand
    return (a, b) if keys.index(a) < keys.index(b) else (b, a)


def _facets_for(sweep, pair):
    keys = [k for k in sweep.cell_keys if k not in pair]
    return (["lr"] if "lr" in keys else []) + [k for k in keys if k != "lr"]


def _stc_fn(sweep):
    stc = sweep.summaries.get("steps_to_converge")
    st = sweep.status

    def fn(ids):
        done = ids[st[ids] == 1]
        conv = done[stc[done] >= 0]
        if not len(conv):
            return math.nan, "never" if len(done) else ""
        v = float(np.mean(stc[conv]))
        t = "%d" % round(v)
        if len(conv) < len(ids):
            t += "\n%d/%d" % (len(conv), len(ids))
        return v, t
    return fn


def _finite_max(sweep, metric, runs):
    """The largest finite value of a trace over the selected runs and every step (NaN if none)."""
    if metric not in sweep.metrics:
        return math.nan
    v = sweep.trace(metric)[np.nonzero(runs)[0]].astype(float)
    v = v[np.isfinite(v)]
    return float(np.max(v)) if len(v) else math.nan


def _final_fn(sweep, metric):
    col = "final_" + metric
    vals = sweep.summaries[col] if col in sweep.summaries else sweep.final(metric)
    st = sweep.status
    is_acc = metric.endswith("acc")

    def fn(ids):
        done = ids[st[ids] == 1]
        v = vals[done]
        v = v[np.isfinite(v)]
        if not len(v):
            return math.nan, ""
        m = float(np.mean(v))
        return m, ("%.2f" % m) if is_acc else ("%.3g" % m)
    return fn


def make_plots(sweep, out, band="std", formats=plots.FORMATS):
    """Draw every plot the file can feed. Returns (plots [(name, caption, files, extra)],
    notes [text of what was skipped and why])."""
    made, notes = [], []
    runs = sweep.done
    if not runs.any():
        notes.append("no run is `done` yet: no plots (the CSVs list what the file holds)")
        return made, notes
    facet = ["lr"] if "lr" in sweep.cell_keys else []
    per = "per learning rate" if facet else "(one learning rate)"
    per_cap = "per learning rate " if facet else ""
    metrics = sweep.metrics

    def add(name, caption, res, extra=None):
        made.append((name, caption, res["files"], extra or {}))
        notes.extend("%s: %s" % (name, n) for n in res.get("notes", []))

    losses = [m for m in metrics if m.endswith("loss")]
    losses = sorted(losses, key=lambda m: m != "train_loss")
    if losses:
        add("loss_curves", "Loss curves %s(mean over seeds, seeds as a band)." % per_cap,
            plots.curves(sweep, out, "loss_curves", [("loss", losses)], facet, runs,
                         "Loss %s" % per, band, formats))
    else:
        notes.append("loss_curves: skipped, the %s family logs no *loss metric" % sweep.model)
    accs = [m for m in metrics if m.endswith("acc")]
    order = {"train_acc": 0, "valid_acc": 1, "test_acc": 2}
    accs = sorted(accs, key=lambda m: (order.get(m, 3), m))
    if "train_acc" in accs and "test_acc" in accs:  # others (valid_acc, ...): all_metrics
        accs = ["train_acc", "test_acc"]
    if accs:
        add("accuracy_curves", "Accuracy curves %s(mean over seeds, seeds as a band)." % per_cap,
            plots.curves(sweep, out, "accuracy_curves", [("accuracy", accs)], facet, runs,
                         "Accuracy %s" % per, band, formats))
    else:
        notes.append("accuracy_curves: skipped, the %s family logs no *acc metric" % sweep.model)

    # steps to converge over vocab_size × embed_dim (any two swept keys for other families)
    pair = _pair(sweep, exclude=("lr",), prefer=[("vocab_size", "embed_dim")])
    if pair is None:
        notes.append("steps_to_converge_heatmap: skipped, needs two swept keys besides lr and "
                     "seed (swept: %s)" % (", ".join(sweep.cell_keys) or "none"))
    elif "steps_to_converge" not in sweep.summaries:
        notes.append("steps_to_converge_heatmap: skipped, no /runs/steps_to_converge")
    elif not np.any(sweep.summaries["steps_to_converge"][runs] >= 0):
        notes.append("steps_to_converge_heatmap: skipped, no done run reached converge_loss "
                     "(steps_to_converge = -1 everywhere)")
    else:
        fk = _facets_for(sweep, pair)
        thr = sweep.params.get("converge_loss")
        thr_txt = ("train loss < %s" % fmt_value(thr[0])) if thr is not None and \
            len(np.unique(thr)) == 1 else "train loss < converge_loss"
        add("steps_to_converge_heatmap",
            "Steps to converge (%s), mean over the converged seeds, over %s × %s%s. "
            "'never' = no seed converged; 'k/n' = only k of n finished seeds converged; "
            "grey without text = no finished run yet."
            % (thr_txt, pair[0], pair[1], (", one panel per " + ", ".join(fk)) if fk else ""),
            plots.heatmap(sweep, out, "steps_to_converge_heatmap", pair[0], pair[1], fk,
                          [("steps to converge", "steps (%s)" % thr_txt, _stc_fn(sweep),
                            "viridis", "log", None)],
                          "Steps to converge over %s × %s" % pair, formats))

    att = _attention_metrics(sweep)
    if att:
        groups = [(plots.label(m), [m]) for m in att]
        if SCORE in metrics:
            groups.append((plots.label(SCORE), [SCORE]))
        name = "topic_attention" if any("topic" in m for m in att) else "attention_curves"
        add(name, "Attention over training %s(%s; mean over seeds, seeds as a band)."
            % (per_cap, ", ".join(m for _, ms in groups for m in ms)),
            plots.curves(sweep, out, name, groups, facet, runs,
                         "Attention over training %s" % per, band, formats))
    else:
        notes.append("topic_attention: skipped, the %s family logs no attention metric "
                     "(*attn*, *attention*)" % sweep.model)

    if all(m in metrics for m in WORST) and M_KEY in sweep.params:
        res = plots.sen_identity(sweep, out, "sen_identity", WORST[0], WORST[1], M_KEY, runs,
                                 formats, rhs=WORST[2])
        rmax = _finite_max(sweep, "sen_residual_max", runs)
        add("sen_identity",
            "The SEN identity per word (Lu et al. 2021): at every logged step of every done run, "
            "the topic word farthest from the curve — its measured ||q||·||v_w|| = sqrt(%s) "
            "against its score %s — with the theory sqrt(2s + (2/m)(e^s − 1)) (m = %s; on text "
            "data each word's own m, the mean length of its training sentences minus 1). Max "
            "per-word |measured − theory| = %.4g over %d points (median %.3g; largest measured "
            "value %.3g); largest relative residual over the topic words (sen_residual_max) "
            "%.3g."
            % (WORST[1], WORST[0], M_KEY, res["max_abs_gap"], res["n_points"],
               res["median_abs_gap"], res["max_measured"], rmax), res, res)
    elif SCORE in metrics and NORM2 in metrics and M_KEY in sweep.params:
        res = plots.sen_identity(sweep, out, "sen_identity", SCORE, NORM2, M_KEY, runs, formats)
        add("sen_identity",
            "The SEN identity (Lu et al. 2021), from the means over the topic words (this file "
            "predates the per-word traces sen_worst_*; the curve at the mean score overstates "
            "the per-word gap): measured sqrt(%s) against %s at every logged step of every done "
            "run, with the theory curve sqrt(2s + (2/m)(e^s − 1)), m = %s. Max |measured − "
            "theory| = %.4g over %d points (median %.3g; largest measured value %.3g)."
            % (NORM2, SCORE, M_KEY, res["max_abs_gap"], res["n_points"], res["median_abs_gap"],
               res["max_measured"]), res, res)
    else:
        need = [x for x in (SCORE, NORM2) if x not in metrics] + \
               ([M_KEY] if M_KEY not in sweep.params else [])
        notes.append("sen_identity: skipped, the %s family lacks %s" % (sweep.model,
                                                                       ", ".join(need)))

    # phase diagram of a refined or [points] sweep: scattered points, the boundary at the level
    refined = phase.refine_settings(sweep.spec)
    scattered = refined is None and (lambda p: p is not None and
                                     phase.is_scattered(sweep, *p))(_pair(sweep, ("lr",)))
    if refined:
        r = refined
        try:
            res = phase.draw(sweep, out, "phase_map", r["x"], r["y"], r["metric"], r["level"],
                             r["x_scale"], r["y_scale"], formats)
        except AnalysisError as e:
            notes.append("phase_map: skipped, %s" % e)
        else:
            add("phase_map",
                "Phase diagram of the refined sweep (the options of the `attnsweep refine` that "
                "wrote its spec): mean %s over seeds at every point, shaded by the nearest point%s. "
                "%s." % (r["metric"], ", the boundary where it crosses %s" % fmt_value(r["level"])
                         if r["level"] is not None else "", res["text"].capitalize()), res)
    elif scattered:
        pair = _pair(sweep, ("lr",))
        for m in [m for m in ("train_acc", "test_acc") if m in metrics]:
            res = phase.draw(sweep, out, "phase_map_" + m, pair[0], pair[1], m,
                             formats=formats)
            add("phase_map_" + m, "Phase diagram of the spec's points: mean final %s over seeds, "
                "shaded by the nearest point. %s." % (m, res["text"].capitalize()), res)

    # phase diagram: final metrics over the two swept keys (sakamoto2024: d × |mu|)
    if sweep.model != "lu2021" and not refined and not scattered:
        pair = _pair(sweep, exclude=("lr",))
        fm = [m for m in ("train_acc", "test_acc", "train_loss", "test_loss") if m in metrics]
        if pair is None or not fm:
            notes.append("phase_diagram: skipped, needs two swept keys besides lr and seed "
                         "(swept: %s)" % (", ".join(sweep.cell_keys) or "none"))
        else:
            fk = _facets_for(sweep, pair)
            rows = [("final " + plots.label(m), plots.label(m), _final_fn(sweep, m),
                     "RdYlGn" if m.endswith("acc") else "viridis_r", "linear",
                     (0.0, 1.0) if m.endswith("acc") else None) for m in fm]
            add("phase_diagram",
                "Phase diagram: final %s over %s × %s (mean over done seeds)."
                % (", ".join(fm), pair[0], pair[1]),
                plots.heatmap(sweep, out, "phase_diagram", pair[0], pair[1], fk, rows,
                              "Final metrics over %s × %s" % pair, formats))

    # token trajectories of the traced samples (sakamoto2024: clean_token_k, flipped_token_k)
    if plots.token_metrics(metrics):
        res = plots.token_trajectories(sweep, out, "token_trajectories", runs, formats)
        drawn = sorted({p["run"] for p in res["panels"]})
        add("token_trajectories",
            "Token trajectories: the softmax weight of every token of one clean and one "
            "label-flipped training sample (keys trace_clean, trace_flipped) over training, one "
            "run per grid cell, its lowest seed (runs %s). Token 1 carries the signal, 2 and 3 "
            "weak signals of either sign, the rest noise; a title's y f > 0 means the sample's "
            "label (the flipped one for the flipped sample) is fitted at the end. Logged every "
            "log_every steps; log_every = 1 gives every step, as the paper plots."
            % ", ".join(str(r) for r in drawn), res)
    elif sweep.model == "sakamoto2024":
        notes.append("token_trajectories: skipped, the file has no clean_token_* / "
                     "flipped_token_* traces (written before the family traced them)")

    snell.add_plots(sweep, out, add, notes, formats)

    add("all_metrics", "Every trace metric of the family, mean over seeds per grid cell.",
        plots.all_metrics(sweep, out, "all_metrics", runs, formats))
    return made, notes


def timing(sweep):
    """Lines of the timing summary (markdown bullets) and a dict of the numbers."""
    lines, num = [], {}
    w = sweep.summaries.get("wall_seconds")
    fin = sweep.finished
    if w is not None and fin.any():
        wf = w[fin][np.isfinite(w[fin])]
        if len(wf):
            num.update(train_seconds=float(np.sum(wf)), mean=float(np.mean(wf)),
                       median=float(np.median(wf)), max=float(np.max(wf)))
            lines.append("- training time summed over %d finished runs: %.1f s (per run: mean "
                         "%.3g s, median %.3g s, max %.3g s)" % (len(wf), num["train_seconds"],
                                                                 num["mean"], num["median"],
                                                                 num["max"]))
    sweep_wall = None
    for k in ("sweep_wall_seconds", "wall_seconds", "elapsed_seconds"):
        if isinstance(sweep.attrs.get(k), (int, float)):
            sweep_wall = float(sweep.attrs[k])
            break
    if sweep_wall:
        num["sweep_wall_seconds"] = sweep_wall
        lines.append("- sweep wall time: %.1f s → %.3g runs/s" % (sweep_wall,
                                                               fin.sum() / sweep_wall))
    else:
        lines.append("- sweep wall time: not recorded in the file (runs/s unknown; the sweep's "
                     "own end-of-run summary prints it)")
    rank = sweep.summaries.get("rank")
    if rank is not None and w is not None and fin.any():
        busy = {}
        for r, s in zip(rank[fin], w[fin]):
            if np.isfinite(s):
                busy[int(r)] = busy.get(int(r), 0.0) + float(s)
        if busy:
            vals = np.array(list(busy.values()))
            num["ranks"] = len(busy)
            num["imbalance"] = float(vals.max() / vals.mean()) if vals.mean() > 0 else math.nan
            lines.append("- %d ranks trained runs; busiest/mean training time = %.2f (1.00 = "
                         "perfect balance)" % (len(busy), num["imbalance"]))
    for k in ("mpi_size", "hostname", "created_utc"):
        if k in sweep.attrs:
            lines.append("- %s: %s" % (k, sweep.attrs[k]))
    return lines, num


def write_report(path, out, band="std", formats=plots.FORMATS):
    """The whole report for one results file into directory out. Returns a dict: sweep, counts,
    plots, notes, files written."""
    sweep = load(path)
    os.makedirs(out, exist_ok=True)
    n_rows = write_csv(os.path.join(out, "runs.csv"), sweep.table())
    summ = summary_table(sweep)
    n_cells = write_csv(os.path.join(out, "summary.csv"), summ)
    made, notes = make_plots(sweep, out, band, formats)
    counts = sweep.counts()
    tlines, tnum = timing(sweep)
    md = []
    md.append("# attnsweep report: `%s`" % os.path.basename(sweep.path))
    md.append("")
    md.append("model **%s**, %d runs, swept: %s; metrics: %s."
              % (sweep.model, sweep.n_runs, ", ".join(
                  "%s (%d values%s)" % (k, len(sweep.values(k)),
                                        ", log grid" if sweep.scale(k) == "log" else "")
                  for k in sweep.swept) or "nothing", ", ".join(sweep.metrics)))
    md.append("")
    md.append("File: `%s` · attnsweep %s · created %s · command: `%s`"
              % (sweep.path, sweep.attrs.get("attnsweep_version", "?"),
                 sweep.attrs.get("created_utc", "?"), sweep.attrs.get("command_line", "?")))
    md.append("")
    md.append("## Status")
    md.append("")
    md.append(md_table(list(counts), [[counts[k] for k in counts]]))
    skipped = counts.get("pending", 0) + counts.get("interrupted", 0)
    md.append("")
    if skipped:
        md.append("**Partial file:** %d runs not finished (%d pending, %d interrupted) are skipped "
                  "in the summary and plots; they are listed in runs.csv with their status. "
                  "`attnsweep run SPEC --out FILE --resume` finishes them."
                  % (skipped, counts.get("pending", 0), counts.get("interrupted", 0)))
    else:
        md.append("Every run has finished.")
    n_early = int(np.sum(sweep.stopped_early))
    if n_early:
        saved, planned = sweep.steps_saved()
        md.append("")
        md.append("**Early stopping:** %d of %d done runs stopped before their `steps` "
                  "(stop_when_converged or patience), saving %d of %d planned steps (%.0f %%). "
                  "Their traces end at their last logged step; the curves' means and bands "
                  "over seeds keep a stopped seed at its last value (× marks each stop). "
                  "summary.csv: n_stopped_early and steps_saved per cell."
                  % (n_early, int(np.sum(sweep.done)), saved, planned,
                     100.0 * saved / planned if planned else 0.0))
    bad = np.nonzero(sweep.mask("failed", "diverged"))[0]
    if len(bad):
        msg = sweep.summaries.get("message")
        md.append("")
        md.append("Failed or diverged runs (first 10): " + "; ".join(
            "run %d %s%s" % (i, sweep.status_names[i],
                             (": " + msg[i]) if msg is not None and msg[i] else "")
            for i in bad[:10]))
    md.append("")
    md.append("## Timing")
    md.append("")
    md.extend(tlines)
    md.append("")
    md.append("## Tables")
    md.append("")
    md.append("- [runs.csv](runs.csv): %d rows, one per run: every parameter, the status (name) "
              "and every summary column." % n_rows)
    md.append("- [summary.csv](summary.csv): %d grid cells (every key but seed): counts (runs "
              "that stopped early and the steps they saved too), mean and sample std over seeds "
              "of the final loss and accuracies (done runs), steps to converge (converged runs), "
              "fraction converged." % n_cells)
    md.append("")
    keys = sweep.cell_keys
    rows = []
    for i in range(min(n_cells, MAX_MD_ROWS)):
        rows.append([fmt_value(summ[k][i]) for k in keys] + [
            "%d/%d" % (summ["n_seeds"][i], summ["n_runs"][i]),
            fmt_pm(summ["final_train_loss_mean"][i], summ["final_train_loss_std"][i]),
            fmt_pm(summ["final_test_acc_mean"][i], summ["final_test_acc_std"][i]),
            fmt_pm(summ["steps_to_converge_mean"][i], summ["steps_to_converge_std"][i]),
            "—" if math.isnan(summ["frac_converged"][i]) else "%.2f" % summ["frac_converged"][i]])
    md.append(md_table(keys + ["seeds", "final train loss", "final test acc",
                               "steps to converge", "converged"], rows))
    if n_cells > MAX_MD_ROWS:
        md.append("")
        md.append("(first %d of %d cells; all in summary.csv)" % (MAX_MD_ROWS, n_cells))
    md.append("")
    md.append("## Plots")
    md.append("")
    for name, caption, files, _ in made:
        md.append("### %s" % name)
        md.append("")
        md.append(caption + " " + " · ".join("[%s](%s)" % (f.rsplit(".", 1)[1].upper(), f)
                                             for f in files))
        md.append("")
        if "%s.png" % name in files:
            md.append("![%s](%s.png)" % (name, name))
            md.append("")
    if notes:
        md.append("### Not drawn")
        md.append("")
        md.extend("- " + n for n in notes)
        md.append("")
    md.append("## Spec")
    md.append("")
    md.append("From `%s`, sha256 `%s`:" % (sweep.attrs.get("spec_path", "?"),
                                          sweep.attrs.get("spec_sha256", "?")))
    md.append("")
    md.append("```ini")
    md.append(sweep.spec.rstrip("\n"))
    md.append("```")
    md.append("")
    with open(os.path.join(out, "report.md"), "w") as fh:
        fh.write("\n".join(md))
    files = ["runs.csv", "summary.csv", "report.md"] + [f for _, _, fs, _ in made for f in fs]
    return dict(sweep=sweep, counts=counts, plots=made, notes=notes, files=files,
                n_rows=n_rows, n_cells=n_cells, timing=tnum, summary_columns=STAT_COLUMNS)
