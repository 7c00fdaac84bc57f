"""What every method is: validated parameters and a strategy that is asked for trials.

The harness owns the query loop, as in evosax's `ask`/`tell` and bayesmark's `suggest`/`observe`:

    state = method.init(params, problem, rng)
    while (batch := method.ask(params, problem, state)) is not None:
        state = method.tell(params, problem, state, ratings_of(batch))
    output = method.finish(params, problem, state)

A method sees only the `Problem` (dimension, slider, budget, real data) and the ratings it is
told; never the acceptability function or a panel. Its whole state between two calls is a
`MethodState` (arrays, plain JSON, torch state dicts, its generator), which the harness writes to
disk after every call, so a study can stop while people answer and go on in another process.
`ask` may advance the state (its generator, its phase); `ask` on the same saved state always
returns the same trials, so a crash between `ask` and `tell` costs nothing.

A method may also say what it will spend: `planned_ratings(params, problem)`, the ratings its
parameters ask for on that problem (the fewest, when its spending depends on the answers). The
harness compares it with the budget before anything is asked, so a budget too small for a method
is refused in one line instead of failing after ratings were spent. It is optional: a user's
method without it is checked by the panel's budget as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from hdbench.algorithms.state import MethodState
from hdbench.evaluation import NUM_EVAL_SAMPLES
from hdbench.oracles.acceptability import Acceptability
from hdbench.oracles.listener import Slider
from hdbench.oracles.oracle import Oracle
from hdbench.oracles.trials import RatingBatch, TrialBatch
from hdbench.registry import Registry


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
    trace_every: int = Field(500, ge=1)


@dataclass(frozen=True)
class Problem:
    """What a method may know: the space's dimension, the slider, the budget, the real data
    (num_real, dim), and how many particles its output should hold for scoring (drawn from the
    real data resampled, `eval_starts`). Nothing here can reach the truth."""

    dim: int
    slider: Slider
    real_data: np.ndarray
    budget: int | None = None
    num_eval_samples: int = NUM_EVAL_SAMPLES


@dataclass(frozen=True)
class ReferenceProblem(Problem):
    """The problem with the truth: handed only to reference methods (`reference = True` on the
    class), which bound what the others can reach (e.g. sampling with the exact score) and are
    marked as references, not competitors, in every table."""

    truth: Acceptability | None = None


@dataclass(frozen=True)
class AlgorithmOutput:
    """Final samples (num_eval_samples, dim); named arrays for figures (e.g. gradient fields); and
    snapshots {step: particles (n, dim)} along the chain or the training, for the trace."""

    samples: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)


class Algorithm(Protocol):
    """A method: four calls over a `MethodState`. See the module docstring for the loop."""

    Params: ClassVar[type[AlgorithmParams]]
    description: ClassVar[str]

    def init(
        self, params: AlgorithmParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState: ...

    def ask(
        self, params: AlgorithmParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None: ...

    def tell(
        self,
        params: AlgorithmParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState: ...

    def finish(
        self, params: AlgorithmParams, problem: Problem, state: MethodState
    ) -> AlgorithmOutput: ...


ALGORITHMS: Registry[Algorithm] = Registry("method")


def is_reference(method: object) -> bool:
    """Whether `method` is a reference (it declares `reference = True`) rather than a competitor."""
    return bool(getattr(method, "reference", False))


def problem_for(
    method: object,
    oracle: Oracle,
    budget: int | None = None,
    num_eval_samples: int = NUM_EVAL_SAMPLES,
) -> Problem:
    """What `method` may know of `oracle`: a Problem, or a ReferenceProblem (with the truth) for
    a reference method."""
    known = (oracle.dim, oracle.listener.slider, oracle.real_data, budget, num_eval_samples)
    return ReferenceProblem(*known, truth=oracle.truth) if is_reference(method) else Problem(*known)


def planned_ratings(method: object, params: AlgorithmParams, problem: Problem) -> int | None:
    """The ratings `method` plans to spend with `params` on `problem`, or None when the method
    does not say (`planned_ratings` is optional)."""
    plan = getattr(method, "planned_ratings", None)
    return None if plan is None else int(plan(params, problem))


def starting_points(real_data: np.ndarray, num: int) -> np.ndarray:
    """`num` chain starts taken from the real data in turn, shape (num, dim)."""
    return real_data[np.arange(num) % len(real_data)]


def eval_starts(problem: Problem, rng: np.random.Generator) -> np.ndarray:
    """Starts of the particles drawn for scoring: `problem.num_eval_samples` points of the real
    data resampled with replacement, shape (num_eval_samples, dim). The paper's N real data
    train the method; the particles scored are as many as the run asks for."""
    return problem.real_data[rng.integers(len(problem.real_data), size=problem.num_eval_samples)]
