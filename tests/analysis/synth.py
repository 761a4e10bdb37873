"""synth — writes a synthetic results.h5 in exactly the layout `attnsweep run` writes
(docs/file-format.md), without MPI or the C program. Used by the analysis tests for families the
tiny real sweep does not cover (sakamoto2024, snell2021), and to make partial/odd files on demand.
The numbers follow simple closed forms so a test can predict them."""
import itertools

import h5py
import numpy as np

STATUS_CODES = "0=pending,1=done,2=failed,3=diverged,4=interrupted"

# name, section, kind ("int", "real", "bool", "enum"), default
COMMON = [
    ("seed", "train", "int", 0), ("steps", "train", "int", 200), ("lr", "train", "real", 0.1),
    ("log_every", "train", "int", 20), ("converge_loss", "train", "real", 0.5),
    ("max_seconds", "train", "real", 0.0),
]
FAMILIES = {
    "lu2021": dict(
        params=[
            ("topics", "task", "int", 4), ("topic_words", "task", "int", 2),
            ("vocab_size", "task", "int", 100), ("words_per_sentence", "task", "int", 9),
            ("n_sentences", "task", "int", 200), ("train_frac", "task", "real", 0.8),
            ("valid_frac", "task", "real", 0.01), ("embed_dim", "model", "int", 10),
            ("key_dim", "model", "int", 0), ("classifier", "model", "enum", "fixed"),
            ("hidden", "model", "int", 10), ("embed_std", "model", "real", 1e-4),
            ("query_std", "model", "real", 0.3), ("freeze_keys", "model", "bool", 0),
            ("freeze_embeddings", "model", "bool", 0), ("train_query", "model", "bool", 0),
            ("batch_size", "train", "int", 0), ("data_file", "task", "enum", ""),
        ],
        metrics=["train_loss", "train_acc", "valid_acc", "test_acc", "test_loss", "valid_loss",
                 "topic_attention", "topic_score", "topic_embed_norm2", "sen_rhs",
                 "sen_residual", "sen_residual_max", "sen_worst_score", "sen_worst_norm2",
                 "sen_worst_rhs", "query_norm"],
        grid=[("vocab_size", [20, 200, 2000]), ("embed_dim", [4, 8, 16]),
              ("lr", [0.05, 0.2]), ("seed", [0, 1, 2])],
    ),
    "sakamoto2024": dict(
        params=[("n_train", "task", "int", 20), ("seq_len", "task", "int", 8),
                ("dim", "task", "int", 2000), ("signal_norm", "task", "real", 20.0),
                ("rho", "task", "real", 0.1), ("label_noise", "task", "real", 0.2),
                ("n_test", "task", "int", 1000), ("labels", "task", "enum", "balanced"),
                ("trace_clean", "train", "int", 0), ("trace_flipped", "train", "int", 0)],
        metrics=["train_loss", "test_loss", "train_acc", "test_acc", "clean_attention",
                 "noisy_attention"]
        + ["%s_token_%d" % (w, k) for w in ("clean", "flipped") for k in range(1, 9)]
        + ["clean_index", "flipped_index", "clean_margin", "flipped_margin"],
        grid=[("dim", [250, 500, 750, 1000]), ("signal_norm", [5.0, 10.0, 15.0]),
              ("seed", [0, 1])],
    ),
    "snell2021": dict(
        params=[("vocab_size", "task", "int", 40), ("seq_len", "task", "int", 40),
                ("permutation", "task", "bool", 1), ("hidden", "model", "int", 32)],
        metrics=["train_loss", "train_acc", "test_loss", "test_acc", "attn_acc"],
        grid=[("vocab_size", [40, 60]), ("seed", [0, 1, 2])],
    ),
}


def _ftr(s, n=None):
    """A fixed-length (non-variable) HDF5 string, as the C writer produces."""
    b = s.encode()
    return np.array(b, dtype="S%d" % (n or max(1, len(b))))


