"""HumanDiffusion's steps, one function each, for every method that builds on them.

periphery → queries → targets → fit → sample (Ueda et al., Interspeech 2023, §3.1–3.3):

1. `periphery`: M points x̂ ~ N(x_n, σ_nei² I) around each centre x_n (the real data, or a
   later method's current particles).
2. `queries`: R antithetic pairs x̂ ± Δ per point, Δ ~ N(0, σ_NES² I), as paired trials.
3. `targets`: ∇D(x̂) by NES (Eq. 8), D(x̂) by a summary of the 2R ratings (the KDE mode by
   default), and the regulariser λ (x_n − x̂) / σ_nei² added to the ∇D target (Eq. 9).
4. `fit`: the two-headed score network (Eq. 7) trained on (x̂, D, ∇̃D).
5. `sample`: Langevin chains (Eq. 10) with any score function, from given starting points.

Each is a pure function of its inputs and an explicit generator. Noise may be shaped by the data
(PriorGrad, Lee et al., ICLR 2022): periphery offsets and NES perturbations then come from
N(0, σ² Σ) with Σ the real data's covariance scaled to unit mean variance, so that σ_nei and
σ_NES keep their meaning. With Δ = L u (Σ = L Lᵀ, u ~ N(0, σ² I)), NES on u estimates
Lᵀ ∇D_Σ, so the gradient is L⁻ᵀ times that; the regulariser becomes the score of
N(x_n, σ_nei² Σ), Σ⁻¹ (x_n − x̂) / σ_nei². Isotropic noise (`shape` None) is the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hdbench.estimators.nes import NESEstimator
from hdbench.estimators.rating_summary import summarise
from hdbench.methods.base import DiffusionParams
from hdbench.models.score_network import ScoreNetwork, TrainingConfig, train_score_network
from hdbench.protocol.trials import RatingBatch, TrialBatch
from hdbench.samplers.convergence import StationarityDiagnostic
from hdbench.samplers.langevin import LangevinSampler, ScoreFn


@dataclass(frozen=True)
class Periphery:
    """Points (num_points, dim) and the index of the centre each was drawn around (num_points,)."""

    points: np.ndarray
    parents: np.ndarray


@dataclass(frozen=True)
class Targets:
    """Training targets at the periphery: D (num_points,), the NES gradient and the regularised
    gradient (num_points, dim)."""

    d: np.ndarray
    nes_grad: np.ndarray
    regularised_grad: np.ndarray


def noise_shape(real_data: np.ndarray) -> np.ndarray:
    """L with L Lᵀ = Σ, the real data's (num, dim) covariance scaled to unit mean variance."""
    cov = np.atleast_2d(np.cov(real_data, rowvar=False))
    return np.linalg.cholesky(cov / (np.trace(cov) / len(cov)))


def periphery(
    centres: np.ndarray,
    num_per_centre: int,
    sigma_nei: float,
    rng: np.random.Generator,
    shape: np.ndarray | None = None,
) -> Periphery:
    """`num_per_centre` points N(c, σ_nei² Σ) around each centre c of `centres` (n, dim);
    Σ = I, or L Lᵀ for a noise `shape` L (dim, dim)."""
    parents = np.repeat(np.arange(len(centres)), num_per_centre)
    noise = rng.standard_normal((len(parents), centres.shape[1]))
    if shape is not None:
        noise = noise @ shape.T
    return Periphery(centres[parents] + sigma_nei * noise, parents)


def queries(
    points: np.ndarray,
    nes: NESEstimator,
    rng: np.random.Generator,
    shape: np.ndarray | None = None,
) -> tuple[TrialBatch, np.ndarray]:
    """Paired trials x̂ ± Δ around `points` (n, dim) and the isotropic draws u (n, R, dim) that
    made them: Δ = u, or L u for a noise `shape` L."""
    u = nes.perturbations(len(points), points.shape[1], rng)
    delta = u if shape is None else u @ shape.T
    return nes.paired_trials(points, delta), u


