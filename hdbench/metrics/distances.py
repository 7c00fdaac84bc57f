"""Distances between the samples Y (n points) and the target, through its reference sample X.

- `mmd2`: unbiased squared maximum mean discrepancy (Gretton et al., "A Kernel Two-Sample Test",
  JMLR 2012, Lemma 6),
      MMD²_u = 1/(m(m-1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n-1)) Σ_{i≠j} k(y_i, y_j)
               - 2/(mn) Σ_{i,j} k(x_i, y_j),
  with k(a, b) = exp(-‖a - b‖² / (2h²)) and h the median pairwise distance of the reference
  sample, fixed per context. Unbiased, so it is ≈ 0 (and can be negative) for exact samples;
  with 0 < k ≤ 1 it lies in [-2, 2].
- `energy_distance`: Székely & Rizzo ("Energy statistics: A class of statistics based on
  distances", J. Stat. Plan. Inference 2013), with U-statistics for the within-sample means,
      E = 2/(mn) Σ ‖x_i - y_j‖ - 1/(m(m-1)) Σ_{i≠j} ‖x_i - x_j‖ - 1/(n(n-1)) Σ_{i≠j} ‖y_i - y_j‖,
  ≈ 0 for exact samples, negative values included.
- `sliced_w2`: sliced Wasserstein-2 (Bonneel et al., J. Math. Imaging Vis. 2015),
  SW₂ = (mean_θ W₂²(θᵀX, θᵀY))^½ over 500 directions θ uniform on the sphere, drawn from a
  generator seeded by the context's seed. The 1-D W₂² between the two empirical distributions is
  ∫₀¹ (F⁻¹(u) - G⁻¹(u))² du, computed exactly on the union of both quantile grids, so the two
  sets may differ in size.
- `reverse_kl` (dim 2): KL(q ‖ p) = Σ_c q_c log(q_c / p_c) over the context's grid cells plus
  the outside cell, q the samples' histogram (empty cells of q contribute 0) and p the target's
  cell masses floored at 1e-12 and renormalised. The forward KL(p ‖ q) is infinite as soon as a
  cell with target mass holds no sample, which is every finite sample on a fine enough grid, so it
  is not reported. Even for exact samples the plug-in estimate is biased upwards, by about
  (occupied cells - 1) / (2n).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.distance import cdist, pdist

from hdbench.metrics.context import TruthContext
from hdbench.metrics.grid import planar_grid
from hdbench.metrics.metric import has_target_samples, is_planar, register_metric
from hdbench.rng import named_generator

#: Random directions of the sliced Wasserstein distance.
NUM_PROJECTIONS = 500
#: Floor of the target's cell masses in the reverse KL.
MASS_FLOOR = 1e-12


@register_metric(
    "mmd2",
    direction="lower",
    low=-2.0,
    high=2.0,
    description="unbiased MMD² to exact target samples, Gaussian kernel at the median distance",
    applies=has_target_samples,
)
def mmd2(samples: np.ndarray, context: TruthContext) -> float:
    """MMD²_u between samples (n, dim) and the reference sample (m, dim)."""
    scale = 2 * context.bandwidth**2
    within = np.exp(-(pdist(samples) ** 2) / scale).mean()
    across = np.exp(-(cdist(samples, context.reference) ** 2) / scale).mean()
    return float(context.reference_kernel_mean + within - 2 * across)


@register_metric(
    "energy_distance",
    direction="lower",
    low=-math.inf,
    high=math.inf,
    description="energy distance to exact target samples (U-statistic form)",
    applies=has_target_samples,
)
def energy_distance(samples: np.ndarray, context: TruthContext) -> float:
    """Energy distance between samples (n, dim) and the reference sample (m, dim)."""
    across = cdist(samples, context.reference).mean()
    return float(2 * across - context.reference_distance_mean - pdist(samples).mean())


def projections(context: TruthContext) -> np.ndarray:
    """NUM_PROJECTIONS unit directions, fixed by the context's seed: shape (dim, 500)."""
    rng = named_generator(context.seed, "metrics", "sliced_w2")
    directions = rng.standard_normal((context.dim, NUM_PROJECTIONS))
    return directions / np.linalg.norm(directions, axis=0, keepdims=True)


def wasserstein2_squared_1d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """W₂² between the columns of a (n, p) and b (m, p), as 1-D empirical laws: shape (p,)."""
    a, b = np.sort(a, axis=0), np.sort(b, axis=0)
    n, m = len(a), len(b)
    # The quantile functions are steps on the grids i/n and j/m: constant between breakpoints.
    breaks = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    widths = np.diff(breaks, prepend=0.0)
    middle = breaks - widths / 2
    a_index = np.minimum((middle * n).astype(int), n - 1)
    b_index = np.minimum((middle * m).astype(int), m - 1)
    return widths @ (a[a_index] - b[b_index]) ** 2


@register_metric(
    "sliced_w2",
    direction="lower",
    low=0.0,
    high=math.inf,
    description="sliced Wasserstein-2 distance to exact target samples, 500 projections",
    applies=has_target_samples,
)
def sliced_w2(samples: np.ndarray, context: TruthContext) -> float:
    """SW₂ between samples (n, dim) and the reference sample (m, dim)."""
    theta = projections(context)
    squared = wasserstein2_squared_1d(samples @ theta, context.reference @ theta)
    return float(np.sqrt(squared.mean()))


@register_metric(
    "reverse_kl",
    direction="lower",
    low=0.0,
    high=math.inf,
    description="KL(samples' histogram ‖ target cell masses) on the grid, outside cell included",
    applies=is_planar,
)
def reverse_kl(samples: np.ndarray, context: TruthContext) -> float:
    """KL(q ‖ p) over grid cells for samples (n, 2)."""
    grid = planar_grid(context)
    q = grid.counts(samples) / len(samples)
    p = np.maximum(grid.mass_with_outside, MASS_FLOOR)
    p /= p.sum()
    held = q > 0
    # Both are distributions, so KL ≥ 0; the max only removes a rounding error of ~1e-16.
    return max(0.0, float(np.sum(q[held] * np.log(q[held] / p[held]))))
