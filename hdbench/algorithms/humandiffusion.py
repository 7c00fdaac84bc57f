"""HumanDiffusion (Ueda, Takamichi, Saito, Takamune, Saruwatari; Interspeech 2023).

1. Periphery data: M points x̂ ~ N(x_n, σ_nei² I) around each real datum x_n (§3.1).
2. Perceptual queries: R antithetic pairs x̂ ± Δ, Δ ~ N(0, σ_NES² I), each a paired trial rated
   on absolute sliders (§3.2): N·M·R·2 ratings.
3. ∇D(x̂) by NES (Eq. 8, `hdbench.estimators.nes`); D(x̂) by the mode of a KDE of the 2R ratings.
4. Regulariser for vanished gradients (§3.2.1, Eq. 9, whose exact form is not available):
       ∇̃D(x̂) = ∇D(x̂) + λ (x_n − x̂) / σ_nei²,
   the denoising-score-matching score of N(x̂; x_n, σ_nei² I) (Song et al. 2021). It is added to
   the ∇D target, not to ∇log D: the network regresses ∇D, and a term added to ∇log D would
   reach the ∇D target multiplied by D ≈ 0 exactly where gradients vanish and the pull is needed.
5. Score network (Eq. 7) on (x̂, D, ∇̃D); sampling by Langevin with S_∇D / max(S_D, floor) from
   the real data (Eq. 10). The floor keeps the ratio finite where S_D → 0.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from hdbench.algorithms.base import (
    ALGORITHMS,
    AlgorithmOutput,
    DiffusionParams,
    fit_score_network,
    sample_from_real_data,
)
from hdbench.estimators.nes import NESEstimator, Normalisation
from hdbench.estimators.rating_summary import summarise
from hdbench.models.score_network import ScoreNetwork, ratio_score_fn
from hdbench.oracles import Panel, collect
from hdbench.samplers.langevin import TraceFn


class HumanDiffusionParams(DiffusionParams):
    num_periphery: int = Field(3, ge=1, description="M, periphery points per real datum")
    sigma_nei: float = Field(10.0, gt=0, description="sd of the periphery around a real datum")
    sigma_nes: float = Field(1.0, gt=0, description="sd of the NES perturbations")
    R: int = Field(20, ge=1, description="antithetic pairs per periphery point")
    nes_normalisation: Normalisation = "unbiased"
    rating_summary: str = Field("mode", description="mode (KDE), mean or median")
    lambda_: float = Field(1.0, ge=0, alias="lambda", description="regulariser weight λ")
    d_floor: float = Field(1e-3, gt=0, lt=1, description="floor on S_D in the score")


class HumanDiffusion:
    Params = HumanDiffusionParams
    description: ClassVar[str] = "learns D and ∇D from paired ratings, samples by Langevin"

    def run(
        self,
        params: HumanDiffusionParams,
        panel: Panel,
        real_data: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
    ) -> AlgorithmOutput:
        network, arrays = learn_score_network(params, panel, real_data, rng)
        score_fn = ratio_score_fn(network, params.d_floor)
        samples = sample_from_real_data(params, score_fn, real_data, rng, trace_fn)
        field_points = field_grid(arrays["periphery"])
        arrays.update(field_points=field_points, learned_score=score_fn(field_points))
        return AlgorithmOutput(samples, arrays)


def learn_score_network(
    params: HumanDiffusionParams,
    panel: Panel,
    real_data: np.ndarray,
    rng: np.random.Generator,
) -> tuple[ScoreNetwork, dict[str, np.ndarray]]:
    """Steps 1–5 before sampling: periphery, queries, NES and KDE targets, regulariser, training.

    Returns the trained network and the arrays behind it (periphery points, the D estimates,
    the observed and regularised gradients, the training loss).
    """
    nes = NESEstimator(params.sigma_nes, params.R, params.nes_normalisation)
    parents = np.repeat(np.arange(len(real_data)), params.num_periphery)
    periphery = real_data[parents] + params.sigma_nei * rng.standard_normal(
        (len(parents), real_data.shape[1])
    )
    delta = nes.perturbations(len(periphery), real_data.shape[1], rng)
    ratings = collect(panel, panel.submit(nes.paired_trials(periphery, delta)))
    nes_grad = nes.gradient(nes.paired_differences(ratings), delta)
    d = summarise(nes.pooled_ratings(ratings), params.rating_summary)
    pull = (real_data[parents] - periphery) / params.sigma_nei**2
    target_grad = nes_grad + params.lambda_ * pull
    network, losses = fit_score_network(params, periphery, d, target_grad, rng)
    arrays = {
        "periphery": periphery,
        "d_estimate": d,
        "nes_grad": nes_grad,
        "regularised_grad": target_grad,
        "training_loss": losses,
    }
    return network, arrays


def field_grid(points: np.ndarray, num_per_axis: int = 25) -> np.ndarray:
    """A grid over the central 90% of `points` in the first two dimensions, others at their mean;
    shape (num_per_axis², dim). Used to draw the learned score field."""
    lo, hi = np.quantile(points, [0.05, 0.95], axis=0)
    axes = [np.linspace(lo[i], hi[i], num_per_axis) for i in range(2)]
    grid = np.tile(points.mean(axis=0), (num_per_axis**2, 1))
    grid[:, :2] = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    return grid


ALGORITHMS.add("humandiffusion", HumanDiffusion())
