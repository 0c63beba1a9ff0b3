"""The report's figures (matplotlib, Agg backend, PNG).

Every figure has a title, labelled axes with units, brand names in the legend,
one colour per brand for the whole report, and a provenance footer (results
file, experiment or scenario, seed, cxsim version, run count) so that a PNG
copied into a slide still says what produced it.
"""
from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import analysis, stats  # noqa: E402
from .load import Results, factor_range, format_value, short_names  # noqa: E402

# Okabe & Ito's colour-blind-safe palette (yellow last: weak on white).
BRAND_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"]
# Policies in difference plots: dark colours from Paul Tol's palettes, none close to a brand colour.
GROUP_PALETTE = ["#332288", "#882255", "#999933", "#AA4499", "#661100", "#888888", "#117777", "#DDCC77"]

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.constrained_layout.use": True,
}

# Time series: (series name, title, axis label with unit).
METRICS = [
    ("share", "Share of purchases", "share of the week's purchases (fraction)"),
    ("customers", "Customer base", "customers (count)"),
    ("margin", "Margin", "margin per week (currency units)"),
    ("nps", "Net promoter score", "NPS (% promoters - % detractors)"),
    ("trust", "Trust in stated values", "mean trust (0 to 1)"),
    ("churn", "Churn", "defections / customers per week (fraction)"),
]
WEEK_LABEL = "week (step after burn-in)"

matplotlib.rcParams.update(STYLE)


def brand_colours(brands: list) -> dict:
    if len(brands) <= len(BRAND_PALETTE):
        return dict(zip(brands, BRAND_PALETTE))
    cmap = plt.get_cmap("tab20")
    return {b: matplotlib.colors.to_hex(cmap(i % 20)) for i, b in enumerate(brands)}


def group_colours(groups: list) -> dict:
    cmap = plt.get_cmap("tab20b")
    return {g: GROUP_PALETTE[i] if i < len(GROUP_PALETTE) else matplotlib.colors.to_hex(cmap(i % 20))
            for i, g in enumerate(groups)}


def slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "_" for c in text)
    return out.strip("_")[:60] or "x"


FOOTER_IN = 0.2   # inches kept free at the bottom of every figure for the provenance line
LEGEND_IN = 0.42  # and, above it, for a figure-wide legend


def _reserve_bottom(fig, inches: float):
    """Keeps the bottom `inches` of the figure out of the constrained layout."""
    frac = inches / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, frac, 1, 1 - frac))
    fig._cxsim_bottom = True


def _bottom_legend(fig, handles, labels, ncol: int, title: str | None = None):
    """A figure-wide legend in one row below the panels, above the footer."""
    _reserve_bottom(fig, FOOTER_IN + LEGEND_IN + (0.18 if title else 0.0))
    fig.legend(handles, labels, loc="lower center", ncol=ncol, title=title,
               bbox_to_anchor=(0.5, FOOTER_IN / fig.get_figheight()))


class FigureWriter:
    """Saves figures into `directory` with the provenance footer; remembers what it wrote."""

    def __init__(self, directory: str, footer: str):
        self.directory = directory
        self.footer = footer
        self.written: list = []  # dicts: file, title, section, alt
        os.makedirs(directory, exist_ok=True)

    def save(self, fig, name: str, title: str, section: str, alt: str = "") -> str:
        if not getattr(fig, "_cxsim_bottom", False):
            _reserve_bottom(fig, FOOTER_IN)
        fig.text(0.006, 0.006, self.footer, fontsize=6.5, color="#777777", ha="left", va="bottom")
        path = os.path.join(self.directory, name)
        # Constrained layout fits everything inside the figure, so one draw suffices (no bbox_inches="tight").
        fig.savefig(path, format="png",
                    metadata={"Title": title, "Description": self.footer, "Software": "cxsim-report"})
        plt.close(fig)
        self.written.append(dict(file=name, title=title, section=section, alt=alt or title))
        return path


def _titles(fig, ax, title: str, note: str):
    """Bold figure title; a small grey note (what the lines and bands are) above the axes."""
    fig.suptitle(title, fontweight="bold", fontsize=11)
    ax.set_title(note, loc="left", fontsize=8, color="#555555", fontweight="normal")


