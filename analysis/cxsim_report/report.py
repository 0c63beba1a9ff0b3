"""Writing a report directory: analysis tables, figures, CSV files and
index.html, built in a temporary directory next to the destination and
renamed into place only when complete.
"""
from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass, field

import pandas as pd

from . import analysis, figures, html
from .load import ReportError, Results, load_results

MARKER = '<meta name="generator" content="cxsim-report'


@dataclass
class Context:
    """What the page needs: the results and the tables computed from them."""

    results: Results
    brand: str
    reference: str
    outcomes: list
    comparison: pd.DataFrame
    points: pd.DataFrame | None
    sensitivity: pd.DataFrame | None
    generated: str
    csv_files: list
    figures: list = field(default_factory=list)  # dicts: file, title, section, alt


def _is_replaceable(path: str) -> bool:
    """An existing destination is replaced only if it is empty or an earlier report."""
    if not os.path.isdir(path):
        return False
    entries = os.listdir(path)
    if not entries:
        return True
    index = os.path.join(path, "index.html")
    try:
        with open(index, encoding="utf-8", errors="replace") as fh:
            return MARKER in fh.read(4096)
    except OSError:
        return False


def _footer(results: Results) -> str:
    exp = (results.experiment or {}).get("experiment", {})
    info = next(iter(results.info.values()))
    what = f"experiment {exp['name']}" if exp.get("name") else f"scenario {info.scenario_name}"
    seed = f"seed {exp.get('seed', 1)}" if results.experiment is not None else f"seed {info.seed}"
    versions = ", ".join(sorted({i.cxsim_version for i in results.info.values()}))
    n = len(results.runs)
    return (f"{os.path.basename(results.path)} · {what} · {seed} · {n} run{'s' if n != 1 else ''} · "
            f"cxsim {versions} ({info.git_commit[:12]})")


def _write(results: Results, out: str, brand: str | None, reference: str | None) -> Context:
    outcomes = analysis.headline_outcomes(results.window)
    focus = analysis.focus_brand(results, brand)
    factor_design = results.design in ("grid", "lhs", "sobol") and results.factors
    if reference is not None and (factor_design or len(results.groups) < 2):
        raise ReportError("--reference: this results file has no policies to compare")
    ref = analysis.reference_group(results, reference)
    generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    comparison = pd.DataFrame() if factor_design else analysis.comparison_table(results, ref, outcomes)
    ctx = Context(results, focus, ref, outcomes, comparison, None, None, generated, [])

    colours = figures.brand_colours(results.brands)
    figdir = os.path.join(out, "figures")
    writer = figures.FigureWriter(figdir, _footer(results))
    with pd.option_context("mode.chained_assignment", None):
        if factor_design:
            if results.design == "sobol":
                ctx.sensitivity = analysis.sobol_table(results, outcomes, results.brands)
            else:
                ctx.sensitivity = analysis.src_table(results, outcomes, results.brands)
            if results.design == "grid":
                ctx.points = analysis.point_table(results, focus, outcomes)
            for o in outcomes:
                ranked = analysis.ranked_factors(results, ctx.sensitivity, focus, o.name)
                if len(ranked) >= 2:
                    figures.heatmap_figure(results, writer, o, focus, ranked[0], ranked[1])
                figures.response_figure(results, writer, o, focus, ranked[:4], colours[focus])
            figures.sensitivity_figure(results, writer, ctx.sensitivity, focus, outcomes)
            figures.design_timeseries_figures(results, writer, colours)
        else:
            if len(results.groups) > 1:
                figures.effects_figure(results, writer, ctx.comparison, focus, ref, outcomes, colours)
                figures.outcome_bars_figure(results, writer, ctx.comparison, outcomes, colours)
                figures.difference_figures(results, writer, focus, ref, colours)
            figures.timeseries_figures(results, writer, colours)

    results.runs.to_csv(os.path.join(out, "runs.csv"), index=False)
    ctx.csv_files.append("runs.csv")
    if not factor_design:
        ctx.comparison.to_csv(os.path.join(out, "comparison.csv"), index=False)
        ctx.csv_files.append("comparison.csv")
    if ctx.points is not None:
        ctx.points.to_csv(os.path.join(out, "points.csv"), index=False)
        ctx.csv_files.append("points.csv")
    if ctx.sensitivity is not None:
        ctx.sensitivity.to_csv(os.path.join(out, "sensitivity.csv"), index=False)
        ctx.csv_files.append("sensitivity.csv")
    page = html.render(ctx, figdir, writer.written, colours)
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as fh:
        fh.write(page)
    ctx.figures = writer.written
    return ctx


def write_report(results_path: str, out: str, brand: str | None = None, reference: str | None = None,
                 window: int | None = None) -> Context:
    """Writes the report of `results_path` into directory `out` (index.html,
    figures/*.png, CSV tables). `out` appears only when complete; an existing
    `out` is replaced if it is empty or an earlier report, and refused otherwise."""
    out = os.path.abspath(out)
    if os.path.exists(out) and not _is_replaceable(out):
        raise ReportError(f"--out: '{out}' exists and is not a cxsim report directory; choose another", 2)
    results = load_results(results_path, window)
    parent = os.path.dirname(out)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.tmp-", dir=parent)
    except OSError as e:
        raise ReportError(f"--out: cannot create '{out}': {e.strerror}", 3) from None
    old = None
    try:
        ctx = _write(results, tmp, brand, reference)
        os.chmod(tmp, 0o755)
        if os.path.exists(out):  # the earlier report stays until the new one is in place
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old-", dir=parent)
            os.rename(out, os.path.join(old, "report"))
        try:
            os.rename(tmp, out)
        except OSError:
            if old is not None:
                os.rename(os.path.join(old, "report"), out)
            raise
        tmp = None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        # Once published, the earlier report goes; after a failure it is back at `out` (or, if even
        # that failed, still in `old`, which is then kept).
        if old is not None and (tmp is None or not os.path.exists(os.path.join(old, "report"))):
            shutil.rmtree(old, ignore_errors=True)
    return ctx