def expected_curves(model, run, steps, m):
    """Closed-form traces of one run: metric -> float64 [n_points] (NaN-free)."""
    p = run
    t = steps / max(1.0, steps[-1])
    speed = p["lr"] * 10.0 * (1.0 + 0.1 * p.get("seed", 0)) * (1.0 + np.log10(p.get("embed_dim", 10)))
    loss = np.log(4.0) * np.exp(-speed * t * 3.0) + 0.01
    out = {"train_loss": loss, "train_acc": 1.0 - 0.75 * np.exp(-speed * t * 4.0)}
    out["test_acc"] = out["train_acc"] * 0.98
    if model == "lu2021":
        s = 4.0 * (1.0 - np.exp(-speed * t))
        rhs = 2 * s + (2.0 / m) * np.expm1(s)
        out.update(valid_acc=out["test_acc"], topic_attention=np.exp(s) / (np.exp(s) + m),
                   topic_score=s, topic_embed_norm2=rhs * (1.0 + 0.001 * np.sin(7 * s)),
                   sen_rhs=rhs, test_loss=loss * 1.1,
                   query_norm=np.full_like(s, 0.3 * np.sqrt(p.get("embed_dim", 10))))
        out["sen_residual"] = np.abs(out["topic_embed_norm2"] - rhs) / np.maximum(rhs, 1e-12)
        # the worst topic word: a score 10 % above the mean, off the curve by 0.2 % at most
        sw = 1.1 * s
        rw = 2 * sw + (2.0 / m) * np.expm1(sw)
        out.update(valid_loss=loss * 1.05, sen_worst_score=sw, sen_worst_rhs=rw,
                   sen_worst_norm2=rw * (1.0 + 0.002 * np.sin(5 * sw)))
        out["sen_residual_max"] = (np.abs(out["sen_worst_norm2"] - rw) / np.maximum(rw, 1e-3)
                                   + out["sen_residual"])
    elif model == "sakamoto2024":
        snr = p["signal_norm"] / np.sqrt(p["dim"])
        out["test_acc"] = np.clip(0.5 + snr * t, 0.5, 1.0)
        out["test_loss"] = loss * 1.5
        out["clean_attention"] = 0.125 + 0.8 * t
        out["noisy_attention"] = 0.125 + 0.5 * t
        out.update(token_curves(p, t))
    elif model == "snell2021":
        out["attn_acc"] = out["train_acc"] * (0.5 if p["vocab_size"] == 40 else 1.0)
        out["test_loss"] = loss * 1.2
    return out


def token_curves(p, t):
    """sakamoto2024's token trajectories (t in [0, 1]): the clean sample's token 1 weight
    rises to ~1, the flipped sample's token 1 rises and falls while token 3 takes over (fitted
    at the end iff signal_norm < 15); softmax weights over seq_len tokens (0 past seq_len, as
    the family writes them); with label_noise = 0 there is no flipped sample: its curves are 0
    and its index -1."""
    T = int(p["seq_len"])
    out = {}
    for who, score in (("clean", {1: 6.0 * t}),
                       ("flipped", {1: 3.0 * np.sin(np.pi * t), 3: 5.0 * t})):
        e = np.ones((8, len(t)))
        for k, a in score.items():
            e[k - 1] = np.exp(a)
        e[T:] = 0.0
        w = e / (e.sum(axis=0) + max(T - 8, 0))  # untraced tokens 9..T: score 0
        none = who == "flipped" and p["label_noise"] == 0
        for k in range(1, 9):
            out["%s_token_%d" % (who, k)] = 0.0 * t if none else w[k - 1]
        out["%s_index" % who] = np.full_like(t, -1.0 if none else (2.0 if who == "clean" else 0.0))
        out["%s_margin" % who] = 0.0 * t if none else (0.7 * t if who == "clean"
                                                       else 0.3 * t - 0.02 * p["signal_norm"])
    return out


