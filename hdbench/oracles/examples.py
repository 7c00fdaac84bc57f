"""Acceptability functions written as plain Python, used by `python`-kind specs."""

from __future__ import annotations

import numpy as np


def banana(x: np.ndarray) -> np.ndarray:
    """A curved ridge: D = 0.9 · exp(-½ (x₀/2.5)² - ½ ((x₁ - 0.2 x₀² + 0.5) / 0.8)²).

    x has shape (n, 2); returns shape (n,). Non-convex: the chord between the two arms of the
    banana passes through a region that listeners reject.
    """
    bend = x[:, 1] - 0.2 * x[:, 0] ** 2 + 0.5
    return 0.9 * np.exp(-0.5 * (x[:, 0] / 2.5) ** 2 - 0.5 * (bend / 0.8) ** 2)


def banana_score(x: np.ndarray) -> np.ndarray:
    """∇log D of `banana` in closed form, for x of shape (n, 2): shape (n, 2)."""
    bend = (x[:, 1] - 0.2 * x[:, 0] ** 2 + 0.5) / 0.8**2
    return np.stack([-x[:, 0] / 2.5**2 + 0.4 * x[:, 0] * bend, -bend], axis=1)


def banana_log(x: np.ndarray) -> np.ndarray:
    """log D of `banana` for x of shape (n, 2), finite where D underflows: shape (n,)."""
    bend = x[:, 1] - 0.2 * x[:, 0] ** 2 + 0.5
    return np.log(0.9) - 0.5 * (x[:, 0] / 2.5) ** 2 - 0.5 * (bend / 0.8) ** 2