def _events(ax, events: list):
    """Dotted vertical lines at the scenario's event steps, labelled at the top."""
    for step, label in events:
        ax.axvline(step, color="#888888", linestyle=":", linewidth=1.0, zorder=1)
        text = label if len(label) <= 40 else label[:38] + "..."
        ax.annotate(text, xy=(step, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                    textcoords="offset points", fontsize=7, color="#555555", va="top", ha="left")


def _common_events(results: Results, run_ids: list) -> list:
    events = None
    for r in run_ids:
        e = results.info[r].events
        events = e if events is None else [x for x in events if x in e]
    return events or []


def timeseries_figures(results: Results, out: FigureWriter, colours: dict):
    """One figure per metric and group: each brand's replicate mean and 95% band.

    The y axis is shared by all groups of a metric, so panels compare by eye."""
    runs = results.runs
    groups = results.groups
    for metric, title, ylabel in METRICS:
        data = {g: analysis.group_series(results, metric, g) for g in groups}
        lows = [np.nanmin(d[1] if d[1] is not None else d[0]) for d in data.values()]
        highs = [np.nanmax(d[2] if d[2] is not None else d[0]) for d in data.values()]
        lo, hi = min(lows), max(highs)
        pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
        for g in groups:
            mean, low, high, n = data[g]
            fig, ax = plt.subplots(figsize=(6.4, 3.7))
            x = np.arange(mean.shape[0])
            for b, brand in enumerate(results.brands):
                if not np.isfinite(mean[:, b]).any():
                    continue
                ax.plot(x, mean[:, b], color=colours[brand], linewidth=1.6, label=brand)
                if low is not None:
                    ax.fill_between(x, low[:, b], high[:, b], color=colours[brand], alpha=0.22, linewidth=0)
            events = _common_events(results, list(runs.loc[runs["group"] == g, "run_id"]))
            _events(ax, events)
            ax.set_ylim(lo - pad, hi + pad * (3 if events else 1))  # room for event labels
            ax.set_xlim(0, max(1, mean.shape[0] - 1))
            ax.set_xlabel(WEEK_LABEL)
            ax.set_ylabel(ylabel)
            band = f"mean of {n} replicates, 95% CI band" if n > 1 else "single run"
            _titles(fig, ax, f"{title}: {g}", band)
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="brand")
            out.save(fig, f"ts_{metric}__{slug(g)}.png", f"{title}: {g}", "timeseries")


def design_timeseries_figures(results: Results, out: FigureWriter, colours: dict):
    """Factor designs: per metric, each brand's median and 10-90% range over all runs."""
    ids = list(results.runs["run_id"])
    for metric, title, ylabel in METRICS:
        steps = min(results.series[metric][r].shape[0] for r in ids)
        data = np.stack([results.series[metric][r][:steps] for r in ids])
        fig, ax = plt.subplots(figsize=(6.4, 3.7))
        x = np.arange(steps)
        for b, brand in enumerate(results.brands):
            col = data[:, :, b]
            if not np.isfinite(col).any():
                continue
            ax.plot(x, np.nanmedian(col, axis=0), color=colours[brand], linewidth=1.6, label=brand)
            ax.fill_between(x, np.nanquantile(col, 0.1, axis=0), np.nanquantile(col, 0.9, axis=0),
                            color=colours[brand], alpha=0.2, linewidth=0)
        _events(ax, _common_events(results, ids))
        ax.set_xlim(0, max(1, steps - 1))
        ax.set_xlabel(WEEK_LABEL)
        ax.set_ylabel(ylabel)
        _titles(fig, ax, f"{title} over the design", f"median and 10-90% range over {len(ids)} runs")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="brand")
        out.save(fig, f"ts_{metric}__design.png", f"{title} over the design", "timeseries")


