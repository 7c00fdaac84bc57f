"""Figures of one run, after the paper's Figs. 4 and 5, and the sampler's convergence curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hdbench.files import save_figure
from hdbench.metrics import METRICS, TruthContext
from hdbench.oracles import Oracle
from hdbench.report.oracle_figure import (
    REAL_COLOUR,
    draw_acceptability,
    on_plane,
    plane_note,
    view_box,
)
from hdbench.report.style import plt

SAMPLE_COLOUR = "#4e79a7"
#: Most particles drawn in a panel: more turn the panel into a blot that hides D.
MAX_SHOWN = 800


def thinned_points(points: np.ndarray) -> np.ndarray:
    """At most `MAX_SHOWN` of `points` (n, dim), evenly strided (particles are exchangeable)."""
    return points[:: -(-len(points) // MAX_SHOWN)]


def scatter_samples(ax, points: np.ndarray, size: float) -> None:
    """Particles in the sample colour, thinned to `MAX_SHOWN`, translucent where dense."""
    drawn = thinned_points(points)
    alpha = 0.9 if len(drawn) < 300 else 0.55
    ax.scatter(*on_plane(drawn).T, s=size, c=SAMPLE_COLOUR, edgecolors="white", lw=0.2, alpha=alpha)


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path, dpi=110)


def write_run_figures(oracle: Oracle, context: TruthContext, result, folder: Path) -> list[Path]:
    """The figures a run has data for: convergence and chain (from the trace), gradient fields
    (HumanDiffusion's arrays)."""
    paths = []
    if not result.trace.empty:
        num = len(next(iter(result.snapshots.values())))
        # Convergence is measured against the exact target, which some truths cannot draw.
        if context.sampling_limit is None:
            levels = exact_levels(context, num)
            stationary = result.row.get("stationary_at")
            paths.append(
                plot_convergence(result.trace, levels, folder / "convergence.png", stationary)
            )
        paths.append(plot_chain(oracle, result.snapshots, folder / "chain.png"))
    if "nes_grad" in result.arrays:
        paths.append(plot_gradient_fields(oracle, result.arrays, folder / "gradient_fields.png"))
    return paths


def exact_levels(context: TruthContext, num: int, num_sets: int = 5) -> dict[str, float]:
    """Mean of the traced metrics over sets of `num` exact target samples."""
    rng = np.random.default_rng(0)
    sets = [context.truth.sample(num, rng) for _ in range(num_sets)]
    return {
        m: float(np.mean([METRICS[m].fn(x, context) for x in sets]))
        for m in ("mmd2", "var_ratio_target")
    }


def plot_convergence(
    trace: pd.DataFrame,
    ceiling: dict[str, float],
    path: Path,
    stationary_at: float | None = None,
) -> Path:
    """MMD² and variance ratio to the target against Langevin step, with the exact-sample level;
    with the diagnostic's checks in the trace, a third panel of the cloud's movement against its
    noise floor; a dotted line where the diagnostic called the chain stationary."""
    diagnosed = "movement" in trace
    fig, axes = plt.subplots(1, 3 if diagnosed else 2, figsize=(13.5 if diagnosed else 9, 3.4))
    for ax, metric in zip(axes, ["mmd2", "var_ratio_target"], strict=False):
        points = trace.dropna(subset=[metric])
        ax.plot(points["step"], points[metric], marker="o", ms=4, c=SAMPLE_COLOUR)
        if metric in ceiling:
            ax.axhline(ceiling[metric], ls="--", c="0.4", lw=1, label="exact target samples")
    if diagnosed:
        checks = trace.dropna(subset=["movement"])
        ax = axes[2]
        # Markers, so that a short chain's single check still shows.
        dots = {"marker": "o", "ms": 2.5}
        ax.plot(
            checks["step"], checks["movement"], c=SAMPLE_COLOUR, label="movement since t/2", **dots
        )
        ax.plot(
            checks["step"], checks["noise_floor"], c="0.4", ls="--", label="noise floor", **dots
        )
        ax.set_ylabel("sliced W₁ (no truth)")
    for ax in axes:
        if stationary_at is not None and not pd.isna(stationary_at):
            ax.axvline(stationary_at, c="#e15759", ls=":", lw=1.2, label="stationary")
        ax.set_xlabel("Langevin step")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    axes[0].set_ylabel("MMD² to the target ↓")
    axes[1].set_ylabel("variance ratio to target →1")
    fig.tight_layout()
    return _save(fig, path)


def plot_chain(oracle: Oracle, snapshots: dict[int, np.ndarray], path: Path) -> Path:
    """Fig. 5 analogue: the real data, the chain at a few steps, and the final samples over D."""
    steps = sorted(snapshots)
    shown = [steps[i] for i in np.unique(np.linspace(0, len(steps) - 1, 4).round().astype(int))]
    box = view_box(oracle)
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.4), squeeze=False)
    for ax, step in zip(axes[0], shown, strict=True):
        if oracle.dim == 2:
            draw_acceptability(ax, oracle, box, outline=True)
        ax.scatter(*on_plane(oracle.real_data).T, s=8, c=REAL_COLOUR, lw=0, alpha=0.8)
        scatter_samples(ax, snapshots[step], size=6)
        ax.set_title("start (real data)" if step == 0 else f"step {step}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    num = len(snapshots[steps[-1]])
    thinned = (
        f", {len(thinned_points(snapshots[steps[-1]]))} of {num} particles"
        if num > MAX_SHOWN
        else ""
    )
    fig.suptitle(
        f"{oracle.name}: real data (orange) and chain (blue){thinned}{plane_note(oracle.dim)}",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, path)


def plot_gradient_fields(oracle: Oracle, arrays: dict[str, np.ndarray], path: Path) -> Path:
    """Fig. 4 analogue: the observed NES gradients, the regularised ones, the learned score."""
    panels = [
        ("observed ∇D (NES)", arrays["periphery"], arrays["nes_grad"]),
        ("regularised ∇D target", arrays["periphery"], arrays["regularised_grad"]),
        ("learned S_∇D / S_D", arrays["field_points"], arrays["learned_score"]),
    ]
    # Constrained layout keeps each colour bar's label on the canvas; tight_layout does not.
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), layout="constrained")
    lo, hi = np.quantile(on_plane(arrays["periphery"]), [0.02, 0.98], axis=0)
    box = np.stack([lo, hi], axis=1)
    for ax, (title, points, vectors) in zip(axes, panels, strict=True):
        if oracle.dim == 2:
            draw_acceptability(ax, oracle, box)
        # The length is the whole gradient's; the arrow shows its part in the drawn plane.
        length = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = on_plane(vectors) / np.where(length > 0, length, 1)
        colour = np.log10(length[:, 0] + 1e-6)
        arrows = ax.quiver(
            *on_plane(points).T, *unit.T, colour, cmap="magma", scale=30, width=0.004
        )
        fig.colorbar(arrows, ax=ax, shrink=0.8, pad=0.02, label="log₁₀ |gradient|")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{oracle.name}: direction of the gradient{plane_note(oracle.dim)}", fontsize=10)
    return _save(fig, path)


