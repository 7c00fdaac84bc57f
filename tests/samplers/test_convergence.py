"""The truth-free convergence diagnostic: it stops stationary clouds and no moving one.

Clouds are drawn afresh at every check (n = 1,000 particles in 2-D, the diagnostic's hardest
case: 16 directions in 2-D are strongly correlated), so each test knows the law at every step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hdbench.samplers.convergence import (
    STATIONARY_RATIO,
    StationarityDiagnostic,
    movement_and_floor,
    projection_directions,
)
from hdbench.samplers.langevin import LangevinSampler

NUM = 1000
LAST = 10_000
CloudFn = Callable[[int, np.random.Generator], np.ndarray]


def watch(cloud_at: CloudFn, seed: int, **settings) -> StationarityDiagnostic:
    """The diagnostic fed cloud_at(t) at every check up to LAST, until it says stop."""
    rng = np.random.default_rng(seed)
    diagnostic = StationarityDiagnostic(**settings)
    for step in range(diagnostic.check_every, LAST + 1, diagnostic.check_every):
        if diagnostic.update(step, cloud_at(step, rng)):
            break
    return diagnostic


def test_the_ratio_of_two_stationary_clouds_is_one_within_its_spread():
    """movement/floor of independent clouds of one law: mean 1, sd below 0.2 (the constant's
    basis); 300 pairs give the mean to ± 3 · 0.18 / √300 = ± 0.031. Seen: mean 1.013, sd
    0.162, 88 % of the ratios at most 1.2."""
    rng = np.random.default_rng(0)
    directions = projection_directions(2, 16)
    ratios = []
    for _ in range(300):
        now, lagged = rng.standard_normal((2, 400, 2)) @ directions
        movement, floor = movement_and_floor(now, lagged)
        ratios.append(movement / floor)
    assert abs(np.mean(ratios) - 1.0) < 0.031
    assert np.std(ratios) < 0.2
    # A check passes at most one sd above 1: most checks of a stationary cloud pass.
    assert np.mean(np.array(ratios) <= STATIONARY_RATIO) > 0.75


@pytest.mark.parametrize("seed", range(4))
def test_a_stationary_cloud_is_stopped_soon_after_the_fewest_steps(seed):
    diagnostic = watch(lambda t, rng: rng.standard_normal((NUM, 2)), seed)
    assert diagnostic.stop_step is not None
    # 0.88 per check passes: two in a row within 6 checks of min_steps but for < 1 % of seeds.
    assert 1000 <= diagnostic.stop_step <= 1600


@pytest.mark.parametrize("seed", range(4))
def test_a_slowly_drifting_cloud_is_never_stopped(seed):
    """A drift of 4e-4 sd a step (4 sd over 10,000 steps; at η = 0.01 a Langevin step's noise
    is 0.1, 250 times as large) moves the cloud over the half chain before any check from
    min_steps on by ≥ 0.2 sd, four floors (0.05 at n = 1,000)."""
    diagnostic = watch(lambda t, rng: rng.standard_normal((NUM, 2)) + 4e-4 * t, seed)
    assert diagnostic.stop_step is None
    checks = diagnostic.trace_array()
    movement, floor = checks[checks[:, 0] >= diagnostic.min_steps][:, 2:].T
    assert (movement > 2 * floor).all()


def crossing_cloud(relaxation: float) -> tuple[CloudFn, list[float]]:
    """Particles that start in the mode at x = −2 and cross to the mode at +2 (and back) at
    rate 1 / (2 · relaxation) a step, each mode N(±2, 0.5² I): the weight of +2 relaxes to ½
    as ½ (1 − exp(−t / relaxation)). Returns the cloud and the list its weights go to."""
    state = {"step": 0, "right": np.zeros(NUM, dtype=bool)}
    weights: list[float] = []

    def cloud_at(step: int, rng: np.random.Generator) -> np.ndarray:
        flip = 0.5 * (1.0 - np.exp(-(step - state["step"]) / relaxation))
        state["right"] ^= rng.random(NUM) < flip
        state["step"] = step
        weights.append(float(state["right"].mean()))
        x = 0.5 * rng.standard_normal((NUM, 2))
        x[:, 0] += np.where(state["right"], 2.0, -2.0)
        return x

    return cloud_at, weights


@pytest.mark.parametrize("seed", range(3))
def test_a_chain_still_crossing_between_modes_is_never_stopped(seed):
    """Relaxation over 3,000 steps: at step 10,000 the weight is still 0.48, and over each
    half chain it moves by ≥ 0.017 · 4 in x-distance (binomial sd of a weight: 0.016)."""
    cloud_at, weights = crossing_cloud(3000.0)
    assert watch(cloud_at, seed).stop_step is None
    assert weights[-1] < 0.5


@pytest.mark.parametrize("seed", range(3))
def test_a_chain_is_stopped_only_once_the_crossings_are_balanced(seed):
    """Relaxation over 1,000 steps: stopped, and by then the weight is within 4 binomial sd
    (4 · 0.016) of ½."""
    cloud_at, weights = crossing_cloud(1000.0)
    diagnostic = watch(cloud_at, seed)
    assert diagnostic.stop_step is not None
    assert abs(weights[-1] - 0.5) < 4 * 0.5 / np.sqrt(NUM)


def test_a_langevin_chain_stops_once_it_has_reached_its_target_and_stops_where_it_says():
    """Score −x (target N(0, I)) from x = 5: the mean relaxes as (1 − η/2)^t, below the
    cloud's noise (1/√n) by step 1,400 at η = 0.01. The chain stops after that, and its
    particles are those of a fixed chain of that length from the same generator."""
    x0 = np.full((NUM, 2), 5.0)
    sampler = LangevinSampler(0.01, LAST)
    diagnostic = StationarityDiagnostic()
    stopped = sampler.sample(lambda x: -x, x0, np.random.default_rng(1), None, diagnostic)
    assert diagnostic.stop_step is not None and 1400 <= diagnostic.stop_step < LAST
    assert np.abs(stopped.mean(axis=0)).max() < 4 / np.sqrt(NUM)
    rng = np.random.default_rng(1)
    fixed = LangevinSampler(0.01, diagnostic.stop_step).sample(lambda x: -x, x0, rng)
    np.testing.assert_array_equal(stopped, fixed)


def test_chain_sets_that_stop_at_different_steps_each_equal_their_chain_alone():
    x0 = np.stack([np.full((200, 2), 5.0), np.random.default_rng(0).standard_normal((200, 2))])
    sampler = LangevinSampler(0.01, 3000)
    rules = [StationarityDiagnostic(), StationarityDiagnostic()]
    rngs = [np.random.default_rng(k) for k in range(2)]
    together = sampler.sample_many(lambda x: -x, x0, rngs, None, rules)
    assert rules[0].stop_step != rules[1].stop_step
    for k in range(2):
        alone_rule = StationarityDiagnostic()
        alone = sampler.sample(lambda x: -x, x0[k], np.random.default_rng(k), None, alone_rule)
        assert alone_rule.stop_step == rules[k].stop_step
        np.testing.assert_array_equal(together[k], alone)


def test_a_watching_diagnostic_records_its_stop_and_lets_the_chain_run():
    diagnostic = watch(lambda t, rng: rng.standard_normal((NUM, 2)), 0, stops=False)
    assert diagnostic.stop_step is not None
    assert diagnostic.trace_array()[-1, 0] == LAST


@pytest.mark.parametrize("field", ["check_every", "patience", "num_directions"])
def test_bad_settings_name_the_field(field):
    with pytest.raises(ValueError, match=f"^{field}: expected an integer ≥ 1, got 0$"):
        StationarityDiagnostic(**{field: 0})
