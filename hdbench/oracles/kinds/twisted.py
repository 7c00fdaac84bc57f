"""`twisted`: Gaussian bumps bent into curved shapes by volume-preserving twists, in any dimension.

Each bump k is a Gaussian N(μ_k, Σ_k) pushed through a twist along two orthonormal directions u_k
(the spine) and v_k (the bend, v_k ⊥ u_k),

    T_k(x) = x + b_k (a² - s²) v_k,   a = (x - μ_k)·u_k,   s² = u_kᵀ Σ_k u_k,

a shear whose Jacobian I + 2 b_k a v_k u_kᵀ has determinant 1 + 2 b_k a v_kᵀu_k = 1: volume is
kept, a is unchanged by T_k, and T_k⁻¹(y) = y - b_k (a² - s²) v_k (Haario et al. 1999's banana,
in any dimension and direction). So

    D(y) = Σ_k h_k exp(-½ q_k(T_k⁻¹(y))),   q_k the quadratic form of N(μ_k, Σ_k),

has the same normaliser as the untwisted mixture, Σ_k h_k √det(2π Σ_k); exact samples are T_k of
Gaussian draws (a bump chosen with probability ∝ its mass), and the score is closed-form,

    ∇log D(y) = Σ_k r_k(y) (I - 2 b_k a v_k u_kᵀ)ᵀ Σ_k⁻¹ (μ_k - T_k⁻¹(y)),

r_k the bumps' responsibilities. With every b_k = 0 this is the `mixture` kind. The twist keeps
each bump's mean (E[a² - s²] = 0) and adds 2 b_k² s⁴ along v_k to its covariance (odd moments
vanish): those moment-matched Gaussians are the kind's modes. The smoothed score has no closed
form; it is the generic quasi-Monte Carlo estimate.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from hdbench.lazy import lazy_import
from hdbench.oracles.acceptability import Acceptability, KindParams, Mode
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.kinds.fields import check_covariance, check_vector, gaussian_log_bump
from hdbench.oracles.kinds.mixture import MAX_BUMPS, MixtureAcceptability, gaussian_draws

special = lazy_import("scipy.special")

#: Spine half-length, in sd along it, over which the box follows a bent bump.
SPINE_SDS = 5.0
#: Margin of the box around a bump's spine, in sd of its covariance's axes.
BOX_SDS = 6.0
#: Tolerance of |u·v| and of ‖u‖, ‖v‖ - 1 after normalising: directions given by hand.
ORTHOGONAL_TOLERANCE = 1e-6


class TwistedBump(KindParams):
    mean: list[float]
    cov: list[list[float]] = Field(description="covariance of the Gaussian before the twist")
    peak: float = Field(0.9, gt=0.0, le=1.0)
    bend: float = Field(0.0, description="b: the spine's curvature, in 1 / length")
    spine: list[float] | None = Field(None, description="u; default: the first axis")
    towards: list[float] | None = Field(None, description="v ⊥ u; default: the second axis")

    @model_validator(mode="after")
    def _consistent(self) -> TwistedBump:
        dim = len(check_vector(self.mean, "mean"))
        check_covariance(self.cov, dim)
        if dim < 2 and self.bend != 0:
            raise ValueError("bend: expected 0 in 1-D, where there is no direction to bend to")
        u, v = self.directions()
        if abs(float(u @ v)) > ORTHOGONAL_TOLERANCE:
            raise ValueError(
                f"towards: expected a direction orthogonal to spine, got u·v = {u @ v}"
            )
        return self

    def directions(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors u (spine) and v (bend), shape (dim,) each."""
        dim = len(self.mean)
        axes = np.eye(max(dim, 2))[:, :dim]
        given = [self.spine, self.towards]
        u, v = (axes[i] if g is None else np.asarray(g, dtype=float) for i, g in enumerate(given))
        for name, vector in (("spine", u), ("towards", v)):
            if vector.shape != (dim,) or not np.all(np.isfinite(vector)) or not vector.any():
                raise ValueError(f"{name}: expected {dim} finite numbers, not all 0")
        return u / np.linalg.norm(u), v / np.linalg.norm(v)


class TwistedParams(KindParams):
    bumps: list[TwistedBump] = Field(min_length=1, max_length=MAX_BUMPS)

    @model_validator(mode="after")
    def _same_dimension(self) -> TwistedParams:
        if len({len(b.mean) for b in self.bumps}) != 1:
            raise ValueError("bumps: expected every bump's mean to have the same dimension")
        return self