def difference_figures(results: Results, out: FigureWriter, brand: str, reference: str, colours: dict):
    """Per metric: the focus brand's paired difference to the reference over time, one line per policy."""
    others = [g for g in results.groups if g != reference]
    gcol = group_colours(others)
    for metric, title, ylabel in METRICS:
        fig, ax = plt.subplots(figsize=(6.4, 3.7))
        n = 0
        for g in others:
            mean, low, high, n = analysis.difference_series(results, metric, brand, g, reference)
            x = np.arange(mean.shape[0])
            ax.plot(x, mean, color=gcol[g], linewidth=1.6, label=g)
            if low is not None:
                ax.fill_between(x, low, high, color=gcol[g], alpha=0.2, linewidth=0)
        ax.axhline(0.0, color="#333333", linewidth=0.8)
        ax.set_xlabel(WEEK_LABEL)
        ax.set_ylabel(f"difference in {ylabel}")
        note = f"paired on {n} common-seed replicates, 95% CI band" if n > 1 else "single pair of runs"
        _titles(fig, ax, f"{title} of {brand}: policy - {reference}", note)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="policy")
        out.save(fig, f"diff_{metric}.png", f"{title} of {brand}: difference to {reference}", "comparison")


def effects_figure(results: Results, out: FigureWriter, table, brand: str, reference: str, outcomes: list,
                   colours: dict):
    """Forest plot: each policy's paired difference to the reference, per outcome, for one brand."""
    others = [g for g in results.groups if g != reference]
    ncols = 3
    nrows = math.ceil(len(outcomes) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(10, 1.0 + nrows * (0.45 * len(others) + 1.3)), squeeze=False)
    colour = colours[brand]
    for ax, o in zip(axes.flat, outcomes):
        rows = table[(table["brand"] == brand) & (table["outcome"] == o.name) & (table["group"] != reference)]
        y = np.arange(len(others))[::-1]
        for yi, g in zip(y, others):
            r = rows[rows["group"] == g].iloc[0]
            if np.isfinite(r["diff_low"]):
                ax.plot([r["diff_low"], r["diff_high"]], [yi, yi], color=colour, linewidth=2.2)
            filled = bool(r["distinguishable"])
            ax.plot([r["diff"]], [yi], "o", markersize=7, color=colour, markerfacecolor=colour if filled else "white",
                    markeredgewidth=1.6)
        ax.axvline(0.0, color="#333333", linewidth=0.8)
        ax.set_yticks(y, others)
        ax.set_ylim(-0.7, len(others) - 0.3)
        ax.set_title(o.label, fontsize=10)
        ax.set_xlabel(f"difference ({o.unit})")
        ax.grid(axis="y", visible=False)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    fig.suptitle(f"{brand}: policy effects against {reference} (paired differences, 95% CI)", fontweight="bold")
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour, markerfacecolor=colour, label="distinguishable from noise"),
               plt.Line2D([], [], marker="o", linestyle="", color=colour, markerfacecolor="white",
                          label="not distinguishable (CI includes 0)")]
    _bottom_legend(fig, handles, [h.get_label() for h in handles], ncol=2)
    out.save(fig, "effects.png", f"{brand}: policy effects against {reference}", "comparison")


def outcome_bars_figure(results: Results, out: FigureWriter, table, outcomes: list, colours: dict):
    """Grouped bars: every brand's long-run outcomes per policy, with 95% CI whiskers."""
    groups = results.groups
    ncols = 3
    nrows = math.ceil(len(outcomes) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 0.6 + nrows * 3.2), squeeze=False)
    width = 0.8 / len(results.brands)
    x = np.arange(len(groups))
    for ax, o in zip(axes.flat, outcomes):
        for b, brand in enumerate(results.brands):
            rows = table[(table["brand"] == brand) & (table["outcome"] == o.name)].set_index("group").loc[groups]
            err = None
            if rows["low"].notna().all():
                err = np.vstack([rows["mean"] - rows["low"], rows["high"] - rows["mean"]])
            ax.bar(x + (b - (len(results.brands) - 1) / 2) * width, rows["mean"], width, yerr=err, capsize=2,
                   color=colours[brand], label=brand, error_kw=dict(linewidth=0.8))
        ax.set_xticks(x, groups, rotation=20 if len(groups) > 2 else 0, ha="right" if len(groups) > 2 else "center")
        ax.set_title(o.label, fontsize=10)
        ax.set_ylabel(o.unit)
        ax.grid(axis="x", visible=False)
        ax.axhline(0.0, color="#333333", linewidth=0.6)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    _bottom_legend(fig, handles, labels, ncol=len(results.brands), title="brand")
    n = int(table["n"].max())
    fig.suptitle("Long-run outcomes by policy" + (f" (mean of {n} replicates, 95% CI)" if n > 1 else ""),
                 fontweight="bold")
    out.save(fig, "outcomes.png", "Long-run outcomes by policy", "comparison")


