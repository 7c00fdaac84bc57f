"""Multi-scale HumanDiffusion: a noise-conditional score learnt from ratings, sampled by annealing.

HumanDiffusion (Ueda et al., Interspeech 2023) learns ∇D at one scale (σ_NES = 1 around a
periphery of σ_nei = 10) and samples by plain Langevin, which does not cross between separated
modes. Score-based models answer that with a score at every noise level and annealed sampling
(Song & Ermon, NeurIPS 2019; Song et al., ICLR 2021). Here every level is learnt from ratings:

1. levels l = 1 … L: σ_nei,l geometric from `sigma_nei_max` to `sigma_nei_min`, and
   σ_l = `nes_ratio` · σ_nei,l, the level's NES perturbation sd and its noise level;
2. at each level, M periphery points x̂ ~ N(x_n, σ_nei,l² I) around each real datum and R
   antithetic pairs x̂ ± Δ, Δ ~ N(0, σ_l² I), as paired trials; all levels in one batch;
3. targets: by Stein's identity the mean of the 2R ratings estimates D_σl(x̂) = (D * N(0, σ_l² I))(x̂)
   and NES (unbiased normalisation) estimates ∇D_σl(x̂), so that their ratio estimates
   ∇log D_σl, the score of p_D smoothed at σ_l, the very score annealed samplers follow (hence
   `rating_summary` = mean by default); the regulariser λ (x_n − x̂) / σ_nei,l² is added to the
   ∇D target with the level's own σ_nei, as in HumanDiffusion (`steps.pull`);
4. one noise-conditional two-head network S(x, σ) on all levels' targets
   (`hdbench.models.noise_score_network`);
5. sampling by a registered sampler (`annealed_langevin` or `predictor_corrector`) from σ_1 down
   to σ_L with s(x, σ) = S_∇D(x, σ) / max(S_D(x, σ), floor), from the real data.

All queries go out in one batch: a study with people then waits once, as HumanDiffusion's does,
and no level's queries depend on what another level's ratings taught. Defaults (3 levels,
σ_nei 4 → 2, σ_NES = σ_nei / 4, M = 2, R = 10: 12,000 ratings, λ = 0.1, predictor–corrector)
were chosen by the sweeps `benchmarks/humandiffusion_ms.toml` and
`benchmarks/humandiffusion_ms_refine.toml` (README, "One run").
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

import numpy as np
import torch
from pydantic import Field, model_validator

from hdbench.estimators.nes import NESEstimator, Normalisation
from hdbench.methods import steps
from hdbench.methods.base import METHODS, NetworkParams
from hdbench.methods.humandiffusion import field_grid
from hdbench.models.noise_score_network import (
    NoiseScoreNetwork,
    noise_heads_fn,
    train_noise_score_network,
)
from hdbench.models.score_network import TrainingConfig
from hdbench.protocol import (
    MethodOutput,
    MethodState,
    Problem,
    RatingBatch,
    TrialBatch,
    starting_points,
)
from hdbench.samplers import build_sampler
from hdbench.samplers.base import NoiseScoreFn, Sampler


class MultiScaleParams(NetworkParams):
    num_levels: int = Field(3, ge=2, description="L, noise levels queried and learnt")
    sigma_nei_max: float = Field(4.0, gt=0, description="periphery sd of the coarsest level")
    sigma_nei_min: float = Field(2.0, gt=0, description="periphery sd of the finest level")
    nes_ratio: float = Field(0.25, gt=0, description="σ_NES = nes_ratio · σ_nei at each level")
    num_periphery: int = Field(2, ge=1, description="M, periphery points per datum and level")
    R: int = Field(10, ge=1, description="antithetic pairs per periphery point")
    nes_normalisation: Normalisation = "unbiased"
    rating_summary: Literal["mean", "mode", "median"] = Field(
        "mean", description="mean (estimates D smoothed at σ_NES), mode (KDE) or median"
    )
    lambda_: float = Field(0.1, ge=0, alias="lambda", description="regulariser weight λ")
    noise: Literal["isotropic", "data"] = Field(
        "isotropic", description="periphery and NES noise: N(0, σ² I), or shaped by the data"
    )
    d_floor: float = Field(0.02, gt=0, lt=1, description="floor on S_D in the score")
    sampler: Literal["annealed_langevin", "predictor_corrector"] = "predictor_corrector"
    sample_levels: int = Field(
        10, ge=2, description="sampler noise levels from σ_1 to σ_L (annealed_langevin)"
    )
    steps_per_level: int = Field(
        100,
        ge=1,
        description="Langevin steps per level; predictor_corrector takes "
        "sample_levels × steps_per_level predictor steps",
    )
    step_ratio: float = Field(
        0.2, gt=0, description="annealed_langevin's step at level σ over σ² (ε / σ_min²)"
    )
    snr: float = Field(0.16, gt=0, description="predictor_corrector's corrector SNR")
    trace_every: int = Field(100, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> MultiScaleParams:
        if not self.sigma_nei_min < self.sigma_nei_max:
            raise ValueError(
                f"expected sigma_nei_min < sigma_nei_max, got {self.sigma_nei_min} and "
                f"{self.sigma_nei_max}"
            )
        return self

    def sigma_nei(self) -> np.ndarray:
        """σ_nei of each level, coarsest first: shape (num_levels,)."""
        return np.geomspace(self.sigma_nei_max, self.sigma_nei_min, self.num_levels)

    def sigma_nes(self) -> np.ndarray:
        """σ_l = σ_NES of each level, its noise level: shape (num_levels,)."""
        return self.nes_ratio * self.sigma_nei()

    def shape(self, real_data: np.ndarray) -> np.ndarray | None:
        """The noise shape L (dim, dim), or None for isotropic noise (see `steps`)."""
        return steps.noise_shape(real_data) if self.noise == "data" else None

    def build_sampler(self) -> Sampler:
        """The sampler from σ_1 down to σ_L, the levels the network learnt."""
        levels = self.sigma_nes()
        span = {"sigma_max": levels[0], "sigma_min": levels[-1], "trace_every": self.trace_every}
        if self.sampler == "annealed_langevin":
            settings = {
                "num_levels": self.sample_levels,
                "steps_per_level": self.steps_per_level,
                "step_size": self.step_ratio * levels[-1] ** 2,
            }
        else:
            settings = {
                "num_steps": self.sample_levels * self.steps_per_level,
                "corrector_steps": 1,
                "snr": self.snr,
            }
        return build_sampler(self.sampler, {**span, **settings})


class MultiScaleHumanDiffusion:
    Params = MultiScaleParams
    description: ClassVar[str] = (
        "learns D and ∇D smoothed at several noise levels from ratings, samples by annealing"
    )

    def init(
        self, params: MultiScaleParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState:
        return MethodState("query", rng)

    def planned_ratings(self, params: MultiScaleParams, problem: Problem) -> int:
        """L·N·M·R·2: HumanDiffusion's paired queries at each of the L noise levels."""
        return params.num_levels * len(problem.real_data) * params.num_periphery * params.R * 2

    def ask(
        self, params: MultiScaleParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        if state.phase != "query":
            return None
        shape = params.shape(problem.real_data)
        points, parents, deltas, stimuli = [], [], [], []
        for sigma_nei, sigma_nes in zip(params.sigma_nei(), params.sigma_nes(), strict=True):
            around = steps.periphery(
                problem.real_data, params.num_periphery, sigma_nei, state.rng, shape
            )
            batch, u = steps.queries(around.points, nes_at(params, sigma_nes), state.rng, shape)
            points.append(around.points)
            parents.append(around.parents)
            deltas.append(u)
            stimuli.append(batch.stimuli)
        state.arrays.update(
            periphery=np.concatenate(points),
            parents=np.concatenate(parents),
            delta=np.concatenate(deltas),
        )
        state.phase = "rate"
        return TrialBatch.build("paired", np.concatenate(stimuli))

    def tell(
        self,
        params: MultiScaleParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState:
        fitted, sigma = level_targets(params, problem.real_data, state, ratings)
        points = state.arrays["periphery"]
        generator = torch.Generator().manual_seed(int(state.rng.integers(2**62)))
        network = NoiseScoreNetwork(problem.dim, generator, params.width, params.depth)
        config = TrainingConfig(params.train_steps, params.learning_rate, params.batch_size)
        losses = train_noise_score_network(
            network, points, sigma, fitted.d, fitted.regularised_grad, config, generator
        )
        state.modules["network"] = network.state_dict()
        state.arrays.update(
            sigma=sigma,
            d_estimate=fitted.d,
            nes_grad=fitted.nes_grad,
            regularised_grad=fitted.regularised_grad,
            training_loss=losses,
        )
        state.phase = "sample"
        return state

    def finish(
        self, params: MultiScaleParams, problem: Problem, state: MethodState
    ) -> MethodOutput:
        network = load_network(params, problem.dim, state.modules["network"])
        score_fn = sampling_score_fn(network, params, problem.real_data)
        snapshots: dict[int, np.ndarray] = {}

        def keep(step: int, x: np.ndarray) -> None:
            snapshots[step] = x.copy()

        starts = starting_points(problem.real_data, problem.num_eval_samples)
        samples = params.build_sampler().sample(score_fn, starts, state.rng, keep)
        field_points = field_grid(state.arrays["periphery"])
        arrays = {
            name: state.arrays[name]
            for name in (
                "periphery",
                "sigma",
                "d_estimate",
                "nes_grad",
                "regularised_grad",
                "training_loss",
            )
        }
        arrays.update(
            field_points=field_points,
            learned_score=score_fn(field_points, float(params.sigma_nes()[-1])),
        )
        return MethodOutput(samples, arrays, snapshots)


def nes_at(params: MultiScaleParams, sigma_nes: float) -> NESEstimator:
    return NESEstimator(float(sigma_nes), params.R, params.nes_normalisation)


def level_targets(
    params: MultiScaleParams,
    real_data: np.ndarray,
    state: MethodState,
    ratings: RatingBatch,
) -> tuple[steps.Targets, np.ndarray]:
    """Every level's targets from its slice of `ratings`, concatenated level by level, and the
    noise level σ of each periphery point (num_points,)."""
    shape = params.shape(real_data)
    num_points = len(real_data) * params.num_periphery
    trials = num_points * params.R
    parts, sigma = [], []
    for level, (sigma_nei, sigma_nes) in enumerate(
        zip(params.sigma_nei(), params.sigma_nes(), strict=True)
    ):
        rows = slice(level * num_points, (level + 1) * num_points)
        around = steps.Periphery(state.arrays["periphery"][rows], state.arrays["parents"][rows])
        direction = steps.pull(real_data, around, float(sigma_nei), shape)
        ratings_of_level = dataclasses.replace(
            ratings,
            values=ratings.values[level * trials : (level + 1) * trials],
            listener_ids=ratings.listener_ids[level * trials : (level + 1) * trials],
        )
        parts.append(
            steps.targets(
                ratings_of_level,
                state.arrays["delta"][rows],
                nes_at(params, sigma_nes),
                params.rating_summary,
                direction,
                params.lambda_,
                shape,
            )
        )
        sigma.append(np.full(num_points, sigma_nes))
    fitted = steps.Targets(
        *(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(parts[0]))
    )
    return fitted, np.concatenate(sigma)


def sampling_score_fn(
    network: NoiseScoreNetwork, params: MultiScaleParams, real_data: np.ndarray
) -> NoiseScoreFn:
    """s(x, σ) for x (n, dim): S_∇D / max(S_D, floor) where S_D ≥ floor; below the floor,
    blended into the periphery's own score in proportion 1 − S_D / floor.

    Where S_D falls below the floor the ratio is a ratio of two extrapolations (no rating
    there rose above the slider's bottom), and a particle that strays there can be pushed out
    for good. The periphery of level σ, N(x_n, (σ / nes_ratio)² Σ) around the real data, is what
    the regulariser pulls toward; its score always points back to the data.
    """
    heads = noise_heads_fn(network)
    shape = params.shape(real_data)
    cov = np.eye(real_data.shape[1]) if shape is None else shape @ shape.T

    def score(x: np.ndarray, sigma: float) -> np.ndarray:
        s_d, s_grad = (t.double().numpy() for t in heads(x, sigma))
        result = s_grad / np.maximum(s_d, params.d_floor)[:, None]
        weight = s_d / params.d_floor
        stray = weight < 1
        if stray.any():
            prior = periphery_score(x[stray], real_data, (sigma / params.nes_ratio) ** 2 * cov)
            w = weight[stray, None]
            result[stray] = w * result[stray] + (1 - w) * prior
        return result

    return score


def periphery_score(x: np.ndarray, centres: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """∇log of the mixture (1/N) Σ_n N(x; c_n, cov) at x (n, dim), centres (N, dim): shape
    (n, dim)."""
    precision = np.linalg.inv(cov)
    offsets = centres[None, :, :] - x[:, None, :]  # (n, N, dim)
    pulls = offsets @ precision  # each offset times the (symmetric) precision
    log_weights = -0.5 * (offsets * pulls).sum(axis=2)
    weights = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkd->nd", weights, pulls)


def load_network(params: MultiScaleParams, dim: int, state_dict: dict) -> NoiseScoreNetwork:
    """A network of `params`' shape with the weights of `state_dict`."""
    network = NoiseScoreNetwork(dim, torch.Generator().manual_seed(0), params.width, params.depth)
    network.load_state_dict(state_dict)
    return network


METHODS.add("humandiffusion_ms", MultiScaleHumanDiffusion())
