"""HumanDiffusion (Ueda, Takamichi, Saito, Takamune, Saruwatari; Interspeech 2023).

1. Periphery data: M points x̂ ~ N(x_n, σ_nei² I) around each real datum x_n (§3.1).
2. Perceptual queries: R antithetic pairs x̂ ± Δ, Δ ~ N(0, σ_NES² I), each a paired trial rated
   on absolute sliders (§3.2): N·M·R·2 ratings, asked as one batch.
3. ∇D(x̂) by NES (Eq. 8, `hdbench.estimators.nes`); D(x̂) by the mode of a KDE of the 2R ratings.
4. Regulariser for vanished gradients (§3.2.1, Eq. 9, whose exact form is not available):
       ∇̃D(x̂) = ∇D(x̂) + λ (x_n − x̂) / σ_nei²,
   the denoising-score-matching score of N(x̂; x_n, σ_nei² I) (Song et al. 2021). It is added to
   the ∇D target, not to ∇log D: the network regresses ∇D, and a term added to ∇log D would
   reach the ∇D target multiplied by D ≈ 0 exactly where gradients vanish and the pull is needed.
5. Score network (Eq. 7) on (x̂, D, ∇̃D); sampling by Langevin with S_∇D / max(S_D, floor) from
   the real data (Eq. 10). The floor keeps the ratio finite where S_D → 0.

The steps live in `hdbench.methods.steps`, shared with the methods that build on them.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from hdbench.estimators.nes import NESEstimator, Normalisation
from hdbench.methods import steps
from hdbench.methods.base import METHODS, DiffusionParams
from hdbench.models.score_network import ratio_score_fn
from hdbench.protocol import (
    MethodOutput,
    MethodState,
    Problem,
    RatingBatch,
    TrialBatch,
    eval_starts,
)


class HumanDiffusionParams(DiffusionParams):
    num_periphery: int = Field(3, ge=1, description="M, periphery points per real datum")
    sigma_nei: float = Field(10.0, gt=0, description="sd of the periphery around a real datum")
    sigma_nes: float = Field(1.0, gt=0, description="sd of the NES perturbations")
    R: int = Field(20, ge=1, description="antithetic pairs per periphery point")
    nes_normalisation: Normalisation = "unbiased"
    rating_summary: Literal["mode", "mean", "median"] = Field(
        "mode", description="mode (KDE), mean or median"
    )
    lambda_: float = Field(1.0, ge=0, alias="lambda", description="regulariser weight λ")
    d_floor: float = Field(1e-3, gt=0, lt=1, description="floor on S_D in the score")
    noise: Literal["isotropic", "data"] = Field(
        "isotropic", description="periphery and NES noise: N(0, σ² I), or shaped by the data"
    )

    def shape(self, real_data: np.ndarray) -> np.ndarray | None:
        """The noise shape L (dim, dim), or None for isotropic noise (see `steps`)."""
        return steps.noise_shape(real_data) if self.noise == "data" else None


class HumanDiffusion:
    Params = HumanDiffusionParams
    description: ClassVar[str] = "learns D and ∇D from paired ratings, samples by Langevin"

    def init(
        self, params: HumanDiffusionParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState:
        return MethodState("query", rng)

    def planned_ratings(self, params: HumanDiffusionParams, problem: Problem) -> int:
        """N·M·R·2: a paired trial (two ratings) per antithetic pair of every periphery point."""
        return len(problem.real_data) * params.num_periphery * params.R * 2

    def ask(
        self, params: HumanDiffusionParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        if state.phase != "query":
            return None
        return ask_around(params, problem, state, problem.real_data, params.sigma_nei)

    def tell(
        self,
        params: HumanDiffusionParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState:
        network, arrays = learn(
            params, problem.real_data, state, ratings, params.shape(problem.real_data)
        )
        state.modules["network"] = network.state_dict()
        state.arrays.update(arrays)
        state.phase = "sample"
        return state

    def finish(
        self, params: HumanDiffusionParams, problem: Problem, state: MethodState
    ) -> MethodOutput:
        network = steps.load_network(params, problem.dim, state.modules["network"])
        score_fn = ratio_score_fn(network, params.d_floor)
        starts = eval_starts(problem, state.rng)
        chain = steps.sample(params, score_fn, starts, state.rng)
        field_points = field_grid(state.arrays["periphery"])
        arrays = {
            name: state.arrays[name]
            for name in ("periphery", "d_estimate", "nes_grad", "regularised_grad")
        }
        arrays.update(
            training_loss=state.arrays["training_loss"],
            field_points=field_points,
            learned_score=score_fn(field_points),
            **chain.arrays,
        )
        return MethodOutput(chain.samples, arrays, chain.snapshots)


def ask_around(
    params: HumanDiffusionParams,
    problem: Problem,
    state: MethodState,
    centres: np.ndarray,
    sigma_nei: float,
) -> TrialBatch:
    """The paired queries of a periphery around `centres` (n, dim), kept in the state for
    `tell`; the phase becomes `rate`."""
    shape = params.shape(problem.real_data)
    around = steps.periphery(centres, params.num_periphery, sigma_nei, state.rng, shape)
    batch, u = steps.queries(around.points, nes_of(params), state.rng, shape)
    state.arrays.update(periphery=around.points, parents=around.parents, delta=u)
    state.phase = "rate"
    return batch


def nes_of(params: HumanDiffusionParams) -> NESEstimator:
    return NESEstimator(params.sigma_nes, params.R, params.nes_normalisation)


def learn(
    params: HumanDiffusionParams,
    centres: np.ndarray,
    state: MethodState,
    ratings: RatingBatch,
    shape: np.ndarray | None = None,
):
    """Targets from the ratings of the queries in `state` (drawn around `centres`), and the
    network fitted to them.

    Returns the network and the arrays behind it (the D estimates, the observed and regularised
    gradients, the training loss).
    """
    fitted = round_targets(params, centres, state, ratings, shape)
    points = state.arrays["periphery"]
    network, losses = steps.fit(params, points, fitted.d, fitted.regularised_grad, state.rng)
    arrays = {
        "d_estimate": fitted.d,
        "nes_grad": fitted.nes_grad,
        "regularised_grad": fitted.regularised_grad,
        "training_loss": losses,
    }
    return network, arrays


def round_targets(
    params: HumanDiffusionParams,
    centres: np.ndarray,
    state: MethodState,
    ratings: RatingBatch,
    shape: np.ndarray | None,
) -> steps.Targets:
    """The targets of the queries in `state`: D, the NES and the regularised gradients."""
    around = steps.Periphery(state.arrays["periphery"], state.arrays["parents"])
    direction = steps.pull(centres, around, params.sigma_nei, shape)
    nes = nes_of(params)
    u = state.arrays["delta"]
    return steps.targets(ratings, u, nes, params.rating_summary, direction, params.lambda_, shape)


def field_grid(points: np.ndarray, num_per_axis: int = 25) -> np.ndarray:
    """A grid over the central 90% of `points` (n, dim) in the first two dimensions (the only
    one in 1-D), others at their mean; shape (num_per_axis^min(dim, 2), dim). Used to draw the
    learned score field."""
    spanned = min(points.shape[1], 2)
    lo, hi = np.quantile(points, [0.05, 0.95], axis=0)
    axes = [np.linspace(lo[i], hi[i], num_per_axis) for i in range(spanned)]
    grid = np.tile(points.mean(axis=0), (num_per_axis**spanned, 1))
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    grid[:, :spanned] = mesh.reshape(-1, spanned)
    return grid


METHODS.add("humandiffusion", HumanDiffusion())
