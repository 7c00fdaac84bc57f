"""`gaussian`: D(x) = h · exp(-½ (x-μ)ᵀ Σ⁻¹ (x-μ)), so p_D = N(μ, Σ) exactly."""

from __future__ import annotations

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from hdbench.oracles.acceptability import Acceptability, KindParams, Mode
from hdbench.oracles.kinds import ACCEPTABILITY_KINDS
from hdbench.oracles.kinds.fields import check_covariance, check_vector, gaussian_log_bump


class GaussianParams(KindParams):
    mean: list[float]
    cov: list[list[float]]
    peak: float = Field(0.85, gt=0.0, le=1.0, description="height h of D at the mean")

    @field_validator("mean")
    @classmethod
    def _mean(cls, value: list[float]) -> list[float]:
        return check_vector(value, "mean")

    @field_validator("cov")
    @classmethod
    def _cov(cls, value: list[list[float]], info: ValidationInfo) -> list[list[float]]:
        return check_covariance(value, len(info.data.get("mean", value)))


@ACCEPTABILITY_KINDS.register("gaussian")
class GaussianAcceptability(Acceptability):
    """One Gaussian bump of height ≤ 1 with full covariance; everything in closed form."""

    Params = GaussianParams
    description = "a Gaussian bump of height ≤ 1 with full covariance"

    def __init__(self, mean: list[float], cov: list[list[float]], peak: float) -> None:
        self.mean = np.asarray(mean, dtype=float)
        self.cov = np.asarray(cov, dtype=float)
        self.height = float(peak)
        self.dim = len(self.mean)
        self.precision = np.linalg.inv(self.cov)
        self._chol = np.linalg.cholesky(self.cov)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.height * np.exp(gaussian_log_bump(x, self.mean, self.precision))

    def score(self, x: np.ndarray) -> np.ndarray:
        return -(x - self.mean) @ self.precision

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self(x)[:, None] * self.score(x)

    @property
    def peak(self) -> float:
        return self.height

    @property
    def normaliser(self) -> float:
        return self.height * float(np.sqrt(np.linalg.det(2 * np.pi * self.cov)))

    @property
    def bounds(self) -> np.ndarray:
        half = 6.0 * np.sqrt(np.diag(self.cov))
        return np.stack([self.mean - half, self.mean + half], axis=1)

    @property
    def modes(self) -> tuple[Mode, ...]:
        return (Mode(self.mean, self.cov, 1.0),)

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        return self.mean + rng.standard_normal((num, self.dim)) @ self._chol.T
