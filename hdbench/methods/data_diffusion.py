"""Real-data diffusion: the control of HumanDiffusion, trained without any rating.

The same network and Langevin sampler, with the score learned by denoising score matching
(Vincent 2011; Song & Ermon 2019) on the real data alone: x̃ = x + σ z, target −z / σ, for
`num_copies` noisy copies of every datum, drawn in minibatches so that almost every step sees
fresh noise (a small fixed set of copies left regions where the learned score pointed outwards
and chains diverged). It learns the real-data distribution smoothed by
N(0, σ² I), not the acceptable one: the contrast the paper draws between a diffusion model and
HumanDiffusion. It spends no rating.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from hdbench.methods import steps
from hdbench.methods.base import METHODS, DiffusionParams
from hdbench.models.score_network import gradient_score_fn
from hdbench.protocol import (
    MethodOutput,
    MethodState,
    Problem,
    RatingBatch,
    TrialBatch,
    eval_starts,
)


class DataDiffusionParams(DiffusionParams):
    sigma_dsm: float = Field(0.3, gt=0, description="noise sd of denoising score matching")
    num_copies: int = Field(1000, ge=1, description="noisy copies of each real datum")
    batch_size: int = Field(300, ge=0, description="0: full batch")


class DataDiffusion:
    """Asks nothing: everything happens in `finish`."""

    Params = DataDiffusionParams
    description: ClassVar[str] = "control: score matching on the real data alone, no ratings"

    def init(
        self, params: DataDiffusionParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState:
        return MethodState("fit", rng)

    def planned_ratings(self, params: DataDiffusionParams, problem: Problem) -> int:
        """None: it learns from the real data alone."""
        return 0

    def ask(
        self, params: DataDiffusionParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        return None

    def tell(
        self,
        params: DataDiffusionParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState:
        raise AssertionError("data_diffusion asks no trial, so it is told no rating")

    def finish(
        self, params: DataDiffusionParams, problem: Problem, state: MethodState
    ) -> MethodOutput:
        rng = state.rng
        clean = np.repeat(problem.real_data, params.num_copies, axis=0)
        z = rng.standard_normal(clean.shape)
        noisy = clean + params.sigma_dsm * z
        network, losses = steps.fit(params, noisy, None, -z / params.sigma_dsm, rng)
        starts = eval_starts(problem, rng)
        chain = steps.sample(params, gradient_score_fn(network), starts, rng)
        return MethodOutput(
            chain.samples, {"training_loss": losses, **chain.arrays}, chain.snapshots
        )


METHODS.add("data_diffusion", DataDiffusion())