def pull(
    centres: np.ndarray,
    around: Periphery,
    sigma_nei: float,
    shape: np.ndarray | None = None,
) -> np.ndarray:
    """The regulariser's direction at each periphery point: the score of N(x_n, σ_nei² Σ),
    shape (num_points, dim)."""
    offset = (centres[around.parents] - around.points) / sigma_nei**2
    if shape is None:
        return offset
    return np.linalg.solve(shape @ shape.T, offset.T).T


def targets(
    ratings: RatingBatch,
    u: np.ndarray,
    nes: NESEstimator,
    rating_summary: str,
    direction: np.ndarray,
    lambda_: float,
    shape: np.ndarray | None = None,
) -> Targets:
    """NES gradient and summarised D from paired `ratings` of the queries drawn with `u`;
    `direction` (n, dim) is the regulariser's (see `pull`), added with weight `lambda_`."""
    nes_grad = nes.gradient(nes.paired_differences(ratings), u)
    if shape is not None:
        nes_grad = np.linalg.solve(shape.T, nes_grad.T).T
    d = summarise(nes.pooled_ratings(ratings), rating_summary)
    return Targets(d, nes_grad, nes_grad + lambda_ * direction)


def fit(
    params: DiffusionParams,
    x: np.ndarray,
    d_target: np.ndarray | None,
    grad_target: np.ndarray,
    rng: np.random.Generator,
) -> tuple[ScoreNetwork, np.ndarray]:
    """A score network trained on x (n, dim) with `params`; returns it and its loss per step.

    Initialisation and batches follow a torch generator seeded from `rng`.
    """
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    network = ScoreNetwork(x.shape[1], generator, params.width, params.depth)
    config = TrainingConfig(params.train_steps, params.learning_rate, params.batch_size)
    losses = train_score_network(network, x, d_target, grad_target, config, generator)
    return network, losses


def load_network(params: DiffusionParams, dim: int, state_dict: dict) -> ScoreNetwork:
    """A score network of `params`' shape with the weights of `state_dict`."""
    network = ScoreNetwork(dim, torch.Generator().manual_seed(0), params.width, params.depth)
    network.load_state_dict(state_dict)
    return network


@dataclass(frozen=True)
class Chain:
    """What a Langevin run leaves: the final particles (num_chains, dim), snapshots
    {step: particles} every `trace_every` steps and at the last, and the arrays of its
    convergence (`convergence_arrays`)."""

    samples: np.ndarray
    snapshots: dict[int, np.ndarray]
    arrays: dict[str, np.ndarray]


def sample(
    params: DiffusionParams,
    score_fn: ScoreFn,
    starts: np.ndarray,
    rng: np.random.Generator,
) -> Chain:
    """Langevin chains from `starts` (num_chains, dim), at most `num_steps` steps; with
    `stop="converged"` they end once the cloud is stationary (`StationarityDiagnostic`)."""
    snapshots: dict[int, np.ndarray] = {}

    def keep(step: int, x: np.ndarray) -> None:
        snapshots[step] = x.copy()

    diagnostic = StationarityDiagnostic(stops=params.stop == "converged")
    sampler = LangevinSampler(params.step_size, params.num_steps, params.trace_every)
    samples = sampler.sample(score_fn, starts, rng, keep, diagnostic)
    return Chain(samples, snapshots, convergence_arrays(diagnostic, max(snapshots)))


def convergence_arrays(diagnostic: StationarityDiagnostic, last_step: int) -> dict[str, np.ndarray]:
    """`convergence`: the diagnostic's checks (num_checks, 4: step, lag step, movement, floor);
    `chain_steps`: the steps the chain ran and the step at which it was first stationary
    (−1: never), shape (2,)."""
    stationary = -1 if diagnostic.stop_step is None else diagnostic.stop_step
    return {
        "convergence": diagnostic.trace_array(),
        "chain_steps": np.array([last_step, stationary]),
    }
