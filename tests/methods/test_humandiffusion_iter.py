"""Iterative HumanDiffusion and data-shaped noise."""

from __future__ import annotations

import numpy as np

from hdbench.estimators.nes import NESEstimator
from hdbench.experiments.run import RunSpec, execute
from hdbench.methods import METHODS, steps
from hdbench.oracles import load_oracle
from hdbench.protocol import Problem, RatingBatch, run_in_memory

SMALL = {"train_steps": 40, "num_steps": 60, "R": 2, "num_periphery": 1}
#: Particles scored: few, for speed.
EVAL = 20


def test_one_round_is_humandiffusion():
    oracle = load_oracle("paper_like")
    problem = Problem(oracle.dim, oracle.listener.slider, oracle.real_data, None, EVAL)
    same = {**SMALL, "sigma_nei": 10.0, "lambda": 1.0}
    outputs = []
    for name, extra in (("humandiffusion", {}), ("humandiffusion_iter", {"num_rounds": 1})):
        method = METHODS[name]
        params = method.Params(**same, **extra)
        state = method.init(params, problem, np.random.default_rng(0))
        outputs.append(run_in_memory(method, params, problem, state, oracle.panel(seed=0)))
    np.testing.assert_array_equal(outputs[0].samples, outputs[1].samples)


def test_each_round_asks_around_the_particles_and_pays_for_it():
    params = {**SMALL, "num_rounds": 3, "num_centres": 50, "round_steps": 20}
    spec = RunSpec(
        oracle="paper_like", method="humandiffusion_iter", params=params, num_eval_samples=EVAL
    )
    result = execute(spec)
    assert result.row["status"] == "ok"
    # 100 real data, then 50 particles twice; each point R = 2 paired trials of 2 ratings.
    assert result.row["num_ratings"] == (100 + 50 + 50) * 2 * 2
    assert len(result.arrays["periphery"]) == 200


def test_nes_with_data_shaped_noise_recovers_a_linear_gradient():
    """D(x) = a·x answered exactly: the shaped estimate L⁻ᵀ ĝ_u is unbiased for a, with sd
    about |Lᵀa| σ_L⁻ᵀ / √R per component; the bound is 5 such sds."""
    rng = np.random.default_rng(0)
    real = rng.multivariate_normal([0, 0], [[4.0, 1.5], [1.5, 1.0]], size=500)
    shape = steps.noise_shape(real)
    num_pairs, a = 4000, np.array([0.03, -0.02])
    nes = NESEstimator(sigma=1.0, num_perturbations=num_pairs)
    x = np.zeros((1, 2))
    batch, u = steps.queries(x, nes, rng, shape)
    values = 0.5 + batch.stimuli @ a  # (trials, 2): the pair's two exact ratings
    ratings = RatingBatch("b0", "paired", values, np.zeros(num_pairs), 0.0, 1.0)
    fitted = steps.targets(ratings, u, nes, "mean", np.zeros((1, 2)), 0.0, shape)
    inverse_t = np.linalg.inv(shape.T)
    sd = np.linalg.norm(shape.T @ a) * np.linalg.norm(inverse_t, axis=1) / np.sqrt(num_pairs)
    assert np.all(np.abs(fitted.nes_grad[0] - a) < 5 * sd)


def test_the_shaped_regulariser_is_the_score_of_the_shaped_periphery():
    rng = np.random.default_rng(1)
    shape = np.array([[2.0, 0.0], [1.0, 0.5]])
    around = steps.periphery(np.array([[1.0, -1.0]]), 3, 2.0, rng, shape)
    direction = steps.pull(np.array([[1.0, -1.0]]), around, 2.0, shape)
    cov = 4.0 * shape @ shape.T
    expected = np.linalg.solve(cov, (np.array([1.0, -1.0]) - around.points).T).T
    np.testing.assert_allclose(direction, expected)
