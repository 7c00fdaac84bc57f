"""Figures and tables of a sweep, drawn from its runs table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import StrMethodFormatter

from hdbench.files import save_figure
from hdbench.report import style as theme
from hdbench.report.style import log_axis, plt
from hdbench.report.tables import ARROWS, badness, direction

HEATMAP_METRICS = ("mmd2", "grid_coverage", "var_ratio_target")
FRONTIER_METRICS = ("mmd2", "grid_coverage", "var_ratio_target", "mean_true_d")


def grid_means(runs: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """Mean, standard error and count over seeds of each metric at each grid point."""
    ok = runs[runs["status"] == "ok"]
    columns = [f"param_{k}" for k in keys]
    # dropna=False: a key that one method of the sweep lacks is NaN in its rows
    grouped = ok.groupby(["oracle", "method", *columns], dropna=False)[metrics]
    table = grouped.mean().join(grouped.sem().add_suffix("_se"))
    sizes = ok.groupby(["oracle", "method", *columns], dropna=False).size()
    return table.join(sizes.rename("num_seeds"))


def swept_keys(table: pd.DataFrame, keys: list[str]) -> list[str]:
    """The keys that `table`'s runs (one method's) have a value for: a method's own grid."""
    return [k for k in keys if table[f"param_{k}"].notna().any()]


def plot_heatmaps(runs: pd.DataFrame, keys: list[str], folder: Path) -> list[Path]:
    """For each metric: mean over seeds on (first key × second key), a panel per value of the
    third key (e.g. σ_NES × R for each λ), for every (oracle, method)."""
    paths = []
    ok = runs[runs["status"] == "ok"]
    for (oracle, method), table in ok.groupby(["oracle", "method"]):
        own = swept_keys(table, keys)
        if len(own) < 2:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        row_key, col_key, *rest = (f"param_{k}" for k in own)
        facet = rest[0] if rest else None
        for metric in [m for m in HEATMAP_METRICS if m in table and table[m].notna().any()]:
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
                theme.sns.heatmap(
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
            paths.append(save_figure(fig, path))
    return paths


#: The metric whose best grid point a metric without an order of its own (direction "none", or
#: "ceiling", as a sweep has no ceiling values) is shown at.
FRONTIER_LEAD = "mmd2"


def frontier_points(runs: pd.DataFrame, keys: list[str], metric: str) -> pd.DataFrame:
    """The cost–quality frontier of `metric`: per (oracle, method, ratings spent), the best grid
    point's mean and standard error over seeds (best by FRONTIER_LEAD when `metric` has no
    order of its own, e.g. the mean true D, which a collapse maximises). Columns oracle,
    method, num_ratings, mean, se, reference."""
    lead = metric if badness(metric, runs[metric]) is not None else FRONTIER_LEAD
    if lead not in runs.columns:
        lead = metric
    ok = runs[(runs["status"] == "ok") & np.isfinite(runs[metric].astype(float))]
    ok = ok.assign(reference=ok["reference"].fillna(False) if "reference" in ok else False)
    grouped = ok.groupby(["oracle", "method", *[f"param_{k}" for k in keys]], dropna=False)
    table = grouped.agg(
        mean=(metric, "mean"),
        se=(metric, "sem"),
        lead=(lead, "mean"),
        num_ratings=("num_ratings", "max"),
        reference=("reference", "any"),
    ).reset_index()
    if direction(lead) == "one":  # ratios: by orders of magnitude from 1, as the heatmaps
        order = np.log(table["lead"].abs().clip(lower=1e-300)).abs()
    else:
        order = badness(lead, table["lead"])
    if order is None:  # neither has an order: the first grid point
        order = pd.Series(0.0, index=table.index)
    best = table.loc[order.sort_values().index].groupby(["oracle", "method", "num_ratings"]).head(1)
    columns = ["oracle", "method", "num_ratings", "mean", "se", "reference"]
    return best[columns].fillna({"se": 0.0}).sort_values(columns[:3]).reset_index(drop=True)


def plot_frontier(runs: pd.DataFrame, keys: list[str], path: Path) -> Path | None:
    """Each metric against the ratings spent, a line per method through its best grid point at
    each budget (mean ± standard error over seeds); a method that spends no rating (the
    real-data diffusion, a reference) is a horizontal line. None when no run finished ok."""
    ok = runs[runs["status"] == "ok"] if not runs.empty else runs
    if ok.empty:
        return None
    metrics = [m for m in FRONTIER_METRICS if m in ok.columns and ok[m].notna().any()]
    oracles = sorted(ok["oracle"].unique())
    methods = sorted(ok["method"].unique())
    colours = dict(zip(methods, theme.sns.color_palette("colorblind", len(methods)), strict=True))
    # one oracle: its metrics two by two; several: a row per oracle
    shape = (2, (len(metrics) + 1) // 2) if len(oracles) == 1 else (len(oracles), len(metrics))
    fig, axes = plt.subplots(*shape, figsize=(4.2 * shape[1], 3.1 * shape[0] + 0.9), squeeze=False)
    panels = [(o, m) for o in oracles for m in metrics]
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    points = {metric: frontier_points(runs, keys, metric) for metric in metrics}
    for ax, (oracle, metric) in zip(axes.flat, panels, strict=False):
        here = points[metric][points[metric]["oracle"] == oracle]
        for method, line in here.groupby("method"):
            style = {"color": colours[method], "label": method}
            if (line["num_ratings"] == 0).all():
                reference = bool(line["reference"].any())
                style["label"] += " (reference)" if reference else " (no ratings)"
                ax.axhline(
                    float(line["mean"].iloc[0]), linestyle=":" if reference else "--", **style
                )
                continue
            line = line[line["num_ratings"] > 0]
            ax.errorbar(
                line["num_ratings"],
                line["mean"],
                yerr=line["se"],
                marker="o",
                ms=4,
                capsize=2,
                **style,
            )
        if here.empty:  # the metric is not defined on this oracle (e.g. its dimension)
            ax.text(0.5, 0.5, "not applicable", ha="center", va="center", transform=ax.transAxes)
            ax.set(xticks=[], yticks=[])
        if (here["num_ratings"] > 0).any():
            log_axis(ax, "x")
        # Each tick its own number: a shared "1e−7" above the axis runs into the title.
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:.3g}"))
        ax.set_title(f"{oracle} · {metric}", fontsize=10)
        ax.set_ylabel(f"{metric} {ARROWS[direction(metric)]}".strip())
        ax.set_xlabel("ratings spent")
    handles: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    columns = max(1, min(len(handles), int(fig.get_figwidth() // 2.8)))
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=columns, frameon=False)
    fig.suptitle("Best setting at each budget (mean ± se over seeds)")
    legend_rows = -(-len(handles) // columns)
    fig.tight_layout(rect=(0, 0.3 * legend_rows / fig.get_figheight(), 1, 1))
    return save_figure(fig, path)


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
        cells = part[[f"param_{k}" for k in swept_keys(part, keys)]].rename(
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
        point = ", ".join(
            f"{k} = {row[f'param_{k}']}" for k in keys if pd.notna(row.get(f"param_{k}"))
        )
        where = f"{row['oracle']} · {row['method']} · seed {row['seed']}"
        lines.append(f"- {where}{f' · {point}' if point else ''}: {row['status']}: {row['error']}")
    return "\n".join(lines) + "\n"
