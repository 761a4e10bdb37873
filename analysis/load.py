"""load — reads one attnsweep results.h5 (the layout of README "The output file") into a Sweep:
parameters, status, summaries as numpy arrays, traces on demand. Everything else in analysis/
(report, plots, compare) works from a Sweep. Any problem with the file becomes an AnalysisError
with a message saying what is wrong and what to do; nothing here prints or exits."""
import os

import numpy as np

try:
    import h5py
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError("analysis needs h5py: apt-get install python3-h5py "
                      "(and run with /usr/bin/python3)") from e

FORMAT_VERSIONS = (1, 2)  # what this analysis reads; 2 is the netCDF-4/CF layout
STATUS_NAMES = {0: "pending", 1: "done", 2: "failed", 3: "diverged", 4: "interrupted"}
STATUS_CODES = {v: k for k, v in STATUS_NAMES.items()}
# HDF5 and netCDF bookkeeping attributes a dataset's description (Sweep.var_attrs) leaves out
INTERNAL_ATTRS = ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid",
                  "_Netcdf4Coordinates", "_Encoding", "coordinates", "_FillValue")
# /runs datasets that are results, not parameters, in the order runs.csv shows them.
SUMMARY_COLUMNS = ["final_train_loss", "final_train_acc", "final_test_acc", "steps_to_converge",
                   "steps_done", "wall_seconds", "n_points", "attempts", "rank", "host",
                   "trace_crc32", "reuse_id", "reuse_file", "message"]


class AnalysisError(Exception):
    """A results file that cannot be analysed (missing, not HDF5, not attnsweep, corrupt)."""


def _text(v):
    """An HDF5 string (fixed or variable length, bytes or str, scalar or 0-d array) as str."""
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace").rstrip("\0")
    return str(v)


