"""Figures and tables of a sweep, drawn from its runs table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hdbench.report.style import plt, sns
from hdbench.report.tables import ARROWS, direction

HEATMAP_METRICS = ("mmd2", "grid_coverage", "var_ratio_target")
FRONTIER_METRICS = ("mmd2", "grid_coverage", "var_ratio_target", "mean_true_d")


def grid_means(runs: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """Mean, standard error and count over seeds of each metric at each grid point."""
    ok = runs[runs["status"] == "ok"]
    columns = [f"param_{k}" for k in keys]
    grouped = ok.groupby(["oracle", "method", *columns])[metrics]
    table = grouped.mean().join(grouped.sem().add_suffix("_se"))
    return table.join(ok.groupby(["oracle", "method", *columns]).size().rename("num_seeds"))


def plot_heatmaps(runs: pd.DataFrame, keys: list[str], folder: Path) -> list[Path]:
    """For each metric: mean over seeds on (first key × second key), a panel per value of the
    third key (e.g. σ_NES × R for each λ), for every (oracle, method)."""
    if len(keys) < 2:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    row_key, col_key, *rest = (f"param_{k}" for k in keys)
    facet = rest[0] if rest else None
    paths = []
    ok = runs[runs["status"] == "ok"]
    for (oracle, method), table in ok.groupby(["oracle", "method"]):
        for metric in [m for m in HEATMAP_METRICS if m in table.columns]:
            facets = sorted(table[facet].unique()) if facet else [None]
            panels = [
                (table if value is None else table[table[facet] == value]).pivot_table(
                    index=row_key, columns=col_key, values=metric
                )
                for value in facets
            ]
            # One colour scale for every panel, so that colours compare across panels; light is
            # good. Ratios are coloured by how many orders of magnitude they lie from 1.
            if direction(metric) == "one":
                colours = [np.abs(np.log10(p.clip(lower=1e-300))).clip(upper=2.0) for p in panels]
            else:
                colours = panels
            low = min(float(c.min().min()) for c in colours)
            high = max(float(c.max().max()) for c in colours)
            fig, axes = plt.subplots(
                1, len(facets), figsize=(3.4 * len(facets) + 0.8, 3.2), squeeze=False
            )
            cmap = "rocket" if direction(metric) == "higher" else "rocket_r"
            for index, (ax, value, means, colour) in enumerate(
                zip(axes[0], facets, panels, colours, strict=True)
            ):
                sns.heatmap(
                    colour,
                    annot=means,
                    fmt=".2g",
                    cmap=cmap,
                    ax=ax,
                    vmin=low,
                    vmax=high,
                    cbar=index == len(facets) - 1,
                    annot_kws={"fontsize": 7},
                )
                ax.set_title(
                    "" if value is None else f"{facet.removeprefix('param_')} = {value}", fontsize=9
                )
                ax.set_xlabel(col_key.removeprefix("param_"))
                ax.set_ylabel(row_key.removeprefix("param_"))
            fig.suptitle(
                f"{oracle} · {method}: {metric} {ARROWS[direction(metric)]} (mean over seeds)",
                fontsize=10,
            )
            fig.tight_layout()
            path = folder / f"heatmap_{oracle}_{method}_{metric}.png"
            fig.savefig(path, dpi=100)
            plt.close(fig)
            paths.append(path)
    return paths


def plot_frontier(runs: pd.DataFrame, path: Path) -> Path | None:
    """Every metric against the ratings spent: the cost–quality frontier, a line per method;
    None when no run finished ok."""
    ok = runs[runs["status"] == "ok"] if not runs.empty else runs
    if ok.empty:
        return None
    metrics = [m for m in FRONTIER_METRICS if m in ok.columns]
    long = ok.melt(
        id_vars=["oracle", "method", "num_ratings"], value_vars=metrics, var_name="metric"
    )
    grid = sns.relplot(
        data=long,
        x="num_ratings",
        y="value",
        hue="method",
        col="metric",
        row="oracle",
        kind="line",
        marker="o",
        errorbar="se",
        facet_kws={"sharey": False},
        height=2.6,
        aspect=1.2,
    )
    for (_, metric), ax in grid.axes_dict.items():
        ax.set_ylabel(f"{metric} {ARROWS[direction(metric)]}")
        if (long["num_ratings"] > 0).all():
            ax.set_xscale("log")
    grid.set_titles("{row_name} · {col_name}")
    grid.set_xlabels("ratings spent")
    grid.figure.tight_layout()
    grid.figure.savefig(path, dpi=100)
    plt.close(grid.figure)
    return path


def sweep_markdown(runs: pd.DataFrame, keys: list[str]) -> str:
    """Mean ± standard error at every grid point, best first by MMD², per oracle and method;
    then every run that did not finish ok, with its status and message."""
    metrics = [
        m for m in ("mmd2", "var_ratio_target", "grid_coverage", "mean_true_d") if m in runs.columns
    ]
    ok = runs[runs["status"] == "ok"] if not runs.empty else runs
    table = grid_means(runs, keys, metrics).reset_index() if not ok.empty else ok
    sections = []
    for (oracle, method), part in table.groupby(["oracle", "method"]):
        part = part.sort_values("mmd2" if "mmd2" in part else metrics[0])
        cells = part[[f"param_{k}" for k in keys]].rename(
            columns=lambda c: c.removeprefix("param_")
        )
        for metric in metrics:
            cells[f"{metric} {ARROWS[direction(metric)]}".strip()] = [
                f"{m:.3g} ± {e:.2g}" if e == e else f"{m:.3g}"
                for m, e in zip(part[metric], part[f"{metric}_se"], strict=True)
            ]
        cells["seeds"] = part["num_seeds"].to_numpy()
        sections.append(f"### {oracle} · {method}\n\n{cells.to_markdown(index=False)}\n")
    return "\n".join(["## Sweep, best first by MMD²", "", *sections, failed_markdown(runs, keys)])


def failed_markdown(runs: pd.DataFrame, keys: list[str]) -> str:
    """A list of the runs whose status is not ok: where in the grid, status and message."""
    failed = runs[runs["status"] != "ok"] if not runs.empty else runs
    if failed.empty:
        return ""
    lines = [f"## Failed runs ({len(failed)} of {len(runs)})", ""]
    for row in failed.to_dict("records"):
        point = ", ".join(f"{k} = {row.get(f'param_{k}')}" for k in keys)
        where = f"{row['oracle']} · {row['method']} · seed {row['seed']}"
        lines.append(f"- {where}{f' · {point}' if point else ''}: {row['status']}: {row['error']}")
    return "\n".join(lines) + "\n"
