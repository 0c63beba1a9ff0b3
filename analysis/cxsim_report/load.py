"""Reading a cxsim results file (docs/hdf5-schema.md) into one table of runs
and the per-step series the report plots.

`load_results(path)` returns a `Results`: `runs` has one row per run (design
columns and every outcome of docs/experiments.md for every brand), `series`
the step-by-brand arrays of the plotted metrics. A single run (`cxsim run`)
becomes a one-row table; a sweep's `/summary` supplies the design columns and
the outcomes it recorded, the others are computed from the runs' series with
the same definitions.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field

import h5py
import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
DEFAULT_WINDOW = 52  # docs/experiments.md: [outcomes] window

# Series read from every run (docs/hdf5-schema.md); all have dims (step, brand).
SERIES = ("share", "customers", "margin", "nps", "trust", "loyalty", "defections")

# Outcomes (docs/experiments.md), in its order.
OUTCOMES = ("final_share", "mean_share", "final_customers", "mean_margin", "total_margin", "mean_nps", "churn",
            "mean_trust", "mean_loyalty")


class ReportError(Exception):
    """A problem the user can fix: printed as one line, exit status `code`
    (2 bad input, 3 unreadable file, like cxsim)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


@dataclass
class RunInfo:
    """Provenance of one run (attributes of /runs/<id>)."""

    run_id: str
    scenario_name: str
    scenario_file: str
    seed: int
    steps: int
    customers: int
    cxsim_version: str
    git_commit: str
    build_type: str
    events: list = field(default_factory=list)  # (step, label)


@dataclass
class Results:
    """Everything the report needs from one results file."""

    path: str
    attrs: dict                 # root attributes
    experiment: dict | None     # the parsed experiment file (sweeps)
    design: str                 # "single", "runs", "policies", "grid", "lhs" or "sobol"
    factors: list               # factor keys, in experiment order
    brands: list                # brand names, in scenario order (union over runs)
    window: int                 # steps averaged by the mean_* outcomes and churn
    runs: pd.DataFrame          # index run_id; columns group, point, replicate, seed, factors, sobol_matrix, outcomes
    info: dict                  # run_id -> RunInfo
    series: dict                # metric -> {run_id: float array (steps, len(brands))}
    units: dict                 # series name -> unit attribute
    summary_outcomes: list = field(default_factory=list)  # outcome columns read from /summary

    @property
    def groups(self) -> list:
        """Group labels (policies, grid cells, ...) in design order."""
        return list(dict.fromkeys(self.runs["group"]))

    def outcome(self, name: str, brand: str) -> pd.Series:
        return self.runs[f"{name}.{brand}"]


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _attr(obj, name, default=None):
    return obj.attrs[name] if name in obj.attrs else default


def describe_events(scenario: dict) -> list:
    """Scenario timeline as (step, label) pairs, one per step with events."""
    by_step: dict = {}
    for event in scenario.get("events", []) or []:
        step = int(event.get("step", 0))
        who = event.get("brand") or event.get("cohort") or "market"
        keys = ", ".join(sorted((event.get("set") or {}).keys())) or "event"
        by_step.setdefault(step, []).append(f"{who}: {keys}")
    return [(step, "; ".join(labels)) for step, labels in sorted(by_step.items())]


def compute_outcomes(series: dict, window: int) -> dict:
    """Outcomes of docs/experiments.md from one run's (steps, brands) series.

    Returns outcome name -> array over brands. `window` is capped at the run's steps.
    """
    share = series["share"]
    steps = share.shape[0]
    w = max(1, min(window, steps))
    customers = series["customers"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        churn = np.where(customers > 0, series["defections"] / np.where(customers > 0, customers, 1.0), 0.0)
    return {
        "final_share": share[-1],
        "mean_share": share[-w:].mean(axis=0),
        "final_customers": customers[-1],
        "mean_margin": series["margin"][-w:].mean(axis=0),
        "total_margin": series["margin"].sum(axis=0),
        "mean_nps": series["nps"][-w:].mean(axis=0),
        "churn": churn[-w:].mean(axis=0),
        "mean_trust": series["trust"][-w:].mean(axis=0),
        "mean_loyalty": series["loyalty"][-w:].mean(axis=0),
    }


def short_names(keys: list) -> dict:
    """Short labels for factor keys: the last path component, or more where needed to stay unique."""
    out = {}
    for depth in range(1, max((k.count(".") + 1 for k in keys), default=1) + 1):
        out = {k: ".".join(k.split(".")[-depth:]) for k in keys}
        if len(set(out.values())) == len(keys):
            return out
    return {k: k for k in keys}


def format_value(v: float) -> str:
    """Shortest plain text for a factor value."""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.6g}"


