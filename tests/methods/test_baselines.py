"""The ratings-free baselines and the truth-tuned blur: what a method must beat."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.estimators.blur import (
    best_scale,
    blur_log_likelihood,
    leave_one_out_log_likelihood,
)
from hdbench.methods.base import ReferenceProblem
from hdbench.methods.plugins import resolve_method
from hdbench.oracles import load_oracle
from hdbench.protocol import Problem
from hdbench.rng import named_generator


def finish(name: str, problem: Problem, seed: int = 0):
    method = resolve_method(name)
    params = method.Params()
    state = method.init(params, problem, named_generator(seed, "method", name))
    assert method.ask(params, problem, state) is None
    return method.finish(params, problem, state)


@pytest.fixture(scope="module")
def oracle():
    return load_oracle("three_bumps_discover")


def test_the_search_finds_the_leave_one_out_maximum():
    """best_scale against a dense grid of the same likelihood: within the grid's spacing."""
    centres = np.random.default_rng(0).standard_normal((100, 3))
    found = best_scale(lambda h: leave_one_out_log_likelihood(centres, h), centres)
    grid = np.geomspace(0.05, 3, 400)
    values = [leave_one_out_log_likelihood(centres, h) for h in grid]
    assert found == pytest.approx(grid[int(np.argmax(values))], rel=0.011)


def test_the_blur_of_one_point_is_fit_to_the_targets_own_scale():
    """Centres all at 0, target N(0, I) in 2-D: the blur N(0, h² I) closest in KL has h = 1;
    its estimate h² = mean ‖x‖² / 2 from 4,000 draws has relative sd 1/√4000: within 4 sd."""
    target = np.random.default_rng(1).standard_normal((4000, 2))
    centres = np.zeros((10, 2))
    found = best_scale(lambda h: blur_log_likelihood(target, centres, h), np.ones((2, 2)))
    assert found**2 == pytest.approx(np.mean(np.sum(target**2, axis=1)) / 2, rel=1e-3)
    assert abs(found**2 - 1) < 4 / np.sqrt(4000)


def test_the_resampled_real_data_are_the_real_data(oracle):
    problem = Problem(oracle.dim, oracle.listener.slider, oracle.real_data, num_eval_samples=300)
    samples = finish("real_resampled", problem).samples
    assert samples.shape == (300, 2)
    assert {tuple(p) for p in samples} <= {tuple(p) for p in oracle.real_data}


def test_the_kde_spreads_the_real_data_by_its_chosen_bandwidth(oracle):
    """Samples minus their nearest real datum have sd ≈ the bandwidth (which the KDE picks
    below the real data's own spread): 3,000 samples, within 4 standard errors of the sd."""
    problem = Problem(oracle.dim, oracle.listener.slider, oracle.real_data, num_eval_samples=3000)
    output = finish("real_kde", problem)
    bandwidth = float(output.arrays["bandwidth"][0])
    assert 0 < bandwidth < oracle.real_data.std()
    spread = np.sqrt(np.mean((output.samples - oracle.real_data.mean(0)) ** 2))
    expected = np.sqrt(np.mean((oracle.real_data - oracle.real_data.mean(0)) ** 2) + bandwidth**2)
    assert spread == pytest.approx(expected, rel=4 * np.sqrt(2 / 6000))


def test_the_tuned_blur_sees_the_truth_and_blurs_wider_where_mass_is_unseen(oracle):
    """On three_bumps_discover the real data hold the lowest bump only: the scale best for the
    truth is wider than the one the real data pick for themselves."""
    slider = oracle.listener.slider
    known = (oracle.dim, slider, oracle.real_data, None, 500)
    tuned = finish("tuned_blur", ReferenceProblem(*known, truth=oracle.truth))
    own = finish("real_kde", Problem(*known))
    assert tuned.arrays["scale"][0] > 2 * own.arrays["bandwidth"][0]
    with pytest.raises(TypeError, match="tuned_blur is a reference method"):
        finish("tuned_blur", Problem(*known))
