"""Kernel Stein discrepancy: how far the samples are from the target, judged by its exact score.

With s = ∇log p_D the truth's score in closed form, the Stein kernel of a base kernel k is

    u(x, y) = s(x)ᵀ s(y) k + s(x)ᵀ ∇_y k + s(y)ᵀ ∇_x k + tr(∇_x ∇_y k),

whose mean over independent x, y ~ q is KSD²(q ‖ p) ≥ 0, 0 only for q = p (Liu, Lee & Jordan,
ICML 2016; Chwialkowski, Strathmann & Gretton, ICML 2016). `ksd2` is the U-statistic
1/(n(n-1)) Σ_{i≠j} u(x_i, x_j) over the samples alone: ≈ 0 (and can be negative) for exact
samples. The base kernel is the inverse multiquadric k = (1 + ‖x - y‖² / ℓ²)^β, β = -½, ℓ the
truth's `length_scale`: its KSD goes to 0 only if q converges to p, so mass that runs off is
never cheap (Gorham & Mackey, ICML 2017, Thm. 8), where a Gaussian kernel's is blind to it.
With r² = ‖x - y‖² and u₀ = 1 + r² / ℓ²:

    ∇_x k = -∇_y k = 2β u₀^(β-1) (x - y) / ℓ²,
    tr(∇_x ∇_y k) = -2β/ℓ² (d u₀^(β-1) + 2(β-1) u₀^(β-2) r² / ℓ²).

The score is needed in closed form and finite where D underflows: the finite-difference score
that `Acceptability.score` falls back on is 0 there, which would make far-off mass free. A truth
without one (`truth.score_limit()`) gets NaN. KSD sees where mass sits relative to the slopes of
log p_D, not how much of it each mode holds: samples from one mode, weighted wrongly against
another, score almost as well as exact ones.
"""

from __future__ import annotations

import math

import numpy as np

from hdbench.metrics.context import TruthContext
from hdbench.metrics.metric import Scope, register_metric

#: Exponent β of the inverse multiquadric base kernel.
BETA = -0.5
#: Rows of the n × n Stein kernel computed at once: memory stays O(BLOCK_ROWS · n).
BLOCK_ROWS = 512

#: Applies when the truth gives its score in closed form.
has_exact_score = Scope(
    "needs the target's score in closed form", lambda context: context.truth.score_limit() is None
)


def stein_kernel_sum(points: np.ndarray, scores: np.ndarray, scale: float) -> float:
    """Σ_{i≠j} u(x_i, x_j) for points and their scores, both (n, dim), IMQ kernel at `scale`."""
    num, dim = points.shape
    c2 = scale**2
    squared_norms = np.einsum("ij,ij->i", points, points)
    score_dot_point = np.einsum("ij,ij->i", scores, points)
    total = 0.0
    for start in range(0, num, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        x, s = points[rows], scores[rows]
        r2 = np.maximum(squared_norms[rows, None] + squared_norms[None] - 2 * x @ points.T, 0.0)
        base = 1.0 + r2 / c2
        # s(x)ᵀ(x - y) and s(y)ᵀ(x - y), for every pair of the block.
        sx_offset = score_dot_point[rows, None] - s @ points.T
        sy_offset = x @ scores.T - score_dot_point[None]
        kernel = base**BETA
        slope = 2 * BETA * base ** (BETA - 1) / c2
        trace = (
            -2
            * BETA
            / c2
            * (dim * base ** (BETA - 1) + 2 * (BETA - 1) * base ** (BETA - 2) * r2 / c2)
        )
        stein = (s @ scores.T) * kernel + slope * (sy_offset - sx_offset) + trace
        # Drop the diagonal i = j of this block.
        diagonal = np.arange(len(x))
        stein[diagonal, start + diagonal] = 0.0
        total += float(stein.sum())
    return total


@register_metric(
    "ksd2",
    direction="lower",
    low=-math.inf,
    high=math.inf,
    description="kernel Stein discrepancy² (U-statistic) against the exact score, IMQ kernel at "
    "the truth's length scale",
    applies=has_exact_score,
)
def ksd2(samples: np.ndarray, context: TruthContext) -> float:
    """KSD²_u of samples (n, dim) against the truth's score."""
    num = len(samples)
    truth = context.truth
    total = stein_kernel_sum(samples, truth.score(samples), truth.length_scale)
    return total / (num * (num - 1))
