"""Distances to the target: unbiasedness at the truth, written-out formulas, known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.metrics import TruthContext
from hdbench.metrics.distances import (
    MASS_FLOOR,
    NUM_PROJECTIONS,
    energy_distance,
    mmd2,
    projections,
    reverse_kl,
    sliced_w2,
    wasserstein2_squared_1d,
)

NUM_SEEDS = 20
NUM_SAMPLES = 500


@pytest.fixture(scope="module")
def independent_draws(truths) -> list[tuple[TruthContext, np.ndarray]]:
    """Per seed, a context and a sample set of the ring of 8, both drawn afresh.

    The reference sample is the second sample of MMD and energy distance; drawing it anew with
    each seed makes the mean over seeds an unbiased estimate of the statistic's expectation.
    """
    truth = truths("ring_of_8")
    real = truth.sample(100, np.random.default_rng(0))
    return [
        (
            TruthContext.build(truth, real, seed=seed, num_reference=NUM_SAMPLES),
            truth.sample(NUM_SAMPLES, np.random.default_rng(1000 + seed)),
        )
        for seed in range(NUM_SEEDS)
    ]


@pytest.mark.parametrize("metric", [mmd2, energy_distance], ids=["mmd2", "energy_distance"])
def test_unbiased_distances_vanish_at_the_truth(independent_draws, metric) -> None:
    values = np.array([metric(samples, context) for context, samples in independent_draws])
    tolerance = 4 * values.std(ddof=1) / np.sqrt(NUM_SEEDS)
    assert abs(values.mean()) <= tolerance
    # ... and the check has power: samples shifted by one mode sd fall far outside the band.
    shift = np.array([0.5, 0.0])
    shifted = np.array([metric(samples + shift, context) for context, samples in independent_draws])
    assert shifted.mean() > 3 * tolerance


@pytest.fixture(scope="module")
def small_context(truths) -> TruthContext:
    truth = truths("three_bumps")
    return TruthContext.build(truth, truth.sample(20, np.random.default_rng(0)), num_reference=30)


def test_mmd2_matches_the_written_out_u_statistic(small_context: TruthContext) -> None:
    x = small_context.reference
    y = np.random.default_rng(1).normal(size=(12, 2))
    h = np.median([np.linalg.norm(a - b) for i, a in enumerate(x) for b in x[i + 1 :]])

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.exp(-np.sum((a - b) ** 2) / (2 * h**2)))

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a, b) for a in x for b in y) / (m * n)
    assert small_context.bandwidth == pytest.approx(h)
    assert mmd2(y, small_context) == pytest.approx(xx + yy - 2 * xy)


def test_energy_distance_matches_the_written_out_u_statistic(small_context: TruthContext) -> None:
    x = small_context.reference
    y = np.random.default_rng(2).normal(size=(9, 2))
    m, n = len(x), len(y)

    def within(a: np.ndarray) -> float:
        """Mean distance over ordered pairs i ≠ j (the diagonal's zeros are left out)."""
        total = sum(np.linalg.norm(p - q) for p in a for q in a)
        return total / (len(a) * (len(a) - 1))

    across = sum(np.linalg.norm(p - q) for p in x for q in y) / (m * n)
    expected = 2 * across - within(x) - within(y)
    assert energy_distance(y, small_context) == pytest.approx(expected)


def test_sliced_w2_of_a_translation_is_known(contexts) -> None:
    context = contexts("gaussian")
    shift = np.array([0.6, -0.8])  # length 1
    theta = projections(context)
    assert theta.shape == (2, NUM_PROJECTIONS)
    exact = np.sqrt(np.mean((shift @ theta) ** 2))
    assert sliced_w2(context.reference + shift, context) == pytest.approx(exact, rel=1e-9)
    # Over uniform directions E cos² = 1/2, sd of cos² = √(1/8): the projections are unbiased.
    assert exact**2 == pytest.approx(0.5, abs=4 * np.sqrt(1 / 8 / NUM_PROJECTIONS))


def test_sliced_w2_matches_quantiles_across_sizes(contexts) -> None:
    context = contexts("gaussian")
    # Each reference point twice: the same empirical law at twice the size.
    doubled = np.repeat(context.reference, 2, axis=0)
    assert sliced_w2(doubled, context) == pytest.approx(0.0, abs=1e-12)
    assert sliced_w2(context.reference[:1000], context) > 0.01


def test_one_dimensional_w2_is_the_quantile_integral() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(7, 1)), rng.normal(1.0, 2.0, size=(11, 1))
    u = (np.arange(1_000_000) + 0.5) / 1_000_000
    quantile_a = np.sort(a[:, 0])[np.floor(u * 7).astype(int)]
    quantile_b = np.sort(b[:, 0])[np.floor(u * 11).astype(int)]
    expected = np.mean((quantile_a - quantile_b) ** 2)
    assert wasserstein2_squared_1d(a, b)[0] == pytest.approx(expected, rel=1e-5)


def test_reverse_kl_of_a_single_cell_is_its_surprise(contexts) -> None:
    context = contexts("plateau")
    grid = context.grid
    floored = np.maximum(grid.mass_with_outside, MASS_FLOOR)
    floored /= floored.sum()
    point_mass = np.zeros((40, 2))
    (cell,) = np.unique(grid.cell_index(point_mass))
    assert reverse_kl(point_mass, context) == pytest.approx(-np.log(floored[cell]))
    # Half of the samples outside the box: that cell's floored mass enters too.
    far = np.full((40, 2), 1e3)
    mixed = np.concatenate([point_mass, far])
    expected = 0.5 * np.log(0.5 / floored[cell]) + 0.5 * np.log(0.5 / floored[-1])
    assert reverse_kl(mixed, context) == pytest.approx(expected)


def test_reverse_kl_is_small_for_exact_samples_and_large_for_a_point_mass(contexts) -> None:
    context = contexts("ring")
    exact = context.truth.sample(5000, np.random.default_rng(4))
    occupied = np.count_nonzero(context.grid.counts(exact))
    # The plug-in estimate's bias is about (occupied cells - 1) / 2n; allow twice that.
    assert reverse_kl(exact, context) <= (occupied - 1) / len(exact)
    assert reverse_kl(np.zeros((5000, 2)), context) > 5.0
