"""The picture of an oracle: D(x) as filled contours, exact target samples and the real data.

Figures are drawn on a plane for any dimension: D's contours only in 2-D; above, points are
projected onto their first two coordinates, and 1-D points are drawn on the line y = 0.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from hdbench.files import save_figure
from hdbench.oracles import Oracle
from hdbench.oracles.acceptability import box_grid
from hdbench.report.style import plt

NUM_GRID = 200
REAL_COLOUR = "#f28e2b"


def on_plane(points: np.ndarray) -> np.ndarray:
    """Points (n, dim) as drawn, shape (n, 2): their first two coordinates, or (x, 0) in 1-D."""
    points = np.asarray(points, dtype=float).reshape(len(points), -1)
    if points.shape[1] >= 2:
        return points[:, :2]
    return np.column_stack([points[:, 0], np.zeros(len(points))])


def plane_note(dim: int) -> str:
    """What a figure of `dim`-dimensional points shows, for its title."""
    return {1: " (1-D, on a line)", 2: ""}.get(dim, f" (first 2 of {dim} coordinates)")


def view_box(oracle: Oracle, margin: float = 0.08) -> np.ndarray:
    """The part of the plane worth drawing, shape (2, 2): where D ≥ 1% of its peak (2-D) or the
    truth's box (other dimensions), and the real data, with a margin."""
    if oracle.dim == 2:
        points, _ = box_grid(oracle.truth.bounds, NUM_GRID)
        visible = points[oracle.truth(points) >= 0.01 * oracle.truth.peak]
    else:
        visible = on_plane(oracle.truth.bounds.T)
    shown = np.concatenate([visible, on_plane(oracle.real_data)])
    lo, hi = shown.min(axis=0), shown.max(axis=0)
    pad = margin * (hi - lo).max()
    return np.stack([lo - pad, hi + pad], axis=1)


def draw_acceptability(
    ax, oracle: Oracle, box: np.ndarray | None = None, levels: int = 10, outline: bool = False
):
    """Filled contours of D on `ax` (dim 2) over `box` (2, 2); returns the contour set. With
    `outline`, D's level lines are drawn again above everything, so that a dense cloud of
    samples does not hide D's shape."""
    box = view_box(oracle) if box is None else box
    points, _ = box_grid(box, NUM_GRID)
    shape = (NUM_GRID, NUM_GRID)
    values = oracle.truth(points).reshape(shape)
    x, y = points[:, 0].reshape(shape), points[:, 1].reshape(shape)
    bounds = np.linspace(0, 1, levels + 1)
    contours = ax.contourf(x, y, values, levels=bounds, cmap="YlGnBu")
    if outline:
        ax.contour(x, y, values, levels=bounds[1:-1], colors="0.15", linewidths=0.5, zorder=3)
    ax.set_aspect("equal")
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    return contours


def plot_oracle(oracle: Oracle, path: Path, num_target: int = 1000, seed: int = 0) -> Path:
    """Write a PNG of D with exact target samples (where the truth can draw them) and the real
    data overlaid."""
    # The vowel space above 2-D has no exact target: its figure shows the real data alone.
    exact = oracle.truth.sampling_limit() is None
    target = oracle.truth.sample(num_target, np.random.default_rng(seed)) if exact else None
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    if oracle.dim == 2:
        contours = draw_acceptability(ax, oracle)
        fig.colorbar(contours, ax=ax, label="acceptability D(x)", shrink=0.8)
    if target is not None:
        ax.scatter(
            *on_plane(target).T,
            s=3,
            c="#3b3b3b",
            alpha=0.5,
            lw=0,
            label=f"exact target samples ({num_target})",
        )
    ax.scatter(
        *on_plane(oracle.real_data).T,
        s=16,
        c=REAL_COLOUR,
        edgecolors="black",
        lw=0.4,
        label=f"real data ({len(oracle.real_data)})",
    )
    for mode in oracle.truth.modes:
        ax.plot(*on_plane(mode.location[None])[0], marker="+", ms=8, mew=1.4, c="#c0392b")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(oracle.name + plane_note(oracle.dim), loc="left", fontweight="bold")
    fig.text(0.01, 0.01, textwrap.fill(oracle.spec.description, 90), fontsize=8, color="0.3")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save_figure(fig, path, dpi=120)
