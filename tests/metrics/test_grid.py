"""Grid coverage against its known expectation Σ p_c (1 - (1 - p_c)^n) for exact samples."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.metrics import METRICS, evaluate, expected_grid_coverage
from hdbench.metrics.grid import grid_coverage

NUM_SEEDS = 20


@pytest.mark.parametrize(
    ("oracle", "num_samples"),
    [("gaussian", 300), ("ring_of_8", 1000), ("plateau", 500), ("banana", 500)],
)
def test_exact_samples_score_the_expected_coverage(contexts, oracle: str, num_samples: int) -> None:
    context = contexts(oracle)
    scores = np.array(
        [
            grid_coverage(context.truth.sample(num_samples, np.random.default_rng(seed)), context)
            for seed in range(NUM_SEEDS)
        ]
    )
    expected = expected_grid_coverage(context, num_samples)
    standard_error = scores.std(ddof=1) / np.sqrt(NUM_SEEDS)
    assert abs(scores.mean() - expected) <= 4 * standard_error
    # Exact samples do not cover everything: the expectation is visibly below 1.
    assert np.all(scores < 1.0)
    assert expected < 1.0 - 10 * standard_error


def test_expected_coverage_known_values(contexts) -> None:
    context = contexts("ring_of_8")
    mass = context.grid.cell_mass
    assert expected_grid_coverage(context, 0) == 0.0
    assert expected_grid_coverage(context, 1) == pytest.approx(np.sum(mass**2))
    values = [expected_grid_coverage(context, n) for n in (10, 100, 1000, 10**9)]
    assert np.all(np.diff(values) > 0)
    # 10⁹ samples hit every cell of mass ≥ 1e-8 (miss probability e^-10 each), never more.
    assert mass[mass >= 1e-8].sum() - 1e-4 * mass.sum() <= values[-1] <= mass.sum()


def test_one_sample_per_cell_covers_the_box(contexts) -> None:
    context = contexts("gaussian")
    grid = context.grid
    edges = [np.linspace(lo, hi, grid.bins + 1) for lo, hi in grid.bounds]
    centres = [0.5 * (e[1:] + e[:-1]) for e in edges]
    points = np.stack([m.ravel() for m in np.meshgrid(*centres, indexing="ij")], axis=1)
    assert grid_coverage(points, context) == pytest.approx(1.0 - grid.outside_mass)


def test_a_point_mass_covers_one_cell(contexts) -> None:
    context = contexts("gaussian")
    point_mass = np.zeros((50, 2))
    (cell,) = np.unique(context.grid.cell_index(point_mass))
    assert grid_coverage(point_mass, context) == context.grid.cell_mass[cell]


def test_samples_outside_the_box_cover_nothing(contexts) -> None:
    context = contexts("plateau")
    outside = context.truth.bounds[:, 1] + np.linspace(0.1, 5.0, 20)[:, None]
    assert grid_coverage(outside, context) == 0.0


def test_grid_metrics_are_nan_and_say_2d_only_outside_dim_2(contexts) -> None:
    context = contexts("gaussian_3d")
    scores = evaluate(context.truth.sample(50, np.random.default_rng(0)), context)
    assert np.isnan(scores["grid_coverage"]) and np.isnan(scores["reverse_kl"])
    assert METRICS["grid_coverage"].note == METRICS["reverse_kl"].note == "2-D only"
    with pytest.raises(ValueError, match="need dim 2"):
        expected_grid_coverage(context, 10)
