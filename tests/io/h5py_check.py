#!/usr/bin/python3
"""Check that a cxsim results file follows docs/hdf5-schema.md, using plain h5py.

Usage: /usr/bin/python3 tests/io/h5py_check.py FILE.h5

Prints a one-line summary and exits 0, or prints every problem found and exits 1.
"""
import sys
import tomllib

import h5py
import numpy as np

SCHEMA_VERSION = 1
SB = ("step", "brand")
# name -> (dims, dtype): the standard series every run carries.
SERIES = {
    "share": (SB, "f8"),
    "customers": (SB, "i8"),
    "purchases": (SB, "i8"),
    "acquisitions": (SB, "i8"),
    "defections": (SB, "i8"),
    "promoters": (SB, "i8"),
    "detractors": (SB, "i8"),
    "revenue": (SB, "f8"),
    "margin": (SB, "f8"),
    "loyalty": (SB, "f8"),
    "nps": (SB, "f8"),
    "trust": (SB, "f8"),
    "engagement": (SB, "f8"),
    "turnover": (SB, "f8"),
    "ambassadors": (SB, "i8"),
    "service_quality": (SB, "f8"),
    "cohort_share": (("step", "cohort", "brand"), "f8"),
    "segment_share": (("step", "segment", "brand"), "f8"),
    "salience": (("step", "cohort"), "f8"),
    "values_weight": (("step",), "f8"),
    "demand": (("step",), "f8"),
}
RUN_STR_ATTRS = ("scenario", "scenario_file", "command_line", "cxsim_version",
                 "git_commit", "build_type", "created_utc")
RUN_INT_ATTRS = ("seed", "threads", "steps", "customers")
NAME_DATASETS = ("brands", "cohorts", "dimensions", "segments")
NAME_DIMS = ("brand", "cohort", "dimension", "segment")
# The consumer panel (docs/panel.md): one row per purchase of a panel member.
PANEL_COLUMNS = {"step": "i4", "customer": "u4", "cohort": "u1", "brand": "u1",
                 "satisfaction": "u1", "price": "f8"}
PANEL_SUMMARY = {"penetration": ("brand",), "frequency": ("brand",), "scr": ("brand",),
                 "sole_buyers": ("brand",), "duplication": ("brand", "brand")}
SHARES = ("penetration", "scr", "sole_buyers", "duplication")


def check_str_attr(obj, name, problems, where, nonempty=False):
    if name not in obj.attrs:
        problems.append(f"{where}: attribute {name!r} is missing")
        return None
    value = obj.attrs[name]
    if not isinstance(value, str):
        problems.append(f"{where}: attribute {name!r} is {type(value).__name__}, not str")
        return None
    if nonempty and not value:
        problems.append(f"{where}: attribute {name!r} is empty")
    return value


def check_run(run_id, g, problems):
    where = f"/runs/{run_id}"
    for name in RUN_STR_ATTRS:
        check_str_attr(g, name, problems, where, nonempty=name != "command_line")
    for name in RUN_INT_ATTRS:
        if not isinstance(g.attrs.get(name), (int, np.integer)):
            problems.append(f"{where}: attribute {name!r} is missing or not an integer")
    if not isinstance(g.attrs.get("wall_seconds"), (float, np.floating)):
        problems.append(f"{where}: attribute 'wall_seconds' is missing or not a float")
    scenario = g.attrs.get("scenario")
    if isinstance(scenario, str) and scenario:
        try:
            tomllib.loads(scenario)
        except tomllib.TOMLDecodeError as e:
            problems.append(f"{where}: attribute 'scenario' is not valid TOML: {e}")

    lengths = {"step": int(g.attrs["steps"]) if "steps" in g.attrs else None}
    for name, dim in zip(NAME_DATASETS, NAME_DIMS):
        ds = g.get(name)
        if not isinstance(ds, h5py.Dataset) or ds.ndim != 1 or h5py.check_string_dtype(ds.dtype) is None:
            problems.append(f"{where}/{name}: missing or not a 1-D string dataset")
            continue
        names = list(ds.asstr()[...])
        if len(set(names)) != len(names):
            problems.append(f"{where}/{name}: names are not unique")
        lengths[dim] = len(names)

    series = g.get("series")
    if not isinstance(series, h5py.Group):
        problems.append(f"{where}/series: group is missing")
        return 0, 0
    for name in SERIES:
        if name not in series:
            problems.append(f"{where}/series/{name}: missing")
    for name, ds in series.items():
        check_series(f"{where}/series/{name}", name, ds, lengths, problems)
    if "panel" in g:
        check_panel(f"{where}/panel", g["panel"], lengths, problems)
    return len(series), int("panel" in g)


