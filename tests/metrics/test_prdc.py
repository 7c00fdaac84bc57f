"""PRDC (Naeem et al. 2020): closed balls on ties, known answers, a brute-force cross-check."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.metrics.context import NUM_NEIGHBOURS, knn_radii
from hdbench.metrics.evaluate import uniform_box_samples
from hdbench.metrics.prdc import (
    prdc_coverage,
    prdc_coverage_of,
    prdc_density,
    prdc_density_of,
    prdc_precision,
    prdc_precision_of,
    prdc_recall,
    prdc_recall_of,
)

K = NUM_NEIGHBOURS
NUM_SEEDS = 20


def brute_force_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, ...]:
    """The paper's four sums written out point by point, with closed balls."""

    def radius(points: np.ndarray, i: int) -> float:
        return float(np.sort(np.linalg.norm(points - points[i], axis=1))[k])

    real_radii = [radius(real, i) for i in range(len(real))]
    fake_radii = [radius(fake, j) for j in range(len(fake))]

    def inside(point: np.ndarray, centre: np.ndarray, r: float) -> bool:
        return float(np.linalg.norm(point - centre)) <= r

    real_balls = list(zip(real, real_radii, strict=True))
    fake_balls = list(zip(fake, fake_radii, strict=True))
    precision = np.mean([any(inside(y, x, r) for x, r in real_balls) for y in fake])
    recall = np.mean([any(inside(x, y, r) for y, r in fake_balls) for x in real])
    density = sum(inside(y, x, r) for y in fake for x, r in real_balls)
    coverage = np.mean([any(inside(y, x, r) for y in fake) for x, r in real_balls])
    return precision, recall, density / (k * len(fake)), coverage


def vectorised_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, ...]:
    radii = knn_radii(real, k)
    return (
        prdc_precision_of(real, radii, fake),
        prdc_recall_of(real, fake, k),
        prdc_density_of(real, radii, fake, k),
        prdc_coverage_of(real, radii, fake),
    )


def test_matches_the_definitions_point_by_point() -> None:
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(40, 2)), rng.normal(0.5, 1.5, size=(30, 2))
    np.testing.assert_allclose(vectorised_prdc(real, fake, K), brute_force_prdc(real, fake, K))


def test_identical_sets_with_repeated_points_score_one() -> None:
    # Every point 10 times: all k-NN radii are 0, so open balls (strict <) would score 0.
    points = np.repeat(np.random.default_rng(1).normal(size=(20, 2)), 10, axis=0)
    assert np.all(knn_radii(points, K) == 0.0)
    precision, recall, density, coverage = vectorised_prdc(points, points, K)
    assert (precision, recall, coverage) == (1.0, 1.0, 1.0)
    # Each sample sits in the balls of its 10 copies: density = 10 / k.
    assert density == pytest.approx(10 / K)


def test_a_point_mass_has_no_recall_on_a_spread_target(contexts) -> None:
    context = contexts("gaussian")
    point_mass = np.tile(context.truth.mean, (500, 1))
    assert prdc_recall(point_mass, context) == 0.0
    # It sits at the peak: perfect precision, but few target balls reach it.
    assert prdc_precision(point_mass, context) == 1.0
    assert prdc_coverage(point_mass, context) < 0.05


def test_exact_samples_have_density_one(contexts) -> None:
    # E density = 1 for exact samples: a k-NN ball among N points holds mass k / N on average.
    context = contexts("ring_of_8")
    densities = np.array(
        [
            prdc_density(context.truth.sample(500, np.random.default_rng(seed)), context)
            for seed in range(NUM_SEEDS)
        ]
    )
    # The reference sample is fixed, so the mean over seeds carries its own error, of the order
    # of one set's spread at N = 2000 points, i.e. the spread at 500 points times √(500 / 2000).
    spread = densities.std(ddof=1)
    tolerance = 4 * spread * np.sqrt(1 / NUM_SEEDS + 500 / len(context.reference))
    assert abs(densities.mean() - 1.0) <= tolerance


def test_uniform_box_samples_lose_precision_and_coverage_but_not_recall(contexts) -> None:
    # Known weakness of k-NN recall (Naeem et al. 2020): spread-out fake samples have large
    # k-NN balls that swallow the real set, so recall stays high while coverage drops.
    context = contexts("three_bumps")
    exact = context.truth.sample(500, np.random.default_rng(3))
    uniform = uniform_box_samples(context, 500, np.random.default_rng(3))
    assert prdc_recall(uniform, context) >= 0.98
    assert prdc_precision(uniform, context) < prdc_precision(exact, context) - 0.3
    assert prdc_coverage(uniform, context) < prdc_coverage(exact, context) - 0.3
