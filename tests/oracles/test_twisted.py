"""The `twisted` kind: volume-preserving twists of Gaussian bumps, exact in any dimension."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.oracles import load_oracle
from hdbench.oracles.acceptability import Acceptability
from hdbench.oracles.kinds.twisted import TwistedAcceptability, TwistedParams
from hdbench.oracles.spec import validate


def bent_bump(dim: int, seed: int = 0) -> TwistedAcceptability:
    """Two bent, anisotropic bumps in `dim` dimensions along random orthonormal directions."""
    rng = np.random.default_rng(seed)
    bumps = []
    for k, peak in enumerate((0.8, 0.5)):
        axes, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        sds = np.r_[0.8, np.full(dim - 1, 0.25)]
        cov = axes @ np.diag(sds**2) @ axes.T
        bumps.append(
            {
                "mean": [3.0 * (2 * k - 1)] + [0.0] * (dim - 1),
                "cov": (0.5 * (cov + cov.T)).tolist(),
                "peak": peak,
                "bend": 0.8 * (2 * k - 1),
                "spine": axes[:, 0].tolist(),
                "towards": axes[:, 1].tolist(),
            }
        )
    return TwistedAcceptability.from_params(validate(TwistedParams, {"bumps": bumps}, "test"))


@pytest.mark.parametrize("dim", [2, 5])
def test_the_score_is_the_gradient_of_log_d(dim):
    truth = bent_bump(dim)
    x = truth.sample(200, np.random.default_rng(1))
    step = 1e-5
    numeric = np.stack(
        [
            (np.log(truth(x + step * e)) - np.log(truth(x - step * e))) / (2 * step)
            for e in np.eye(dim)
        ],
        axis=1,
    )
    np.testing.assert_allclose(truth.score(x), numeric, atol=1e-5 * np.abs(numeric).max())


def test_the_normaliser_is_the_untwisted_one():
    """The twist keeps volume: quadrature of D over the box (801² midpoints) equals
    Σ h_k √det(2π Σ_k)."""
    truth = bent_bump(2)
    quadrature = Acceptability.normaliser.func(truth)
    assert quadrature == pytest.approx(truth.normaliser, rel=1e-3)


@pytest.mark.parametrize("dim", [2, 4])
def test_exact_samples_have_the_moments_of_the_modes(dim):
    """The modes are the bumps' exact means and covariances, with their masses: the samples'
    mean is Σ w_k μ_k and their second moment Σ w_k (C_k + μ_k μ_kᵀ), each coordinate within
    4 standard errors over 40,000 draws."""
    truth = bent_bump(dim)
    x = truth.sample(40_000, np.random.default_rng(2))
    weights = np.array([mode.mass for mode in truth.modes])
    mean = sum(m.mass * m.location for m in truth.modes)
    second = sum(m.mass * (m.cov + np.outer(m.location, m.location)) for m in truth.modes)
    np.testing.assert_allclose(weights, truth.weights)
    assert np.all(np.abs(x.mean(0) - mean) < 4 * x.std(0) / np.sqrt(len(x)))
    products = x[:, :, None] * x[:, None, :]
    se = products.std(0) / np.sqrt(len(x))
    assert np.all(np.abs(products.mean(0) - second) < 4 * se)


def test_steins_identity_holds_in_eight_dimensions():
    """E[∇log D(x) · (x - a)] = -dim under p_D; 20,000 samples, within 4 standard errors."""
    truth = bent_bump(8)
    x = truth.sample(20_000, np.random.default_rng(3))
    terms = np.sum(truth.score(x) * (x - 0.5), axis=1)
    assert abs(terms.mean() + 8) < 4 * terms.std() / np.sqrt(len(terms))


def test_the_two_arcs_load_with_real_data_on_the_left_arc():
    """A twisted discovery oracle. Not bundled: `exact_score`'s plain Langevin (its smoothed
    score has no closed form) does not cross from the left arc to the right one, so it would be
    no ceiling there."""
    oracle = load_oracle(str(Path(__file__).parent / "specs" / "two_arcs_discover.toml"))
    assert (
        oracle.real_data[:, 0].max()
        < 0
        < oracle.truth.sample(100, np.random.default_rng(0))[:, 0].max()
    )


def test_directions_that_are_not_orthogonal_are_one_line():
    bump = {"mean": [0.0, 0.0], "cov": [[1.0, 0.0], [0.0, 1.0]], "bend": 1.0, "towards": [1.0, 1.0]}
    with pytest.raises(SpecError, match="towards: expected a direction orthogonal to spine"):
        validate(TwistedParams, {"bumps": [bump]}, "spec.toml", "acceptability")


def test_exact_score_anneals_only_where_the_smoothed_score_is_closed_form():
    """Bent bumps' smoothed score costs 1,024 evaluations of D a point: exact_score's `auto`
    keeps plain Langevin with their closed-form score."""
    from hdbench.methods.exact_score import ExactScoreParams
    from hdbench.samplers.plain_langevin import PlainLangevinSampler

    assert not bent_bump(2).closed_form_smoothing
    chain = ExactScoreParams().chain(bent_bump(2).closed_form_smoothing)
    assert isinstance(chain, PlainLangevinSampler)
