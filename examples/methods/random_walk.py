"""A random-walk baseline: walk particles from the real data, keep the steps people accept.

Each round, every particle proposes a step x' = x + s·z, z ~ N(0, I); a listener rates x' on
the slider, and the particle moves to x' when the rating is at least `threshold`. It needs no
model, asks `num_rounds` batches of `num_particles` absolute trials, and shows the whole
method contract: parameters, a state of plain arrays, and four calls.

    hdbench run --oracle paper_like --method random_walk --methods examples/methods
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from hdbench.protocol import (
    MethodOutput,
    MethodParams,
    MethodState,
    Problem,
    RatingBatch,
    TrialBatch,
    starting_points,
)


class RandomWalkParams(MethodParams):
    num_particles: int = Field(200, ge=1)
    num_rounds: int = Field(20, ge=0)
    step: float = Field(0.5, gt=0, description="sd of a proposed step")
    threshold: float = Field(0.5, ge=0, le=1, description="rating a step needs to be kept")


class RandomWalk:
    Params = RandomWalkParams
    description = "baseline: random steps from the real data, kept when rated ≥ threshold"

    def init(self, params, problem: Problem, rng: np.random.Generator):
        particles = starting_points(problem.real_data, params.num_particles)
        return MethodState("walk", rng, values={"round": 0}, arrays={"particles": particles})

    def ask(self, params, problem, state: MethodState):
        if state.values["round"] >= params.num_rounds:
            return None  # no more trials: finish
        particles = state.arrays["particles"]
        proposals = particles + params.step * state.rng.standard_normal(particles.shape)
        state.arrays["proposals"] = proposals
        return TrialBatch.absolute(proposals)

    def tell(self, params, problem, state: MethodState, ratings: RatingBatch):
        accepted = ratings.normalised()[:, 0] >= params.threshold
        proposals = state.arrays.pop("proposals")
        state.arrays["particles"] = np.where(
            accepted[:, None], proposals, state.arrays["particles"]
        )
        state.values["round"] += 1
        return state

    def finish(self, params, problem, state: MethodState):
        # As many particles as the run scores (--eval-samples): the walkers, drawn in turn.
        return MethodOutput(starting_points(state.arrays["particles"], problem.num_eval_samples))


method = RandomWalk
