"""What the registered samplers share: noise-conditional score functions and validated settings.

A registered sampler draws from p by following a score function s(x, σ) ≈ ∇log (p * N(0, σ² I))
(x of shape (n, dim) → shape (n, dim)): the score of p smoothed at noise level σ, σ = 0 being
p's own score. Its settings are a frozen pydantic model, so that a bad value gets one line
naming the field (`build_sampler`). The sampler never knows where the score comes from: a
trained network, the oracle's exact smoothed score (`Acceptability.smoothed_score`), or
anything else with that signature (score_sde's `score_fn` contract, Song et al. 2021).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hdbench.samplers.langevin import SamplerDivergedError, TraceFn, within_bounds

NoiseScoreFn = Callable[[np.ndarray, float], np.ndarray]


class Sampler(BaseModel, ABC):
    """Settings of one sampler, and the sampler itself (`sample`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    trace_every: int = Field(500, ge=1, description="steps between two calls of trace_fn")

    @abstractmethod
    def sample(
        self,
        score_fn: NoiseScoreFn,
        x0: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
    ) -> np.ndarray:
        """Particles of shape (num_particles, dim), started from x0 of that shape.

        `trace_fn(t, x)` is called at step 0, every `trace_every` steps and at the last step;
        SamplerDivergedError names the first step at which a particle is not finite or has
        run away (`hdbench.samplers.langevin.RUNAWAY`).
        """


class AnnealedSampler(Sampler):
    """A sampler over geometric noise levels σ_max = σ_1 > … > σ_L = σ_min."""

    sigma_max: float = Field(10.0, gt=0.0, description="largest noise level σ_1")
    sigma_min: float = Field(0.01, gt=0.0, description="smallest noise level σ_L")

    @model_validator(mode="after")
    def _ordered(self) -> AnnealedSampler:
        if not self.sigma_min < self.sigma_max:
            raise ValueError(
                f"expected sigma_min < sigma_max, got {self.sigma_min} and {self.sigma_max}"
            )
        return self


def geometric_levels(sigma_max: float, sigma_min: float, num: int) -> np.ndarray:
    """`num` noise levels from sigma_max down to sigma_min in a geometric sequence: (num,)."""
    if num == 1:
        return np.array([sigma_min])
    return np.geomspace(sigma_max, sigma_min, num)


def diffused_start(x0: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """x0 + σ z, z ~ N(0, I): the starting particles (n, dim) carried to noise level σ.

    Annealed samplers start from p * N(0, σ_max² I); when x0 is a draw from p (or σ_max is large
    against the distance from x0's law to p), x0 + σ_max z is a draw from it.
    """
    return np.asarray(x0, dtype=float) + sigma * rng.standard_normal(np.shape(x0))


def check_bounded(x: np.ndarray, step: int) -> None:
    """Raise SamplerDivergedError when a particle of x (n, dim) is NaN, infinite or has run
    away (`within_bounds`)."""
    bounded = within_bounds(x)
    if not bounded.all():
        raise SamplerDivergedError(step, int((~bounded).sum()))


class Tracer:
    """Calls trace_fn(t, x) at step 0, every `every` steps and at the last step `last`."""

    def __init__(self, trace_fn: TraceFn | None, every: int, last: int) -> None:
        self.trace_fn, self.every, self.last = trace_fn, every, last

    def __call__(self, step: int, x: np.ndarray) -> None:
        if self.trace_fn is not None and (step % self.every == 0 or step == self.last):
            self.trace_fn(step, x)
