"""What every method is: validated parameters and four calls that are asked for trials.

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

A method may also say what it will spend: `planned_ratings(params, problem)`, the most ratings
its parameters can ask for on that problem (retries and restarts included). The harness compares
it with the budget before anything is asked, so a budget too small for a method is refused in one
line instead of failing after ratings were spent, and a method that spends more than it planned
is stopped with an error. It is optional: a method without it is held to the run's budget, or to
a default cap when the run sets none (`hdbench.experiments.guard`).

What a method is handed is read-only: the problem's real data and the ratings' arrays cannot be
written, so a method cannot corrupt what the harness scores it with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

from hdbench.protocol.slider import Slider
from hdbench.protocol.state import MethodState
from hdbench.protocol.trials import RatingBatch, TrialBatch

#: Particles a method draws for scoring (`Problem.num_eval_samples`) unless the run says
#: otherwise, as many as every suite and sweep scores: the standard error of MMD² from the
#: particles alone is then at most 0.0033 for HumanDiffusion on `paper_like`
#: (benchmarks/eval_samples.py), against an sd of 0.023 between seeds (docs, *Scoring*).
NUM_EVAL_SAMPLES = 1000
#: Fewest samples a metric accepts: PRDC needs the 5 nearest neighbours of every sample.
MIN_SAMPLES = 6


class MethodParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "real_data", read_only(np.array(self.real_data, dtype=float)))


@dataclass(frozen=True)
class MethodOutput:
    """Final samples (num_eval_samples, dim); named arrays for figures (e.g. gradient fields); and
    snapshots {step: particles (n, dim)} along the chain or the training, for the trace."""

    samples: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)


class Method(Protocol):
    """A method: four calls over a `MethodState`. See the module docstring for the loop."""

    Params: ClassVar[type[MethodParams]]
    description: ClassVar[str]

    def init(
        self, params: MethodParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState: ...

    def ask(
        self, params: MethodParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None: ...

    def tell(
        self,
        params: MethodParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState: ...

    def finish(
        self, params: MethodParams, problem: Problem, state: MethodState
    ) -> MethodOutput: ...


def read_only(array: np.ndarray) -> np.ndarray:
    """A view of `array` that cannot be written."""
    view = array.view()
    view.flags.writeable = False
    return view


def planned_ratings(method: object, params: MethodParams, problem: Problem) -> int | None:
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
