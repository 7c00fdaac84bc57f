"""The sets of known quality and the standard error behind the ranking's margins."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.metrics.known_quality import (
    heaviest_mode_moved,
    kde_bandwidth,
    known_quality_sets,
    truth_tuned_blur_scale,
)
from hdbench.metrics.ustatistic import u_statistic
from hdbench.oracles import load_oracle
from hdbench.oracles.acceptability import nearest_modes


def test_u_statistic_error_matches_hoeffding() -> None:
    """h(x, y) = x y for x ~ N(μ, 1): U estimates μ², ζ₁ = μ², ζ₂ = 1 + 2μ²."""
    num, mu = 400, 0.7
    x = np.random.default_rng(0).normal(mu, 1.0, num)
    matrix = np.outer(x, x)
    np.fill_diagonal(matrix, 0.0)
    mean, error = u_statistic(matrix.sum(axis=1), float(np.sum(matrix**2)))
    exact = np.sqrt((4 * (num - 2) * mu**2 + 2 * (1 + 2 * mu**2)) / (num * (num - 1)))
    assert mean == pytest.approx((x.sum() ** 2 - (x**2).sum()) / (num * (num - 1)))
    assert error == pytest.approx(exact, rel=0.15)


def test_the_heaviest_mode_is_emptied_and_the_rest_keep_their_proportions() -> None:
    truth = load_oracle("three_bumps").truth
    points = heaviest_mode_moved(truth, 4000, np.random.default_rng(0))
    counts = np.bincount(nearest_modes(points, truth.modes)[0], minlength=3)
    weights = np.array([mode.mass for mode in truth.modes])
    assert counts[np.argmax(weights)] == 0
    others = np.delete(weights, np.argmax(weights))
    expected = others / others.sum()
    observed = np.delete(counts, np.argmax(weights)) / len(points)
    assert np.all(np.abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / 4000))


def test_one_mode_has_no_mass_to_move() -> None:
    with pytest.raises(ValueError, match="at least 2 modes"):
        heaviest_mode_moved(load_oracle("paper_like").truth, 10, np.random.default_rng(0))


def test_bandwidths_chosen_with_and_without_the_truth() -> None:
    """The real data of ring_of_8_discover hold 3 of the 8 bumps (sd 0.3): the KDE picks a
    bandwidth near the bumps' width; the blur tuned on the truth spreads to reach the other 5."""
    oracle = load_oracle("ring_of_8_discover")
    by_real_data = kde_bandwidth(oracle.real_data)
    by_truth = truth_tuned_blur_scale(oracle.truth, oracle.real_data, np.random.default_rng(0))
    assert 0.05 < by_real_data < 0.6
    assert by_truth > 2 * by_real_data


def test_every_set_has_the_asked_size() -> None:
    oracle = load_oracle("grid_5x5_discover")
    sets = known_quality_sets(oracle.truth, oracle.real_data, 50, np.random.default_rng(0))
    assert len(sets) == 10
    assert all(points.shape == (50, 2) for points in sets.values())
