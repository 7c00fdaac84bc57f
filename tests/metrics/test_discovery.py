"""Discovery metrics: known answers on a context whose real data hold one of three bumps."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.metrics import METRICS, evaluate
from hdbench.metrics.discovery import (
    expected_discovery_coverage,
    far_cells,
    far_mass,
    has_far_mass,
    has_unvisited_modes,
    modes_without_real_data,
)

DISCOVERY = ["modes_discovered", "modes_discovered_strict", "discovery_mass", "discovery_coverage"]


@pytest.fixture(scope="module")
def context(contexts):
    """three_bumps with real data on bump 2 only."""
    return contexts("three_bumps_discover")


def bump_samples(context, index: int, num: int, seed: int) -> np.ndarray:
    """Points (num, 2) of the mixture's component `index`."""
    mode = context.truth.modes[index]
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(mode.location, mode.cov, size=num)


def test_only_the_bumps_without_real_data_are_to_be_discovered(context) -> None:
    np.testing.assert_array_equal(modes_without_real_data(context), [True, True, False])
    assert has_unvisited_modes(context) and has_far_mass(context)


def test_the_real_data_discover_nothing(context) -> None:
    scores = evaluate(context.real_data, context)
    assert all(scores[name] == 0.0 for name in DISCOVERY)


def test_exact_samples_discover_every_bump_and_their_expected_coverage(context) -> None:
    rng = np.random.default_rng(1)
    values = []
    for _ in range(30):
        scores = evaluate(context.truth.sample(300, rng), context)
        assert scores["modes_discovered"] == scores["modes_discovered_strict"] == 2.0
        values.append(scores["discovery_coverage"])
    expected = expected_discovery_coverage(context, 300)
    # The closed-form expectation, within 4 standard errors of the mean over 30 sets.
    assert abs(np.mean(values) - expected) < 4 * np.std(values, ddof=1) / np.sqrt(len(values))
    assert 0.5 < expected < 1.0


def test_samples_on_one_new_bump_discover_it_and_part_of_the_mass(context) -> None:
    samples = bump_samples(context, 0, 400, seed=2)
    scores = evaluate(samples, context)
    assert scores["modes_discovered"] == scores["modes_discovered_strict"] == 1.0
    # Bump 0 holds w_0 = 0.9 / 1.85 of the target, all of it far from the real data.
    weight = context.truth.modes[0].mass
    assert 0.8 * weight < scores["discovery_mass"] <= weight + 1e-9
    share = scores["discovery_mass"] / far_mass(context)
    assert scores["discovery_coverage"] == pytest.approx(share)


def test_one_stray_sample_discovers_a_bump_only_loosely(context) -> None:
    samples = np.vstack([bump_samples(context, 0, 200, seed=3), bump_samples(context, 1, 1, 4)])
    assert METRICS["modes_discovered"].fn(samples, context) == 2.0
    assert METRICS["modes_discovered_strict"].fn(samples, context) == 1.0


def test_far_cells_are_those_beyond_one_cell_of_every_real_datum(context) -> None:
    grid = context.grid
    far = far_cells(context).reshape(grid.bins, grid.bins)
    cells = grid.cell_index(context.real_data)
    rows, columns = np.divmod(cells[cells < grid.num_cells], grid.bins)
    expected = np.ones_like(far)
    for row, column in zip(rows, columns, strict=True):
        expected[max(row - 1, 0) : row + 2, max(column - 1, 0) : column + 2] = False
    np.testing.assert_array_equal(far, expected)
    assert far_mass(context) == pytest.approx(grid.cell_mass[expected.ravel()].sum())
