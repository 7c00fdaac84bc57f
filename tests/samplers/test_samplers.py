"""The sampler registry: with the oracle's exact smoothed score, annealed Langevin and the
predictor–corrector sampler reach p_D on multimodal oracles whose real data hold only some of
the modes; plain Langevin, at the same cost or across a wide gap, does not."""

from __future__ import annotations

import textwrap
from functools import cache

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.metrics import METRICS, TruthContext
from hdbench.oracles import Oracle, load_oracle
from hdbench.samplers import SAMPLERS, build_sampler
from hdbench.samplers.base import geometric_levels
from hdbench.samplers.langevin import LangevinSampler, SamplerDivergedError

NUM_PARTICLES = 500
NUM_EXACT_SETS = 40
#: Score evaluations of annealed Langevin at its defaults (10 levels × 100 steps): plain
#: Langevin gets as many.
EQUAL_COST = 1000


@cache
def oracle_and_context(name: str) -> tuple[Oracle, TruthContext]:
    oracle = load_oracle(name)
    return oracle, TruthContext.build(oracle.truth, oracle.real_data)


@cache
def exact_spread(name: str, metric: str) -> tuple[float, float]:
    """Mean and sd of a metric over NUM_EXACT_SETS sets of NUM_PARTICLES exact samples."""
    oracle, context = oracle_and_context(name)
    rng = np.random.default_rng(123)
    values = [
        METRICS[metric].fn(oracle.truth.sample(NUM_PARTICLES, rng), context)
        for _ in range(NUM_EXACT_SETS)
    ]
    return float(np.mean(values)), float(np.std(values, ddof=1))


def sds_above_exact(name: str, metric: str, value: float) -> float:
    """How many sds of the exact samples' spread `value` lies above their mean."""
    mean, sd = exact_spread(name, metric)
    return (value - mean) / sd


def real_data_starts(oracle: Oracle) -> np.ndarray:
    """NUM_PARTICLES starting points: the real data resampled, shape (NUM_PARTICLES, 2)."""
    rng = np.random.default_rng(0)
    return oracle.real_data[rng.integers(len(oracle.real_data), size=NUM_PARTICLES)]


def run(name: str, sampler: str, settings: dict | None = None, seed: int = 1) -> np.ndarray:
    oracle, _ = oracle_and_context(name)
    chain = build_sampler(sampler, settings)
    return chain.sample(oracle.truth.smoothed_score, real_data_starts(oracle), rng_of(seed))


def rng_of(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def score(name: str, samples: np.ndarray, metric: str) -> float:
    return METRICS[metric].fn(samples, oracle_and_context(name)[1])


@pytest.mark.parametrize("name", ["three_bumps_discover", "ring_of_8_discover"])
@pytest.mark.parametrize("sampler", ["annealed_langevin", "predictor_corrector"])
def test_annealed_samplers_reach_the_target_from_part_of_it(name, sampler):
    samples = run(name, sampler)
    for metric in ("mmd2", "mode_tv"):
        # Within the spread of exact samples: below their mean + 3 sd. One-sided, since a
        # sampler can beat exact samples on a distance only by chance; 3 sd leaves a correct
        # sampler about a 1% chance of failing (the spread of MMD² is skewed to the right).
        above = sds_above_exact(name, metric, score(name, samples, metric))
        assert above < 3, f"{sampler} on {name}: {metric} {above:.1f} sd above exact samples"
    assert score(name, samples, "modes_discovered_strict") == score(
        name, samples, "modes_discovered"
    )


def test_plain_langevin_at_equal_cost_keeps_the_real_datas_weights():
    """Real data on the lowest of three bumps: 1000 steps of η = 0.01 do not carry enough
    particles over to the higher bumps, where annealed Langevin, with as many score
    evaluations, does (previous test)."""
    name = "three_bumps_discover"
    samples = run(name, "langevin", {"step_size": 0.01, "num_steps": EQUAL_COST})
    # Far outside the spread of exact samples, where the annealed samplers stay below 3 sd.
    for metric in ("mmd2", "mode_tv"):
        assert sds_above_exact(name, metric, score(name, samples, metric)) > 10


WIDE_GAP = """
description = "two bumps 4 apart (13 sd), real data on the lower one"
[acceptability]
kind = "mixture"
bumps = [{ mean = [-2.0, 0.0], sd = 0.3, peak = 0.9 }, { mean = [2.0, 0.0], sd = 0.3, peak = 0.5 }]
[real_data]
kind = "modes"
modes = [1]
"""


def test_plain_langevin_never_crosses_a_wide_gap_that_annealing_crosses(tmp_path):
    path = tmp_path / "wide_gap.toml"
    path.write_text(textwrap.dedent(WIDE_GAP))
    oracle = load_oracle(path)
    x0 = real_data_starts(oracle)[:200]
    # HumanDiffusion's chain (η = 0.01, T = 10,000): the gap's D is exp(-22) of the peaks'.
    plain = build_sampler("langevin", {"step_size": 0.01, "num_steps": 10_000})
    stuck = plain.sample(oracle.truth.smoothed_score, x0, rng_of(2))
    assert np.all(stuck[:, 0] > 0)
    annealed = build_sampler("annealed_langevin").sample(oracle.truth.smoothed_score, x0, rng_of(3))
    # The higher bump holds 0.9 / 1.4 of the mass: its share within 4 binomial sd.
    share, expected = np.mean(annealed[:, 0] < 0), 0.9 / 1.4
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / len(x0))


