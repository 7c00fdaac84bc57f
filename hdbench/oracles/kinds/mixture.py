"""`mixture`: a sum of Gaussian bumps, D(x) = Σ_k h_k exp(-½ (x-μ_k)ᵀ Σ_k⁻¹ (x-μ_k)).

p_D is then a Gaussian mixture with weights w_k ∝ h_k √det(2π Σ_k) (each bump's height times
its Gaussian normaliser), sampled in closed form in any dimension. Bumps are listed one by one
anywhere (the means' length sets the dimension), or laid out as a ring (in the plane of the
first two axes) or a square grid (over the first `axes` axes) in `dim` dimensions. The sum must
stay ≤ 1, which the spec loader checks.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from hdbench.lazy import lazy_import
from hdbench.oracles.acceptability import Acceptability, KindParams, Mode
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.kinds.fields import check_covariance, check_vector, gaussian_log_bump

special = lazy_import("scipy.special")

#: Most bumps a mixture may have (a grid's num_per_axis ** axes): D costs a term per bump.
MAX_BUMPS = 4096


class Bump(KindParams):
    mean: list[float]
    cov: list[list[float]] | None = Field(None, description="covariance; or give `sd`")
    sd: float | None = Field(None, gt=0.0, description="isotropic standard deviation")
    peak: float = Field(0.9, gt=0.0, le=1.0)

    @field_validator("mean")
    @classmethod
    def _mean(cls, value: list[float]) -> list[float]:
        return check_vector(value, "mean")

    @field_validator("cov")
    @classmethod
    def _cov(
        cls, value: list[list[float]] | None, info: ValidationInfo
    ) -> list[list[float]] | None:
        return None if value is None else check_covariance(value, len(info.data.get("mean", [])))

    @model_validator(mode="after")
    def _one_spread(self) -> Bump:
        if (self.cov is None) == (self.sd is None):
            raise ValueError("expected exactly one of `cov` or `sd` for each bump")
        return self

    def covariance(self) -> np.ndarray:
        if self.cov is not None:
            return np.asarray(self.cov, dtype=float)
        return self.sd**2 * np.eye(len(self.mean))


class RingLayout(KindParams):
    """`num_bumps` bumps evenly on a circle of `radius` in the plane of the first two axes;
    each bump is isotropic in all `dim` axes, so the target is thin off that plane."""

    num_bumps: int = Field(8, ge=1, le=MAX_BUMPS)
    radius: float = Field(4.0, gt=0.0)
    sd: float = Field(0.5, gt=0.0)
    peak: float = Field(0.9, gt=0.0, le=1.0)
    dim: int = Field(2, ge=2, description="dimension of the space the ring lies in")

    def bumps(self) -> list[Bump]:
        angles = 2 * np.pi * np.arange(self.num_bumps) / self.num_bumps
        centres = np.zeros((self.num_bumps, self.dim))
        centres[:, :2] = self.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return [Bump(mean=list(c), sd=self.sd, peak=self.peak) for c in centres]


class GridLayout(KindParams):
    """A square grid of `num_per_axis` bumps per axis over the first `axes` axes (all `dim`
    by default), centred on the origin; the other axes are 0 at every bump."""

    num_per_axis: int = Field(5, ge=1)
    spacing: float = Field(2.0, gt=0.0)
    sd: float = Field(0.3, gt=0.0)
    peak: float = Field(0.9, gt=0.0, le=1.0)
    dim: int = Field(2, ge=1)
    axes: int | None = Field(None, ge=1, description="axes the grid spans; default: all")

    @model_validator(mode="after")
    def _size(self) -> GridLayout:
        axes = self.num_axes
        if axes > self.dim:
            raise ValueError(f"axes: expected at most dim = {self.dim}, got {axes}")
        if self.num_per_axis**axes > MAX_BUMPS:
            raise ValueError(
                f"expected at most {MAX_BUMPS:,} bumps, got num_per_axis ** axes = "
                f"{self.num_per_axis} ** {axes}; set `axes` to span fewer axes"
            )
        return self

    @property
    def num_axes(self) -> int:
        return self.dim if self.axes is None else self.axes

    def bumps(self) -> list[Bump]:
        ticks = self.spacing * (np.arange(self.num_per_axis) - (self.num_per_axis - 1) / 2)
        spanned = np.stack(np.meshgrid(*[ticks] * self.num_axes, indexing="ij"), axis=-1)
        centres = np.zeros((self.num_per_axis**self.num_axes, self.dim))
        centres[:, : self.num_axes] = spanned.reshape(-1, self.num_axes)
        return [Bump(mean=list(c), sd=self.sd, peak=self.peak) for c in centres]


class MixtureParams(KindParams):
    bumps: list[Bump] | None = Field(None, min_length=1, max_length=MAX_BUMPS)
    ring: RingLayout | None = None
    grid: GridLayout | None = None

    @model_validator(mode="after")
    def _one_layout(self) -> MixtureParams:
        given = [name for name in ("bumps", "ring", "grid") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"expected exactly one of `bumps`, `ring` or `grid`, got {given}")
        if self.bumps is not None and len({len(b.mean) for b in self.bumps}) != 1:
            raise ValueError("bumps: expected every bump's mean to have the same dimension")
        return self

    def all_bumps(self) -> list[Bump]:
        return self.bumps if self.bumps is not None else (self.ring or self.grid).bumps()


@ACCEPTABILITY_KINDS.register("mixture")
class MixtureAcceptability(Acceptability):
    """A sum of Gaussian bumps (a ring, a grid, or unequal bumps): a multimodal target."""

    Params = MixtureParams
    closed_form_smoothing = True
    description = "a sum of Gaussian bumps: ring, grid or a free list, heights may differ"

    def __init__(self, means: np.ndarray, covs: np.ndarray, heights: np.ndarray) -> None:
        self.means, self.covs, self.heights = means, covs, heights
        self.dim = means.shape[1]
        self.precisions = np.linalg.inv(covs)
        self._chols = np.linalg.cholesky(covs)
        bump_mass = heights * np.exp(0.5 * np.linalg.slogdet(2 * np.pi * covs)[1])
        self._normaliser = float(bump_mass.sum())
        self.weights = bump_mass / bump_mass.sum()

    @classmethod
    def from_params(cls, params: MixtureParams) -> MixtureAcceptability:
        bumps = params.all_bumps()
        return cls(
            np.array([b.mean for b in bumps], dtype=float),
            np.array([b.covariance() for b in bumps]),
            np.array([b.peak for b in bumps], dtype=float),
        )

    def _log_terms(self, x: np.ndarray) -> np.ndarray:
        """log h_k - ½ q_k(x), shape (n, num_bumps)."""
        columns = [
            gaussian_log_bump(x, mean, precision)
            for mean, precision in zip(self.means, self.precisions, strict=True)
        ]
        return np.log(self.heights) + np.stack(columns, axis=1)

    def smoothed_score(self, x: np.ndarray, sigma: float) -> np.ndarray:
        """Closed form: D * N(0, σ² I) = Σ_k h_k √(det Σ_k / det(Σ_k + σ² I)) · exp(-½ q_k^σ),
        with q_k^σ the quadratic form of Σ_k + σ² I; its score is the responsibility-weighted
        sum of -(Σ_k + σ² I)⁻¹ (x - μ_k)."""
        covs = self.covs + sigma**2 * np.eye(self.dim)
        precisions = np.linalg.inv(covs)
        log_scale = 0.5 * (np.linalg.slogdet(self.covs)[1] - np.linalg.slogdet(covs)[1])
        columns = [
            gaussian_log_bump(x, mean, precision)
            for mean, precision in zip(self.means, precisions, strict=True)
        ]
        log_terms = np.log(self.heights) + log_scale + np.stack(columns, axis=1)
        pulls = -np.einsum("nki,kij->nkj", x[:, None, :] - self.means[None], precisions)
        return np.einsum("nk,nkj->nj", special.softmax(log_terms, axis=1), pulls)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.exp(special.logsumexp(self._log_terms(x), axis=1))

    def score(self, x: np.ndarray) -> np.ndarray:
        """Σ_k r_k(x) Σ_k⁻¹ (μ_k - x), r the bumps' responsibilities: shape (n, dim)."""
        responsibilities = special.softmax(self._log_terms(x), axis=1)
        score = np.zeros_like(x)
        for k, (mean, precision) in enumerate(zip(self.means, self.precisions, strict=True)):
            score += responsibilities[:, k, None] * ((mean - x) @ precision)
        return score

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self(x)[:, None] * self.score(x)

    def score_limit(self) -> None:
        return None

    @property
    def length_scale(self) -> float:
        """The bumps' median geometric mean sd, det(Σ_k)^(1/(2 dim)): the sd of isotropic bumps."""
        log_dets = np.linalg.slogdet(self.covs)[1]
        return float(np.median(np.exp(log_dets / (2 * self.dim))))

    @property
    def normaliser(self) -> float:
        return self._normaliser

    @property
    def bounds(self) -> np.ndarray:
        half = 6.0 * np.sqrt(np.diagonal(self.covs, axis1=1, axis2=2))
        return np.stack([(self.means - half).min(0), (self.means + half).max(0)], axis=1)

    @property
    def modes(self) -> tuple[Mode, ...]:
        return tuple(
            Mode(m, c, float(w))
            for m, c, w in zip(self.means, self.covs, self.weights, strict=True)
        )

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        return gaussian_draws(self.means, self._chols, self.weights, num, rng)[0]


def gaussian_draws(
    means: np.ndarray,
    chols: np.ndarray,
    weights: np.ndarray,
    num: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """`num` draws of the Gaussian mixture of `means` (k, dim), Cholesky factors `chols`
    (k, dim, dim) and `weights` (k,): the points (num, dim) and each one's component (num,)."""
    component = rng.choice(len(weights), size=num, p=weights)
    noise = rng.standard_normal((num, means.shape[1]))
    # Per bump rather than one (num, dim, dim) gather: memory stays O(num · dim).
    samples = means[component]
    for k, chol in enumerate(chols):
        mine = component == k
        samples[mine] += noise[mine] @ chol.T
    return samples, component
