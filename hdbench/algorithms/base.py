"""What every algorithm is: validated parameters and a run over a panel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from hdbench.oracles import Panel
from hdbench.registry import Registry
from hdbench.samplers.langevin import TraceFn


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


def torch_generator(rng: np.random.Generator) -> torch.Generator:
    """A torch generator seeded from `rng`, so network training follows the run's seed."""
    return torch.Generator().manual_seed(int(rng.integers(2**62)))
