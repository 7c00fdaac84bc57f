"""What every method that asks nobody shares: no trial, no rating, everything in `finish`."""

from __future__ import annotations

import numpy as np

from hdbench.protocol import MethodParams, MethodState, Problem, RatingBatch, TrialBatch


class AsksNobody:
    """Plans 0 ratings, asks no trial; a subclass gives `Params`, `description` and `finish`."""

    def init(self, params: MethodParams, problem: Problem, rng: np.random.Generator) -> MethodState:
        return MethodState("finish", rng)

    def planned_ratings(self, params: MethodParams, problem: Problem) -> int:
        return 0

    def ask(self, params: MethodParams, problem: Problem, state: MethodState) -> TrialBatch | None:
        return None

    def tell(
        self,
        params: MethodParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState:
        raise AssertionError(f"{type(self).__name__} asks no trial, so it is told no rating")
