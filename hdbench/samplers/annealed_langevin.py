"""`annealed_langevin`: annealed Langevin dynamics (Song & Ermon, NeurIPS 2019, Algorithm 1).

Noise levels σ_1 > … > σ_L form a geometric sequence from `sigma_max` to `sigma_min`. At each
level, T = `steps_per_level` Langevin steps follow the score of the target smoothed at σ_l,

    x ← x + (α_l / 2) · s(x, σ_l) + √α_l · z,   α_l = ε · σ_l² / σ_L²,   z ~ N(0, I),

so that every level takes steps of the same size relative to its own noise (ε = `step_size` is
the step at σ_L). At large σ the smoothed target is nearly one Gaussian and the particles mix
between what will become separate modes; as σ shrinks they settle into the modes in proportion
to their masses, which plain Langevin at σ = 0 cannot do once the modes are separated.

Song & Ermon start from uniform noise; here the particles start from x0 + σ_1 z (`diffused_start`),
the given particles (e.g. the real data) carried to the first level. The last level σ_L should be
small against the target's finest feature: the output follows the target smoothed at σ_L.
"""

from __future__ import annotations

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


@SAMPLERS.register("annealed_langevin")
class AnnealedLangevinSampler(AnnealedSampler):
    num_levels: int = Field(10, ge=1, description="noise levels L")
    steps_per_level: int = Field(100, ge=1, description="Langevin steps T at each level")
    step_size: float = Field(2e-5, gt=0.0, description="ε, the step at σ_min; α_l = ε σ_l²/σ_L²")

    def sample(
        self,
        score_fn: NoiseScoreFn,
        x0: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
    ) -> np.ndarray:
        levels = geometric_levels(self.sigma_max, self.sigma_min, self.num_levels)
        trace = Tracer(trace_fn, self.trace_every, len(levels) * self.steps_per_level)
        x = diffused_start(x0, levels[0], rng)
        trace(0, x)
        step = 0
        for sigma in levels:
            alpha = self.step_size * (sigma / levels[-1]) ** 2
            for _ in range(self.steps_per_level):
                step += 1
                x += 0.5 * alpha * score_fn(x, float(sigma))
                x += np.sqrt(alpha) * rng.standard_normal(x.shape)
                check_bounded(x, step)
                trace(step, x)
        return x
