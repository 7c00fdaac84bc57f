"""Fidelity under the exact truth, against closed forms for a Gaussian bump in dim 2.

For D = h exp(-q/2) and samples from p_D = N(μ, Σ), q ~ χ²₂, whose law is Exp(1/2), so
E D = h E e^{-q/2} = h / 2 and P(D ≥ τ) = P(q ≤ 2 log(h/τ)) = 1 - τ/h.
"""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.metrics.fidelity import mean_true_d, precision_d

NUM_SAMPLES = 20_000


def test_mean_true_d_of_exact_samples_is_half_the_peak(contexts, truths) -> None:
    context, truth = contexts("gaussian"), truths("gaussian")
    samples = truth.sample(NUM_SAMPLES, np.random.default_rng(0))
    values = truth(samples)
    standard_error = values.std(ddof=1) / np.sqrt(NUM_SAMPLES)
    assert abs(mean_true_d(samples, context) - truth.peak / 2) <= 4 * standard_error


def test_precision_d_of_exact_samples_matches_the_chi_square_law(contexts, truths) -> None:
    context, truth = contexts("gaussian"), truths("gaussian")
    samples = truth.sample(NUM_SAMPLES, np.random.default_rng(1))
    expected = 1 - 0.5 / truth.peak
    standard_error = np.sqrt(expected * (1 - expected) / NUM_SAMPLES)
    assert abs(precision_d(samples, context) - expected) <= 4 * standard_error


def test_precision_d_threshold_bounds(contexts) -> None:
    context = contexts("gaussian")
    samples = context.truth.sample(100, np.random.default_rng(2))
    assert precision_d(samples, context, threshold=0.0) == 1.0
    assert precision_d(samples, context, threshold=context.truth.peak + 1e-9) == 0.0


def test_samples_far_away_have_no_fidelity(contexts) -> None:
    context = contexts("ring")
    far = np.full((10, 2), 100.0)
    assert mean_true_d(far, context) == pytest.approx(0.0, abs=1e-300)
    assert precision_d(far, context) == 0.0
