"""The NES perceptual gradient shared by HumanDiffusion and HumanGAN.

Both papers estimate ∇D at a point x̂ from R antithetic pairs {x̂ + Δ_r, x̂ − Δ_r},
Δ_r ~ N(0, σ² I), by natural evolution strategies (Ilyas et al., ICML 2018, antithetic form):

    ĝ(x̂) = c · Σ_{r=1}^{R} ΔD_r · Δ_r,      ΔD_r = D(x̂ + Δ_r) − D(x̂ − Δ_r).

- HumanGAN (Fujii et al., ICASSP 2020, Eq. 3; restated as HumanDiffusion Eq. 3) asks a listener
  for ΔD_r directly: a *differential* trial, one answer in [−1, 1] (`differential_trials`).
- HumanDiffusion (Ueda et al., Interspeech 2023, Eq. 8) plays the same pair to one listener, who
  rates each stimulus on its own slider: a *paired* trial. ΔD_r is the difference of the two
  absolute ratings (`paired_differences`); the listener's bias is shared within the pair and
  cancels. The 2R ratings also estimate D(x̂) itself (`pooled_ratings`, summarised by
  `hdbench.estimators.rating_summary`).

Normalisation. With Δ ~ N(0, σ² I), Stein's lemma gives E[ΔD_r Δ_r] = 2σ² ∇D_σ(x̂), where
D_σ = D * N(0, σ² I) is D smoothed by the perturbation distribution, so c = 1/(2σ²R)
("unbiased", the default) estimates ∇D_σ without bias. Both papers write c = 1/(2σR) ("paper"),
which is σ times that; the two agree at the paper's σ_NES = 1. Note that no normalisation
removes the smoothing: NES estimates ∇D_σ, not ∇D, and at σ = 1 on unit-scale data the two
differ noticeably (by about a quarter on the `paper_like` oracle).

One estimator serves both methods, so a comparison between them differs only in the trial
type, never in σ, R, the perturbation draws or the normalisation.

Shapes: points x (num_points, dim); perturbations Δ (num_points, R, dim); differences
(num_points, R); gradients (num_points, dim). Trials are flattened point-major: trial
k = i·R + r holds point i and perturbation r.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from hdbench.errors import SpecError
from hdbench.protocol.trials import RatingBatch, TrialBatch, TrialKind

Normalisation = Literal["unbiased", "paper"]


@dataclass(frozen=True)
class NESEstimator:
    """Antithetic NES with `num_perturbations` (R) pairs of N(0, `sigma`² I) perturbations.

    `sigma` is σ_NES (1.0 in HumanDiffusion); R is 20 in HumanDiffusion and 5 in HumanGAN.
    `normalisation` chooses c = 1/(2σ²R) ("unbiased") or the papers' c = 1/(2σR) ("paper").
    """

    sigma: float
    num_perturbations: int
    normalisation: Normalisation = "unbiased"

    def __post_init__(self) -> None:
        sigma = self.sigma
        if isinstance(sigma, bool) or not isinstance(sigma, int | float | np.floating | np.integer):
            raise SpecError(f"sigma_nes: expected a number > 0, got {sigma!r}")
        if not (math.isfinite(sigma) and sigma > 0):
            raise SpecError(f"sigma_nes: expected a finite number > 0, got {sigma!r}")
        num = self.num_perturbations
        if isinstance(num, bool) or not isinstance(num, int | np.integer) or num < 1:
            raise SpecError(f"R: expected an integer ≥ 1 (perturbation pairs), got {num!r}")
        if self.normalisation not in get_args(Normalisation):
            raise SpecError(
                f"normalisation: expected 'unbiased' or 'paper', got {self.normalisation!r}"
            )

    @property
    def scale(self) -> float:
        """The factor c in front of Σ_r ΔD_r Δ_r: 1/(2σ²R) or, for "paper", 1/(2σR)."""
        sigma_power = 2 if self.normalisation == "unbiased" else 1
        return 1.0 / (2.0 * self.sigma**sigma_power * self.num_perturbations)

    def perturbations(self, num_points: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        """Δ of shape (num_points, R, dim), every entry N(0, σ²), independent."""
        return self.sigma * rng.standard_normal((num_points, self.num_perturbations, dim))

    def stimuli(self, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x + Δ, x − Δ), each flattened point-major to shape (num_points·R, dim)."""
        x, delta = self._check(x, delta)
        dim = x.shape[1]
        plus = (x[:, None, :] + delta).reshape(-1, dim)
        minus = (x[:, None, :] - delta).reshape(-1, dim)
        return plus, minus

    def paired_trials(self, x: np.ndarray, delta: np.ndarray) -> TrialBatch:
        """Paired trials for HumanDiffusion (Eq. 8): trial i·R + r plays (x_i + Δ_ir, x_i − Δ_ir).

        x has shape (num_points, dim), delta (num_points, R, dim); num_points·R trials.
        """
        plus, minus = self.stimuli(x, delta)
        return TrialBatch.paired(plus, minus)

    def differential_trials(self, x: np.ndarray, delta: np.ndarray) -> TrialBatch:
        """Differential trials for HumanGAN (Eq. 3): trial i·R + r asks how much more natural
        x_i + Δ_ir is than x_i − Δ_ir, so its answer estimates ΔD_ir = D(x+Δ) − D(x−Δ).

        x has shape (num_points, dim), delta (num_points, R, dim); num_points·R trials.
        """
        plus, minus = self.stimuli(x, delta)
        return TrialBatch.differential(minus, plus)

    def gradient(self, differences: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """ĝ = c Σ_r ΔD_r Δ_r, shape (num_points, dim).

        differences: ΔD of shape (num_points, R); delta: the Δ they were measured with,
        shape (num_points, R, dim).
        """
        differences = np.asarray(differences, dtype=float)
        delta = np.asarray(delta, dtype=float)
        if delta.ndim != 3 or delta.shape[1] != self.num_perturbations:
            raise SpecError(
                f"delta: expected shape (num_points, {self.num_perturbations}, dim), "
                f"got {delta.shape}"
            )
        if differences.shape != delta.shape[:2]:
            raise SpecError(
                f"differences: expected shape {delta.shape[:2]} (num_points, R) to match delta, "
                f"got {differences.shape}"
            )
        return self.scale * np.einsum("pr,prd->pd", differences, delta)

    def paired_differences(self, ratings: RatingBatch) -> np.ndarray:
        """ΔD_ir = rating(x_i + Δ_ir) − rating(x_i − Δ_ir) from paired trials made by
        `paired_trials`, on the normalised [0, 1] slider: shape (num_points, R), in [−1, 1]."""
        values = self._normalised(ratings, "paired")
        return (values[:, 0] - values[:, 1]).reshape(-1, self.num_perturbations)

    def pooled_ratings(self, ratings: RatingBatch) -> np.ndarray:
        """The 2R normalised ratings of each point from paired trials made by `paired_trials`:
        shape (num_points, 2R), ordered [x+Δ_1, x−Δ_1, x+Δ_2, x−Δ_2, …] along the last axis."""
        values = self._normalised(ratings, "paired")
        return values.reshape(-1, 2 * self.num_perturbations)

    def differential_differences(self, ratings: RatingBatch) -> np.ndarray:
        """ΔD_ir, the answers to trials made by `differential_trials`: shape (num_points, R)."""
        return self._normalised(ratings, "differential")[:, 0].reshape(-1, self.num_perturbations)

    def _normalised(self, ratings: RatingBatch, kind: TrialKind) -> np.ndarray:
        if ratings.kind != kind:
            raise SpecError(f"ratings: expected a {kind} rating batch, got {ratings.kind}")
        values = ratings.normalised()
        if values.shape[0] % self.num_perturbations:
            raise SpecError(
                f"ratings: expected a multiple of R = {self.num_perturbations} trials "
                f"(num_points·R), got {values.shape[0]}"
            )
        return values

    def _check(self, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=float)
        delta = np.asarray(delta, dtype=float)
        if x.ndim != 2:
            raise SpecError(f"x: expected shape (num_points, dim), got {x.shape}")
        expected = (x.shape[0], self.num_perturbations, x.shape[1])
        if delta.shape != expected:
            raise SpecError(
                f"delta: expected shape {expected} (num_points, R, dim), got {delta.shape}"
            )
        return x, delta
