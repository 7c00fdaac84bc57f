"""`exact_score`: a reference, not a competitor. It samples with the oracle's exact score.

Any registered sampler (`hdbench.samplers`), given the score of D smoothed at each noise level,
∇log (D * N(0, σ² I)) (`Acceptability.smoothed_score`; closed form for the gaussian and mixture
kinds), from the real data resampled. It spends no rating. Against a method with the same sampler
it separates the sampler's error (what exact_score still misses) from the estimator's (the rest):
with `sampler = "langevin"` and HumanDiffusion's chain it is the upper bound of HumanDiffusion.

It is the one kind of method handed the truth (a `ReferenceProblem`, since `reference = True`),
and tables list it apart from the competitors.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from hdbench.methods.base import METHODS, ReferenceProblem
from hdbench.protocol import (
    MethodOutput,
    MethodParams,
    MethodState,
    Problem,
    RatingBatch,
    TrialBatch,
    eval_starts,
)
from hdbench.samplers import Sampler, build_sampler


class ExactScoreParams(MethodParams):
    sampler: str = Field("langevin", description="a registered sampler")
    sampler_settings: dict[str, Any] = Field(
        default_factory=dict, description="the sampler's settings; its defaults for the rest"
    )

    @model_validator(mode="after")
    def _sampler_is_valid(self) -> ExactScoreParams:
        self.chain()
        return self

    def chain(self) -> Sampler:
        """The sampler, validated (SpecError in one line naming a bad setting)."""
        return build_sampler(self.sampler, self.sampler_settings)


class ExactScore:
    """Asks nothing: everything happens in `finish`."""

    Params = ExactScoreParams
    description: ClassVar[str] = "reference: a sampler with the oracle's exact smoothed score"
    reference: ClassVar[bool] = True

    def init(
        self, params: ExactScoreParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState:
        return MethodState("sample", rng)

    def planned_ratings(self, params: ExactScoreParams, problem: Problem) -> int:
        """None: it samples with the exact score."""
        return 0

    def ask(
        self, params: ExactScoreParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        return None

    def tell(
        self,
        params: ExactScoreParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState:
        raise AssertionError("exact_score asks no trial, so it is told no rating")

    def finish(
        self, params: ExactScoreParams, problem: Problem, state: MethodState
    ) -> MethodOutput:
        if not isinstance(problem, ReferenceProblem) or problem.truth is None:
            raise TypeError("exact_score is a reference method: it needs a ReferenceProblem")
        snapshots: dict[int, np.ndarray] = {}

        def keep(step: int, x: np.ndarray) -> None:
            snapshots[step] = x.copy()

        starts = eval_starts(problem, state.rng)
        samples = params.chain().sample(problem.truth.smoothed_score, starts, state.rng, keep)
        return MethodOutput(samples, {}, snapshots)


METHODS.add("exact_score", ExactScore())