def _bins(values, lo, hi, nbins):
    edges = np.linspace(lo, hi, nbins + 1)
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, nbins - 1), edges


def heatmap_figure(results: Results, out: FigureWriter, o, brand: str, fx: str, fy: str):
    """Outcome over two factors: cell means of a grid, or binned means of a sampled design.

    The factors go on the axes in experiment order, so every heatmap of a report reads the same way."""
    fx, fy = sorted((fx, fy), key=results.factors.index)
    runs = results.runs
    short = short_names(results.factors)
    column = f"{o.name}.{brand}"
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    if results.design == "grid":
        xs = sorted(runs[fx].unique())
        ys = sorted(runs[fy].unique())
        grid = runs.groupby([fy, fx])[column].mean().unstack().reindex(index=ys, columns=xs)
        z = grid.to_numpy(float)
        xlabels, ylabels = [format_value(v) for v in xs], [format_value(v) for v in ys]
        note = f"cell means over {int(runs.groupby([fy, fx]).size().min())}+ runs"
    else:
        nb = int(np.clip(round(math.sqrt(len(runs) / 4)), 3, 8))
        bx, ex = _bins(runs[fx].to_numpy(float), *factor_range(results, fx), nb)
        by, ey = _bins(runs[fy].to_numpy(float), *factor_range(results, fy), nb)
        z = np.full((nb, nb), np.nan)
        y = runs[column].to_numpy(float)
        for i in range(nb):
            for j in range(nb):
                sel = (by == i) & (bx == j)
                if sel.any():
                    z[i, j] = y[sel].mean()
        xlabels = [f"{format_value(float(f'{(ex[j] + ex[j + 1]) / 2:.3g}'))}" for j in range(nb)]
        ylabels = [f"{format_value(float(f'{(ey[i] + ey[i + 1]) / 2:.3g}'))}" for i in range(nb)]
        note = f"mean of the runs in each bin ({len(runs)} runs, {nb} x {nb} bins; blank: no run)"
    masked = np.ma.masked_invalid(z)
    im = ax.imshow(masked, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xlabels)), xlabels)
    ax.set_yticks(range(len(ylabels)), ylabels)
    ax.set_xlabel(fx)
    ax.set_ylabel(fy)
    ax.grid(False)
    if z.size <= 100:
        finite = z[np.isfinite(z)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                if np.isfinite(z[i, j]):
                    ax.text(j, i, f"{z[i, j]:.3g}", ha="center", va="center", fontsize=8,
                            color="white" if z[i, j] < mid else "black")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(f"{o.label} of {brand} ({o.unit})")
    _titles(fig, ax, f"{o.label} of {brand} over {short[fx]} x {short[fy]}", note)
    out.save(fig, f"heatmap_{o.name}.png", f"{o.label} of {brand} over {fx} and {fy}", "factors")


def response_figure(results: Results, out: FigureWriter, o, brand: str, factors: list, colour: str):
    """Outcome against each factor: level means with 95% CI (grid) or runs and binned means (sampled)."""
    runs = results.runs
    column = f"{o.name}.{brand}"
    fig, axes = plt.subplots(1, len(factors), figsize=(3.4 * len(factors) + 0.6, 3.4), squeeze=False, sharey=True)
    for ax, key in zip(axes.flat, factors):
        if results.design == "grid":
            levels = sorted(runs[key].unique())
            cis = [stats.mean_ci(runs.loc[runs[key] == v, column]) for v in levels]
            mean = np.array([c.mean for c in cis])
            ax.plot(levels, mean, "-o", color=colour, linewidth=1.6, markersize=5)
            if all(c.n > 1 for c in cis):
                ax.fill_between(levels, [c.low for c in cis], [c.high for c in cis], color=colour, alpha=0.22,
                                linewidth=0)
        else:
            x = runs[key].to_numpy(float)
            y = runs[column].to_numpy(float)
            ax.scatter(x, y, s=9, color=colour, alpha=0.35, linewidths=0)
            nb = int(np.clip(round(math.sqrt(len(runs) / 2)), 3, 10))
            bins, edges = _bins(x, *factor_range(results, key), nb)
            centres, means, lows, highs = [], [], [], []
            for i in range(nb):
                sel = bins == i
                if sel.sum() >= 1:
                    c = stats.mean_ci(y[sel])
                    centres.append((edges[i] + edges[i + 1]) / 2)
                    means.append(c.mean)
                    lows.append(c.low if c.n > 1 else c.mean)
                    highs.append(c.high if c.n > 1 else c.mean)
            ax.plot(centres, means, "-", color=colour, linewidth=1.8)
            ax.fill_between(centres, lows, highs, color=colour, alpha=0.18, linewidth=0)
        ax.set_xlabel(key)
    axes.flat[0].set_ylabel(f"{o.label} ({o.unit})")
    how = ("mean at each level with 95% CI over its runs" if results.design == "grid"
           else "runs (dots) and binned means with 95% CI")
    _titles(fig, axes.flat[0], f"{o.label} of {brand} against each factor", how)
    out.save(fig, f"response_{o.name}.png", f"{o.label} of {brand} against each factor", "factors")


def sensitivity_figure(results: Results, out: FigureWriter, table, brand: str, outcomes: list):
    """Bars of Sobol S1 and ST (or SRC) per factor, one panel per outcome, with 95% intervals."""
    factors = results.factors
    short = short_names(factors)
    sobol = "total" in table.columns
    ncols = 3
    nrows = math.ceil(len(outcomes) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11, 0.8 + nrows * (0.5 * len(factors) + 1.8)), squeeze=False)
    y = np.arange(len(factors))[::-1]
    for ax, o in zip(axes.flat, outcomes):
        rows = table[(table["brand"] == brand) & (table["outcome"] == o.name)].set_index("factor").loc[factors]
        if sobol:
            for offset, (col, colour, label) in zip((0.18, -0.18), (("first", "#0072B2", "first-order S1"),
                                                                    ("total", "#D55E00", "total ST"))):
                v = rows[col].to_numpy(float)
                err = np.vstack([v - rows[f"{col}_low"], rows[f"{col}_high"] - v])
                ax.barh(y + offset, np.nan_to_num(v), 0.34, xerr=np.nan_to_num(np.abs(err)), color=colour,
                        label=label, capsize=2, error_kw=dict(linewidth=0.8))
            ax.set_xlabel("share of output variance")
        else:
            v = rows["src"].to_numpy(float)
            err = np.vstack([v - rows["src_low"], rows["src_high"] - v])
            colours = np.where(np.nan_to_num(v) >= 0, "#0072B2", "#D55E00")
            ax.barh(y, np.nan_to_num(v), 0.5, xerr=np.nan_to_num(np.abs(err)), color=colours, capsize=2,
                    error_kw=dict(linewidth=0.8))
            r2 = rows["r2"].iloc[0]
            ax.text(1.0, 0.0, f"R² = {r2:.2f}" if np.isfinite(r2) else "R² undefined", transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=8, color="#555555")
            ax.set_xlabel("standardised coefficient (sd of outcome per sd of factor)")
        ax.axvline(0.0, color="#333333", linewidth=0.8)
        ax.set_yticks(y, [short[f] for f in factors])
        ax.set_title(o.label, fontsize=10)
        ax.grid(axis="y", visible=False)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    if sobol:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        _bottom_legend(fig, handles, labels, ncol=2)
        n = int(table["samples"].iloc[0])
        title = f"Sobol indices for {brand}'s outcomes (Saltelli 2010 S1, Jansen ST; {n} samples, 95% bootstrap CI)"
    else:
        title = f"Standardised regression coefficients for {brand}'s outcomes (95% CI)"
    fig.suptitle(title, fontweight="bold")
    out.save(fig, "sensitivity.png", title, "factors")