@ACCEPTABILITY_KINDS.register("twisted")
class TwistedAcceptability(MixtureAcceptability):
    """Gaussian bumps bent by volume-preserving twists: curved, multimodal, exact in any dim."""

    Params = TwistedParams
    description = "Gaussian bumps bent by volume-preserving twists: curved shapes in any dim"
    #: Once bent, the smoothed score is the quasi-Monte Carlo estimate, not the mixture's.
    closed_form_smoothing: ClassVar[bool] = False

    def __init__(
        self,
        means: np.ndarray,
        covs: np.ndarray,
        heights: np.ndarray,
        bends: np.ndarray,
        spines: np.ndarray,
        towards: np.ndarray,
    ) -> None:
        """means (K, dim), covs (K, dim, dim), heights (K,), bends (K,), spines and towards
        (K, dim) orthonormal pairs."""
        super().__init__(means, covs, heights)
        self.bends, self.spines, self.towards = bends, spines, towards
        self.spine_vars = np.einsum("ki,kij,kj->k", spines, covs, spines)

    @classmethod
    def from_params(cls, params: TwistedParams) -> TwistedAcceptability:
        pairs = [bump.directions() for bump in params.bumps]
        return cls(
            np.array([b.mean for b in params.bumps], dtype=float),
            np.array([b.cov for b in params.bumps], dtype=float),
            np.array([b.peak for b in params.bumps], dtype=float),
            np.array([b.bend for b in params.bumps], dtype=float),
            np.array([u for u, _ in pairs]),
            np.array([v for _, v in pairs]),
        )

    def _spine_offsets(self, y: np.ndarray) -> np.ndarray:
        """a_k = (y - μ_k)·u_k for each bump, shape (n, K); the twist leaves it unchanged."""
        return y @ self.spines.T - np.einsum("ki,ki->k", self.means, self.spines)

    def _untwisted(self, y: np.ndarray, k: int, a: np.ndarray) -> np.ndarray:
        """T_k⁻¹(y) for y (n, dim), with a (n,) its spine offsets: shape (n, dim)."""
        shift = self.bends[k] * (a**2 - self.spine_vars[k])
        return y - shift[:, None] * self.towards[k]

    def _log_terms(self, x: np.ndarray) -> np.ndarray:
        """log h_k - ½ q_k(T_k⁻¹(x)), shape (n, num_bumps)."""
        offsets = self._spine_offsets(x)
        columns = [
            gaussian_log_bump(self._untwisted(x, k, offsets[:, k]), mean, precision)
            for k, (mean, precision) in enumerate(zip(self.means, self.precisions, strict=True))
        ]
        return np.log(self.heights) + np.stack(columns, axis=1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.exp(special.logsumexp(self._log_terms(x), axis=1))

    def score(self, x: np.ndarray) -> np.ndarray:
        """Σ_k r_k J_kᵀ Σ_k⁻¹ (μ_k - T_k⁻¹(x)), J_k = I - 2 b_k a v_k u_kᵀ: shape (n, dim)."""
        offsets = self._spine_offsets(x)
        responsibilities = special.softmax(self._log_terms(x), axis=1)
        score = np.zeros_like(x)
        for k, (mean, precision) in enumerate(zip(self.means, self.precisions, strict=True)):
            a = offsets[:, k]
            pull = (mean - self._untwisted(x, k, a)) @ precision
            along_bend = pull @ self.towards[k]
            pull = pull - (2 * self.bends[k] * a * along_bend)[:, None] * self.spines[k]
            score += responsibilities[:, k, None] * pull
        return score

    def smoothed_score(self, x: np.ndarray, sigma: float) -> np.ndarray:
        """No closed form once bent: the generic quasi-Monte Carlo estimate (σ = 0: `score`)."""
        return Acceptability.smoothed_score(self, x, sigma)

    @property
    def bounds(self) -> np.ndarray:
        """Each bump's spine, a ∈ [-SPINE_SDS s, SPINE_SDS s] bent, widened by BOX_SDS sd."""
        ticks = np.linspace(-SPINE_SDS, SPINE_SDS, 41)
        lows, highs = [], []
        for k in range(len(self.means)):
            s = np.sqrt(self.spine_vars[k])
            a = ticks * s
            spine = (
                self.means[k]
                + a[:, None] * self.spines[k]
                + (self.bends[k] * (a**2 - s**2))[:, None] * self.towards[k]
            )
            half = BOX_SDS * np.sqrt(np.diagonal(self.covs[k]))
            lows.append(spine.min(0) - half)
            highs.append(spine.max(0) + half)
        return np.stack([np.min(lows, axis=0), np.max(highs, axis=0)], axis=1)

    @property
    def modes(self) -> tuple[Mode, ...]:
        """Each bump's mean and moment-matched covariance Σ_k + 2 b_k² s⁴ v_k v_kᵀ, and mass."""
        spread = 2 * self.bends**2 * self.spine_vars**2
        covs = self.covs + spread[:, None, None] * np.einsum(
            "ki,kj->kij", self.towards, self.towards
        )
        return tuple(
            Mode(m, c, float(w)) for m, c, w in zip(self.means, covs, self.weights, strict=True)
        )

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        """T_k of exact Gaussian draws, bump k with probability ∝ h_k √det(2π Σ_k): (num, dim)."""
        samples, component = gaussian_draws(self.means, self._chols, self.weights, num, rng)
        offsets = np.einsum("ni,ni->n", samples - self.means[component], self.spines[component])
        shift = self.bends[component] * (offsets**2 - self.spine_vars[component])
        return samples + shift[:, None] * self.towards[component]
