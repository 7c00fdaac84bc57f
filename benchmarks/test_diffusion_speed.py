"""Speed of HumanDiffusion's pieces, of whole default runs and of the command line: `make perf`,
not `make test`. benchmarks/perf_table.py sets each figure beside its goal.

Per-step figures time a stretch of steps and divide (`extra_info["steps"]`), so that the set-up
of a call (buffers, the noise block) does not count as a step.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from hdbench.experiments.run import RunSpec, execute
from hdbench.methods import METHODS
from hdbench.models.score_network import (
    CHUNK_ROWS,
    ScoreNetwork,
    TrainingConfig,
    ratio_score_fn,
    ratio_score_fns,
    train_score_network,
    train_score_networks,
)
from hdbench.oracles import load_oracle
from hdbench.samplers.langevin import LangevinSampler
from hdbench.threads import RUNTIME_VARIABLES, THREADS_VARIABLE

NUM_PERIPHERY = 300  # N·M at the paper's defaults
NUM_TRAIN_STEPS = 200
NUM_CHAIN_STEPS = 100
NUM_BATCHED = 16


def periphery_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 10, (NUM_PERIPHERY, 2))
    return x, rng.uniform(size=NUM_PERIPHERY), rng.normal(size=(NUM_PERIPHERY, 2))


@pytest.fixture(scope="module")
def network():
    net = ScoreNetwork(2, torch.Generator().manual_seed(0))
    net.fit_inputs(periphery_data(0)[0])
    return net


def test_training_steps(benchmark):
    """Adam steps on the 300 periphery points of a default run (2→128→128→3), full batch."""
    x, d, grad = periphery_data(0)
    config = TrainingConfig(num_steps=NUM_TRAIN_STEPS)

    def train():
        generator = torch.Generator().manual_seed(0)
        train_score_network(ScoreNetwork(2, generator), x, d, grad, config, generator)

    benchmark.pedantic(train, rounds=5, warmup_rounds=1)
    benchmark.extra_info["steps"] = NUM_TRAIN_STEPS


def test_training_steps_of_16_networks_at_once(benchmark):
    """The same, for 16 networks with stacked weights; the table divides by 16 and by steps."""
    sets = [periphery_data(seed) for seed in range(NUM_BATCHED)]
    x, d, grad = (np.stack(arrays) for arrays in zip(*sets, strict=True))
    config = TrainingConfig(num_steps=NUM_TRAIN_STEPS)

    def train():
        generators = [torch.Generator().manual_seed(k) for k in range(NUM_BATCHED)]
        networks = [ScoreNetwork(2, generator) for generator in generators]
        train_score_networks(networks, x, d, grad, config, generators)

    benchmark.pedantic(train, rounds=3, warmup_rounds=1)
    benchmark.extra_info.update(steps=NUM_TRAIN_STEPS, runs=NUM_BATCHED)


@pytest.mark.parametrize("num_particles", [100, 200, 1000, 3000, 10_000])
def test_langevin_steps(benchmark, network, num_particles):
    """x ← x + (η/2) S_∇D/S_D + √η r through the trained network's inference path."""
    sampler = LangevinSampler(step_size=0.01, num_steps=NUM_CHAIN_STEPS)
    score_fn = ratio_score_fn(network, 1e-3)
    x0 = np.random.default_rng(0).normal(size=(num_particles, 2))
    rounds = 20 if num_particles < 1000 else 3
    benchmark.pedantic(
        sampler.sample, (score_fn, x0, np.random.default_rng(1)), rounds=rounds, warmup_rounds=1
    )
    benchmark.extra_info["steps"] = NUM_CHAIN_STEPS


@pytest.mark.parametrize("num_particles", [200, 1000])
def test_langevin_steps_of_16_chain_sets_at_once(benchmark, network, num_particles):
    """16 networks' chains of `num_particles` each, as one computation."""
    sampler = LangevinSampler(step_size=0.01, num_steps=NUM_CHAIN_STEPS)
    score_fn = ratio_score_fns([network] * NUM_BATCHED, 1e-3)
    x0 = np.random.default_rng(0).normal(size=(NUM_BATCHED, num_particles, 2))
    rngs = [np.random.default_rng(k) for k in range(NUM_BATCHED)]
    benchmark.pedantic(sampler.sample_many, (score_fn, x0, rngs), rounds=5, warmup_rounds=1)
    benchmark.extra_info.update(steps=NUM_CHAIN_STEPS, runs=NUM_BATCHED)