def _scalar(v):
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0] if v.size else v
    if isinstance(v, (bytes, np.bytes_, str)):
        return _text(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _attrs(d):
    """A dataset's descriptive attributes (long_name, help, units, section, swept, flag_values,
    flag_meanings, codes, ...) as Python values: strings decoded, arrays kept."""
    out = {}
    for k in d.attrs:
        if k in INTERNAL_ATTRS:
            continue
        v = d.attrs[k]
        out[k] = v if isinstance(v, np.ndarray) and v.shape != () and v.dtype.kind not in "SOU" \
            else _scalar(v)
    return out


def _strings(a):
    """A fixed-length string dataset's values as a numpy array of str."""
    return np.array([_text(x) for x in a], dtype=object)


def _open(path):
    """Open read-only without HDF5 file locking, so a file a sweep is still writing can be read."""
    try:
        return h5py.File(path, "r", locking=False)
    except TypeError:  # h5py older than 3.5: no locking argument
        return h5py.File(path, "r")
    except OSError as e:  # already open in this process with locking: reuse its setting
        if "locking" not in str(e):
            raise
        return h5py.File(path, "r")


def grid_scale(values):
    """'log' if a grid's numeric values are spaced geometrically (logspace, 16/32/64, ...), else
    'linear'. Two values count as log when they differ by a factor >= 10."""
    try:
        v = np.unique(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        return "linear"
    v = v[np.isfinite(v)]
    if len(v) < 2 or np.any(v <= 0):
        return "linear"
    if len(v) == 2:
        return "log" if v[1] / v[0] >= 10 else "linear"
    lin, lg = np.diff(v), np.diff(np.log(v))
    spread_lin = np.std(lin) / np.mean(lin)
    spread_log = np.std(lg) / np.mean(lg)
    return "log" if spread_log < spread_lin else "linear"


def fmt_value(v):
    """A parameter value for labels: 5000, 0.1, 1e-05, mlp."""
    if isinstance(v, str):
        return v
    if isinstance(v, (float, np.floating)):
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return "%.4g" % v
    return str(v)


class Sweep:
    """One results file in memory. Attributes (all numpy, one entry per run unless noted):

    path, attrs (root attributes as Python values), model, spec, n_runs, swept (grid order),
    metrics (trace names), params {key: array}, param_keys (swept first, then the rest A→Z),
    param_info {key: {section, swept, help}}, status (int8 codes), summaries {column: array},
    step (int64 [n_points]), var_attrs {dataset name: its descriptive attributes} (/runs
    datasets, run, step and the metrics). trace(metric) reads one [n_runs, n_points] float32
    array; to_xarray() gives everything as one xarray Dataset.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self._traces = {}
        if not os.path.exists(self.path):
            raise AnalysisError("%s: no such file" % self.path)
        try:
            f = _open(self.path)
        except OSError as e:
            raise AnalysisError(
                "%s: not a readable HDF5 file (HDF5 says: %s). Check the path; if attnsweep "
                "wrote it, the file is damaged (truncated, or a copy that did not finish) and "
                "the sweep must be rerun into a new file." % (self.path, e)) from None
        try:
            with f:
                self._read(f)
        except AnalysisError:
            raise
        except (OSError, KeyError, ValueError, TypeError, IndexError) as e:
            raise AnalysisError(
                "%s: damaged attnsweep file, reading it failed: %s. The file may be truncated "
                "or still being created; check `attnsweep status %s`."
                % (self.path, e, self.path)) from None

    def _read(self, f):
        p = self.path
        if "format_version" not in f.attrs or "runs" not in f or "status" not in f.get("runs", {}):
            raise AnalysisError(
                "%s: not an attnsweep results file (no format_version attribute or /runs/status); "
                "give the file written by `attnsweep run ... --out FILE`." % p)
        self.attrs = {k: _scalar(f.attrs[k]) for k in f.attrs}
        ver = self.attrs["format_version"]
        if ver not in FORMAT_VERSIONS:
            raise AnalysisError("%s: format_version %s is not supported (this analysis reads %s); "
                                "use the analysis/ of the attnsweep that wrote it."
                                % (p, ver, ", ".join(map(str, FORMAT_VERSIONS))))
        runs = f["runs"]
        self.status = np.asarray(runs["status"][()], dtype=np.int8)
        self.n_runs = len(self.status)
        n_attr = self.attrs.get("n_runs", self.n_runs)
        if n_attr != self.n_runs:
            raise AnalysisError("%s: damaged: n_runs attribute is %s but /runs/status has %d "
                                "entries" % (p, n_attr, self.n_runs))
        self.model = str(self.attrs.get("model", "?"))
        self.spec = _text(f["spec"][()]) if "spec" in f else str(self.attrs.get("spec", ""))
        self.swept = [k for k in str(self.attrs.get("swept", "")).split(",") if k]
        self.params, self.param_info, self.summaries = {}, {}, {}
        self.var_attrs = {k: _attrs(runs[k]) for k in runs if isinstance(runs[k], h5py.Dataset)}
        has_sections = any("section" in runs[k].attrs for k in runs)
        for k in runs:
            d = runs[k]
            if not isinstance(d, h5py.Dataset) or k in ("status", "run"):
                continue
            if d.shape != (self.n_runs,):
                raise AnalysisError("%s: damaged: /runs/%s has shape %s, expected (%d,)"
                                    % (p, k, d.shape, self.n_runs))
            a = d[()]
            if a.dtype.kind in "SOU":
                a = _strings(a)
            is_param = ("section" in d.attrs) if has_sections else k not in SUMMARY_COLUMNS
            if is_param:
                self.params[k] = a
                self.param_info[k] = dict(section=_text(d.attrs.get("section", "")),
                                          swept=int(_scalar(d.attrs.get("swept", 0))),
                                          help=_text(d.attrs.get("help", "")))
            else:
                self.summaries[k] = a
        for k in self.param_info:  # older writers may not set the swept attribute
            if self.param_info[k]["swept"] and k not in self.swept:
                self.swept.append(k)
        self.swept = [k for k in self.swept if k in self.params]
        self.param_keys = self.swept + sorted(k for k in self.params if k not in self.swept)
        order = [c for c in SUMMARY_COLUMNS if c in self.summaries]
        self.summary_keys = order + sorted(c for c in self.summaries if c not in order)
        if "traces" not in f or "step" not in f["traces"]:
            raise AnalysisError("%s: damaged attnsweep file: no /traces/step" % p)
        self.step = np.asarray(f["traces/step"][()], dtype=np.int64)
        self.var_attrs["step"] = _attrs(f["traces/step"])
        names = [m for m in str(self.attrs.get("metrics", "")).split(",") if m]
        if not names:  # the 2-D datasets: metrics (not the step axis or linked coordinates)
            names = sorted(k for k in f["traces"] if len(f["traces"][k].shape) == 2)
        for m in names:
            if m not in f["traces"]:
                raise AnalysisError("%s: damaged: metric %r listed in the metrics attribute has "
                                    "no /traces/%s dataset" % (p, m, m))
            shape = f["traces"][m].shape
            if shape != (self.n_runs, len(self.step)):
                raise AnalysisError("%s: damaged: /traces/%s has shape %s, expected (%d, %d)"
                                    % (p, m, shape, self.n_runs, len(self.step)))
            self.var_attrs[m] = _attrs(f["traces"][m])
        self.metrics = names

    # ---- status -----------------------------------------------------------------------------
    @property
    def status_names(self):
        """Status of every run as a name (pending, done, failed, diverged, interrupted)."""
        return np.array([STATUS_NAMES.get(int(s), "unknown(%d)" % s) for s in self.status],
                        dtype=object)

    def counts(self):
        """{status name: number of runs}, every name present (0 when none)."""
        c = {name: int(np.sum(self.status == code)) for code, name in STATUS_NAMES.items()}
        other = int(np.sum(~np.isin(self.status, list(STATUS_NAMES))))
        if other:
            c["unknown"] = other
        return c

    def status_flags(self):
        """(codes, names) of the status column as CF flags: the file's flag_values and
        flag_meanings (format 2), else its `codes` attribute (format 1, "0=pending,..."), else
        STATUS_NAMES."""
        a = self.var_attrs.get("status", {})
        if "flag_values" in a and "flag_meanings" in a:
            codes = [int(v) for v in np.atleast_1d(a["flag_values"])]
            return codes, str(a["flag_meanings"]).split()
        pairs = [c.split("=", 1) for c in str(a.get("codes", "")).split(",") if "=" in c]
        if pairs:
            return [int(c) for c, _ in pairs], [n.strip() for _, n in pairs]
        return list(STATUS_NAMES), list(STATUS_NAMES.values())

    def mask(self, *names):
        """Boolean [n_runs]: runs whose status is one of names."""
        return np.isin(self.status, [STATUS_CODES[n] for n in names])

    @property
    def done(self):
        return self.mask("done")

    @property
    def finished(self):
        """Runs with a result: done, diverged or failed (pending/interrupted are skipped)."""
        return self.mask("done", "diverged", "failed")

    @property
    def skipped(self):
        return self.mask("pending", "interrupted")

    @property
    def stopped_early(self):
        """Boolean [n_runs]: done runs that stopped before their `steps` (stop_when_converged
        or patience): steps_done < steps; their traces are NaN after their last logged point."""
        done_steps, steps = self.summaries.get("steps_done"), self.params.get("steps")
        if done_steps is None or steps is None:
            return np.zeros(self.n_runs, dtype=bool)
        return self.done & (done_steps < steps)

    def steps_saved(self, ids=None):
        """(steps not taken by early stopping, steps planned) summed over the done runs (of ids
        if given): steps - steps_done of every run that stopped early, and steps."""
        sel = self.done.copy()
        if ids is not None:
            keep = np.zeros(self.n_runs, dtype=bool)
            keep[ids] = True
            sel &= keep
        steps = self.params.get("steps")
        if steps is None:
            return 0, 0
        early = sel & self.stopped_early
        saved = int(np.sum(steps[early] - self.summaries["steps_done"][early]))
        return saved, int(np.sum(steps[sel]))

    # ---- traces -----------------------------------------------------------------------------
    def trace(self, metric):
        """float32 [n_runs, n_points] of one metric (NaN where a run did not log), cached."""
        if metric not in self.metrics:
            raise KeyError("%s: no metric %r (metrics: %s)" % (self.path, metric,
                                                               ", ".join(self.metrics)))
        if metric not in self._traces:
            try:
                with _open(self.path) as f:
                    self._traces[metric] = np.asarray(f["traces"][metric][()], dtype=np.float32)
            except (OSError, KeyError, ValueError) as e:
                raise AnalysisError("%s: damaged: reading /traces/%s failed: %s"
                                    % (self.path, metric, e)) from None
        return self._traces[metric]

    def final(self, metric):
        """float64 [n_runs]: the last logged (non-NaN) value of a metric per run, NaN if none."""
        t = self.trace(metric)
        ok = ~np.isnan(t)
        last = np.where(ok.any(axis=1), t.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), -1)
        out = np.full(self.n_runs, np.nan)
        sel = last >= 0
        out[sel] = t[np.nonzero(sel)[0], last[sel]]
        return out

    # ---- grid -------------------------------------------------------------------------------
    @property
    def cell_keys(self):
        """Keys that define a grid cell: every parameter but seed that takes > 1 value."""
        keys = [k for k in self.param_keys if k != "seed"]
        return [k for k in keys if len(np.unique(self.params[k])) > 1]

    def values(self, key):
        """Sorted distinct values of a parameter."""
        return list(np.unique(self.params[key]))

    def scale(self, key):
        return grid_scale(self.params[key]) if self.params[key].dtype != object else "linear"

    def cells(self, keys=None, runs=None):
        """[(values tuple, run ids)] per grid cell over keys (default cell_keys), in sorted key
        order; runs (bool mask or ids) restricts which runs are counted."""
        keys = self.cell_keys if keys is None else list(keys)
        ids = np.arange(self.n_runs)
        if runs is not None:
            runs = np.asarray(runs)
            ids = ids[runs] if runs.dtype == bool else runs
        groups = {}
        for i in ids:
            groups.setdefault(tuple(self.params[k][i] for k in keys), []).append(i)
        if not keys:
            return [((), np.array(groups.get((), []), dtype=int))] if groups else []
        return [(c, np.array(groups[c], dtype=int)) for c in sorted(groups, key=_sort_key)]

    def label(self, keys, values):
        return ", ".join("%s=%s" % (k, fmt_value(v)) for k, v in zip(keys, values))

    # ---- tables -----------------------------------------------------------------------------
    def table(self):
        """The runs table as {column: array} in column order: run, every parameter, status (name),
        every summary column. No pandas needed."""
        cols = {"run": np.arange(self.n_runs)}
        for k in self.param_keys:
            cols[k] = self.params[k]
        cols["status"] = self.status_names
        for k in self.summary_keys:
            cols[k] = self.summaries[k]
        return cols

    def to_xarray(self, metrics=None):
        """xarray Dataset of the whole file (needs python3-xarray): dimensions run and step;
        the swept keys as coordinates on run; every other parameter, the status and every
        summary as a [run] variable; every metric (or those named) as a [run, step] float32
        variable, NaN where a run did not log. The status keeps its CF flag_values and
        flag_meanings; status_name holds it decoded. Attributes as in the file. See
        analysis/netcdf.py."""
        from .netcdf import to_xarray
        return to_xarray(self, metrics)

    def to_dataframe(self, traces=False):
        """pandas DataFrame: one row per run (see table()), or with traces=True one row per
        (run, step) logged, with every parameter, the status and every metric (long format)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_dataframe() needs pandas (apt-get install python3-pandas); "
                              "Sweep.table() gives the same columns as numpy arrays") from None
        if not traces:
            return pd.DataFrame(self.table())
        n_pts = len(self.step)
        run = np.repeat(np.arange(self.n_runs), n_pts)
        cols = {"run": run, "step": np.tile(self.step, self.n_runs)}
        for k in self.param_keys:
            cols[k] = np.repeat(self.params[k], n_pts)
        cols["status"] = np.repeat(self.status_names, n_pts)
        for m in self.metrics:
            cols[m] = self.trace(m).reshape(-1)
        df = pd.DataFrame(cols)
        logged = np.zeros(len(run), dtype=bool)
        for m in self.metrics:
            logged |= ~np.isnan(cols[m])
        return df[logged].reset_index(drop=True)


def _sort_key(cell):
    return tuple((0, float(v), "") if not isinstance(v, str) else (1, 0.0, v) for v in cell)


def load(path):
    """Read a results file: Sweep, or AnalysisError saying what is wrong."""
    return Sweep(path)
