"""Variance ratios: ≈ 1 for exact samples, the closed form for N(0, I) against N(μ, Σ)."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.metrics.context import NUM_MOMENT_SAMPLES
from hdbench.metrics.variance import (
    var_ratio_real,
    var_ratio_real_per_dim,
    var_ratio_target,
    var_ratio_target_per_dim,
)

NUM_SEEDS = 20
NUM_SAMPLES = 1000


@pytest.mark.parametrize("oracle", ["gaussian", "ring_of_8", "plateau", "gaussian_3d"])
def test_exact_samples_have_variance_ratio_one(contexts, oracle: str) -> None:
    context = contexts(oracle)
    ratios = np.array(
        [
            [var_ratio_target(samples, context), *var_ratio_target_per_dim(samples, context)]
            for seed in range(NUM_SEEDS)
            for samples in [context.truth.sample(NUM_SAMPLES, np.random.default_rng(seed))]
        ]
    )
    spread = ratios.std(axis=0, ddof=1)
    # The mean over seeds has error spread/√NUM_SEEDS; the target covariance, estimated from
    # NUM_MOMENT_SAMPLES draws of the same law, adds spread·√(n / NUM_MOMENT_SAMPLES).
    tolerance = 4 * spread * np.sqrt(1 / NUM_SEEDS + NUM_SAMPLES / NUM_MOMENT_SAMPLES)
    assert np.all(np.abs(ratios.mean(axis=0) - 1.0) <= tolerance)


def test_standard_normal_against_a_gaussian_target_matches_the_closed_form(
    contexts, truths
) -> None:
    # E tr Cov(N(0, I) samples) = dim = 2, so the ratio to N(μ, Σ) is 2 / tr Σ.
    context, truth = contexts("gaussian"), truths("gaussian")
    expected = 2.0 / np.trace(truth.cov)
    ratios = np.array(
        [
            var_ratio_target(np.random.default_rng(seed).standard_normal((NUM_SAMPLES, 2)), context)
            for seed in range(NUM_SEEDS)
        ]
    )
    # Var tr Σ̂ = 2 tr(Σ²) / N for a Gaussian sample of size N: the target's own error.
    target_sd = expected * np.sqrt(2 * np.trace(truth.cov @ truth.cov) / NUM_MOMENT_SAMPLES)
    target_sd /= np.trace(truth.cov)
    tolerance = 4 * np.sqrt(ratios.var(ddof=1) / NUM_SEEDS + target_sd**2)
    assert abs(ratios.mean() - expected) <= tolerance
    assert tolerance < 0.05 * expected  # the test can tell 2 / tr Σ from nearby values


def test_total_is_the_variance_weighted_mean_of_the_per_dim_ratios(contexts) -> None:
    context = contexts("gaussian_3d")
    samples = np.random.default_rng(0).normal(size=(200, 3)) * [1.0, 2.0, 3.0]
    weights = np.diag(context.target_cov)
    per_dim = var_ratio_target_per_dim(samples, context)
    assert per_dim.shape == (3,)
    assert var_ratio_target(samples, context) == pytest.approx(weights @ per_dim / weights.sum())


def test_ratio_to_real_data_is_exact_for_the_real_data_itself(contexts) -> None:
    context = contexts("three_bumps")
    real = context.real_data
    assert var_ratio_real(real, context) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(var_ratio_real_per_dim(real, context), 1.0, rtol=1e-12)
    # Scaling about any point multiplies every variance by the square of the factor.
    assert var_ratio_real(3.0 * real + 7.0, context) == pytest.approx(9.0, rel=1e-12)