def factor_range(results: "Results", key: str) -> tuple:
    """The interval a factor was sampled from: its `range` in the experiment, else the values' span."""
    for factor in (results.experiment or {}).get("factors", []) or []:
        if factor.get("key") == key and "range" in factor:
            return float(factor["range"][0]), float(factor["range"][1])
    values = results.runs[key]
    return float(values.min()), float(values.max())


def _open(path: str) -> h5py.File:
    if not os.path.exists(path):
        raise ReportError(f"cannot open '{path}': no such file", 3)
    if os.path.isdir(path):
        raise ReportError(f"cannot open '{path}': is a directory, not a results file", 3)
    try:
        return h5py.File(path, "r")
    except OSError as e:
        reason = str(e).split("(")[0].strip().rstrip(":") or "not readable"
        raise ReportError(f"cannot open '{path}' as HDF5: {reason}", 3) from None


def _read_summary(f: h5py.File) -> pd.DataFrame:
    s = pd.DataFrame(f["summary"][...])
    for c in s.columns:
        if s[c].dtype == object:
            s[c] = s[c].str.decode("utf-8")
    return s


def load_results(path: str, window: int | None = None) -> Results:
    """Reads a cxsim results file. `window` overrides the experiment's outcome
    window (all outcomes are then recomputed from the series)."""
    with _open(path) as f:
        try:
            return _load(f, path, window)
        except ReportError:
            raise
        except (KeyError, ValueError, TypeError, OSError, tomllib.TOMLDecodeError) as e:
            raise ReportError(f"'{path}': malformed cxsim results file ({type(e).__name__}: {e})", 3) from None


