"""netcdf — a Sweep as one xarray Dataset (Sweep.to_xarray, analysis.to_xarray): /runs and
/traces merged over the dimensions run and step, the swept keys as coordinates, the status as a
CF flag variable plus its decoded names, every variable with the file's long_name/help/units.
Built from what load.py read with h5py (no HDF5 file locking), so it works the same for format 1
and 2 files and for a file a sweep is still writing; xarray is imported only here."""
import numpy as np

STATUS_NAME_ATTRS = {"long_name": "run status, decoded from status's flag_values and "
                                  "flag_meanings",
                     "help": "pending, done, failed, diverged or interrupted"}


def _xarray():
    try:
        import xarray
    except ImportError:
        raise ImportError("to_xarray() needs xarray (apt-get install python3-xarray); "
                          "Sweep.table() and Sweep.trace() give the same data as numpy "
                          "arrays") from None
    return xarray


def decode_flags(values, flag_values, flag_meanings):
    """CF flag decoding: each value's meaning (flag_meanings[i] where flag_values[i] equals it),
    'unknown(v)' for a value that is not a flag. An object array of str."""
    names = dict(zip((int(v) for v in flag_values), flag_meanings))
    return np.array([names.get(int(v), "unknown(%d)" % v) for v in values], dtype=object)


def to_xarray(sweep, metrics=None):
    """The Sweep as an xarray Dataset; see Sweep.to_xarray (analysis.to_xarray takes a path)."""
    xr = _xarray()
    metrics = sweep.metrics if metrics is None else list(metrics)
    attrs = sweep.var_attrs
    coords = {"run": ("run", np.arange(sweep.n_runs, dtype=np.int64),
                      attrs.get("run", {"long_name": "run id: the run's row-major position in "
                                                     "the grid"})),
              "step": ("step", sweep.step, attrs.get("step", {}))}
    for k in sweep.swept:
        coords[k] = ("run", sweep.params[k], attrs.get(k, {}))
    data = {}
    for k in sweep.param_keys:
        if k not in sweep.swept:
            data[k] = ("run", sweep.params[k], attrs.get(k, {}))
    codes, names = sweep.status_flags()
    status_attrs = dict(attrs.get("status", {}))
    status_attrs.pop("codes", None)
    status_attrs.setdefault("long_name", "run status (flag_meanings)")
    status_attrs.update(flag_values=np.array(codes, dtype=sweep.status.dtype),
                        flag_meanings=" ".join(names))
    data["status"] = ("run", sweep.status, status_attrs)
    data["status_name"] = ("run", decode_flags(sweep.status, codes, names), STATUS_NAME_ATTRS)
    for k in sweep.summary_keys:
        data[k] = ("run", sweep.summaries[k], attrs.get(k, {}))
    for m in metrics:  # a metric named like a /runs column (none today) becomes trace_<name>
        name = "trace_" + m if m in data or m in coords else m
        data[name] = (("run", "step"), sweep.trace(m), attrs.get(m, {}))
    gattrs = dict(sweep.attrs)
    gattrs.pop("spec", None)
    gattrs["spec"] = sweep.spec
    gattrs["source"] = sweep.path
    return xr.Dataset(data, coords, attrs=gattrs)
