"""Langevin with the exact score converges to p_D; a diverging chain names its step."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.metrics import METRICS, TruthContext
from hdbench.oracles import load_oracle
from hdbench.samplers.langevin import LangevinSampler, SamplerDivergedError

NUM_PARTICLES = 400


def exact_spread(context: TruthContext, metric: str, num_sets: int = 40) -> tuple[float, float]:
    """Mean and sd of a metric over sets of exact target samples of NUM_PARTICLES points."""
    rng = np.random.default_rng(123)
    values = [
        METRICS[metric].fn(context.truth.sample(NUM_PARTICLES, rng), context)
        for _ in range(num_sets)
    ]
    return float(np.mean(values)), float(np.std(values, ddof=1))


@pytest.mark.parametrize(
    ("name", "step_size", "num_steps"), [("paper_like", 0.02, 3000), ("ring_of_8", 0.004, 4000)]
)
def test_exact_score_converges_to_the_target(name, step_size, num_steps):
    oracle = load_oracle(name)
    context = TruthContext.build(oracle.truth, oracle.real_data)
    x0 = oracle.real_data[np.arange(NUM_PARTICLES) % len(oracle.real_data)]
    sampler = LangevinSampler(step_size, num_steps)
    samples = sampler.sample(oracle.truth.score, x0, np.random.default_rng(0))
    for metric in ("mmd2", "var_ratio_target"):
        mean, sd = exact_spread(context, metric)
        value = METRICS[metric].fn(samples, context)
        # Within 4 sd of what exact samples of the same size score; the discretisation bias of
        # these step sizes (about η / 4σ² in the variance) is far below that sd.
        assert abs(value - mean) < 4 * sd, f"{name} {metric}: {value:.4f} vs {mean:.4f} ± {sd:.4f}"


def test_the_start_is_far_from_the_target_so_the_test_has_power():
    oracle = load_oracle("paper_like")
    context = TruthContext.build(oracle.truth, oracle.real_data)
    mean, sd = exact_spread(context, "var_ratio_target")
    start = oracle.real_data[np.arange(NUM_PARTICLES) % len(oracle.real_data)]
    assert abs(METRICS["var_ratio_target"].fn(start, context) - mean) > 10 * sd


def test_a_diverging_chain_names_its_step():
    sampler = LangevinSampler(step_size=1.0, num_steps=100)
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(SamplerDivergedError, match=r"diverged at step \d+") as error,
    ):
        sampler.sample(lambda x: x**3, np.full((5, 2), 2.0), np.random.default_rng(0))
    assert 1 <= error.value.step < 100


def test_trace_is_called_every_k_steps_and_at_the_end():
    steps = []
    LangevinSampler(0.01, 250, trace_every=100).sample(
        lambda x: -x, np.zeros((3, 2)), np.random.default_rng(0), lambda t, x: steps.append(t)
    )
    assert steps == [0, 100, 200, 250]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"step_size": 0.0}, "step_size"),
        ({"step_size": -1}, "step_size"),
        ({"num_steps": -5}, "num_steps"),
        ({"trace_every": 0}, "trace_every"),
    ],
)
def test_bad_options_get_one_line(kwargs, field):
    with pytest.raises(SpecError, match=field):
        LangevinSampler(**kwargs)
