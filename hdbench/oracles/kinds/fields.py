"""Validators shared by the kinds' parameter models."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_vector(value: list[float], name: str) -> list[float]:
    if len(value) == 0:
        raise ValueError(f"expected a non-empty list of numbers for {name}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"expected finite numbers for {name}, got {value}")
    return value


def check_covariance(cov: list[list[float]], dim: int) -> list[list[float]]:
    """`cov` must be a symmetric positive-definite dim × dim matrix."""
    expected = f"expected a symmetric positive-definite {dim}×{dim} matrix"
    matrix = np.asarray(cov, dtype=float)
    if matrix.shape != (dim, dim):
        raise ValueError(f"{expected} (the mean's dimension), got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)) or not np.allclose(matrix, matrix.T):
        raise ValueError(f"{expected}, got a non-symmetric or non-finite matrix")
    if np.linalg.eigvalsh(matrix).min() <= 0:
        raise ValueError(f"{expected}, got eigenvalues {np.linalg.eigvalsh(matrix).round(4)}")
    return cov


def gaussian_log_bump(x: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """-½ (x - mean)ᵀ precision (x - mean) for x (n, dim); returns (n,)."""
    centred = x - mean
    # A matrix product then a row-wise dot: BLAS, where a three-operand einsum is not.
    return -0.5 * np.einsum("ni,ni->n", centred @ precision, centred)


def fill_vector(data: Any, vector: str) -> Any:
    """Before validation of a kind that takes `dim`: a missing `vector` (the mean, the centre)
    becomes zeros of length `dim`; a given one must have `dim` entries."""
    if not isinstance(data, dict) or not isinstance(data.get("dim"), int) or data["dim"] < 1:
        return data
    dim = data["dim"]
    if vector not in data:
        return {**data, vector: [0.0] * dim}
    given = data[vector]
    if isinstance(given, list) and len(given) != dim:
        raise ValueError(f"{vector}: expected {dim} numbers (dim = {dim}), got {len(given)}")
    return data
