"""The exact score of D smoothed at σ, ∇log (D * N(0, σ² I)), against quadrature.

For every bundled 2-D oracle, the convolution and its gradient are integrated on a fine grid:

    ∇log (D * φ_σ)(x) = Σ_y D(y) φ_σ(x - y) (y - x) / (σ² Σ_y D(y) φ_σ(x - y)),

the midpoint rule on a 250² grid over the box widened by 5σ. A cell is at most 0.6 σ here, and
the midpoint rule's relative error on a Gaussian kernel falls as exp(-2π² σ² / h²), below 10⁻²⁰.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from hdbench.oracles import find_specs, load_oracle
from hdbench.oracles.acceptability import Acceptability, box_grid
from hdbench.oracles.kinds.gaussian import GaussianAcceptability
from hdbench.oracles.kinds.mixture import MixtureAcceptability

#: One 2-D oracle per distinct acceptability (a discovery oracle shares its base's).
PLANAR = list(
    {
        json.dumps(oracle.spec.acceptability, sort_keys=True): name
        for name, oracle in ((name, load_oracle(name)) for name in find_specs())
        if oracle.dim == 2
    }.values()
)
SIGMAS = (0.2, 0.5, 2.0)


def quadrature_score(truth: Acceptability, x: np.ndarray, sigma: float) -> np.ndarray:
    """∇log (D * φ_σ) at x (n, 2) by the midpoint rule: shape (n, 2)."""
    lo, hi = truth.bounds.T
    grid, _ = box_grid(np.stack([lo - 5 * sigma, hi + 5 * sigma], axis=1), 250)
    values = truth(grid)
    grid, values = grid[values > 0], values[values > 0]
    scores = np.empty_like(x)
    for i, point in enumerate(x):
        weights = values * np.exp(-((grid - point) ** 2).sum(axis=1) / (2 * sigma**2))
        scores[i] = weights @ (grid - point) / (sigma**2 * weights.sum())
    return scores


def relative_rms(estimate: np.ndarray, reference: np.ndarray) -> float:
    """RMS of the error over RMS of the reference, over points (n, dim)."""
    error = np.sqrt(((estimate - reference) ** 2).sum(axis=1).mean())
    return float(error / np.sqrt((reference**2).sum(axis=1).mean()))


@pytest.fixture(params=PLANAR, scope="module")
def case(request):
    truth = load_oracle(request.param).truth
    x = truth.sample(100, np.random.default_rng(4))
    return truth, x, {sigma: quadrature_score(truth, x, sigma) for sigma in SIGMAS}


def test_sigma_zero_is_the_score(case):
    truth, x, _ = case
    np.testing.assert_array_equal(truth.smoothed_score(x, 0.0), truth.score(x))


def test_smoothed_score_matches_quadrature(case):
    truth, x, reference = case
    closed_form = type(truth) in (GaussianAcceptability, MixtureAcceptability)  # not bent ones
    for sigma in SIGMAS:
        error = relative_rms(truth.smoothed_score(x, sigma), reference[sigma])
        # Closed forms agree to rounding (measured: 1e-14); the quasi-Monte Carlo fallback to
        # the accuracy its docstring states (measured: at most 2.6%).
        assert error < (1e-9 if closed_form else 0.05), (sigma, error)


def test_quasi_monte_carlo_fallback_also_holds_where_a_closed_form_exists(case):
    truth, x, reference = case
    for sigma in SIGMAS:
        assert relative_rms(Acceptability.smoothed_score(truth, x, sigma), reference[sigma]) < 0.05


def test_smoothed_score_is_a_deterministic_function_of_x():
    truth = load_oracle("banana").truth
    x = truth.sample(10, np.random.default_rng(5))
    np.testing.assert_array_equal(truth.smoothed_score(x, 0.5), truth.smoothed_score(x, 0.5))
    # Point by point as in a batch: the draws do not depend on the batch.
    single = np.vstack([truth.smoothed_score(point[None], 0.5) for point in x])
    np.testing.assert_allclose(single, truth.smoothed_score(x, 0.5), rtol=1e-12, atol=1e-15)


def test_the_score_at_a_hard_edge_is_the_slope_inside_and_zero_outside():
    """D = exp(-|x|²/2) cut to 0 outside [-1, 1]²: within a stencil step of the edge the score
    is -x (the slope of log D inside), and just outside it is 0. A central difference across
    the edge gave -1/(2 step) ≈ -5·10⁴ inside and about 10³⁰⁴ outside, which threw a Langevin
    particle out of every space."""
    from hdbench.oracles.kinds.python_callable import PythonAcceptability

    truth = PythonAcceptability(
        function="tests.oracles.functions:gaussian_in_a_box",
        dim=2,
        bounds=[[-1.0, 1.0], [-1.0, 1.0]],
        modes=[],
    )
    inside = np.array([[1 - 3e-6, 0.2], [-0.3, -1 + 3e-6], [1 - 3e-6, 1 - 3e-6]])
    np.testing.assert_allclose(truth.score(inside), -inside, atol=1e-4)
    outside = np.array([[1 + 3e-6, 0.2], [-0.3, -1 - 3e-6], [5.0, 0.0]])
    np.testing.assert_array_equal(truth.score(outside), np.zeros((3, 2)))
