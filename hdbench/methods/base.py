"""The bundled methods' registry and shared parameters; and the `ReferenceProblem`, which the
harness hands a reference method (`reference = True` on the class) instead of a `Problem`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from hdbench.protocol import Method, MethodParams, Problem
from hdbench.registry import Registry

METHODS: Registry[Method] = Registry("method")


class NetworkParams(MethodParams):
    """What every method that trains a score network sets: the network and its training."""

    width: int = Field(128, ge=1)
    depth: int = Field(2, ge=1)
    learning_rate: float = Field(3e-3, gt=0)
    train_steps: int = Field(2000, ge=1)
    batch_size: int = Field(0, ge=0, description="0: full batch")


class DiffusionParams(NetworkParams):
    """What every score-network-plus-Langevin method sets: the network, its training, the chain."""

    step_size: float = Field(0.01, gt=0, description="Langevin η (ε² in the poster)")
    num_steps: int = Field(10_000, ge=0, description="Langevin steps T, the most a chain runs")
    stop: Literal["converged", "fixed"] = Field(
        "converged", description="end the chain once stationary, or run all num_steps"
    )
    trace_every: int = Field(500, ge=1)


@dataclass(frozen=True)
class ReferenceProblem(Problem):
    """The problem with the truth (an `Acceptability`): handed only to reference methods, which
    bound what the others can reach (e.g. sampling with the exact score) and are marked as
    references, not competitors, in every table."""

    truth: Any = None


def is_reference(method: object) -> bool:
    """Whether `method` is a reference (it declares `reference = True`) rather than a competitor."""
    return bool(getattr(method, "reference", False))
