"""`gaussian`: D(x) = h · exp(-½ (x-μ)ᵀ Σ⁻¹ (x-μ)), so p_D = N(μ, Σ) exactly, in any dimension.

The dimension is the mean's length, or `dim` with the mean at the origin; Σ is a full `cov` or
an `sd` (one for every axis, or a list of one per axis).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from hdbench.oracles.acceptability import Acceptability, KindParams, Mode
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.kinds.fields import (
    check_covariance,
    check_vector,
    fill_vector,
    gaussian_log_bump,
)


class GaussianParams(KindParams):
    dim: int | None = Field(None, ge=1, description="dimension; default: the mean's length")
    mean: list[float]
    cov: list[list[float]] | None = Field(None, description="covariance; or give `sd`")
    sd: float | list[float] | None = Field(None, description="sd of every axis, or of each")
    peak: float = Field(0.85, gt=0.0, le=1.0, description="height h of D at the mean")

    @model_validator(mode="before")
    @classmethod
    def _fill_mean(cls, data: Any) -> Any:
        return fill_vector(data, "mean")

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

    @field_validator("sd")
    @classmethod
    def _sd(cls, value: float | list[float] | None, info: ValidationInfo) -> Any:
        sds = np.atleast_1d(np.asarray(value if value is not None else 1.0, dtype=float))
        dim = len(info.data.get("mean", sds))
        if not (np.all(np.isfinite(sds)) and np.all(sds > 0)) or len(sds) not in (1, dim):
            raise ValueError(f"expected a positive sd, or a list of {dim} (the mean's length)")
        return value

    @model_validator(mode="after")
    def _one_spread(self) -> GaussianParams:
        if (self.cov is None) == (self.sd is None):
            raise ValueError("expected exactly one of `cov` or `sd`")
        return self

    def covariance(self) -> np.ndarray:
        if self.cov is not None:
            return np.asarray(self.cov, dtype=float)
        sds = np.broadcast_to(np.asarray(self.sd, dtype=float), (len(self.mean),))
        return np.diag(sds**2)


@ACCEPTABILITY_KINDS.register("gaussian")
class GaussianAcceptability(Acceptability):
    """One Gaussian bump of height ≤ 1 with full covariance; everything in closed form."""

    Params = GaussianParams
    closed_form_smoothing = True
    description = "a Gaussian bump of height ≤ 1 with full covariance"

    def __init__(self, mean: list[float], cov: list[list[float]], peak: float) -> None:
        self.mean = np.asarray(mean, dtype=float)
        self.cov = np.asarray(cov, dtype=float)
        self.height = float(peak)
        self.dim = len(self.mean)
        self.precision = np.linalg.inv(self.cov)
        self._chol = np.linalg.cholesky(self.cov)

    @classmethod
    def from_params(cls, params: GaussianParams) -> GaussianAcceptability:
        return cls(params.mean, params.covariance().tolist(), params.peak)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.height * np.exp(gaussian_log_bump(x, self.mean, self.precision))

    def score(self, x: np.ndarray) -> np.ndarray:
        return -(x - self.mean) @ self.precision

    def score_limit(self) -> None:
        return None

    @property
    def length_scale(self) -> float:
        """The geometric mean sd, det(Σ)^(1/(2 dim)): the sd itself when isotropic."""
        return float(np.exp(np.linalg.slogdet(self.cov)[1] / (2 * self.dim)))

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self(x)[:, None] * self.score(x)

    def smoothed_score(self, x: np.ndarray, sigma: float) -> np.ndarray:
        """Closed form: D * N(0, σ² I) ∝ N(μ, Σ + σ² I), score -(Σ + σ² I)⁻¹ (x - μ)."""
        return -(x - self.mean) @ np.linalg.inv(self.cov + sigma**2 * np.eye(self.dim))

    @property
    def peak(self) -> float:
        return self.height

    @property
    def normaliser(self) -> float:
        return self.height * float(np.exp(0.5 * np.linalg.slogdet(2 * np.pi * self.cov)[1]))

    @property
    def bounds(self) -> np.ndarray:
        half = 6.0 * np.sqrt(np.diag(self.cov))
        return np.stack([self.mean - half, self.mean + half], axis=1)

    @property
    def modes(self) -> tuple[Mode, ...]:
        return (Mode(self.mean, self.cov, 1.0),)

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        return self.mean + rng.standard_normal((num, self.dim)) @ self._chol.T
