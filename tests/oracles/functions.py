"""Acceptability functions for `python`-kind tests: known laws in any dimension."""

from __future__ import annotations

import numpy as np


def correlated_gaussian_law(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (dim,) and covariance (dim, dim) of `correlated_gaussian` in `dim` dimensions:
    means ±0.5 alternating, sds 1, 1.5, 2 in turn, correlation 0.5^|i - j|."""
    index = np.arange(dim)
    sd = 1.0 + 0.5 * (index % 3)
    correlation = 0.5 ** np.abs(index[:, None] - index[None, :])
    return 0.5 * (-1.0) ** index, correlation * np.outer(sd, sd)


def correlated_gaussian(x: np.ndarray) -> np.ndarray:
    """D = 0.8 exp(-½ (x - m)ᵀ C⁻¹ (x - m)) for x (n, dim), (m, C) = correlated_gaussian_law."""
    mean, cov = correlated_gaussian_law(x.shape[1])
    centred = x - mean
    return 0.8 * np.exp(-0.5 * np.einsum("ni,ni->n", centred @ np.linalg.inv(cov), centred))


def gaussian_in_a_box(x: np.ndarray) -> np.ndarray:
    """D = exp(-|x|² / 2) inside the box [-1, 1]^dim and 0 outside it: a hard edge."""
    inside = (np.abs(x) <= 1.0).all(axis=1)
    return np.where(inside, np.exp(-0.5 * (x**2).sum(axis=1)), 0.0)
