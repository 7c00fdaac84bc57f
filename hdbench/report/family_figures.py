"""The family's figure, drawn from the paired table only: each method's ratio to the best
ratings-free method on every (oracle, seed) pair, one panel per metric."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hdbench.files import save_figure
from hdbench.metrics.metric import metric_info
from hdbench.report.style import plt
from hdbench.report.tables import ARROWS

#: Ratios drawn, beyond which they are drawn at the edge; a failed run's pair is drawn (×) at
#: FAILED_AT, left of every measured one.
SHOWN = (1e-4, 1e4)
FAILED_AT = 3e-5
SHAPE_MARKERS = {"bumps": "o", "curved": "^"}


def plot_family(paired: pd.DataFrame, summary: pd.DataFrame, path: Path) -> Path | None:
    """Per metric, a row per method (competitors, then references): its ratio on every pair
    (log scale; colour: dimension, marker: shape), the median as a bar, and the win rate at the
    right. None when there is no pair."""
    if paired.empty:
        return None
    metrics = list(dict.fromkeys(paired["metric"]))
    order = (
        summary.sort_values(["reference", "median_ratio"], ascending=[False, True])
        .drop_duplicates("method")["method"]
        .tolist()
    )
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(5.2 * len(metrics) + 1.5, 0.45 * len(order) + 2.2),
        squeeze=False,
        layout="constrained",
    )
    colour = plt.get_cmap("viridis")
    jitter = np.random.default_rng(0)
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = paired[paired["metric"] == metric]
        stats = summary[summary["metric"] == metric].set_index("method")
        for y, method in enumerate(order):
            mine = rows[rows["method"] == method]
            failed = (mine["ratio"] == 0).to_numpy()
            ratios = np.clip(mine["ratio"].to_numpy(dtype=float), *SHOWN)
            ax.scatter(
                np.full(failed.sum(), FAILED_AT),
                y + jitter.uniform(-0.25, 0.25, failed.sum()),
                marker="x",
                c="#c0392b",
                s=18,
                linewidths=1,
            )
            for shape, marker in SHAPE_MARKERS.items():
                chosen = ((mine["shape"] == shape).to_numpy()) & ~failed
                ax.scatter(
                    ratios[chosen],
                    y + jitter.uniform(-0.25, 0.25, chosen.sum()),
                    c=mine["dim"][chosen],
                    cmap=colour,
                    vmin=2,
                    vmax=8,
                    marker=marker,
                    s=16,
                    alpha=0.8,
                    linewidths=0,
                )
            if method in stats.index:
                row = stats.loc[method]
                ax.plot([row.median_ratio] * 2, [y - 0.35, y + 0.35], c="0.1", lw=2.5)
                ax.annotate(
                    f"{row.win_rate:.0%}",
                    (1.01, y),
                    xycoords=("axes fraction", "data"),
                    va="center",
                    fontsize=9,
                )
        ax.axvline(1.0, c="0.4", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlim(FAILED_AT / 2, SHOWN[1] * 2)
        ax.set_yticks(range(len(order)))
        ax.set_yticklabels(
            [f"{m} (ref.)" if bool(stats["reference"].get(m, False)) else m for m in order]
            if metric == metrics[0]
            else []
        )
        ax.set_ylim(-0.7, len(order) - 0.3)
        baseline = rows["baseline"].iloc[0]
        arrow = ARROWS[metric_info(metric).direction]
        ax.set_title(f"{metric} {arrow}: × closer than {baseline}", fontsize=11)
        ax.set_xlabel("ratio of gaps to the ceiling (log)")
        ax.grid(axis="x", which="major")
    handles = [
        plt.Line2D([], [], marker=marker, ls="none", c="0.3", label=shape)
        for shape, marker in SHAPE_MARKERS.items()
    ]
    bar = fig.colorbar(
        plt.cm.ScalarMappable(norm=plt.Normalize(2, 8), cmap=colour),
        ax=axes[0].tolist(),
        fraction=0.03,
    )
    bar.set_label("dimension")
    handles.append(plt.Line2D([], [], marker="x", ls="none", c="#c0392b", label="failed run"))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9)
    fig.suptitle(
        "win rate at the right; bar: median; ×: a failed run (error, diverged); ratios beyond "
        "10^±4 at the edge",
        fontsize=10,
    )
    return save_figure(fig, path, dpi=110)
