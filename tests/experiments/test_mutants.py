"""Each mutant changes what it says, only while applied, without touching a run's spec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hdbench.errors import SpecError
from hdbench.estimators.nes import NESEstimator
from hdbench.experiments.mutants import MUTANTS, applied
from hdbench.experiments.run import RunSpec
from hdbench.methods import steps
from hdbench.models.score_network import ScoreNetwork, TrainingConfig
from hdbench.protocol.trials import RatingBatch
from hdbench.samplers.convergence import StationarityDiagnostic
from hdbench.samplers.langevin import LangevinSampler


@pytest.mark.parametrize(("name", "factor"), [("step_half", 0.5), ("step_double", 2.0)])
def test_step_size_mutants_scale_every_langevin_chain(name, factor):
    with applied(name):
        assert LangevinSampler(0.01, 10).step_size == pytest.approx(0.01 * factor)
    assert LangevinSampler(0.01, 10).step_size == 0.01


def regulariser_of(lambda_: float) -> np.ndarray:
    """The regulariser's term in the ∇D target of 3 points in 2-D with λ = `lambda_`."""
    rng = np.random.default_rng(0)
    nes = NESEstimator(1.0, 2)
    u = nes.perturbations(3, 2, rng)
    ratings = RatingBatch("b", "paired", rng.uniform(size=(6, 2)), np.arange(6), 0.0, 1.0)
    direction = rng.standard_normal((3, 2))
    fitted = steps.targets(ratings, u, nes, "mean", direction, lambda_)
    return fitted.regularised_grad - fitted.nes_grad


@pytest.mark.parametrize(
    ("name", "factor"), [("lambda_tenth", 0.1), ("lambda_ten", 10.0), ("lambda_flipped", -1.0)]
)
def test_regulariser_mutants_scale_lambda_below_validation(name, factor):
    plain = regulariser_of(0.3)
    with applied(name):
        np.testing.assert_allclose(regulariser_of(0.3), factor * plain)
    np.testing.assert_allclose(regulariser_of(0.3), plain)


@pytest.mark.parametrize(
    ("name", "sigma", "pairs"), [("sigma_nes_double", 2.0, 20), ("r_half", 1.0, 10)]
)
def test_nes_mutants_change_the_shared_estimator(name, sigma, pairs):
    with applied(name):
        nes = NESEstimator(1.0, 20)
    assert (nes.sigma, nes.num_perturbations) == (sigma, pairs)
    assert NESEstimator(1.0, 20).num_perturbations == 20


def test_train_half_trains_for_half_the_steps():
    x = np.random.default_rng(0).standard_normal((20, 2))

    def losses() -> np.ndarray:
        network = ScoreNetwork(2, torch.Generator().manual_seed(0), 8, 1)
        config = TrainingConfig(num_steps=6)
        return steps.train_score_network(network, x, None, -x, config, torch.Generator())

    with applied("train_half"):
        assert len(losses()) == 3
    assert len(losses()) == 6


def test_chain_tenth_ends_a_watched_chain_at_a_tenth_of_its_stationary_step():
    x0 = np.full((400, 2), 5.0)
    watched = StationarityDiagnostic()
    LangevinSampler(0.01, 5000).sample(lambda x: -x, x0, np.random.default_rng(0), None, watched)
    with applied("chain_tenth"):
        cut = LangevinSampler(0.01, 5000).sample(
            lambda x: -x, x0, np.random.default_rng(0), None, StationarityDiagnostic()
        )
    tenth = LangevinSampler(0.01, watched.stop_step // 10).sample(
        lambda x: -x, x0, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(cut, tenth)


def test_a_mutant_leaves_the_run_id_alone():
    spec = RunSpec(oracle="paper_like", method="humandiffusion")
    plain = spec.run_id
    with applied("lambda_ten"):
        assert spec.run_id == plain


def test_every_mutant_names_methods_and_an_unknown_one_is_refused():
    assert len(MUTANTS) == 9
    for _, mutant in MUTANTS.items():
        assert mutant.methods and mutant.description
    with pytest.raises(SpecError, match="unknown mutant 'nope'"), applied("nope"):
        pass
