"""Mode collapse: which of the target's modes the samples reach, and how evenly.

Mode metrics follow VEEGAN (Srivastava et al., NeurIPS 2017, synthetic experiments), with
Mahalanobis distances in place of VEEGAN's multiples of a common standard deviation, so that modes
of any shape count:

- d_k(y) = √((y - μ_k)ᵀ Σ_k⁻¹ (y - μ_k)) with (μ_k, Σ_k) from `truth.modes`; a sample's nearest
  mode is argmin_k d_k(y), and the sample is *high quality* when min_k d_k(y) ≤ r, the radius
  holding 98.9 % of a Gaussian mode's mass: r = 3 in 2-D, as VEEGAN; 4.45 in 8-D, 7.28 in 32-D,
  since in d dimensions d_k² of a mode's own samples is χ²_d, whose mean d outgrows any fixed r.
- `modes_captured`: modes that are the nearest mode of at least one high-quality sample (a count,
  at most the number of modes).
- `modes_captured_strict`: a mode counts only when it holds at least a quarter of the share of
  high-quality samples its target mass would give it, n_k / n_hq ≥ w_k / 4 (w the modes'
  masses, normalised to sum to 1). One stray sample does not capture a mode.
- `high_quality_share`: n_hq / n.
- `mode_tv`: ½ Σ_k |n_k / n_hq - w_k|, the total-variation distance between the high-quality
  samples' shares per mode and the target's mode masses; 1 when no sample is high quality.
- `mode_mass_tv`: the total-variation distance over the modes plus an off-mode bin (samples
  near no mode), ½ (Σ_k |n_k / n - p_k| + |n_off / n - p_off|), the target's shares p from its
  reference sample of exact samples: mass spread between the modes counts, which `mode_tv`
  (over high-quality samples only) does not see.

These need `truth.modes` non-empty. `collapse_ratio` applies to every oracle:

    collapse_ratio = (det Cov(samples) / det Cov(target))^(1/dim),

the ratio of generalised variances as a geometric mean per dimension. It is 0 for a point mass
and also (near) 0 for samples collapsed onto a line or any lower-dimensional set, which a
variance ratio (a trace) does not see; 1 is right.
"""

from __future__ import annotations

import math

import numpy as np

from hdbench.metrics.context import TruthContext
from hdbench.metrics.metric import Scope, has_modes, has_target_samples, register_metric
from hdbench.metrics.variance import sample_cov
from hdbench.oracles.acceptability import (  # noqa: F401  (HIGH_QUALITY_MASS: re-exported)
    HIGH_QUALITY_MASS,
    high_quality_radius,
)
from hdbench.oracles.acceptability import nearest_modes as nearest_modes_of

#: Fraction of its fair share of high-quality samples a mode must hold to count as captured.
STRICT_SHARE = 0.25


def nearest_modes(samples: np.ndarray, context: TruthContext) -> tuple[np.ndarray, np.ndarray]:
    """Index (n,) of each sample's nearest mode by Mahalanobis distance, and that distance (n,)."""
    return nearest_modes_of(samples, context.truth.modes)


def high_quality_counts(samples: np.ndarray, context: TruthContext) -> np.ndarray:
    """High-quality samples per mode for samples (n, dim): shape (num_modes,)."""
    nearest, distance = nearest_modes(samples, context)
    good = distance <= high_quality_radius(context.dim)
    return np.bincount(nearest[good], minlength=len(context.truth.modes))


def mode_weights(context: TruthContext) -> np.ndarray:
    """Target masses of the modes, normalised to sum to 1: shape (num_modes,)."""
    masses = np.array([mode.mass for mode in context.truth.modes], dtype=float)
    return masses / masses.sum()