def make_synthetic(path, model="lu2021", grid=None, statuses=None, fixed=None, steps=200,
                   log_every=20, diverge=(), mpi_size=3):
    """Write a synthetic results file. grid: [(key, values)] in grid order (row-major, last
    fastest); statuses: {run_id: code} (default: all done); fixed: {key: value} overrides of
    defaults; diverge: run ids whose trace stops half-way with NaN (status 3). Returns a dict
    describing what was written (params, summaries, traces) for tests to compare against."""
    fam = FAMILIES[model]
    grid = grid if grid is not None else fam["grid"]
    fixed = dict(fixed or {})
    fixed.setdefault("steps", steps)
    fixed.setdefault("log_every", log_every)
    schema = COMMON + fam["params"]
    swept = [k for k, v in grid if len(v) > 1]
    keys = [k for k, _ in grid]
    combos = list(itertools.product(*[v for _, v in grid]))
    n = len(combos)
    runs = []
    for c in combos:
        r = {name: fixed.get(name, d) for name, _, _, d in schema}
        r.update(dict(zip(keys, c)))
        runs.append(r)
    n_points = max(int(r["steps"]) // int(r["log_every"]) + 1 for r in runs)
    step = np.arange(n_points, dtype=np.int64) * int(fixed["log_every"])
    status = np.ones(n, dtype=np.int8)
    for i, code in (statuses or {}).items():
        status[i] = code
    for i in diverge:
        status[i] = 3
    metrics = fam["metrics"]
    traces = {mname: np.full((n, n_points), np.nan, dtype=np.float32) for mname in metrics}
    summ = {k: np.full(n, np.nan) for k in ("final_train_loss", "final_train_acc",
                                           "final_test_acc", "wall_seconds")}
    stc = np.full(n, -1, dtype=np.int64)
    steps_done = np.zeros(n, dtype=np.int64)
    npts = np.zeros(n, dtype=np.int32)
    for i, r in enumerate(runs):
        if status[i] == 0:
            continue
        k = int(r["steps"]) // int(r["log_every"]) + 1
        if status[i] in (3, 4):
            k = max(1, k // 2)
        cur = expected_curves(model, r, step[:k].astype(float), r.get("words_per_sentence", 9))
        for mname in metrics:
            traces[mname][i, :k] = cur[mname]
        if status[i] == 3:
            traces["train_loss"][i, k - 1] = np.nan
        npts[i] = k
        steps_done[i] = step[k - 1]
        last = k - 1 if status[i] != 3 else k - 2
        if status[i] == 2:
            continue
        summ["final_train_loss"][i] = np.float32(traces["train_loss"][i, max(last, 0)])
        summ["final_train_acc"][i] = np.float32(traces["train_acc"][i, max(last, 0)])
        summ["final_test_acc"][i] = np.float32(traces["test_acc"][i, max(last, 0)])
        summ["wall_seconds"][i] = 0.01 * (1 + i % 5)
        below = np.nonzero(traces["train_loss"][i, :k] < r["converge_loss"])[0]
        if len(below):
            stc[i] = step[below[0]]
    with h5py.File(path, "w") as f:
        spec = "[model]\nmodel = %s\n[grid]\n%s\n" % (
            model, "\n".join("%s = %s" % (k, ", ".join(str(x) for x in v)) for k, v in grid))
        attrs = dict(format_version=np.int32(1), attnsweep_version=_ftr("0.1.0"), spec=_ftr(spec),
                     spec_sha256=_ftr("0" * 64), spec_path=_ftr("synthetic.ini"),
                     created_utc=_ftr("2026-11-22T00:00:00Z"), mpi_size=np.int32(mpi_size),
                     hostname=_ftr("synthhost"), command_line=_ftr("attnsweep run synthetic.ini"),
                     model=_ftr(model), n_runs=np.int64(n), swept=_ftr(",".join(swept)),
                     metrics=_ftr(",".join(metrics)))
        for k, v in attrs.items():
            f.attrs[k] = v
        g = f.create_group("runs")
        for name, section, kind, _ in schema:
            vals = [r[name] for r in runs]
            if kind == "enum":  # fixed-length strings, as wide as the longest (a path too)
                data = np.array([v.encode() for v in vals],
                                dtype="S%d" % max([16] + [len(v.encode()) + 1 for v in vals]))
            elif kind == "real":
                data = np.array(vals, dtype=np.float64)
            else:
                data = np.array(vals, dtype=np.int64)
            d = g.create_dataset(name, data=data)
            d.attrs["section"] = _ftr(section)
            d.attrs["swept"] = np.int32(name in swept)
            d.attrs["help"] = _ftr("synthetic key %s" % name)
        d = g.create_dataset("status", data=status)
        d.attrs["codes"] = _ftr(STATUS_CODES)
        for k, v in summ.items():
            g.create_dataset(k, data=v)
        g.create_dataset("steps_to_converge", data=stc)
        g.create_dataset("steps_done", data=steps_done)
        g.create_dataset("rank", data=(np.arange(n) % max(1, mpi_size - 1) + 1).astype(np.int32))
        g.create_dataset("n_points", data=npts)
        g.create_dataset("attempts", data=(status != 0).astype(np.int32))
        g.create_dataset("trace_crc32", data=np.zeros(n, dtype=np.uint32))
        g.create_dataset("host", data=np.array([b"synthhost" if s else b"" for s in status],
                                               dtype="S64"))
        msg = [b"non-finite metric" if s == 3 else (b"max_seconds" if s == 2 else b"")
               for s in status]
        g.create_dataset("message", data=np.array(msg, dtype="S256"))
        t = f.create_group("traces")
        ds = t.create_dataset("step", data=step)
        ds.make_scale("step")
        for mname in metrics:
            d = t.create_dataset(mname, data=traces[mname], fillvalue=np.nan)
            d.dims[1].attach_scale(ds)
    return dict(runs=runs, status=status, traces=traces, step=step, n_runs=n, swept=swept,
                metrics=metrics)
