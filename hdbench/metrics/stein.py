"""Kernel Stein discrepancy: how far the samples are from the target, judged by its exact score.

With s = ∇log p_D the truth's score in closed form, the Stein kernel of a base kernel k is

    u(x, y) = s(x)ᵀ s(y) k + s(x)ᵀ ∇_y k + s(y)ᵀ ∇_x k + tr(∇_x ∇_y k),

whose mean over independent x, y ~ q is KSD²(q ‖ p) ≥ 0, 0 only for q = p (Liu, Lee & Jordan,
ICML 2016; Chwialkowski, Strathmann & Gretton, ICML 2016). `ksd2` is the U-statistic
1/(n(n-1)) Σ_{i≠j} u(x_i, x_j) over the samples alone: ≈ 0 (and can be negative) for exact
samples. The base kernel is the inverse multiquadric k = (1 + ‖x - y‖² / ℓ²)^β, β = -½, ℓ the
truth's `length_scale`: for distantly dissipative targets such as Gaussian mixtures its KSD goes
to 0 only if q converges to p, so mass that runs off is never cheap (Gorham & Mackey, ICML
2017, Thm. 8), where a Gaussian kernel's can miss it.
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
from hdbench.metrics.ustatistic import u_statistic

#: Exponent β of the inverse multiquadric base kernel (`stein_kernel_sums` is written for -½).
BETA = -0.5
#: Rows of the n × n Stein kernel computed at once: memory stays O(BLOCK_ROWS · n).
BLOCK_ROWS = 512

#: Applies when the truth gives its score in closed form.
has_exact_score = Scope(
    "needs the target's score in closed form", lambda context: context.truth.score_limit() is None
)


def stein_kernel_sums(
    points: np.ndarray, scores: np.ndarray, scale: float
) -> tuple[np.ndarray, float]:
    """Row sums Σ_{j≠i} u(x_i, x_j), shape (n,), and Σ_{i≠j} u(x_i, x_j)², for points and their
    scores, both (n, dim), IMQ kernel at `scale`."""
    num, dim = points.shape
    c2 = scale**2
    squared_norms = np.einsum("ij,ij->i", points, points)
    score_dot_point = np.einsum("ij,ij->i", scores, points)
    row_sums, sum_squares = np.empty(num), 0.0
    for start in range(0, num, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        x, s = points[rows], scores[rows]
        # In place, block by block: r² = ‖x‖² + ‖y‖² - 2 xᵀy, then 1 / u₀ = 1 / (1 + r² / ℓ²).
        inverse = x @ points.T
        inverse *= -2.0
        inverse += squared_norms[rows, None]
        inverse += squared_norms[None]
        np.maximum(inverse, 0.0, out=inverse)
        inverse /= c2
        inverse += 1.0
        np.reciprocal(inverse, out=inverse)
        kernel = np.sqrt(inverse)  # u₀^β for β = -½
        slope = kernel * inverse  # u₀^(β-1); and u₀^(β-2) r² / ℓ² = u₀^(β-1) (1 - 1 / u₀)
        # [s(y) - s(x)]ᵀ(x - y) - d - 2(β-1)(1 - 1/u₀), the bracket that multiplies u₀^(β-1).
        bracket = x @ scores.T
        bracket += s @ points.T
        bracket -= score_dot_point[None]
        bracket -= score_dot_point[rows, None] + dim + 2 * (BETA - 1)
        inverse *= 2 * (BETA - 1)
        bracket += inverse
        bracket *= slope
        bracket *= 2 * BETA / c2
        stein = s @ scores.T
        stein *= kernel
        stein += bracket
        # Drop the diagonal i = j of this block.
        diagonal = np.arange(len(x))
        stein[diagonal, start + diagonal] = 0.0
        row_sums[rows] = stein.sum(axis=1)
        sum_squares += float(np.einsum("ij,ij->", stein, stein))
    return row_sums, sum_squares


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
    return ksd2_with_error(samples, context)[0]


def ksd2_with_error(samples: np.ndarray, context: TruthContext) -> tuple[float, float]:
    """KSD²_u of samples (n, dim) and its standard error (`hdbench.metrics.ustatistic`)."""
    truth = context.truth
    return u_statistic(*stein_kernel_sums(samples, truth.score(samples), truth.length_scale))