def captured(samples: np.ndarray, context: TruthContext, strict: bool) -> np.ndarray:
    """Which modes samples (n, dim) capture: boolean (num_modes,). A mode is captured when it is
    the nearest mode of a high-quality sample; strictly, when it also holds n_k / n_hq ≥ w_k / 4."""
    counts = high_quality_counts(samples, context)
    if not strict or counts.sum() == 0:
        return counts > 0
    return (counts > 0) & (counts / counts.sum() >= STRICT_SHARE * mode_weights(context))


@register_metric(
    "modes_captured",
    direction="higher",
    low=0.0,
    high=math.inf,
    description="modes nearest to at least one high-quality sample (at most the number of modes)",
    applies=has_modes,
)
def modes_captured(samples: np.ndarray, context: TruthContext) -> float:
    """Number of modes captured by samples (n, dim), VEEGAN's criterion."""
    return float(np.count_nonzero(captured(samples, context, strict=False)))


@register_metric(
    "modes_captured_strict",
    direction="higher",
    low=0.0,
    high=math.inf,
    description="modes holding at least a quarter of their fair share of high-quality samples",
    applies=has_modes,
)
def modes_captured_strict(samples: np.ndarray, context: TruthContext) -> float:
    """Number of modes k with n_k > 0 and n_k / n_hq ≥ w_k / 4, for samples (n, dim)."""
    return float(np.count_nonzero(captured(samples, context, strict=True)))


@register_metric(
    "high_quality_share",
    direction="higher",
    low=0.0,
    high=1.0,
    description="share of samples near their nearest mode (Mahalanobis 3 in 2-D, χ² radius above)",
    applies=has_modes,
)
def high_quality_share(samples: np.ndarray, context: TruthContext) -> float:
    """n_hq / n for samples (n, dim)."""
    return float(high_quality_counts(samples, context).sum() / len(samples))


@register_metric(
    "mode_tv",
    direction="lower",
    low=0.0,
    high=1.0,
    description="total variation between high-quality samples' shares per mode and mode masses",
    applies=has_modes,
)
def mode_tv(samples: np.ndarray, context: TruthContext) -> float:
    """½ Σ_k |n_k / n_hq - w_k| for samples (n, dim); 1 when n_hq = 0."""
    counts = high_quality_counts(samples, context)
    if counts.sum() == 0:
        return 1.0
    return float(0.5 * np.abs(counts / counts.sum() - mode_weights(context)).sum())


def mode_shares(points: np.ndarray, context: TruthContext) -> np.ndarray:
    """Shares of points (n, dim) per mode (high quality), then near no mode: (num_modes + 1,)."""
    counts = high_quality_counts(points, context)
    return np.append(counts, len(points) - counts.sum()) / len(points)


@register_metric(
    "mode_mass_tv",
    direction="lower",
    low=0.0,
    high=1.0,
    description="total variation between the samples' and exact samples' shares per mode and "
    "off every mode",
    applies=Scope(
        "needs the target's modes and exact samples",
        lambda context: has_modes(context) and has_target_samples(context),
    ),
)
def mode_mass_tv(samples: np.ndarray, context: TruthContext) -> float:
    """½ Σ |shares of samples (n, dim) - shares of the reference| over modes and off-mode bin."""
    difference = mode_shares(samples, context) - mode_shares(context.reference, context)
    return float(0.5 * np.abs(difference).sum())


@register_metric(
    "collapse_ratio",
    direction="one",
    low=0.0,
    high=math.inf,
    description="(det Cov samples / det Cov target)^(1/dim): 0 for a point mass or a line",
    applies=has_target_samples,
)
def collapse_ratio(samples: np.ndarray, context: TruthContext) -> float:
    """Generalised variance ratio per dimension for samples (n, dim)."""
    eigenvalues = np.linalg.eigvalsh(sample_cov(samples))
    if eigenvalues.min() <= 0.0:
        return 0.0
    log_ratio = np.log(eigenvalues).sum() - np.linalg.slogdet(context.target_cov)[1]
    return float(np.exp(log_ratio / context.dim))
