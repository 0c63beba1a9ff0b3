"""The report's numbers: per-policy outcomes with intervals, paired differences
to a reference policy, per-point tables of factor designs and sensitivity
indices. Everything here returns pandas tables (also written as CSV next to
the report); figures.py and html.py only present them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import stats
from .load import ReportError, Results


@dataclass(frozen=True)
class Outcome:
    """How the report names and formats one outcome."""

    name: str
    label: str      # short column title
    unit: str       # unit for axis labels
    long: str       # sentence fragment, e.g. "mean share of purchases over the last 52 weeks"


def headline_outcomes(window: int) -> list:
    """The long-run outcomes of the comparison table, one per metric that matters."""
    w = f"the last {window} week{'s' if window != 1 else ''}"
    return [
        Outcome("mean_share", "Share", "fraction of purchases", f"mean share of purchases over {w}"),
        Outcome("final_customers", "Customer base", "customers", "customers at the end of the run"),
        Outcome("mean_margin", "Margin / week", "currency units per week", f"mean margin per week over {w}"),
        Outcome("mean_nps", "NPS", "points, -100 to 100", f"mean net promoter score over {w}"),
        Outcome("mean_trust", "Trust", "0 to 1", f"mean trust in the brand's stated values over {w}"),
        Outcome("churn", "Churn / week", "fraction of customers per week",
                f"mean share of the brand's customers defecting per week over {w}"),
    ]


# --- Choosing the brand the design is about -----------------------------------

_BRAND_KEY = re.compile(r"^brands\.([^.]+)\.")


def focus_brand(results: Results, requested: str | None = None) -> str:
    """The brand the experiment is about: `requested`, else the first brand a
    factor or policy override names, else the first brand with scenario events,
    else the brand whose long-run share moves most between groups."""
    if requested is not None:
        if requested not in results.brands:
            raise ReportError(f"--brand: unknown brand '{requested}' (expected one of: {', '.join(results.brands)})")
        return requested
    keys = list(results.factors)
    exp = results.experiment or {}
    keys += list((exp.get("experiment", {}).get("set") or {}).keys())
    for policy in exp.get("policies", []) or []:
        keys += list((policy.get("set") or {}).keys())
    for key in keys:
        m = _BRAND_KEY.match(key)
        if m and m.group(1) in results.brands:
            return m.group(1)
    for info in results.info.values():
        for _, label in info.events:
            for part in label.split("; "):
                who = part.split(":")[0]
                if who in results.brands:
                    return who
    means = results.runs.groupby("group")[[f"mean_share.{b}" for b in results.brands]].mean()
    spread = (means.max() - means.min()).to_numpy()
    return results.brands[int(np.nanargmax(spread))] if np.isfinite(spread).any() else results.brands[0]


def reference_group(results: Results, requested: str | None = None) -> str:
    groups = results.groups
    if requested is None:
        return groups[0]
    if requested not in groups:
        raise ReportError(f"--reference: unknown policy '{requested}' (expected one of: {', '.join(groups)})")
    return requested


# --- Policy comparison ----------------------------------------------------------

def paired_values(results: Results, column: str, group: str, reference: str):
    """Values of `column` for the replicates two groups share, ordered by replicate.

    Returns (values of group, values of reference, seeds_match)."""
    runs = results.runs
    a = runs[runs["group"] == group].set_index("replicate")
    b = runs[runs["group"] == reference].set_index("replicate")
    common = sorted(set(a.index) & set(b.index))
    seeds_match = bool((a.loc[common, "seed"].to_numpy() == b.loc[common, "seed"].to_numpy()).all())
    return a.loc[common, column].to_numpy(float), b.loc[common, column].to_numpy(float), seeds_match


def comparison_table(results: Results, reference: str, outcomes: list) -> pd.DataFrame:
    """One row per (group, brand, outcome): the mean over replicates with its
    interval, and the paired difference to `reference` with its interval."""
    rows = []
    runs = results.runs
    for group in results.groups:
        for brand in results.brands:
            for o in outcomes:
                column = f"{o.name}.{brand}"
                ci = stats.mean_ci(runs.loc[runs["group"] == group, column])
                row = dict(group=group, brand=brand, outcome=o.name, n=ci.n, mean=ci.mean, low=ci.low, high=ci.high,
                           diff=math.nan, diff_low=math.nan, diff_high=math.nan, pairs=0,
                           distinguishable=False, seeds_match=True)
                if group != reference:
                    a, b, seeds_match = paired_values(results, column, group, reference)
                    if a.size:
                        d = stats.paired_difference(a, b)
                        row.update(diff=d.mean, diff_low=d.low, diff_high=d.high, pairs=d.n,
                                   distinguishable=d.excludes_zero, seeds_match=seeds_match)
                rows.append(row)
    return pd.DataFrame(rows)


def difference_series(results: Results, metric: str, brand: str, group: str, reference: str):
    """Paired per-step difference group - reference of one brand's series: (mean, low, high, pairs)."""
    runs = results.runs
    a = runs[runs["group"] == group].set_index("replicate")
    b = runs[runs["group"] == reference].set_index("replicate")
    common = sorted(set(a.index) & set(b.index))
    col = results.brands.index(brand)
    series = results.series[metric]
    steps = min(min(series[r].shape[0] for r in a.loc[common, "run_id"]),
                min(series[r].shape[0] for r in b.loc[common, "run_id"]))
    d = np.stack([series[a.loc[r, "run_id"]][:steps, col] - series[b.loc[r, "run_id"]][:steps, col] for r in common])
    mean, low, high = stats.band(d)
    return mean, low, high, len(common)


