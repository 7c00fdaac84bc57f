"""Figures of a suite, drawn from its runs table, brackets and listening table only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hdbench.report.style import plt, sns
from hdbench.report.tables import ARROWS, direction

#: Metrics drawn by `plot_metrics`, one row of panels each.
FIGURE_METRICS = ("mmd2", "var_ratio_target", "grid_coverage", "collapse_ratio", "mean_true_d")


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_metrics(runs: pd.DataFrame, brackets: pd.DataFrame, path: Path) -> Path | None:
    """A panel per (metric, oracle): each method's value per seed and mean, with the floor
    (dotted) and the ceiling (dashed) of that oracle; None when no run finished ok."""
    ok = runs[runs["status"] == "ok"] if not runs.empty else runs
    if ok.empty:
        return None
    metrics = [m for m in FIGURE_METRICS if m in ok.columns]
    long = ok.melt(id_vars=["oracle", "method", "seed"], value_vars=metrics, var_name="metric")
    grid = sns.catplot(
        data=long,
        x="method",
        y="value",
        col="oracle",
        row="metric",
        kind="point",
        hue="method",
        sharey="row",
        height=2.1,
        aspect=1.05,
        linestyle="none",
        errorbar="se",
        margin_titles=True,
        legend="full",
    )
    levels = brackets.set_index(["oracle", "bracket", "metric"])["mean"]
    for (metric, oracle), ax in grid.axes_dict.items():
        for bracket, style in (("floor", ":"), ("ceiling", "--")):
            if (oracle, bracket, metric) in levels.index:
                ax.axhline(levels[(oracle, bracket, metric)], ls=style, c="0.35", lw=1)
        ax.set(xticks=[], xlabel="")  # the legend names the methods, in the same order
        if direction(metric) == "one":  # ratios: equal factors above and below 1 look equal
            ax.set_yscale("log")
    for metric, ax in zip(metrics, grid.axes[:, 0], strict=True):
        ax.set_ylabel(f"{metric} {ARROWS[direction(metric)]}", fontsize=8)
    grid.set_titles(col_template="{col_name}", row_template="")
    sns.move_legend(
        grid,
        "upper center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(ok["method"].unique()),
        title="dotted: floor (uniform samples) · dashed: ceiling (exact target)",
        frameon=False,
    )
    grid.figure.tight_layout(rect=(0, 0, 1, 0.93))  # the legend above the panels
    return _save(grid.figure, path)


def plot_listening(listening: pd.DataFrame, path: Path) -> Path | None:
    """The simulated listening test (the paper's Fig. 6): ratings of real data and of each
    method's samples, as violins, one panel per oracle; None without ratings."""
    if listening.empty:
        return None
    grid = sns.catplot(
        data=listening,
        x="method",
        y="rating",
        hue="set",
        col="oracle",
        col_wrap=4,
        kind="violin",
        split=True,
        inner="quart",
        cut=0,
        height=2.6,
        aspect=1.2,
        palette={"real": "#f28e2b", "generated": "#4e79a7"},
        density_norm="width",
    )
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.set_xlabel("")
    grid.set_titles("{col_name}")
    grid.set_ylabels("rating (slider, 0–1)")
    sns.move_legend(
        grid, "upper center", bbox_to_anchor=(0.5, 1.0), ncol=2, title=None, frameon=False
    )
    grid.figure.tight_layout(rect=(0, 0, 1, 0.94))
    return _save(grid.figure, path)
