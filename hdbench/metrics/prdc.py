"""Precision, recall, density and coverage (Naeem et al., "Reliable Fidelity and Diversity
Metrics for Generative Models", ICML 2020), k = 5.

Real set X = the context's reference sample of exact target samples (N points), fake set
Y = the samples (M points), B(x, r) the ball of radius r around x, NND_k(x) the distance from x
to its k-th nearest neighbour within its own set:

    precision = (1/M)  Σ_j 1[∃ i: Y_j ∈ B(X_i, NND_k(X_i))]
    recall    = (1/N)  Σ_i 1[∃ j: X_i ∈ B(Y_j, NND_k(Y_j))]
    density   = (1/kM) Σ_j Σ_i 1[Y_j ∈ B(X_i, NND_k(X_i))]
    coverage  = (1/N)  Σ_i 1[∃ j: Y_j ∈ B(X_i, NND_k(X_i))]

Balls are closed (distance ≤ radius), where the paper writes a strict <. With a strict
inequality a set whose points are repeated more than k times has radius 0 everywhere, so a
collapsed generator compared with itself would score 0; closed balls score it 1. Points drawn
from continuous laws fall exactly on a boundary with probability 0, so nothing else changes.
Precision and recall are those of Kynkäänniemi et al. (NeurIPS 2019), which Naeem et al. restate.

Density is 1 in expectation for exact target samples (shown by Naeem et al.) and grows above 1 when
samples crowd into the target's densest region, as a generator collapsed onto the peak does; so
its direction here is "one", not "higher".

Recall is fooled by spread-out samples (Naeem et al.'s motivation for coverage): uniform samples
over the box have large k-NN balls that swallow the whole target, so they score a recall ≈ 1, at
least that of exact samples. Read it together with precision and coverage.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from hdbench.metrics.context import TruthContext, knn_radii
from hdbench.metrics.metric import has_target_samples, register_metric


def ball_counts(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For points (m, dim): how many closed balls (centres (c, dim), radii (c,)) hold each: (m,)."""
    return np.count_nonzero(cdist(points, centres) <= radii[None, :], axis=1)


def prdc_precision_of(real: np.ndarray, real_radii: np.ndarray, fake: np.ndarray) -> float:
    """PRDC precision of fake (M, dim) against real (N, dim) with its k-NN radii (N,)."""
    return float(np.mean(ball_counts(fake, real, real_radii) > 0))


def prdc_recall_of(real: np.ndarray, fake: np.ndarray, k: int) -> float:
    """PRDC recall of fake (M, dim) against real (N, dim): real points in fake k-NN balls."""
    return float(np.mean(ball_counts(real, fake, knn_radii(fake, k)) > 0))


def prdc_density_of(real: np.ndarray, real_radii: np.ndarray, fake: np.ndarray, k: int) -> float:
    """PRDC density of fake (M, dim) against real (N, dim) with its k-NN radii (N,)."""
    return float(ball_counts(fake, real, real_radii).sum() / (k * len(fake)))


def prdc_coverage_of(real: np.ndarray, real_radii: np.ndarray, fake: np.ndarray) -> float:
    """PRDC coverage: share of real (N, dim) whose k-NN ball (radii (N,)) holds a fake point."""
    nearest, _ = cKDTree(fake).query(real, k=1)
    return float(np.mean(nearest <= real_radii))


@register_metric(
    "prdc_precision",
    direction="higher",
    low=0.0,
    high=1.0,
    description="share of samples inside the k-NN ball of some exact target sample (k = 5)",
    applies=has_target_samples,
)
def prdc_precision(samples: np.ndarray, context: TruthContext) -> float:
    """PRDC precision of samples (n, dim) against the reference sample."""
    return prdc_precision_of(context.reference, context.knn_radii, samples)


@register_metric(
    "prdc_recall",
    direction="higher",
    low=0.0,
    high=1.0,
    description="share of exact target samples inside the k-NN ball of some sample (k = 5)",
    applies=has_target_samples,
)
def prdc_recall(samples: np.ndarray, context: TruthContext) -> float:
    """PRDC recall of samples (n, dim) against the reference sample."""
    return prdc_recall_of(context.reference, samples, context.num_neighbours)


@register_metric(
    "prdc_density",
    direction="one",
    low=0.0,
    high=math.inf,
    description="mean number of target k-NN balls holding a sample, over k (1 for exact samples)",
    applies=has_target_samples,
)
def prdc_density(samples: np.ndarray, context: TruthContext) -> float:
    """PRDC density of samples (n, dim) against the reference sample; at most N / k."""
    return prdc_density_of(context.reference, context.knn_radii, samples, context.num_neighbours)


@register_metric(
    "prdc_coverage",
    direction="higher",
    low=0.0,
    high=1.0,
    description="share of exact target samples whose k-NN ball holds a sample (k = 5)",
    applies=has_target_samples,
)
def prdc_coverage(samples: np.ndarray, context: TruthContext) -> float:
    """PRDC coverage of samples (n, dim) against the reference sample."""
    return prdc_coverage_of(context.reference, context.knn_radii, samples)
