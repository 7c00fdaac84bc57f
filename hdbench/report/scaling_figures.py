"""Figures and the summary of a scaling study (`hdbench.experiments.scaling`), drawn from its
runs table only: cost against the dimension d and the number N of real data on log–log axes,
each line's least-squares slope written at its end (cost ∝ d^slope), and quality against d.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hdbench.files import save_figure
from hdbench.report import style as theme
from hdbench.report.style import plt
from hdbench.report.tables import not_applicable

#: Cost columns and their axis labels.
COSTS = {"cpu_time": "CPU time of a run (s)", "peak_memory_mb": "peak memory added (MB)"}
#: Quality columns drawn against d, with what is right for each.
QUALITY = {
    "mean_true_d": "mean D of the samples",
    "var_ratio_target": "variance ratio to the target →1",
    "sliced_w2": "sliced W₂ to the target ↓",
    "prdc_coverage": "PRDC coverage ↑",
    "modes_captured": "modes captured ↑",
}
#: Quality columns drawn on a log axis (ratios and distances that span decades).
LOG_QUALITY = {"var_ratio_target", "sliced_w2"}
CEILING = "exact target"


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of log y on log x (NaN with fewer than two distinct x)."""
    keep = (x > 0) & (y > 0) & np.isfinite(y)
    if len(np.unique(x[keep])) < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


#: Least vertical distance between two slope labels at one line end, in decades of the log axis.
LABEL_GAP_DECADES = 0.09


def _spread(heights: np.ndarray, gap: float) -> np.ndarray:
    """Sorted `heights` moved apart to at least `gap`, around their mean, so that labels at one
    line end do not overlap."""
    moved = heights.copy()
    for i in range(1, len(moved)):
        moved[i] = max(moved[i], moved[i - 1] + gap)
    return moved - (moved.mean() - heights.mean())


def _cost_panel(ax, runs: pd.DataFrame, x: str, cost: str) -> None:
    means = runs.groupby(["family", "method", x], as_index=False)[cost].mean()
    # A log axis cannot show 0 (a run that added no memory above its start): left out.
    means = means[means[cost] > 0]
    theme.sns.lineplot(
        means,
        x=x,
        y=cost,
        hue="method",
        hue_order=sorted(set(runs["method"])),
        style="family",
        style_order=sorted(set(runs["family"])),
        markers=True,
        ax=ax,
        legend="full",
    )
    methods = sorted(set(runs["method"]))
    colours = dict(zip(methods, theme.sns.color_palette(n_colors=len(methods)), strict=True))
    labels = []
    for (_, method), line in means.groupby(["family", "method"]):
        slope = loglog_slope(line[x].to_numpy(float), line[cost].to_numpy(float))
        if np.isfinite(slope):
            last = line.loc[line[x].idxmax()]
            labels.append((last[x], np.log10(last[cost]), f"{slope:.2f}", colours[method]))
    for end in {label[0] for label in labels}:
        at_end = sorted((label for label in labels if label[0] == end), key=lambda lb: lb[1])
        heights = _spread(np.array([label[1] for label in at_end]), LABEL_GAP_DECADES)
        for (_, _, text, colour), height in zip(at_end, heights, strict=True):
            ax.annotate(
                text,
                (end, 10**height),
                fontsize=7,
                color=colour,
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
            )
    ticks = sorted(runs[x].unique())
    ax.set(xscale="log", yscale="log", xlabel=x, ylabel=COSTS[cost])
    ax.set_xticks(ticks, labels=[f"{t:,}" for t in ticks])
    ax.minorticks_off()