def test_registered_langevin_is_the_langevin_chain_at_one_noise_level():
    oracle, _ = oracle_and_context("three_bumps_discover")
    x0 = real_data_starts(oracle)[:50]
    registered = build_sampler("langevin", {"step_size": 0.02, "num_steps": 200, "sigma": 0.5})
    direct = LangevinSampler(0.02, 200)
    a = registered.sample(oracle.truth.smoothed_score, x0, rng_of(4))
    b = direct.sample(lambda x: oracle.truth.smoothed_score(x, 0.5), x0, rng_of(4))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_is_seeded_keeps_shapes_and_traces(sampler):
    oracle, _ = oracle_and_context("three_bumps_discover")
    x0 = real_data_starts(oracle)[:20]
    settings = {"langevin": {"num_steps": 30}, "annealed_langevin": {"steps_per_level": 3}}
    chain = build_sampler(sampler, {"trace_every": 7, **settings.get(sampler, {"num_steps": 30})})
    steps: list[int] = []
    a = chain.sample(oracle.truth.smoothed_score, x0, rng_of(5), lambda t, x: steps.append(t))
    b = chain.sample(oracle.truth.smoothed_score, x0, rng_of(5))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x0.shape and not np.array_equal(a, x0)
    assert steps[0] == 0 and all(t % 7 == 0 for t in steps[1:-1]) and steps[-1] > steps[-2]


@pytest.mark.parametrize("sampler", ["annealed_langevin", "predictor_corrector"])
def test_a_diverging_sampler_names_its_step(sampler):
    length = {"num_levels": 2, "steps_per_level": 10} if sampler == "annealed_langevin" else {}
    chain = build_sampler(sampler, {"sigma_max": 2.0, **length})
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(SamplerDivergedError, match=r"diverged at step \d+") as error,
    ):
        chain.sample(lambda x, sigma: x**3 * 1e6, np.full((5, 2), 2.0), rng_of(6))
    assert error.value.step >= 1


@pytest.mark.parametrize(
    ("name", "settings", "expected"),
    [
        ("gibbs", {}, "unknown sampler 'gibbs'; expected one of: annealed_langevin, langevin"),
        ("annealed_langevin", {"sigma_min": 20.0}, "expected sigma_min < sigma_max"),
        ("predictor_corrector", {"snr": 0.0}, "predictor_corrector.snr: Input should be greater"),
        ("langevin", {"steps": 10}, "langevin.steps: unknown field"),
    ],
)
def test_bad_settings_get_one_line(name, settings, expected):
    with pytest.raises(SpecError) as error:
        build_sampler(name, settings)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_geometric_levels_run_from_the_largest_to_the_smallest():
    levels = geometric_levels(10.0, 0.01, 4)
    np.testing.assert_allclose(levels, [10.0, 1.0, 0.1, 0.01])
    assert geometric_levels(10.0, 0.01, 1).tolist() == [0.01]
