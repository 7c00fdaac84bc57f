"""The standard error of a one-sample U-statistic of degree 2, from its kernel matrix.

U = 1/(n(n-1)) Σ_{i≠j} h(x_i, x_j) has variance (Hoeffding, Ann. Math. Stat. 1948)

    Var U = (4 (n-2) ζ₁ + 2 ζ₂) / (n (n-1)),   ζ₁ = Var E[h(X, Y) | X],   ζ₂ = Var h(X, Y),

estimated from the matrix: ζ₂ by the variance of its off-diagonal entries, ζ₁ by that of its
row means less their own sampling variance, ζ₂ / (n-1). Both KSD²_u and, given the reference
sample, MMD²_u are such statistics, so one function gives the standard error of each.
"""

from __future__ import annotations

import math

import numpy as np


def u_statistic(row_sums: np.ndarray, sum_squares: float) -> tuple[float, float]:
    """U and its standard error from the off-diagonal row sums (n,) of the kernel matrix h(x_i,
    x_j) and the sum of its squared off-diagonal entries."""
    num = len(row_sums)
    pairs = num * (num - 1)
    mean = float(row_sums.sum()) / pairs
    zeta2 = max(sum_squares / pairs - mean**2, 0.0)
    zeta1 = max(float(np.var(row_sums / (num - 1))) - zeta2 / (num - 1), 0.0)
    return mean, math.sqrt((4 * (num - 2) * zeta1 + 2 * zeta2) / pairs)