def plot_cost(runs: pd.DataFrame, path: Path) -> Path:
    """Cost (CPU time of a run, peak memory) against d at the smallest N and against N at the d
    with the most N; log–log, with each line's fitted slope."""
    ok = runs[(runs["status"] == "ok") & (runs["method"] != CEILING)]
    smallest_n = ok["num_real"].min()
    by_dim = ok[ok["num_real"] == smallest_n]
    dim_for_n = ok.groupby("dim")["num_real"].nunique().idxmax()
    by_n = ok[ok["dim"] == dim_for_n]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    for row, cost in enumerate(COSTS):
        _cost_panel(axes[row, 0], by_dim, "dim", cost)
        axes[row, 0].set_title(f"against d (N = {smallest_n:,})", fontsize=10)
        _cost_panel(axes[row, 1], by_n, "num_real", cost)
        axes[row, 1].set_title(f"against N (d = {dim_for_n})", fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes.flat:
        if ax.get_legend():
            ax.get_legend().remove()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.suptitle(
        "Cost: the numbers at the line ends are log–log slopes (cost ∝ d^slope or N^slope)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 0.85, 1))
    return save_figure(fig, path, dpi=110)


def plot_quality(runs: pd.DataFrame, path: Path) -> Path:
    """Quality metrics against d (smallest N), one column per family, exact target samples of
    the same size dashed: what a perfect method would score (the mean D of exact samples itself
    falls with d, as 2^(-d/2) for a Gaussian)."""
    ok = runs[(runs["status"] == "ok") & (runs["num_real"] == runs["num_real"].min())]
    families = sorted(ok["family"].unique())
    metrics = [m for m in QUALITY if m in ok.columns]
    # One colour per method in every panel, whichever methods a family ran.
    order = sorted(set(ok["method"]) - {CEILING})
    fig, axes = plt.subplots(
        len(metrics),
        len(families),
        figsize=(4.2 * len(families), 2.8 * len(metrics)),
        squeeze=False,
    )
    for col, family in enumerate(families):
        part = ok[ok["family"] == family]
        for row, metric in enumerate(metrics):
            ax = axes[row, col]
            methods = part[part["method"] != CEILING]
            if methods[metric].notna().any():
                theme.sns.lineplot(
                    methods, x="dim", y=metric, hue="method", hue_order=order, marker="o", ax=ax
                )
                ceiling = part[part["method"] == CEILING].sort_values("dim")
                ax.plot(
                    ceiling["dim"], ceiling[metric], "k--", marker="_", ms=14, lw=1, label=CEILING
                )
                if metric in LOG_QUALITY:
                    ax.set_yscale("log")
            else:
                ax.text(0.5, 0.5, not_applicable(metric), ha="center", transform=ax.transAxes)
            ax.set(xscale="log", xlabel="d", ylabel=QUALITY[metric] if col == 0 else "")
            ax.set_xticks(sorted(part["dim"].unique()), labels=sorted(part["dim"].unique()))
            ax.minorticks_off()
            if ax.get_legend() and (row, col) != (0, 0):
                ax.get_legend().remove()
            if row == 0:
                ax.set_title(family)
    if axes[0, 0].get_legend():
        axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


SUMMARY_COLUMNS = {
    "wall_time": "{:.2f} s",
    "cpu_time": "{:.2f} s",
    "peak_memory_mb": "{:.0f} MB",
    "num_ratings": "{:,.0f}",
    "mean_true_d": "{:.3f}",
    "var_ratio_target": "{:.2f}",
    "prdc_coverage": "{:.2f}",
    "mmd2": "{:.3f}",
    "modes_captured": "{:.1f}",
}


def scaling_markdown(runs: pd.DataFrame, not_run: list[str]) -> str:
    """The study as markdown: a table per family (method × d × N, means over seeds), the
    log–log slopes of cost against d and N, failed runs, and what was not run (`not_run`)."""
    ok = runs[runs["status"] == "ok"]
    sections = ["# Scaling", ""]
    for family, part in ok.groupby("family", sort=True):
        columns = [c for c in SUMMARY_COLUMNS if c in part.columns]
        means = part.groupby(["method", "dim", "num_real"])[columns].mean().reset_index()
        for column, fmt in SUMMARY_COLUMNS.items():
            if column in means.columns:
                means[column] = [
                    not_applicable(column) if v != v else fmt.format(v) for v in means[column]
                ]
        sections += [f"## {family}", "", means.to_markdown(index=False), ""]
    slopes = []
    methods = ok[ok["method"] != CEILING]
    for (family, method), part in methods.groupby(["family", "method"]):
        row = {"family": family, "method": method}
        for cost in COSTS:
            at_n = part[part["num_real"] == part["num_real"].min()]
            row[f"{cost} ∝ d^"] = loglog_slope(
                at_n["dim"].to_numpy(float), at_n[cost].to_numpy(float)
            )
            at_d = part[part["dim"] == part.groupby("dim")["num_real"].nunique().idxmax()]
            row[f"{cost} ∝ N^"] = loglog_slope(
                at_d["num_real"].to_numpy(float), at_d[cost].to_numpy(float)
            )
        slopes.append(row)
    if slopes:
        sections += [
            "## Log–log slopes of cost",
            "",
            pd.DataFrame(slopes).to_markdown(index=False, floatfmt=".2f"),
            "",
        ]
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        sections += (
            ["## Runs that failed", ""]
            + [
                f"- {r.oracle} · {r.method} · seed {r.seed}: {r.status}: {r.error}"
                for r in failed.itertuples()
            ]
            + [""]
        )
    if not_run:
        sections += ["## Not run", ""] + [f"- {line}" for line in not_run] + [""]
    return "\n".join(sections)
