"""The report page: one HTML file with inline CSS and the figures embedded as
data URIs, so index.html alone can be mailed or archived; the same PNGs are
also in figures/ for slides. No scripts, no external resources.
"""
from __future__ import annotations

import base64
import math
import os
from html import escape

import numpy as np

from . import __version__
from .load import factor_range, format_value, short_names

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9dee3; --accent: #0072B2; --good: #0b6e4f; --bg: #f7f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: #fff; }
header { background: var(--bg); border-bottom: 1px solid var(--line); padding: 24px 40px 16px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 36px 0 8px; font-size: 21px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
h3 { margin: 22px 0 6px; font-size: 17px; }
main { padding: 0 40px 40px; max-width: 1500px; }
.lead { color: var(--muted); margin: 0 0 12px; }
nav { padding: 8px 40px; border-bottom: 1px solid var(--line); font-size: 14px; }
nav a { margin-right: 18px; color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: right; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
table.prov td, table.prov th { text-align: left; border: none; padding: 2px 14px 2px 0; background: none; }
table.prov th { color: var(--muted); font-weight: 500; white-space: nowrap; }
.ci { color: var(--muted); font-size: 12px; white-space: nowrap; }
.d { font-size: 12.5px; }
.scroll { overflow-x: auto; }
.sig { color: var(--good); font-weight: 600; }
.ns { color: var(--muted); }
.ref { color: var(--muted); font-style: italic; font-size: 12px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 12px 18px; }
figure { margin: 6px 0 14px; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: 12.5px; color: var(--muted); }
.note { color: var(--muted); font-size: 13px; max-width: 980px; }
ul.findings li { margin: 4px 0; }
footer { color: var(--muted); font-size: 12px; padding: 16px 40px; border-top: 1px solid var(--line); }
"""


def decimals_for(half: float, value: float) -> int:
    """Decimals that show a half-width with two significant digits (4 significant digits without one)."""
    if half is not None and math.isfinite(half) and half > 0:
        return int(min(6, max(0, 1 - math.floor(math.log10(half)))))
    if value is None or not math.isfinite(value) or value == 0:
        return 0
    return int(min(6, max(0, 3 - math.floor(math.log10(abs(value))))))


MAX_DECIMALS = 4  # beyond this, numbers are written in scientific notation


def num(v: float, d: int, sign: bool = False) -> str:
    """v with d decimals (thousands separated), or as 1.2e-06 when d exceeds MAX_DECIMALS."""
    if v is None or not math.isfinite(v):
        return "–"
    if d > MAX_DECIMALS:
        s = f"{v:+.1e}" if sign else f"{v:.1e}"
    else:
        s = f"{v:+,.{d}f}" if sign else f"{v:,.{d}f}"
    return s.replace("-", "−")


def plain(v: float, sign: bool = False) -> str:
    """A value without an interval: four significant digits, whole numbers from 1000 on."""
    if v is None or not math.isfinite(v):
        return "–"
    s = f"{v:{'+' if sign else ''},.0f}" if abs(v) >= 1000 else f"{v:{'+' if sign else ''},.4g}"
    return s.replace("-", "−")


def ci_text(mean, low, high, sign=False) -> str:
    """'0.281 [0.275, 0.287]'; just the value when there is no interval."""
    has_ci = low is not None and math.isfinite(low)
    d = decimals_for((high - low) / 2 if has_ci else None, mean)
    if has_ci and d > MAX_DECIMALS and abs(mean) >= 10 ** -MAX_DECIMALS:
        d = MAX_DECIMALS  # a value far larger than its interval: 0.5004 [0.5003, 0.5004]
    if not has_ci:
        return plain(mean, sign)
    return f"{num(mean, d, sign)} <span class=\"ci\">[{num(low, d, sign)}, {num(high, d, sign)}]</span>"


def _img(figdir: str, name: str) -> str:
    with open(os.path.join(figdir, name), "rb") as fh:
        return "data:image/png;base64," + base64.b64encode(fh.read()).decode("ascii")


class Page:
    """Builds the page from the analysis tables and the figure list."""

    def __init__(self, figdir: str, figures: list, colours: dict):
        self.figdir = figdir
        self.figures = {f["file"]: f for f in figures}
        self.colours = colours
        self.parts: list = []

    def add(self, text: str):
        self.parts.append(text)

    def figure(self, name: str, caption: str = "") -> str:
        f = self.figures[name]
        cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
        return (f'<figure><img src="{_img(self.figdir, name)}" data-file="figures/{escape(name)}" '
                f'alt="{escape(f["alt"])}">{cap}</figure>')

    def brand(self, name: str) -> str:
        return f'<span class="swatch" style="background:{self.colours[name]}"></span>{escape(name)}'


def provenance_rows(ctx) -> list:
    r = ctx.results
    info = list(r.info.values())
    rows = [("Results file", escape(os.path.abspath(r.path)))]
    exp = r.experiment
    if exp is not None:
        e = exp.get("experiment", {})
        desc = f" – {escape(e['description'])}" if e.get("description") else ""
        rows.append(("Experiment", f"<b>{escape(e.get('name', ''))}</b>{desc}<br><span class=\"ci\">"
                                   f"{escape(str(r.attrs.get('experiment_file', '')))}</span>"))
        design = {"policies": "policies", "grid": "full grid", "lhs": "Latin hypercube",
                  "sobol": "Sobol sequence, Saltelli's A, B, AB<sub>i</sub> matrices"}.get(r.design, r.design)
        rows.append(("Design", design + (f": {len(r.factors)} factors ({', '.join(escape(f) for f in r.factors)})"
                                         if r.factors else "")))
    scen: dict = {}
    for run_id, i in r.info.items():
        key = (i.scenario_name, i.scenario_file)
        scen.setdefault(key, []).append(r.runs.loc[run_id, "group"])
    lines = []
    for (name, file), groups in scen.items():
        used = ""
        if r.design == "policies":
            used = " – " + ", ".join(escape(g) for g in dict.fromkeys(groups))
        lines.append(f"<b>{escape(name)}</b> <span class=\"ci\">{escape(file)}</span>{used}")
    rows.append(("Scenario" + ("s" if len(lines) > 1 else ""), "<br>".join(lines)))
    if exp is not None:
        seeds = sorted({(int(row.replicate), int(r.info[row.run_id].seed)) for row in r.runs.itertuples()})
        shown = ", ".join(f"{s}" for _, s in seeds[:4]) + (", ..." if len(seeds) > 4 else "")
        rows.append(("Seed", f"master seed {int(exp.get('experiment', {}).get('seed', 1))}; "
                             f"replicate seeds (shared by every policy or point): {shown}"))
    else:
        rows.append(("Seed", ", ".join(str(i.seed) for i in info)))
    reps = r.runs.groupby("group").size()
    count = f"{len(r.runs)}"
    if r.design == "policies":
        count += f" ({len(reps)} policies × {int(reps.max())} replicates)"
    elif r.design == "sobol":
        count += (f" ({r.runs['point'].nunique()} samples × {r.runs['sobol_matrix'].nunique()} Saltelli matrices × "
                  f"{int(r.runs['replicate'].max()) + 1} replicates)")
    elif r.design in ("grid", "lhs"):
        count += f" ({len(reps)} design points × {int(r.runs['replicate'].max()) + 1} replicates)"
    rows.append(("Runs", count))
    customers = sorted({i.customers for i in info})
    steps = sorted({i.steps for i in info})
    rows.append(("Market", f"{'/'.join(f'{c:,}' for c in customers)} customers, "
                           f"{'/'.join(str(s) for s in steps)} weeks recorded; outcomes over the last {r.window} weeks"))
    versions = sorted({i.cxsim_version for i in info} | {str(r.attrs.get("cxsim_version", ""))} - {""})
    commits = sorted({i.git_commit for i in info} - {""})
    builds = sorted({i.build_type for i in info} - {""})
    rows.append(("cxsim version", f"{escape(', '.join(versions))} <span class=\"ci\">commit "
                                  f"{escape(', '.join(c[:12] + ('-dirty' if c.endswith('-dirty') else '') for c in commits))}"
                                  f"; {escape(', '.join(builds))} build; file written "
                                  f"{escape(str(r.attrs.get('created_utc', '')))}</span>"))
    rows.append(("Report", f"cxsim-report {__version__}, generated {escape(ctx.generated)}"))
    return rows


def comparison_section(page: Page, ctx) -> None:
    r = ctx.results
    table = ctx.comparison
    ref = ctx.reference
    multi = len(r.groups) > 1
    n = int(table["n"].max())
    page.add('<section id="comparison"><h2>Policy comparison</h2>' if multi else
             '<section id="comparison"><h2>Outcomes</h2>')
    if multi:
        page.add(f"<p class=\"note\">Long-run outcomes of every policy: the mean over {n} replicate"
                 f"{'s' if n != 1 else ''} with its 95% confidence interval in brackets. Below each value, "
                 f"<b>Δ</b> is the difference to the reference policy <b>{escape(ref)}</b>, computed replicate by "
                 f"replicate on the same seeds (paired), with its 95% interval. "
                 f"<span class=\"sig\">Green</span> differences are distinguishable from noise (the interval "
                 f"excludes zero); <span class=\"ns\">grey</span> ones are not.</p>")
    elif n > 1:
        page.add(f"<p class=\"note\">Mean over {n} replicates with its 95% confidence interval.</p>")
    else:
        page.add("<p class=\"note\">A single run: no replicates, so no confidence intervals.</p>")
    page.add("<p class=\"note\">" + "; ".join(f"<b>{escape(o.label)}</b>: {escape(o.long)} ({escape(o.unit)})"
                                             for o in ctx.outcomes) + ".</p>")
    if not multi:  # one run or one group: one table, a row per brand
        group = r.groups[0]
        page.add("<div class=\"scroll\"><table><tr><th>Brand</th>" + "".join(f"<th>{escape(o.label)}</th>" for o in ctx.outcomes) + "</tr>")
        for brand in r.brands:
            cells = []
            for o in ctx.outcomes:
                row = table[(table["group"] == group) & (table["brand"] == brand) & (table["outcome"] == o.name)].iloc[0]
                cells.append(f"<td>{ci_text(row['mean'], row['low'], row['high'])}</td>")
            page.add(f"<tr><td>{page.brand(brand)}</td>{''.join(cells)}</tr>")
        page.add("</table></div>")
    for brand in ([ctx.brand] + [b for b in r.brands if b != ctx.brand]) if multi else []:
        page.add(f"<h3>{page.brand(brand)}{' (focus brand)' if brand == ctx.brand and multi else ''}</h3>")
        page.add("<div class=\"scroll\"><table><tr><th>" + ("Policy" if r.design == "policies" else "Run") + "</th>" +
                 "".join(f"<th>{escape(o.label)}</th>" for o in ctx.outcomes) + "</tr>")
        for group in r.groups:
            cells = []
            for o in ctx.outcomes:
                row = table[(table["group"] == group) & (table["brand"] == brand) & (table["outcome"] == o.name)].iloc[0]
                cell = ci_text(row["mean"], row["low"], row["high"])
                if multi and group == ref:
                    cell += "<div class=\"ref\">reference</div>"
                elif multi:
                    cls = "sig" if row["distinguishable"] else "ns"
                    mark = "" if row["pairs"] >= 2 else " <span class=\"ci\">(1 pair: no interval)</span>"
                    cell += (f"<div class=\"d {cls}\">Δ {ci_text(row['diff'], row['diff_low'], row['diff_high'], True)}"
                             f"{mark}</div>")
                cells.append(f"<td>{cell}</td>")
            page.add(f"<tr><td>{escape(group)}</td>{''.join(cells)}</tr>")
        page.add("</table></div>")
    if not table["seeds_match"].all():
        page.add("<p class=\"note\"><b>Note:</b> some paired replicates ran on different seeds; their "
                 "differences are paired by replicate number only and include seed noise.</p>")
    if multi:
        page.add('<div class="grid">')
        for name in ("effects.png", "outcomes.png"):
            if name in page.figures:
                page.add(page.figure(name))
        page.add("</div>")
        diffs = [f for f in page.figures if f.startswith("diff_")]
        if diffs:
            page.add(f"<h3>{page.brand(ctx.brand)} over time: difference to {escape(ref)}</h3><div class=\"grid\">")
            for name in diffs:
                page.add(page.figure(name))
            page.add("</div>")
    page.add("</section>")


def timeseries_section(page: Page, ctx) -> None:
    from .figures import METRICS
    r = ctx.results
    page.add('<section id="timeseries"><h2>Brand metrics over time</h2>')
    if r.design in ("grid", "lhs", "sobol"):
        page.add("<p class=\"note\">Every run of the design: each brand's median and the range of the middle 80% "
                 "of runs, week by week. Dotted lines mark scenario events shared by all runs.</p>")
    else:
        n = int(r.runs.groupby("group").size().max())
        page.add("<p class=\"note\">Each brand's " + (f"mean over {n} replicates with its 95% confidence band"
                                                        if n > 1 else "value (single run, no band)") +
                 ", week by week. Panels of one metric share their vertical axis. Dotted lines mark scenario "
                 "events.</p>")
    per_metric = [(title, [f for f in page.figures if f.startswith(f"ts_{metric}__")]) for metric, title, _ in METRICS]
    if all(len(names) == 1 for _, names in per_metric):  # one panel per metric: one grid
        page.add("<div class=\"grid\">" + "".join(page.figure(names[0]) for _, names in per_metric) + "</div>")
    else:
        for title, names in per_metric:
            page.add(f"<h3>{escape(title)}</h3><div class=\"grid\">" + "".join(page.figure(n) for n in names) +
                     "</div>")
    page.add("</section>")


def factors_section(page: Page, ctx) -> None:
    r = ctx.results
    short = short_names(r.factors)
    page.add('<section id="factors"><h2>Factor sweep</h2>')
    ranges = []
    for key in r.factors:
        if r.design == "grid":
            vals = sorted(r.runs[key].unique())
            ranges.append(f"<b>{escape(key)}</b> = {', '.join(format_value(v) for v in vals)}")
        else:
            lo, hi = factor_range(r, key)
            ranges.append(f"<b>{escape(key)}</b> in [{format_value(lo)}, {format_value(hi)}]")
    page.add(f"<p class=\"note\">Factors: {'; '.join(ranges)}. Outcomes of the focus brand "
             f"{page.brand(ctx.brand)}.</p>")
    if ctx.points is not None:
        page.add("<h3>Design points</h3><div class=\"scroll\"><table><tr>" + "".join(f"<th>{escape(short[k])}</th>" for k in r.factors) +
                 "<th>runs</th>" + "".join(f"<th>{escape(o.label)}</th>" for o in ctx.outcomes) + "</tr>")
        for _, row in ctx.points.iterrows():
            page.add("<tr>" + "".join(f"<td>{format_value(row[k])}</td>" for k in r.factors) +
                     f"<td>{int(row['n'])}</td>" +
                     "".join(f"<td>{ci_text(row[o.name], row[o.name + '_low'], row[o.name + '_high'])}</td>"
                             for o in ctx.outcomes) + "</tr>")
        page.add("</table></div>")
    heat = [f for f in page.figures if f.startswith("heatmap_")]
    if heat:
        page.add("<h3>Outcomes over two factors</h3><div class=\"grid\">")
        for name in heat:
            page.add(page.figure(name))
        page.add("</div>")
    page.add("<h3>Response curves</h3><div class=\"grid\">")
    for name in [f for f in page.figures if f.startswith("response_")]:
        page.add(page.figure(name))
    page.add("</div>")
    sens = ctx.sensitivity[ctx.sensitivity["brand"] == ctx.brand]
    if r.design == "sobol":
        n = int(sens["samples"].iloc[0])
        page.add(f"<h3>Sensitivity: Sobol indices</h3><p class=\"note\">First-order index S1: the share of the "
                 f"outcome's variance explained by the factor alone; total index ST: the share it explains including "
                 f"its interactions with other factors. ST − S1 measures interactions. Saltelli (2010) estimator for "
                 f"S1, Jansen (1999) for ST, on {n} samples (outcomes first averaged over replicates); 95% bootstrap "
                 f"intervals. With few samples the estimates are rough and can leave [0, 1].</p>")
        page.add("<div class=\"scroll\"><table><tr><th rowspan=\"2\">Factor</th>" +
                 "".join(f"<th colspan=\"2\" style=\"text-align:center\">{escape(o.label)}</th>" for o in ctx.outcomes) +
                 "</tr><tr>" + "<th>S1</th><th>ST</th>" * len(ctx.outcomes) + "</tr>")
        for key in r.factors:
            cells = []
            for o in ctx.outcomes:
                row = sens[(sens["outcome"] == o.name) & (sens["factor"] == key)].iloc[0]
                cells.append(f"<td>{_index(row['first'], row['first_low'], row['first_high'])}</td>"
                             f"<td>{_index(row['total'], row['total_low'], row['total_high'])}</td>")
            page.add(f"<tr><td>{escape(key)}</td>{''.join(cells)}</tr>")
        page.add("</table></div>")
    else:
        page.add("<h3>Sensitivity: standardised regression coefficients</h3><p class=\"note\">SRC: the change in the "
                 "outcome, in standard deviations, per standard deviation of the factor, from a linear least-squares "
                 "fit over all runs; 95% intervals from the fit. R² is the share of the outcome's variance the "
                 "linear fit explains: where it is low, the outcome responds non-linearly or mostly to noise, and "
                 "the coefficients say less.</p>")
        page.add("<div class=\"scroll\"><table><tr><th>Factor</th>" + "".join(f"<th>{escape(o.label)}</th>" for o in ctx.outcomes) + "</tr>")
        for key in r.factors:
            cells = []
            for o in ctx.outcomes:
                row = sens[(sens["outcome"] == o.name) & (sens["factor"] == key)].iloc[0]
                cells.append(f"<td>{_index(row['src'], row['src_low'], row['src_high'])}</td>")
            page.add(f"<tr><td>{escape(key)}</td>{''.join(cells)}</tr>")
        r2 = [sens[sens["outcome"] == o.name]["r2"].iloc[0] for o in ctx.outcomes]
        page.add("<tr><td><i>R²</i></td>" + "".join(f"<td>{num(v, 2)}</td>" for v in r2) + "</tr></table></div>")
    if "sensitivity.png" in page.figures:
        page.add(page.figure("sensitivity.png"))
    page.add("</section>")


def _index(v, lo, hi) -> str:
    if not np.isfinite(v):
        return "–"
    if not np.isfinite(lo):
        return num(v, 2)
    return f"{num(v, 2)} <span class=\"ci\">[{num(lo, 2)}, {num(hi, 2)}]</span>"


def findings(page: Page, ctx) -> None:
    r = ctx.results
    items = []
    comp = ctx.comparison
    brand = ctx.brand
    if len(r.groups) > 1 and r.design not in ("grid", "lhs", "sobol"):
        for group in r.groups:
            if group == ctx.reference:
                continue
            sig, ns = [], []
            for o in ctx.outcomes:
                row = comp[(comp["group"] == group) & (comp["brand"] == brand) & (comp["outcome"] == o.name)].iloc[0]
                text = f"{escape(o.label)} {ci_text(row['diff'], row['diff_low'], row['diff_high'], True)}"
                (sig if row["distinguishable"] else ns).append(text if row["distinguishable"] else escape(o.label))
            line = f"<b>{escape(group)}</b> against {escape(ctx.reference)}, for {page.brand(brand)}: "
            line += ("distinguishable changes in " + "; ".join(sig)) if sig else "no change distinguishable from noise"
            if sig and ns:
                line += f". Not distinguishable from noise: {', '.join(ns)}"
            items.append(line + ".")
    elif r.design in ("grid", "lhs", "sobol"):
        sens = ctx.sensitivity[ctx.sensitivity["brand"] == brand]
        for o in ctx.outcomes:
            s = sens[sens["outcome"] == o.name]
            score = s["total"] if r.design == "sobol" else s["src"].abs()
            if not np.isfinite(score.to_numpy(float)).any():
                continue
            best = s.iloc[int(np.nanargmax(score.to_numpy(float)))]
            if r.design == "sobol":
                what = (f"total index {_index(best['total'], best['total_low'], best['total_high'])}, first-order "
                        f"{_index(best['first'], best['first_low'], best['first_high'])}")
            else:
                what = f"SRC {_index(best['src'], best['src_low'], best['src_high'])}, R² {num(best['r2'], 2)}"
            items.append(f"{escape(o.label)} of {page.brand(brand)} depends most on <b>{escape(best['factor'])}</b> "
                         f"({what}).")
    else:
        n = int(comp["n"].max())
        for o in ctx.outcomes[:3]:
            rows = comp[comp["outcome"] == o.name].set_index("brand")
            order = rows["mean"].sort_values(ascending=False).index
            vals = ", ".join(f"{page.brand(b)} {ci_text(rows.loc[b, 'mean'], rows.loc[b, 'low'], rows.loc[b, 'high'])}"
                             for b in order)
            items.append(f"{escape(o.label)} ({escape(o.unit)}{f', mean of {n} replicates' if n > 1 else ''}), "
                         f"highest first: {vals}.")
    if items:
        page.add("<section id=\"findings\"><h2>Key findings</h2><ul class=\"findings\">" +
                 "".join(f"<li>{i}</li>" for i in items) + "</ul></section>")


def render(ctx, figdir: str, figures: list, colours: dict) -> str:
    r = ctx.results
    page = Page(figdir, figures, colours)
    name = (r.experiment or {}).get("experiment", {}).get("name") or next(iter(r.info.values())).scenario_name
    title = f"cxsim report: {name}"
    page.add("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"generator\" content=\"cxsim-report {__version__}\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>")
    page.add(f"<header><h1>{escape(title)}</h1>")
    desc = (r.experiment or {}).get("experiment", {}).get("description")
    if desc:
        page.add(f"<p class=\"lead\">{escape(desc)}</p>")
    page.add("<table class=\"prov\">" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in provenance_rows(ctx))
             + "</table></header>")
    links = [("findings", "Key findings"), ("comparison", "Policy comparison" if len(r.groups) > 1 else "Outcomes"),
             ("timeseries", "Metrics over time")]
    if r.design in ("grid", "lhs", "sobol"):
        links = [("findings", "Key findings"), ("factors", "Factor sweep"), ("timeseries", "Metrics over time")]
    links.append(("method", "Method"))
    page.add("<nav>" + "".join(f"<a href=\"#{a}\">{t}</a>" for a, t in links) + "</nav><main>")
    findings(page, ctx)
    if r.design in ("grid", "lhs", "sobol"):
        factors_section(page, ctx)
    else:
        comparison_section(page, ctx)
    timeseries_section(page, ctx)
    page.add("<section id=\"method\"><h2>Method</h2><p class=\"note\">" + METHOD + "</p>"
             "<p class=\"note\">The tables are also in this directory as CSV: " +
             ", ".join(f"<code>{escape(f)}</code>" for f in ctx.csv_files) +
             ". Definitions and formulas: docs/analysis.md in the cxsim repository.</p></section>")
    page.add(f"</main><footer>cxsim-report {__version__} · {escape(os.path.abspath(r.path))} · "
             f"{escape(ctx.generated)}</footer></body></html>\n")
    return "\n".join(page.parts)


METHOD = (
    "Intervals are two-sided 95% Student-t intervals over replicates: mean ± t<sub>0.975, n−1</sub> · s / √n. "
    "Policies share random numbers (replicate r runs on the same seed under every policy), so a policy's effect is "
    "estimated from the n per-replicate differences to the reference, d<sub>r</sub> = y<sub>policy, r</sub> − "
    "y<sub>reference, r</sub>, with the same t interval; a difference is called distinguishable from noise when that "
    "interval excludes zero. No correction for multiple comparisons is applied: with many outcomes and policies, "
    "expect about one in twenty intervals to miss by chance. Time-series bands are the same interval, week by week.")