def check_panel(where, g, lengths, problems):
    if not isinstance(g, h5py.Group):
        problems.append(f"{where}: not a group")
        return
    size = g.attrs.get("panel_size")
    if not isinstance(size, (int, np.integer)) or size <= 0:
        problems.append(f"{where}: attribute 'panel_size' is missing or not a positive integer")
    columns = {}
    for name, dtype in PANEL_COLUMNS.items():
        ds = g.get(name)
        if not isinstance(ds, h5py.Dataset) or ds.ndim != 1:
            problems.append(f"{where}/{name}: missing or not a 1-D dataset")
            continue
        if ds.dtype != np.dtype(dtype):
            problems.append(f"{where}/{name}: dtype {ds.dtype}, expected {np.dtype(dtype)}")
        columns[name] = ds[()]
    if len({len(c) for c in columns.values()}) > 1:
        problems.append(f"{where}: columns differ in length: "
                        f"{ {k: len(v) for k, v in columns.items()} }")
        return
    n_brands, n_cohorts, steps = lengths.get("brand"), lengths.get("cohort"), lengths.get("step")
    checks = (("brand", n_brands), ("cohort", n_cohorts), ("step", steps))
    for name, bound in checks:
        c = columns.get(name)
        if c is not None and bound is not None and c.size and (c.min() < 0 or c.max() >= bound):
            problems.append(f"{where}/{name}: values outside [0, {bound})")
    sat = columns.get("satisfaction")
    if sat is not None and sat.size and (sat.min() < 1 or sat.max() > 3):
        problems.append(f"{where}/satisfaction: values outside 1..3")
    price = columns.get("price")
    if price is not None and price.size and not np.isfinite(price).all():
        problems.append(f"{where}/price: holds non-finite values")
    if "step" in columns and "customer" in columns:
        key = columns["step"].astype(np.int64) * 2**32 + columns["customer"]
        if key.size > 1 and not (np.diff(key) > 0).all():
            problems.append(f"{where}: purchases are not sorted by (step, customer) without repeats")

    summary = g.get("summary")
    if summary is None:
        return
    sw = f"{where}/summary"
    if not isinstance(summary, h5py.Group):
        problems.append(f"{sw}: not a group")
        return
    for name in ("from", "to", "panel_size", "category_buyers"):
        if not isinstance(summary.attrs.get(name), (int, np.integer)):
            problems.append(f"{sw}: attribute {name!r} is missing or not an integer")
    if summary.attrs.get("panel_size") != size:
        problems.append(f"{sw}: attribute 'panel_size' differs from the panel's")
    period = (summary.attrs.get("from"), summary.attrs.get("to"))
    if all(isinstance(v, (int, np.integer)) for v in period) and steps is not None and \
            not 0 <= period[0] <= period[1] <= steps:
        problems.append(f"{sw}: period [{period[0]}, {period[1]}) is not within [0, {steps}]")
    buyers = summary.attrs.get("category_buyers")
    if isinstance(buyers, (int, np.integer)) and isinstance(size, (int, np.integer)) and not 0 <= buyers <= size:
        problems.append(f"{sw}: category_buyers {buyers} is not within [0, panel_size]")
    for name, dims in PANEL_SUMMARY.items():
        ds = summary.get(name)
        if not isinstance(ds, h5py.Dataset):
            problems.append(f"{sw}/{name}: missing")
            continue
        check_series(f"{sw}/{name}", name, ds, lengths, problems)
        want = tuple(lengths.get(d) for d in dims)
        if ds.shape != want:
            problems.append(f"{sw}/{name}: shape {ds.shape}, expected {want}")
        values = ds[()]
        if name in SHARES and values.size and ((values < 0).any() or (values > 1).any()):
            problems.append(f"{sw}/{name}: shares outside [0, 1]")
        if name == "frequency" and values.size and (values < 0).any():
            problems.append(f"{sw}/{name}: negative frequencies")


