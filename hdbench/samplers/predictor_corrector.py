"""`predictor_corrector`: predictor–corrector sampling of the variance-exploding SDE
(Song, Sohl-Dickstein, Kingma, Kumar, Ermon & Poole, ICLR 2021, Algorithm 2 with the
corrector step size of Algorithm 4).

The forward process adds noise until x_σ = x + σ z at σ_max; its reverse runs over N geometric
levels σ_max = σ_N > … > σ_1 = σ_min. From level σ_{i+1} to σ_i:

- predictor (reverse diffusion):
      x ← x + (σ_{i+1}² - σ_i²) · s(x, σ_{i+1}) + √(σ_{i+1}² - σ_i²) · z;
- corrector (M Langevin steps at σ_i, with a step set by a signal-to-noise ratio r):
      g = s(x, σ_i),  ε = 2 (r ‖z‖ / ‖g‖)²,  x ← x + ε g + √(2ε) · z,
  ‖z‖ and ‖g‖ being the mean over the particles of each particle's norm (as score_sde does for
  a batch).

The predictor alone (M = 0) is the reverse-diffusion sampler; the corrector pulls the particles
back to the smoothed target at each level, which the discretised predictor drifts away from.
The particles start from x0 + σ_max z (`diffused_start`); the output follows the target smoothed
at σ_min.
"""

from __future__ import annotations

import itertools

import numpy as np
from pydantic import Field

from hdbench.samplers import SAMPLERS
from hdbench.samplers.base import (
    AnnealedSampler,
    NoiseScoreFn,
    Tracer,
    check_bounded,
    diffused_start,
    geometric_levels,
)
from hdbench.samplers.langevin import TraceFn


@SAMPLERS.register("predictor_corrector")
class PredictorCorrectorSampler(AnnealedSampler):
    num_steps: int = Field(1000, ge=2, description="noise levels N of the reverse SDE")
    corrector_steps: int = Field(1, ge=0, description="Langevin corrector steps M per level")
    snr: float = Field(0.16, gt=0.0, description="signal-to-noise ratio r of the corrector")

    def sample(
        self,
        score_fn: NoiseScoreFn,
        x0: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
    ) -> np.ndarray:
        levels = geometric_levels(self.sigma_max, self.sigma_min, self.num_steps)
        trace = Tracer(trace_fn, self.trace_every, len(levels) - 1)
        x = diffused_start(x0, levels[0], rng)
        trace(0, x)
        for step, (previous, sigma) in enumerate(itertools.pairwise(levels), 1):
            variance = previous**2 - sigma**2
            x += variance * score_fn(x, float(previous))
            x += np.sqrt(variance) * rng.standard_normal(x.shape)
            for _ in range(self.corrector_steps):
                grad = score_fn(x, float(sigma))
                noise = rng.standard_normal(x.shape)
                grad_norm = np.linalg.norm(grad, axis=1).mean()
                noise_norm = np.linalg.norm(noise, axis=1).mean()
                epsilon = 2 * (self.snr * noise_norm / max(grad_norm, 1e-12)) ** 2
                x += epsilon * grad + np.sqrt(2 * epsilon) * noise
            check_bounded(x, step)
            trace(step, x)
        return x
