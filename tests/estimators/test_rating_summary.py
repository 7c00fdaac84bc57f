"""Rating summaries: contract tests over the registry, the KDE mode's choices, and the paper's
reason for the mode: near the top of the slider the mean of ratings is biased low."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import gaussian_kde

import hdbench.estimators.rating_summary as rating_summary
from hdbench.errors import SpecError
from hdbench.estimators import (
    BANDWIDTH_FLOOR,
    NUM_GRID,
    RATING_SUMMARIES,
    NESEstimator,
    kde_bandwidth,
    kde_mode,
    summarise,
)
from hdbench.oracles import collect, load_oracle

SUMMARIES = list(RATING_SUMMARIES)
GRID_STEP = 1.0 / (NUM_GRID - 1)


def random_ratings(num_points: int = 300, num_ratings: int = 40, seed: int = 0) -> np.ndarray:
    """Ratings on the unit slider's 0.01 grid, shape (num_points, num_ratings): each point has
    its own true value, Gaussian noise, clipping at both ends and 2% uniform lapses."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (num_points, 1))
    values = centres + 0.1 * rng.standard_normal((num_points, num_ratings))
    values = np.where(rng.random(values.shape) < 0.02, rng.random(values.shape), values)
    return np.round(np.clip(values, 0, 1), 2)


# --- contract tests over every registered summary ------------------------------------------------


def test_the_registry_holds_the_three_summaries() -> None:
    assert SUMMARIES == ["mean", "median", "mode"]


@pytest.mark.parametrize("name", SUMMARIES)
def test_summaries_give_one_value_per_point_on_the_slider(name: str) -> None:
    ratings = random_ratings()
    estimates = summarise(ratings, name)
    assert estimates.shape == (300,)
    assert np.isfinite(estimates).all()
    assert ((estimates >= 0) & (estimates <= 1)).all()
    assert summarise(ratings[:0], name).shape == (0,)


