"""Langevin with the exact score converges to p_D; a diverging chain names its step."""

from __future__ import annotations

import pickle

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


def test_a_chain_that_runs_away_while_finite_is_diverged():
    """s(x) = x with η = 1 multiplies x by 1.5 a step: still finite after 100 steps (about
    2·10¹⁸), but beyond RUNAWAY from step ~33 on, and reported there."""
    sampler = LangevinSampler(step_size=1.0, num_steps=100)
    with pytest.raises(SamplerDivergedError, match=r"beyond 1e\+06") as error:
        sampler.sample(lambda x: x, np.full((5, 2), 2.0), np.random.default_rng(0))
    assert 25 <= error.value.step <= 40


def test_a_divergence_crosses_a_process_boundary_intact():
    """Workers (joblib, Dask) send exceptions back pickled: the step, the count and the message
    must survive the round trip, and the error must not break the pool that unpickles it."""
    error = SamplerDivergedError(974, 1)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.step, copy.num_bad, str(copy)) == (
        SamplerDivergedError,
        974,
        1,
        str(error),
    )


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


def linear_scores(num_sets: int):
    """Set k's score −(x − k) / (1 + k): a Gaussian target per set, as one function and alone."""

    def one(k: int):
        return lambda x: -(x - k) / (1.0 + k)

    def together(x: np.ndarray) -> np.ndarray:
        return np.stack([one(k)(x[k]) for k in range(num_sets)])

    return one, together


def recorder(log: list):
    return lambda t, x: log.append((t, x.copy()))


def test_k_chain_sets_at_once_equal_each_alone_with_their_traces():
    one, together = linear_scores(3)
    sampler = LangevinSampler(0.05, 230, trace_every=100)
    x0 = np.random.default_rng(0).normal(size=(3, 20, 2))
    traces = [[] for _ in range(3)]
    results = sampler.sample_many(
        together,
        x0,
        [np.random.default_rng(k) for k in range(3)],
        [recorder(trace) for trace in traces],
    )
    for k in range(3):
        alone_trace = []
        rng = np.random.default_rng(k)
        alone = sampler.sample(one(k), x0[k], rng, recorder(alone_trace))
        np.testing.assert_array_equal(results[k], alone)
        assert [t for t, _ in traces[k]] == [t for t, _ in alone_trace] == [0, 100, 200, 230]
        for (_, mine), (_, theirs) in zip(traces[k], alone_trace, strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_noise_drawn_in_blocks_is_the_per_step_stream_and_leaves_the_generator_in_step():
    """One normal draw per step from the generator, in order: the same numbers and the same
    final generator state as a loop that draws at every step."""
    rng = np.random.default_rng(7)
    x0 = np.zeros((4, 3))
    samples = LangevinSampler(0.01, 25).sample(lambda x: np.zeros_like(x), x0, rng)
    expected_rng = np.random.default_rng(7)
    expected = sum(np.sqrt(0.01) * expected_rng.standard_normal((4, 3)) for _ in range(25))
    np.testing.assert_allclose(samples, expected, rtol=1e-12)
    assert rng.bit_generator.state == expected_rng.bit_generator.state


def test_a_diverging_set_is_reported_and_the_others_go_on():
    one, together = linear_scores(3)

    def score(x: np.ndarray) -> np.ndarray:
        out = together(x)
        out[1] = x[1] ** 3  # set 1 runs away
        return out

    sampler = LangevinSampler(step_size=1.0, num_steps=100)
    x0 = np.full((3, 5, 2), 2.0)
    with np.errstate(over="ignore", invalid="ignore"):
        results = sampler.sample_many(score, x0, [np.random.default_rng(k) for k in range(3)])
        with pytest.raises(SamplerDivergedError) as alone:
            sampler.sample(lambda x: x**3, x0[1], np.random.default_rng(1))
    assert isinstance(results[1], SamplerDivergedError)
    assert results[1].step == alone.value.step
    for k in (0, 2):
        np.testing.assert_array_equal(
            results[k], sampler.sample(one(k), x0[k], np.random.default_rng(k))
        )


def test_a_network_score_at_once_gives_the_samples_of_each_network_alone():
    """K trained score networks sampled together: the samples of each run alone."""
    import torch

    from hdbench.models.score_network import (
        ScoreNetwork,
        TrainingConfig,
        ratio_score_fn,
        ratio_score_fns,
        train_score_network,
    )

    rng = np.random.default_rng(0)
    nets = []
    for k in range(3):
        generator = torch.Generator().manual_seed(k)
        net = ScoreNetwork(2, generator, width=32)
        x = rng.normal(0, 3, (60, 2))
        train_score_network(
            net, x, np.exp(-(x**2).sum(1) / 8), -x / 4, TrainingConfig(40), generator
        )
        nets.append(net)
    sampler = LangevinSampler(0.01, 200)
    x0 = rng.normal(size=(3, 30, 2))
    together = sampler.sample_many(
        ratio_score_fns(nets, 1e-3), x0, [np.random.default_rng(k) for k in range(3)]
    )
    for k, net in enumerate(nets):
        alone = sampler.sample(ratio_score_fn(net, 1e-3), x0[k], np.random.default_rng(k))
        np.testing.assert_allclose(together[k], alone, rtol=1e-6, atol=1e-9)


def test_chain_sets_of_the_wrong_shape_get_one_line():
    with pytest.raises(SpecError, match=r"x0: expected shape \(K=2, n, dim\)"):
        LangevinSampler().sample_many(lambda x: x, np.zeros((3, 4, 2)), [None, None])
