"""Iterative HumanDiffusion: the budget spent in rounds, each around the current particles.

HumanDiffusion asks all its queries around the real data at once, with a wide periphery
(σ_nei = 10) of which most points land where every stimulus rates 0. Ueda et al. (2023, §5)
leave "diffusing the real data further" to future work; this method does it in rounds:

1. round 0: HumanDiffusion's periphery around the real data (σ_nei), its queries, its targets;
2. the score network is fitted on every rating so far;
3. Langevin chains from the real data (`round_steps` steps) move `num_centres` particles into
   the region learnt so far; the next round's periphery is drawn around them (σ_nei_next),
   and the regulariser pulls toward the particle a point was drawn around;
4. after the last round, HumanDiffusion's sampling.

With `num_rounds` = 1 it is HumanDiffusion. Every HumanDiffusion option applies, data-shaped
noise included. Defaults: 4 rounds of 100 × 1 × 3 pairs, 2,400 ratings (a fifth of HumanDiffusion's
12,000), σ_nei 10 then 5, λ = 0.3; chosen by a few runs on `paper_like` (the grid is
`benchmarks/humandiffusion_iter.toml`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from hdbench.methods import steps
from hdbench.methods.base import METHODS
from hdbench.methods.humandiffusion import (
    HumanDiffusion,
    HumanDiffusionParams,
    ask_around,
    nes_of,
)
from hdbench.models.score_network import ratio_score_fn
from hdbench.protocol import (
    MethodOutput,
    MethodState,
    Problem,
    RatingBatch,
    TrialBatch,
    starting_points,
)

ACCUMULATED = ("all_points", "all_d", "all_nes", "all_grad")


class IterativeHumanDiffusionParams(HumanDiffusionParams):
    num_rounds: int = Field(4, ge=1, description="rounds of queries")
    num_periphery: int = Field(1, ge=1, description="M, periphery points per centre")
    R: int = Field(3, ge=1, description="antithetic pairs per periphery point")
    sigma_nei: float = Field(10.0, gt=0, description="sd of the first round's periphery")
    sigma_nei_next: float = Field(5.0, gt=0, description="sd of the later rounds' periphery")
    lambda_: float = Field(0.3, ge=0, alias="lambda", description="regulariser weight λ")
    num_centres: int = Field(100, ge=1, description="particles a later round is drawn around")
    round_steps: int = Field(2000, ge=0, description="Langevin steps between two rounds")


class IterativeHumanDiffusion:
    Params = IterativeHumanDiffusionParams
    description: ClassVar[str] = "HumanDiffusion in rounds, each asked around its particles"

    def init(
        self, params: IterativeHumanDiffusionParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState:
        arrays = {"centres": problem.real_data}
        return MethodState("query", rng, values={"round": 0}, arrays=arrays)

    def planned_ratings(self, params: IterativeHumanDiffusionParams, problem: Problem) -> int:
        """(N + (rounds − 1)·num_centres)·M·R·2: the first round around the N real data, each
        later one around `num_centres` particles."""
        centres = len(problem.real_data) + (params.num_rounds - 1) * params.num_centres
        return centres * params.num_periphery * params.R * 2

    def ask(
        self, params: IterativeHumanDiffusionParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        if state.phase != "query":
            return None
        centres = state.arrays["centres"]
        return ask_around(params, problem, state, centres, sigma_of(params, state))

    def tell(
        self,
        params: IterativeHumanDiffusionParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState:
        shape = params.shape(problem.real_data)
        around = steps.Periphery(state.arrays["periphery"], state.arrays["parents"])
        direction = steps.pull(state.arrays["centres"], around, sigma_of(params, state), shape)
        fitted = steps.targets(
            ratings,
            state.arrays["delta"],
            nes_of(params),
            params.rating_summary,
            direction,
            params.lambda_,
            shape,
        )
        for name, new in zip(
            ACCUMULATED,
            (around.points, fitted.d, fitted.nes_grad, fitted.regularised_grad),
            strict=True,
        ):
            state.arrays[name] = (
                np.concatenate([state.arrays[name], new]) if (name in state.arrays) else new
            )
        network, losses = steps.fit(
            params,
            state.arrays["all_points"],
            state.arrays["all_d"],
            state.arrays["all_grad"],
            state.rng,
        )
        state.modules["network"] = network.state_dict()
        state.arrays.update(
            training_loss=losses,
            d_estimate=state.arrays["all_d"],
            regularised_grad=state.arrays["all_grad"],
        )
        state.values["round"] += 1
        if state.values["round"] >= params.num_rounds:
            state.phase = "sample"
            return state
        # A round's chain is short and its length part of the method: it always runs whole.
        moving = params.model_copy(update={"num_steps": params.round_steps, "stop": "fixed"})
        starts = starting_points(problem.real_data, params.num_centres)
        chain = steps.sample(moving, ratio_score_fn(network, params.d_floor), starts, state.rng)
        state.arrays["centres"] = chain.samples
        state.phase = "query"
        return state

    def finish(
        self, params: IterativeHumanDiffusionParams, problem: Problem, state: MethodState
    ) -> MethodOutput:
        state.arrays["periphery"] = state.arrays["all_points"]
        state.arrays["nes_grad"] = state.arrays["all_nes"]
        return HumanDiffusion().finish(params, problem, state)


def sigma_of(params: IterativeHumanDiffusionParams, state: MethodState) -> float:
    """σ_nei of the current round."""
    return params.sigma_nei if state.values["round"] == 0 else params.sigma_nei_next


METHODS.add("humandiffusion_iter", IterativeHumanDiffusion())