def plot_final_samples(
    oracles: list[Oracle],
    methods: list[str],
    finals: dict[tuple[str, str], np.ndarray],
    path: Path,
) -> Path:
    """Final samples over D: a row per method and a column per oracle, or a single row of
    methods when there is one oracle (the paper's Fig. 5)."""
    single = len(oracles) == 1
    shape = (1, len(methods)) if single else (len(methods), len(oracles))
    fig, axes = plt.subplots(*shape, figsize=(2.6 * shape[1], 2.7 * shape[0]), squeeze=False)
    for j, oracle in enumerate(oracles):
        box = view_box(oracle)
        for i, method in enumerate(methods):
            ax = axes[0, i] if single else axes[i, j]
            if oracle.dim == 2:
                draw_acceptability(ax, oracle, box, outline=True)
            samples = finals.get((oracle.name, method))
            if samples is not None:
                scatter_samples(ax, samples, size=4)
            else:
                ax.text(0.5, 0.5, "failed", transform=ax.transAxes, ha="center")
            ax.set_xticks([])
            ax.set_yticks([])
            if single:
                ax.set_title(method, fontsize=10)
            elif i == 0:
                ax.set_title(oracle.name, fontsize=9)
            if not single and j == 0:
                ax.set_ylabel(method, fontsize=10)
    if single:
        fig.suptitle(f"{oracles[0].name}: final samples over D", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