@pytest.mark.parametrize("name", SUMMARIES)
def test_summaries_are_vectorised_row_by_row(name: str) -> None:
    """The batch result equals summarising each point on its own, and ignores rating order."""
    ratings = random_ratings(num_points=30)
    estimates = summarise(ratings, name)
    one_by_one = np.concatenate([summarise(row[None], name) for row in ratings])
    np.testing.assert_array_equal(estimates, one_by_one)
    shuffled = np.random.default_rng(1).permuted(ratings, axis=1)
    np.testing.assert_allclose(summarise(shuffled, name), estimates, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", SUMMARIES)
def test_summaries_treat_both_ends_of_the_slider_alike(name: str) -> None:
    """Mirroring the ratings (r → 1 − r) mirrors the estimates: no end is favoured."""
    ratings = random_ratings(num_points=100)
    np.testing.assert_allclose(
        summarise(1 - ratings, name), 1 - summarise(ratings, name), rtol=0, atol=1e-9
    )


@pytest.mark.parametrize("name", SUMMARIES)
@pytest.mark.parametrize("value", [0.0, 1.0, 0.37, 0.1, 1 / 3])
@pytest.mark.parametrize("num_ratings", [1, 2, 40])
def test_equal_ratings_give_exactly_that_value(name: str, value: float, num_ratings: int) -> None:
    """A clipped region (all 0 or all 1) or any other run of equal ratings: that value, no NaN
    and no warning (e.g. from a zero bandwidth or a zero IQR)."""
    ratings = np.full((5, num_ratings), value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimates = summarise(ratings, name)
    assert np.array_equal(estimates, np.full(5, value))


# --- the KDE mode's documented choices -----------------------------------------------------------


def test_the_default_summary_is_the_kde_mode() -> None:
    ratings = random_ratings(num_points=20)
    np.testing.assert_array_equal(summarise(ratings), kde_mode(ratings))


def test_bandwidth_is_silvermans_rule_with_a_floor() -> None:
    spread_out = np.linspace(0.1, 0.9, 40)[None]
    sd = spread_out.std(ddof=1)
    iqr_sd = np.subtract(*np.percentile(spread_out, [75, 25])) / 1.349
    expected = 0.9 * min(sd, iqr_sd) * 40 ** (-0.2)
    np.testing.assert_allclose(kde_bandwidth(spread_out), [expected], rtol=1e-12)
    # The middle half of the ratings on one value: IQR 0, so the standard deviation alone is used.
    piled = np.r_[np.ones(32), np.linspace(0.5, 0.9, 8)][None]
    assert np.percentile(piled, 25) == np.percentile(piled, 75) == 1.0
    expected = 0.9 * piled.std(ddof=1) * 40 ** (-0.2)
    np.testing.assert_allclose(kde_bandwidth(piled), [expected], rtol=1e-12)
    # Nearly equal ratings: the floor.
    assert kde_bandwidth(np.full((1, 40), 0.5) + np.r_[0.01, np.zeros(39)])[0] == BANDWIDTH_FLOOR


def test_kde_mode_is_the_argmax_of_scipys_gaussian_kde_on_the_grid() -> None:
    """scipy's gaussian_kde with the same bandwidth (its factor multiplies the sample standard
    deviation) peaks at the same grid point."""
    ratings = random_ratings(num_points=40, seed=2)
    grid = np.linspace(0, 1, NUM_GRID)
    bandwidth = kde_bandwidth(ratings)
    expected = [
        grid[np.argmax(gaussian_kde(row, bw_method=h / row.std(ddof=1))(grid))]
        for row, h in zip(ratings, bandwidth, strict=True)
    ]
    np.testing.assert_array_equal(kde_mode(ratings), expected)


def test_kde_mode_finds_the_majority_cluster_where_the_mean_does_not() -> None:
    """30 ratings spread symmetrically about 0.3 and 10 about 0.8: the mode is 0.3 to within a
    grid step, the mean is 0.425."""
    near = 0.3 + np.linspace(-0.05, 0.05, 30)
    far = 0.8 + np.linspace(-0.05, 0.05, 10)
    ratings = np.r_[near, far][None]
    assert abs(kde_mode(ratings)[0] - 0.3) <= GRID_STEP
    assert summarise(ratings, "mean")[0] == pytest.approx(0.425)


def test_kde_mode_ties_go_to_the_lowest_grid_point() -> None:
    """Two ratings 0.25 and 0.75 make two equal bumps (both on the grid, exactly)."""
    assert kde_mode(np.array([[0.25, 0.75], [0.75, 0.25]])).tolist() == [0.25, 0.25]


def test_kde_mode_in_blocks_equals_kde_mode_in_one_go(monkeypatch: pytest.MonkeyPatch) -> None:
    ratings = random_ratings(num_points=50)
    whole = kde_mode(ratings)
    monkeypatch.setattr(rating_summary, "MAX_KDE_CELLS", 7 * 40 * NUM_GRID)  # blocks of 7 points
    np.testing.assert_array_equal(kde_mode(ratings), whole)


# --- why the paper uses the mode: the top of the slider ------------------------------------------


def test_near_the_top_of_the_slider_the_mode_recovers_d_and_the_mean_is_biased_low() -> None:
    """`plateau` (D ≈ 1 over a disc of radius 3, noisy listener) rated through NES pairs.

    300 points uniform in the disc of radius 0.5 (D(x̂) ∈ [0.998, 0.9995]); σ_NES = 0.5 keeps
    99.9% of the 2R = 40 stimuli per point within radius 0.5 + 0.5·√13.8 ≈ 2.4, where D > 0.83.

    Mean: at D = 1 a rating is min(1 + e, 1) with e ~ N(0, s²), s² = noise_sd² + bias_sd², whose
    expectation is 1 − s/√(2π); a lapse (rate 2%) replaces it by a uniform answer of mean 0.5.
    The expected mean is thus D − b with b = 0.98·s/√(2π) + 0.02·0.5 ≈ 0.054 at D = 1, and the
    perturbed stimuli, rated at D(x ± Δ) ≤ 1, only lower it. We ask for a bias beyond b/2: the
    slack b/2 ≈ 0.027 is over 5 standard errors of the panel-average listener bias
    (bias_sd/√105 ≈ 0.005), the largest error shared by all points.

    Mode: a KDE cannot locate a pile of ratings more finely than its bandwidth, whose floor is
    0.02; we ask that the mode's mean absolute error be below that floor, and below the mean's.
    """
    plateau = load_oracle("plateau")
    listener = plateau.listener
    rng = np.random.default_rng(11)
    radius = 0.5 * np.sqrt(rng.random(300))
    angle = 2 * np.pi * rng.random(300)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    nes = NESEstimator(0.5, 20)
    delta = nes.perturbations(len(x), 2, rng)
    panel = plateau.panel(seed=11)
    pooled = nes.pooled_ratings(collect(panel, panel.submit(nes.paired_trials(x, delta))))
    truth = plateau.truth(x)
    assert pooled.shape == (300, 40)
    assert truth.min() > 0.998

    s = np.hypot(listener.noise_sd, listener.bias_sd)
    b = (1 - listener.lapse_rate) * s / np.sqrt(2 * np.pi) + listener.lapse_rate * 0.5
    mean_error = summarise(pooled, "mean") - truth
    mode_error = summarise(pooled, "mode") - truth
    assert mean_error.mean() < -b / 2
    assert np.abs(mode_error).mean() < BANDWIDTH_FLOOR
    assert np.abs(mode_error).mean() < np.abs(mean_error).mean()


# --- bad arguments -------------------------------------------------------------------------------


def test_an_unknown_summary_name_raises_a_one_line_spec_error() -> None:
    with pytest.raises(SpecError) as error:
        summarise(random_ratings(num_points=2), "trimmed_mean")
    message = str(error.value)
    assert message == ("unknown rating summary 'trimmed_mean'; expected one of: mean, median, mode")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("ratings", "pattern"),
    [
        (np.full(40, 0.5), r"^ratings: expected shape \(num_points, num_ratings\)"),
        (np.zeros((3, 0)), r"^ratings: expected shape \(num_points, num_ratings\)"),
        (np.full((2, 4), 1.2), r"^ratings: expected finite values in \[0, 1\]"),
        (np.full((2, 4), -0.1), r"^ratings: expected finite values in \[0, 1\]"),
        (np.full((2, 4), np.nan), r"^ratings: expected finite values in \[0, 1\]"),
    ],
)
@pytest.mark.parametrize("name", SUMMARIES)
def test_bad_ratings_raise_a_one_line_spec_error(
    ratings: np.ndarray, pattern: str, name: str
) -> None:
    with pytest.raises(SpecError, match=pattern) as error:
        summarise(ratings, name)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"bandwidth_floor": 0.0}, "bandwidth_floor"),
        ({"bandwidth_floor": float("nan")}, "bandwidth_floor"),
        ({"num_grid": 1}, "num_grid"),
        ({"num_grid": 50.5}, "num_grid"),
    ],
)
def test_bad_kde_settings_raise_a_one_line_spec_error(kwargs: dict, field: str) -> None:
    with pytest.raises(SpecError, match=f"^{field}: expected") as error:
        kde_mode(random_ratings(num_points=2), **kwargs)
    assert "\n" not in str(error.value)
