"""`langevin`: unadjusted Langevin dynamics at one noise level, the sampler of HumanDiffusion.

    x ← x + (η/2) · s(x, σ) + √η · r,   r ~ N(0, I),

for at most `num_steps` steps from the given particles (Ueda et al. 2023, Eq. 10;
`LangevinSampler`).
σ = 0, the default, follows the unsmoothed score. With a fixed step the chain crosses between
modes only as often as the noise carries a particle over the low-density gap, so on a target of
separated modes it keeps the weights of its starting points (Song & Ermon 2019, §3.2).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from hdbench.samplers import SAMPLERS
from hdbench.samplers.base import NoiseScoreFn, Sampler
from hdbench.samplers.langevin import LangevinSampler, StopRule, TraceFn


@SAMPLERS.register("langevin")
class PlainLangevinSampler(Sampler):
    step_size: float = Field(0.01, gt=0.0, description="η (ε² in the poster)")
    num_steps: int = Field(10_000, ge=0, description="steps T")
    sigma: float = Field(0.0, ge=0.0, description="the noise level of the score; 0: unsmoothed")

    def sample(
        self,
        score_fn: NoiseScoreFn,
        x0: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
        stop_rule: StopRule | None = None,
    ) -> np.ndarray:
        """As `Sampler.sample`; a `stop_rule` may end the chain before `num_steps`."""
        chain = LangevinSampler(self.step_size, self.num_steps, self.trace_every)
        return chain.sample(lambda x: score_fn(x, self.sigma), x0, rng, trace_fn, stop_rule)