@pytest.mark.parametrize("part", ["hidden_product", "softplus_layers"])
def test_parts_of_a_langevin_step(benchmark, part):
    """The heaviest passes of a Langevin step of 10,000 particles, as the inference path runs
    them (chunks of CHUNK_ROWS rows): the 128 × 128 product, or the two softplus layers."""
    width, chunks = 128, [min(CHUNK_ROWS, 10_000 - s) for s in range(0, 10_000, CHUNK_ROWS)]
    generator = torch.Generator().manual_seed(0)
    h = torch.randn(1, CHUNK_ROWS, width, generator=generator)
    weight, bias = torch.randn(1, width, width, generator=generator), torch.randn(1, 1, width)
    z = torch.empty_like(h)

    def hidden_product() -> None:
        for rows in chunks:
            torch.baddbmm(bias, h[:, :rows], weight, out=z[:, :rows])

    def softplus_layers() -> None:
        for rows in chunks:
            for _ in range(2):
                F.softplus(z[:, :rows])

    def fresh_inputs() -> None:
        z.copy_(h)

    timed = {"hidden_product": hidden_product, "softplus_layers": softplus_layers}[part]
    benchmark.pedantic(timed, setup=fresh_inputs, rounds=50, warmup_rounds=3)


@pytest.mark.parametrize("num_particles", [100, 200, 10_000])
def test_bare_forward(benchmark, network, num_particles):
    """The network's own forward pass (nn.Module, float32 tensors in and out): what a Langevin
    step is compared with."""
    x = torch.as_tensor(
        np.random.default_rng(0).normal(size=(num_particles, 2)), dtype=torch.float32
    )

    @torch.inference_mode()
    def forward():
        return network(x)

    benchmark.pedantic(forward, rounds=2000 if num_particles < 1000 else 100, warmup_rounds=5)


STOPPING = ("humandiffusion", "humandiffusion_iter", "data_diffusion", "exact_score")
#: Seed 0 but for the iterative variant, one of whose particles runs away at step 974 at seed 0
#: (1 of its 10 runs on paper_like at seeds 0–9): that run would time a chain cut short.
SEEDS = {"humandiffusion_iter": 1}


@pytest.mark.parametrize(
    ("method", "stop"),
    [(method, "converged") for method in sorted(METHODS)]
    + [(method, "fixed") for method in STOPPING],
    ids=[*sorted(METHODS), *(f"{method}-fixed" for method in STOPPING)],
)
def test_whole_default_run(benchmark, method, stop):
    """A whole run at the defaults on paper_like (seed 0, or `SEEDS`): queries, training,
    Langevin chains (ended when stationary; all 10⁴ steps with `stop = "fixed"`), metrics,
    through `execute`; extra_info holds the row's `wall_time` (the method alone)."""
    oracle = load_oracle("paper_like")
    params = {"stop": stop} if stop == "fixed" else {}
    spec = RunSpec(oracle="paper_like", method=method, seed=SEEDS.get(method, 0), params=params)
    rows = []
    benchmark.pedantic(lambda: rows.append(execute(spec, oracle).row), rounds=2, iterations=1)
    assert all(row["status"] == "ok" for row in rows)
    benchmark.extra_info["num_ratings"] = rows[-1]["num_ratings"]
    benchmark.extra_info["wall_time"] = min(row["wall_time"] for row in rows)


def test_run_scoring_200_particles(benchmark):
    """HumanDiffusion's default run scoring 200 particles, the number the speed goals were set
    at (runs now score 1,000); extra_info holds the row's `wall_time`."""
    oracle = load_oracle("paper_like")
    spec = RunSpec(oracle="paper_like", method="humandiffusion", num_eval_samples=200)
    rows = []
    benchmark.pedantic(lambda: rows.append(execute(spec, oracle).row), rounds=3, iterations=1)
    assert all(row["status"] == "ok" for row in rows)
    benchmark.extra_info["wall_time"] = min(row["wall_time"] for row in rows)


RUN = ["run", "--oracle", "paper_like", "--method", "humandiffusion", "--seed", "0"]


def _clean_environment() -> dict[str, str]:
    """This environment without thread variables: what a user's shell has."""
    dropped = {*RUNTIME_VARIABLES, THREADS_VARIABLE}
    return {k: v for k, v in os.environ.items() if k not in dropped}


@pytest.mark.parametrize(
    "argv",
    [["--help"], [*RUN], [*RUN, "--eval-samples", "200"], [*RUN, "--set", "stop=fixed"]],
    ids=["help", "run", "run200", "run_fixed"],
)
def test_command_line(benchmark, tmp_path, argv):
    """`hdbench …` from process start to exit, figures included. Each run writes into a new
    folder: in a finished run's folder it would resume and skip its queries and training."""
    env = _clean_environment()

    def call() -> None:
        out = ["--out", tempfile.mkdtemp(dir=tmp_path)] if argv[0] == "run" else []
        command = [sys.executable, "-m", "hdbench.cli", *argv, *out]
        subprocess.run(command, env=env, check=True, capture_output=True)

    benchmark.pedantic(call, rounds=3 if argv[0] == "run" else 10, warmup_rounds=1)
