"""The harness's guard at a method's boundary: what a method's call may cost, and what it may
hand back, is decided here, not by the method.

- every call (`init`, `ask`, `tell`, `finish`) runs under a time limit (`HDBENCH_TIME_LIMIT`
  seconds, `--time-limit` on the command line; `DEFAULT_TIME_LIMIT` unless set); past it the
  call is interrupted and the run ends with an error row, nothing more asked or spent;
- a method that states its plan (`planned_ratings`) is held to it: a batch that would take its
  ratings past the plan is refused before it is recorded; a method without a plan in a run
  without a budget is held to `DEFAULT_BUDGET`;
- what a call hands back is checked: `ask` a TrialBatch (or None) of finite stimuli in the
  problem's dimension, `tell` a MethodState, `finish` finite samples of shape (num, dim) (as
  many as `num_eval_samples` unless its parameters say otherwise); each failure is one line
  naming the method and the field.

The alarm needs the main thread (see `hdbench.timeout`): runs in a Dask worker's thread have no
time limit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hdbench.errors import MethodError, SpecError
from hdbench.protocol import Method, MethodOutput, MethodParams, MethodState, Problem, TrialBatch
from hdbench.timeout import time_limit

#: Seconds one call of a method may take unless `HDBENCH_TIME_LIMIT` says otherwise: an hour.
DEFAULT_TIME_LIMIT = 3600.0
TIME_LIMIT_VARIABLE = "HDBENCH_TIME_LIMIT"

#: Ratings a run may spend when it has no budget and its method states no plan.
DEFAULT_BUDGET = 100_000


def configured_time_limit() -> float | None:
    """The time limit of one call, in seconds, from `HDBENCH_TIME_LIMIT` (0: none)."""
    text = os.environ.get(TIME_LIMIT_VARIABLE)
    if text is None:
        return DEFAULT_TIME_LIMIT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise SpecError(
            f"{TIME_LIMIT_VARIABLE}: expected a number of seconds ≥ 0 (0: no limit), got {text!r}"
        )
    return seconds or None


@dataclass(frozen=True)
class Guard:
    """The checks around one method's calls. `scored`: whether its output's samples are scored
    (not the listening test's); `planned`: its stated plan."""

    name: str
    dim: int
    scored: bool = False
    planned: int | None = None
    seconds: float | None = None

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        def expired() -> MethodError:
            return MethodError(
                f"method {self.name}: {what} ran past its time limit of {self.seconds:g} s; "
                f"expected a call that returns sooner, or a longer --time-limit"
            )

        with time_limit(self.seconds, expired):
            return fn(*args)

    def init(
        self,
        method: Method,
        params: MethodParams,
        problem: Problem,
        rng: np.random.Generator,
    ) -> MethodState:
        state = self.call("init", method.init, params, problem, rng)
        if not isinstance(state, MethodState):
            self.refuse(f"init: expected a MethodState, got {type(state).__name__}")
        return state

    def ask(
        self, method: Method, params: MethodParams | None, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        batch = self.call("ask", method.ask, params, problem, state)
        if batch is None:
            return None
        if not isinstance(batch, TrialBatch):
            self.refuse(f"ask: expected a TrialBatch or None, got {type(batch).__name__}")
        if batch.stimuli.shape[2] != self.dim:
            self.refuse(
                f"ask: stimuli: expected points of dimension {self.dim}, "
                f"got {batch.stimuli.shape[2]}"
            )
        bad = ~np.isfinite(batch.stimuli).all(axis=(1, 2))
        if bad.any():
            self.refuse(
                f"ask: stimuli: expected finite numbers, got NaN or infinity in {bad.sum()} "
                f"trials (the first: trial {bad.argmax()})"
            )
        return batch

    def tell(self, method: Method, *args: Any) -> MethodState:
        state = self.call("tell", method.tell, *args)
        if not isinstance(state, MethodState):
            self.refuse(f"tell: expected a MethodState, got {type(state).__name__}")
        return state

    def finish(self, method: Method, *args: Any) -> MethodOutput:
        output = self.call("finish", method.finish, *args)
        if not isinstance(output, MethodOutput):
            self.refuse(f"finish: expected a MethodOutput, got {type(output).__name__}")
        if self.scored:
            self.check_samples(output.samples)
        return output

    def check_samples(self, samples: Any) -> None:
        shape = getattr(samples, "shape", None)
        if not isinstance(samples, np.ndarray) or len(shape) != 2 or shape[1] != self.dim:
            got = shape if shape is not None else type(samples).__name__
            self.refuse(f"finish: samples: expected an array of shape (num, {self.dim}), got {got}")
        if not np.issubdtype(samples.dtype, np.number):
            self.refuse(f"finish: samples: expected numbers, got dtype {samples.dtype}")
        bad = ~np.isfinite(samples).all(axis=1)
        if bad.any():
            self.refuse(
                f"finish: samples: expected finite numbers, got NaN or infinity in {bad.sum()} "
                f"of {len(samples)} samples (the first: sample {bad.argmax()})"
            )

    def check_plan(self, spent: int, num_ratings: int) -> None:
        """MethodError when a batch of `num_ratings` would take the ratings `spent` past the
        plan."""
        if self.planned is not None and spent + num_ratings > self.planned:
            self.refuse(
                f"ask: a batch of {num_ratings:,} ratings would bring its ratings to "
                f"{spent + num_ratings:,}, past the {self.planned:,} it planned "
                "(planned_ratings: expected the most it can spend)"
            )

    def refuse(self, message: str) -> None:
        raise MethodError(f"method {self.name}: {message}")
