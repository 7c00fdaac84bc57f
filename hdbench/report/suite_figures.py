"""Figures of a suite, drawn from its runs table, brackets and listening table only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hdbench.files import save_figure
from hdbench.metrics.headline import HEADLINE_METRICS
from hdbench.report import style as theme
from hdbench.report.style import legend_above, log_axis
from hdbench.report.tables import ARROWS, direction

#: Metrics drawn by `plot_metrics`, one row of panels each, the headline pair first.
FIGURE_METRICS = (
    *HEADLINE_METRICS,
    "mmd2",
    "var_ratio_target",
    "grid_coverage",
    "collapse_ratio",
    "mean_true_d",
)
#: The listening test's two sets of stimuli.
LISTENING_COLOURS = {"real": "#f28e2b", "generated": "#4e79a7"}


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path)


def plot_metrics(runs: pd.DataFrame, brackets: pd.DataFrame, path: Path) -> Path | None:
    """A panel per (metric, oracle): each method's value per seed and mean, with the floor
    (dotted) and the ceiling (dashed) of that oracle; None when no run finished ok."""
    ok = runs[runs["status"] == "ok"] if not runs.empty else runs
    if ok.empty:
        return None
    metrics = [m for m in FIGURE_METRICS if m in ok.columns]
    long = ok.melt(id_vars=["oracle", "method", "seed"], value_vars=metrics, var_name="metric")
    methods = list(dict.fromkeys(long["method"]))
    colours = dict(zip(methods, theme.sns.color_palette(n_colors=len(methods)), strict=True))
    grid = theme.sns.catplot(
        data=long,
        x="method",
        y="value",
        col="oracle",
        row="metric",
        kind="point",
        order=methods,
        hue="method",
        hue_order=methods,
        palette=colours,
        sharey="row",
        height=2.1,
        aspect=1.05,
        linestyle="none",
        errorbar="se",
        margin_titles=True,
        legend=False,  # seaborn's own, at the right, leaves no room for one narrow column
    )
    levels = brackets.set_index(["oracle", "bracket", "metric"])["mean"]
    for (metric, oracle), ax in grid.axes_dict.items():
        for bracket, style in (("floor", ":"), ("ceiling", "--")):
            if (oracle, bracket, metric) in levels.index:
                ax.axhline(levels[(oracle, bracket, metric)], ls=style, c="0.35", lw=1)
        ax.set(xticks=[], xlabel="")  # the legend names the methods, in the same order
        if direction(metric) == "one":  # ratios: equal factors above and below 1 look equal
            log_axis(ax)
    for metric, ax in zip(metrics, grid.axes[:, 0], strict=True):
        ax.set_ylabel(f"{metric} {ARROWS[direction(metric)]}", fontsize=8)
    grid.set_titles(col_template="{col_name}", row_template="")
    handles = [Line2D([], [], ls="none", marker="o", color=colours[m]) for m in methods]
    title = "dotted: floor (uniform samples) · dashed: ceiling (exact target)"
    legend_above(grid.figure, handles, methods, title)
    return _save(grid.figure, path)


def plot_listening(listening: pd.DataFrame, path: Path) -> Path | None:
    """The simulated listening test (the paper's Fig. 6): ratings of real data and of each
    method's samples, as split violins on a row per method, a panel per oracle; None without
    ratings."""
    if listening.empty:
        return None
    oracles = list(dict.fromkeys(listening["oracle"]))
    methods = list(dict.fromkeys(listening["method"]))
    height = 1.0 + 0.42 * len(methods)
    grid = theme.sns.catplot(
        data=listening,
        x="rating",
        y="method",
        order=methods,
        hue="set",
        hue_order=list(LISTENING_COLOURS),
        col="oracle",
        col_order=oracles,
        col_wrap=min(len(oracles), 4),
        kind="violin",
        split=True,
        inner="quart",
        cut=0,
        height=height,
        aspect=3.0 / height,
        palette=LISTENING_COLOURS,
        density_norm="width",
        legend=False,
    )
    grid.set_titles("{col_name}")
    grid.set_axis_labels("rating (slider, 0–1)", "")
    handles = [Patch(color=colour) for colour in LISTENING_COLOURS.values()]
    legend_above(grid.figure, handles, ["real data", "generated"])
    return _save(grid.figure, path)