def group_series(results: Results, metric: str, group: str):
    """Per-step mean and interval over a group's replicates: (mean, low, high, n), arrays (steps, brands)."""
    ids = list(results.runs.loc[results.runs["group"] == group].sort_values("replicate")["run_id"])
    series = results.series[metric]
    steps = min(series[r].shape[0] for r in ids)
    mean, low, high = stats.band(np.stack([series[r][:steps] for r in ids]))
    return mean, low, high, len(ids)


# --- Factor designs ---------------------------------------------------------------

def point_table(results: Results, brand: str, outcomes: list) -> pd.DataFrame:
    """Design points (grid cells) with the focus brand's outcomes: mean and interval over replicates."""
    rows = []
    runs = results.runs
    for group in results.groups:
        sel = runs[runs["group"] == group]
        row = {"group": group, **{k: sel[k].iloc[0] for k in results.factors}, "n": len(sel)}
        for o in outcomes:
            ci = stats.mean_ci(sel[f"{o.name}.{brand}"])
            row.update({o.name: ci.mean, f"{o.name}_low": ci.low, f"{o.name}_high": ci.high})
        rows.append(row)
    return pd.DataFrame(rows)


def sobol_table(results: Results, outcomes: list, brands: list) -> pd.DataFrame:
    """Sobol first-order and total indices of every factor, per brand and outcome.

    Outcomes are first averaged over replicates at each (sample, matrix);
    factor i is matrix AB<i> (1-based, experiment order)."""
    runs = results.runs
    k = len(results.factors)
    needed = ["A", "B", *[f"AB{i}" for i in range(1, k + 1)]]
    present = set(runs["sobol_matrix"])
    if not set(needed) <= present:
        raise ReportError(f"'{results.path}': Sobol design lacks matrices {sorted(set(needed) - present)}", 3)
    rows = []
    for brand in brands:
        for o in outcomes:
            y = runs.groupby(["point", "sobol_matrix"])[f"{o.name}.{brand}"].mean().unstack()
            y = y.dropna(subset=needed)  # samples with every matrix present
            s = stats.sobol_indices(y["A"].to_numpy(), y["B"].to_numpy(),
                                    np.stack([y[f"AB{i}"].to_numpy() for i in range(1, k + 1)]))
            for i, key in enumerate(results.factors):
                rows.append(dict(brand=brand, outcome=o.name, factor=key, method="sobol", samples=s.samples,
                                 first=s.first[i], first_low=s.first_low[i], first_high=s.first_high[i],
                                 total=s.total[i], total_low=s.total_low[i], total_high=s.total_high[i],
                                 variance=s.variance))
    return pd.DataFrame(rows)


def src_table(results: Results, outcomes: list, brands: list) -> pd.DataFrame:
    """Standardised regression coefficients of every outcome on the factors, over all runs."""
    runs = results.runs
    x = runs[results.factors].to_numpy(float)
    rows = []
    for brand in brands:
        for o in outcomes:
            r = stats.standardised_regression(x, runs[f"{o.name}.{brand}"].to_numpy(float))
            for i, key in enumerate(results.factors):
                rows.append(dict(brand=brand, outcome=o.name, factor=key, method="src", samples=r.n,
                                 src=r.src[i], src_low=r.low[i], src_high=r.high[i], r2=r.r2))
    return pd.DataFrame(rows)


def ranked_factors(results: Results, sensitivity: pd.DataFrame, brand: str, outcome: str) -> list:
    """Factors ordered by influence on one outcome: total index, or |SRC|."""
    if sensitivity is None or sensitivity.empty:
        return list(results.factors)
    s = sensitivity[(sensitivity["brand"] == brand) & (sensitivity["outcome"] == outcome)]
    score = s["total"] if "total" in s else s["src"].abs()
    order = np.argsort(-np.nan_to_num(score.to_numpy(float), nan=-1.0), kind="stable")
    return list(s["factor"].iloc[order])
