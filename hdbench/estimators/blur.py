"""Isotropic Gaussian blurs of a point set, and the blur scale a likelihood picks.

A blur of centres c_1 … c_N (N, dim) at scale h is the kernel density estimate
q_h(x) = 1/N Σ_j N(x; c_j, h² I). Its scale is chosen by the mean log-likelihood of points it
did not see: for the real data's own KDE, each real datum left out in turn (leave-one-out
likelihood cross-validation, Silverman 1986 §3.4.4, the limit of k-fold held-out likelihood);
for the truth-tuned reference, exact target samples (maximising E_p log q_h minimises
KL(p ‖ q_h)). The search is over log h, bounded (`scipy.optimize.minimize_scalar`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from hdbench.lazy import lazy_import

#: Loaded at the first search: most runs never blur, and importing scipy.optimize takes
#: a few tenths of a second.
optimize = lazy_import("scipy.optimize")

#: The scale is searched between these multiples of the centres' root-mean-square spread.
SCALE_RANGE = (1e-3, 10.0)


def blur_log_likelihood(points: np.ndarray, centres: np.ndarray, scale: float) -> float:
    """Mean log q_h(x) over points (n, dim) of the blur of centres (N, dim) at scale h."""
    squared = cdist(points, centres, "sqeuclidean")
    return _mean_log_kernel(squared, scale, len(centres), points.shape[1])


def leave_one_out_log_likelihood(centres: np.ndarray, scale: float) -> float:
    """Mean over i of log of the blur of the other N - 1 centres (N, dim) at c_i."""
    squared = cdist(centres, centres, "sqeuclidean")
    np.fill_diagonal(squared, np.inf)
    return _mean_log_kernel(squared, scale, len(centres) - 1, centres.shape[1])


def _mean_log_kernel(squared: np.ndarray, scale: float, num: int, dim: int) -> float:
    """Mean over rows of log (1/num Σ_j N(0; d_ij, h² I)), given squared distances (n, num')."""
    logs = logsumexp(-squared / (2 * scale**2), axis=1) - np.log(num)
    return float(np.mean(logs) - 0.5 * dim * np.log(2 * np.pi * scale**2))


def best_scale(log_likelihood: Callable[[float], float], centres: np.ndarray) -> float:
    """The scale h maximising `log_likelihood(h)` over SCALE_RANGE × the centres' RMS spread."""
    spread = float(np.sqrt(np.mean(np.sum((centres - centres.mean(0)) ** 2, axis=1))))
    spread = spread if spread > 0 else 1.0
    low, high = (np.log(spread * factor) for factor in SCALE_RANGE)
    found = optimize.minimize_scalar(
        lambda log_h: -log_likelihood(float(np.exp(log_h))),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-3},
    )
    return float(np.exp(found.x))


def blurred(starts: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Samples of a blur at scale h: `starts` (n, dim), centres drawn with replacement, plus
    N(0, h² I); shape (n, dim)."""
    return starts + scale * rng.standard_normal(starts.shape)
