"""What every algorithm is: validated parameters and a run over a panel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from hdbench.models.score_network import ScoreNetwork, TrainingConfig, train_score_network
from hdbench.oracles import Panel
from hdbench.registry import Registry
from hdbench.samplers.langevin import LangevinSampler, ScoreFn, TraceFn


class AlgorithmParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class DiffusionParams(AlgorithmParams):
    """What every score-network-plus-Langevin method sets: the network, its training, the chain."""

    width: int = Field(128, ge=1)
    depth: int = Field(2, ge=1)
    learning_rate: float = Field(3e-3, gt=0)
    train_steps: int = Field(2000, ge=1)
    batch_size: int = Field(0, ge=0, description="0: full batch")
    step_size: float = Field(0.01, gt=0, description="Langevin η (ε² in the poster)")
    num_steps: int = Field(10_000, ge=0, description="Langevin steps T")
    num_samples: int = Field(200, ge=1, description="chains, started from the real data in turn")
    trace_every: int = Field(500, ge=1)


@dataclass(frozen=True)
class AlgorithmOutput:
    """Final samples (num_samples, dim) and named arrays for figures (e.g. gradient fields)."""

    samples: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


class Algorithm(Protocol):
    Params: ClassVar[type[AlgorithmParams]]
    description: ClassVar[str]

    def run(
        self,
        params: AlgorithmParams,
        panel: Panel,
        real_data: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
    ) -> AlgorithmOutput: ...


ALGORITHMS: Registry[Algorithm] = Registry("method")


def starting_points(real_data: np.ndarray, num: int) -> np.ndarray:
    """`num` chain starts taken from the real data in turn, shape (num, dim)."""
    return real_data[np.arange(num) % len(real_data)]


def fit_score_network(
    params: DiffusionParams,
    x: np.ndarray,
    d_target: np.ndarray | None,
    grad_target: np.ndarray,
    rng: np.random.Generator,
) -> tuple[ScoreNetwork, np.ndarray]:
    """A score network trained on x (n, dim) with `params`; returns it and its loss per step.

    Initialisation and batches follow a torch generator seeded from `rng`.
    """
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    network = ScoreNetwork(x.shape[1], generator, params.width, params.depth)
    config = TrainingConfig(params.train_steps, params.learning_rate, params.batch_size)
    losses = train_score_network(network, x, d_target, grad_target, config, generator)
    return network, losses


def sample_from_real_data(
    params: DiffusionParams,
    score_fn: ScoreFn,
    real_data: np.ndarray,
    rng: np.random.Generator,
    trace_fn: TraceFn | None,
) -> np.ndarray:
    """Langevin chains started from the real data in turn: shape (num_samples, dim)."""
    sampler = LangevinSampler(params.step_size, params.num_steps, params.trace_every)
    return sampler.sample(score_fn, starting_points(real_data, params.num_samples), rng, trace_fn)
