"""Variance ratios: how spread the samples are, against the target and against the real data.

Total variance is the trace of the covariance (unbiased, ddof = 1); the ratio of the samples'
total variance to a reference's is tr Cov(samples) / tr Cov(reference), and per dimension
Var(samples)_i / Var(reference)_i (columns `<name>_d<i>`). HumanDiffusion is meant to reach
acceptable stimuli beyond the real data it would otherwise be trained on (Ueda et al.,
Interspeech 2023), so the ratio to the real data is reported, as information: it has no good
value of its own, hence direction "none". The ratio to the target covariance
(`TruthContext.target_cov`) is best at 1.
"""

from __future__ import annotations

import math

import numpy as np

from hdbench.metrics.context import TruthContext
from hdbench.metrics.metric import has_target_samples, register_metric


def sample_cov(samples: np.ndarray) -> np.ndarray:
    """Unbiased covariance of samples (n, dim): shape (dim, dim)."""
    return np.atleast_2d(np.cov(samples, rowvar=False))


def var_ratio_target_per_dim(samples: np.ndarray, context: TruthContext) -> np.ndarray:
    """Var(samples)_i / Var(target)_i for samples (n, dim): shape (dim,)."""
    return np.diag(sample_cov(samples)) / np.diag(context.target_cov)


def var_ratio_real_per_dim(samples: np.ndarray, context: TruthContext) -> np.ndarray:
    """Var(samples)_i / Var(real data)_i for samples (n, dim): shape (dim,)."""
    return np.diag(sample_cov(samples)) / np.diag(context.real_cov)


@register_metric(
    "var_ratio_target",
    direction="one",
    low=0.0,
    high=math.inf,
    description="total variance of the samples over that of the target (1 is right)",
    per_dim_fn=var_ratio_target_per_dim,
    applies=has_target_samples,
)
def var_ratio_target(samples: np.ndarray, context: TruthContext) -> float:
    """tr Cov(samples) / tr Cov(target) for samples (n, dim)."""
    return float(np.trace(sample_cov(samples)) / np.trace(context.target_cov))


@register_metric(
    "var_ratio_real",
    direction="none",
    low=0.0,
    high=math.inf,
    description="total variance of the samples over that of the real data (informational)",
    per_dim_fn=var_ratio_real_per_dim,
)
def var_ratio_real(samples: np.ndarray, context: TruthContext) -> float:
    """tr Cov(samples) / tr Cov(real data) for samples (n, dim)."""
    return float(np.trace(sample_cov(samples)) / np.trace(context.real_cov))
