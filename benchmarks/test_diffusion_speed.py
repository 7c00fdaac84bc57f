"""Speed of HumanDiffusion's pieces and of whole default runs: `make perf`, not `make test`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hdbench.algorithms import ALGORITHMS
from hdbench.experiments.run import RunSpec, execute
from hdbench.models.score_network import (
    ScoreNetwork,
    TrainingConfig,
    ratio_score_fn,
    train_score_network,
)
from hdbench.oracles import load_oracle
from hdbench.samplers.langevin import LangevinSampler

NUM_PERIPHERY = 300  # N·M at the paper's defaults


@pytest.fixture(scope="module")
def network():
    return ScoreNetwork(2, torch.Generator().manual_seed(0))


def test_one_training_step(benchmark, network):
    """One Adam step on the 300 periphery points of a default run (2→128→128→3)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 10, (NUM_PERIPHERY, 2))
    d, grad = rng.uniform(size=NUM_PERIPHERY), rng.normal(size=(NUM_PERIPHERY, 2))
    config = TrainingConfig(num_steps=1)
    generator = torch.Generator().manual_seed(0)
    benchmark(train_score_network, network, x, d, grad, config, generator)


@pytest.mark.parametrize("num_particles", [100, 10_000])
def test_one_langevin_step(benchmark, network, num_particles):
    """One step x ← x + (η/2) S_∇D/S_D + √η r through the trained network's inference path."""
    sampler = LangevinSampler(step_size=0.01, num_steps=1)
    score_fn = ratio_score_fn(network, 1e-3)
    x0 = np.random.default_rng(0).normal(size=(num_particles, 2))
    rng = np.random.default_rng(1)
    benchmark(sampler.sample, score_fn, x0, rng)


@pytest.mark.parametrize("method", sorted(ALGORITHMS))
def test_whole_default_run(benchmark, method):
    """A whole run at the defaults on paper_like: queries, training, 10⁴ Langevin steps, metrics."""
    oracle = load_oracle("paper_like")
    spec = RunSpec(oracle="paper_like", method=method)
    row = benchmark.pedantic(lambda: execute(spec, oracle).row, rounds=2, iterations=1)
    assert row["status"] == "ok"
    benchmark.extra_info["num_ratings"] = row["num_ratings"]