def _load(f: h5py.File, path: str, window_override: int | None) -> Results:
    attrs = {k: (_text(v) if isinstance(v, (str, bytes)) else v) for k, v in f.attrs.items()}
    if attrs.get("format") != "cxsim-results":
        raise ReportError(f"'{path}' is not a cxsim results file (no format = \"cxsim-results\" attribute)", 3)
    version = int(attrs.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise ReportError(f"'{path}' has schema version {version}; this report reads version {SCHEMA_VERSION}", 3)
    if "runs" not in f or len(f["runs"]) == 0:
        raise ReportError(f"'{path}' holds no runs", 3)

    experiment = tomllib.loads(attrs["experiment_toml"]) if "experiment_toml" in attrs else None
    window = DEFAULT_WINDOW
    if experiment is not None:
        window = int(experiment.get("outcomes", {}).get("window", DEFAULT_WINDOW))
    if window_override is not None:
        window = window_override

    summary = _read_summary(f) if "summary" in f else None
    run_ids = list(summary["run_id"]) if summary is not None else sorted(f["runs"].keys())

    brands: list = []
    info: dict = {}
    raw: dict = {}
    units: dict = {}
    for run_id in run_ids:
        if run_id not in f["runs"]:
            raise ReportError(f"'{path}': /summary lists run '{run_id}', which is not under /runs", 3)
        g = f["runs"][run_id]
        names = [_text(b) for b in g["brands"][...]]
        for b in names:
            if b not in brands:
                brands.append(b)
        series = {}
        for name in SERIES:
            ds = g["series"][name]
            series[name] = np.asarray(ds[...], dtype=float)
            units.setdefault(name, _text(_attr(ds, "unit", "")))
        raw[run_id] = (names, series)
        scenario_text = _text(_attr(g, "scenario", ""))
        scenario = tomllib.loads(scenario_text) if scenario_text else {}
        info[run_id] = RunInfo(
            run_id=run_id,
            scenario_name=str(scenario.get("scenario", {}).get("name", "")),
            scenario_file=_text(_attr(g, "scenario_file", "")),
            seed=int(_attr(g, "seed", 0)),
            steps=int(_attr(g, "steps", next(iter(series.values())).shape[0])),
            customers=int(_attr(g, "customers", 0)),
            cxsim_version=_text(_attr(g, "cxsim_version", attrs.get("cxsim_version", ""))),
            git_commit=_text(_attr(g, "git_commit", "")),
            build_type=_text(_attr(g, "build_type", "")),
            events=describe_events(scenario),
        )

    # Series on the union of brands (NaN where a run lacks a brand).
    aligned: dict = {m: {} for m in (*SERIES, "churn")}
    for run_id, (names, series) in raw.items():
        cols = [brands.index(b) for b in names]
        for name, arr in series.items():
            out = np.full((arr.shape[0], len(brands)), np.nan)
            out[:, cols] = arr
            aligned[name][run_id] = out
        c = aligned["customers"][run_id]
        with np.errstate(divide="ignore", invalid="ignore"):
            aligned["churn"][run_id] = np.where(c > 0, aligned["defections"][run_id] / np.where(c > 0, c, 1.0), 0.0)
        if any(not np.isfinite(a[:, cols]).all() for a in series.values()):
            raise ReportError(f"'{path}': run '{run_id}' has non-finite values in its series", 3)

    # One row per run: design columns, then every outcome for every brand.
    factors: list = []
    if summary is not None:
        design_cols = [c for c in ("policy", "point", "sobol_matrix", "replicate") if c in summary.columns]
        if experiment is not None:
            factors = [fa["key"] for fa in experiment.get("factors", [])]
        factors = [k for k in factors if k in summary.columns]
        table = summary[["run_id", *design_cols, *factors]].copy()
        if "policy" in summary.columns:
            design = "policies"
        elif "sobol_matrix" in summary.columns:
            design = "sobol"
        else:
            design = str((experiment or {}).get("experiment", {}).get("design", "grid"))
    else:
        design = "single" if len(run_ids) == 1 else "runs"
        table = pd.DataFrame({"run_id": run_ids, "point": range(len(run_ids)), "replicate": 0})
    table["seed"] = [info[r].seed for r in run_ids]

    if design == "policies":
        table["group"] = table["policy"]
    elif design in ("single", "runs"):
        table["group"] = [info[r].scenario_name or r for r in run_ids]
        if table["group"].duplicated().any():
            table["group"] = [f"{info[r].scenario_name} ({r})" for r in run_ids]
    else:
        short = short_names(factors)
        matrix = (lambda row: f"{row['sobol_matrix']} {row['point']}: ") if design == "sobol" else (lambda row: "")
        table["group"] = [matrix(row) + ", ".join(f"{short[k]}={format_value(row[k])}" for k in factors)
                          for _, row in table.iterrows()]

    computed = {r: compute_outcomes({m: aligned[m][r] for m in SERIES}, window) for r in run_ids}
    summary_outcomes = []
    for outcome in OUTCOMES:
        for b, brand in enumerate(brands):
            column = f"{outcome}.{brand}"
            if summary is not None and column in summary.columns and window_override is None:
                table[column] = summary[column].to_numpy(dtype=float)
                summary_outcomes.append(column)
            else:
                table[column] = [computed[r][outcome][b] for r in run_ids]
    table = table.set_index("run_id", drop=False)
    window = min(window, max(i.steps for i in info.values()))
    return Results(path=path, attrs=attrs, experiment=experiment, design=design, factors=factors, brands=brands,
                   window=window, runs=table, info=info, series=aligned, units=units,
                   summary_outcomes=summary_outcomes)