def check_series(where, name, ds, lengths, problems):
    if not isinstance(ds, h5py.Dataset):
        problems.append(f"{where}: not a dataset")
        return
    if ds.dtype not in (np.dtype("<f8"), np.dtype("<i8")):
        problems.append(f"{where}: dtype {ds.dtype} is neither float64 nor int64")
    check_str_attr(ds, "unit", problems, where)
    check_str_attr(ds, "description", problems, where, nonempty=True)
    dims = ds.attrs.get("dims")
    if dims is None or not all(isinstance(d, str) for d in np.ravel(dims)):
        problems.append(f"{where}: attribute 'dims' is missing or not strings")
        return
    dims = tuple(np.ravel(dims))
    if len(dims) != ds.ndim:
        problems.append(f"{where}: dims {list(dims)} do not match shape {ds.shape}")
        return
    expected = tuple(lengths.get(d) for d in dims)
    if any(e is not None and e != n for e, n in zip(expected, ds.shape)):
        problems.append(f"{where}: shape {ds.shape} but dims {list(dims)} have lengths {expected}")
    if name in SERIES:
        want_dims, want_dtype = SERIES[name]
        if dims != want_dims:
            problems.append(f"{where}: dims {list(dims)}, expected {list(want_dims)}")
        if ds.dtype != np.dtype(want_dtype):
            problems.append(f"{where}: dtype {ds.dtype}, expected {np.dtype(want_dtype)}")
    if ds.dtype.kind == "f" and ds.size and not np.isfinite(ds[()]).all():
        problems.append(f"{where}: holds non-finite values")


def check_summary(f, n_runs, problems):
    """A sweep's /summary: one row per run, loadable into pandas, ids matching /runs."""
    import pandas as pd
    table = f["summary"]
    if not isinstance(table, h5py.Dataset) or table.dtype.names is None:
        problems.append("/summary: not a compound dataset")
        return 0
    frame = pd.DataFrame(table[...])
    for name in ("run_id", "point", "replicate", "seed"):
        if name not in frame.columns:
            problems.append(f"/summary: column '{name}' missing")
            return 0
    ids = [v.decode() for v in frame["run_id"]]
    if len(ids) != n_runs or sorted(ids) != sorted(f["runs"].keys()):
        problems.append("/summary: run ids do not match /runs")
    numeric = frame.select_dtypes("number")
    if not np.isfinite(numeric.to_numpy(dtype=float)).all():
        problems.append("/summary: non-finite values")
    for key in ("experiment", "experiment_toml", "experiment_fingerprint"):
        if not isinstance(f.attrs.get(key), str) or not f.attrs.get(key):
            problems.append(f"/: attribute '{key}' missing (sweep file)")
    return len(frame)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2])
        return 1
    path = argv[1]
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        print(f"{path}: cannot open: {e}")
        return 1
    problems = []
    with f:
        if f.attrs.get("format") != "cxsim-results":
            problems.append("/: attribute 'format' is not 'cxsim-results'")
        if f.attrs.get("schema_version") != SCHEMA_VERSION:
            problems.append(f"/: attribute 'schema_version' is not {SCHEMA_VERSION}")
        check_str_attr(f, "cxsim_version", problems, "/", nonempty=True)
        check_str_attr(f, "created_utc", problems, "/", nonempty=True)
        runs = f.get("runs")
        n_runs = n_series = n_panels = 0
        if not isinstance(runs, h5py.Group) or not len(runs):
            problems.append("/runs: missing or empty")
        else:
            for run_id, g in runs.items():
                if not isinstance(g, h5py.Group):
                    problems.append(f"/runs/{run_id}: not a group")
                    continue
                n_runs += 1
                series, panels = check_run(run_id, g, problems)
                n_series += series
                n_panels += panels
        n_summary = check_summary(f, n_runs, problems) if "summary" in f else 0
    if problems:
        print(f"{path}: {len(problems)} problem(s):")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"{path}: ok: schema {SCHEMA_VERSION}, {n_runs} run(s), {n_series} series, {n_panels} panel(s)"
          + (f", summary of {n_summary} row(s)" if n_summary else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
