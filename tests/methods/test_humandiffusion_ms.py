"""Multi-scale HumanDiffusion: each level's targets estimate D and ∇D smoothed at that level's
σ_NES (Stein's identity), and its settings reach the sampler."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.experiments.run import RunSpec
from hdbench.methods import METHODS
from hdbench.methods.humandiffusion_ms import level_targets
from hdbench.oracles import load_oracle
from hdbench.protocol import Problem


def smoothed_gaussian(x: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """D_σ and ∇D_σ of paper_like's D, peak · exp(-(x - μ)ᵀ Σ⁻¹ (x - μ) / 2): the same form
    with Σ + σ² I and the peak times √(det Σ / det(Σ + σ² I))."""
    mean, cov, peak = np.array([0.5, -1.0]), np.array([[6.0, 1.5], [1.5, 4.0]]), 0.85
    wide = cov + sigma**2 * np.eye(2)
    offset = x - mean
    precision_offset = np.linalg.solve(wide, offset.T).T
    scale = peak * np.sqrt(np.linalg.det(cov) / np.linalg.det(wide))
    d = scale * np.exp(-0.5 * (offset * precision_offset).sum(1))
    return d, -d[:, None] * precision_offset


def test_each_levels_targets_estimate_d_and_its_gradient_smoothed_at_its_own_sigma():
    """An ideal listener on paper_like's Gaussian D: each periphery point's mean rating and
    NES gradient lie within 5 standard errors (from the spread of its R pair terms) of D_σ and
    ∇D_σ at its level's σ, and not at the other level's. Points where D_σ < 0.05 are left out:
    there a rare perturbation that reaches the bump carries the mean, and the spread of 400
    draws underestimates the standard error. Over at most 200 points × 3 values, a correct
    estimator exceeds 5 se with probability about 600 · 6e-7 < 0.001."""
    oracle = load_oracle("paper_like_ideal")
    problem = Problem(oracle.dim, oracle.listener.slider, oracle.real_data)
    method = METHODS["humandiffusion_ms"]
    params = method.Params(
        num_levels=2, sigma_nei_max=4.0, sigma_nei_min=2.0, nes_ratio=0.5, num_periphery=1, R=400
    )
    state = method.init(params, problem, np.random.default_rng(0))
    batch = method.ask(params, problem, state)
    assert batch.num_ratings == 2 * len(oracle.real_data) * 400 * 2
    panel = oracle.panel(seed=0)
    ratings = panel.poll(panel.submit(batch))
    unregularised = params.model_copy(update={"lambda_": 0.0})
    fitted, sigma = level_targets(unregularised, oracle.real_data, state, ratings)
    np.testing.assert_array_equal(np.unique(sigma), [1.0, 2.0])

    points, u = state.arrays["periphery"], state.arrays["delta"]
    values = ratings.normalised().reshape(len(points), 400, 2)
    pair_means = values.mean(axis=2)
    # NES's terms (D(x + u) - D(x - u)) u / (2σ²), one per pair: shape (points, R, dim).
    terms = (values[..., 0] - values[..., 1])[..., None] * u / (2 * sigma[:, None, None] ** 2)
    for level, other in ((1.0, 2.0), (2.0, 1.0)):
        rows = (sigma == level) & (smoothed_gaussian(points, level)[0] > 0.05)
        d_se = pair_means[rows].std(axis=1, ddof=1) / np.sqrt(400)
        grad_se = terms[rows].std(axis=1, ddof=1) / np.sqrt(400)

        def worst(at: float, rows=rows, d_se=d_se, grad_se=grad_se) -> tuple[float, float]:
            d, grad = smoothed_gaussian(points[rows], at)
            return np.abs((fitted.d[rows] - d) / d_se).max(), np.abs(
                (fitted.nes_grad[rows] - grad) / grad_se
            ).max()

        assert rows.sum() > 40
        assert max(worst(level)) < 5
        assert min(worst(other)) > 5


def test_the_sampler_spans_the_learnt_levels():
    params = METHODS["humandiffusion_ms"].Params(
        sigma_nei_max=8.0, sigma_nei_min=2.0, sampler="annealed_langevin"
    )
    np.testing.assert_allclose(params.sigma_nei(), [8.0, 4.0, 2.0])
    levels = params.sigma_nes()
    annealed = params.build_sampler()
    assert (annealed.sigma_max, annealed.sigma_min) == (levels[0], levels[-1])
    assert annealed.step_size == pytest.approx(params.step_ratio * levels[-1] ** 2)
    corrector = params.model_copy(update={"sampler": "predictor_corrector"}).build_sampler()
    assert (corrector.sigma_max, corrector.sigma_min) == (levels[0], levels[-1])
    assert corrector.num_steps == params.sample_levels * params.steps_per_level


def test_levels_out_of_order_get_one_line():
    spec = RunSpec(
        oracle="paper_like",
        method="humandiffusion_ms",
        params={"sigma_nei_max": 2.0, "sigma_nei_min": 4.0},
    )
    with pytest.raises(SpecError, match="sigma_nei_min < sigma_nei_max") as caught:
        spec.resolved_params()
    assert "\n" not in str(caught.value)
