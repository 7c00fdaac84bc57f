"""Contract tests: every acceptability kind and every spec found on the search path."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hdbench.oracles import find_specs, load_oracle
from hdbench.oracles.acceptability import Acceptability, box_grid
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS

SPECS = find_specs()
ORACLES = {name: load_oracle(name) for name in SPECS}


@pytest.fixture(params=sorted(ORACLES), scope="module")
def oracle(request):
    return ORACLES[request.param]


def test_every_kind_has_a_shipped_spec():
    used = {o.spec.acceptability["kind"] for o in ORACLES.values()}
    assert set(ACCEPTABILITY_KINDS) <= used


def test_values_lie_in_unit_interval_near_and_far(oracle):
    rng = np.random.default_rng(1)
    lo, hi = oracle.truth.bounds.T
    near = rng.uniform(lo, hi, (2000, oracle.dim))
    far = near * 1e3
    for x in (near, far, oracle.real_data):
        values = oracle.truth(x)
        assert values.shape == (len(x),)
        assert np.all((values >= 0) & (values <= 1))
    assert oracle.truth(far).max() < 1e-6
    assert 0 < oracle.truth.peak <= 1


def test_samples_follow_d_on_a_grid(oracle):
    """Chi-square test of 20,000 exact samples against D integrated over a 12×12 grid."""
    truth = oracle.truth
    samples = truth.sample(20_000, np.random.default_rng(2))
    edges = [np.linspace(lo, hi, 13) for lo, hi in truth.bounds]
    observed, *_ = np.histogram2d(samples[:, 0], samples[:, 1], bins=edges)
    fine, cell = box_grid(truth.bounds, 240)
    mass = (truth(fine) * cell).reshape(12, 20, 12, 20).sum(axis=(1, 3)) / truth.normaliser
    expected = mass * len(samples)
    enough = expected > 5
    pooled_obs = np.r_[observed[enough], observed[~enough].sum() + (len(samples) - observed.sum())]
    pooled_exp = np.r_[expected[enough], len(samples) - expected[enough].sum()]
    result = stats.chisquare(pooled_obs, pooled_exp)
    assert result.pvalue > 1e-3, f"{oracle.name}: chi-square p = {result.pvalue:.2e}"


def test_normaliser_matches_monte_carlo(oracle):
    truth = oracle.truth
    lo, hi = truth.bounds.T
    volume = np.prod(hi - lo)
    values = truth(np.random.default_rng(3).uniform(lo, hi, (400_000, truth.dim)))
    estimate, stderr = volume * values.mean(), volume * values.std() / np.sqrt(len(values))
    assert abs(truth.normaliser - estimate) < 5 * stderr


def test_score_is_the_gradient_of_log_d(oracle):
    truth = oracle.truth
    x = truth.sample(200, np.random.default_rng(4))
    step = 1e-5
    numeric = np.stack(
        [
            (np.log(truth(x + step * e)) - np.log(truth(x - step * e))) / (2 * step)
            for e in np.eye(truth.dim)
        ],
        axis=1,
    )
    np.testing.assert_allclose(truth.score(x), numeric, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(truth.grad(x), truth(x)[:, None] * truth.score(x), atol=1e-9)


def test_modes_have_masses_summing_to_one(oracle):
    modes = oracle.truth.modes
    if modes:
        assert sum(m.mass for m in modes) == pytest.approx(1.0)
        for mode in modes:
            assert mode.location.shape == (oracle.dim,)
            assert mode.cov.shape == (oracle.dim, oracle.dim)


def test_box_holds_the_target(oracle):
    samples = oracle.truth.sample(20_000, np.random.default_rng(5))
    lo, hi = oracle.truth.bounds.T
    assert np.all((samples >= lo) & (samples <= hi), axis=1).mean() > 0.999


def test_sampling_is_seeded(oracle):
    a = oracle.truth.sample(50, np.random.default_rng(6))
    b = oracle.truth.sample(50, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)


def test_acceptable_region_is_wider_than_real_data(oracle):
    target = oracle.truth.sample(20_000, np.random.default_rng(7))
    assert np.trace(np.cov(target.T)) > np.trace(np.cov(oracle.real_data.T))


def test_generic_rejection_sampler_agrees_with_closed_form():
    """The base class's rejection sampler against the Gaussian's closed form."""
    truth = ORACLES["paper_like"].truth
    rejection = Acceptability.sample(truth, 20_000, np.random.default_rng(8))
    exact = truth.sample(20_000, np.random.default_rng(9))
    for axis in range(truth.dim):
        assert stats.ks_2samp(rejection[:, axis], exact[:, axis]).pvalue > 1e-3
