"""Real-data diffusion: the control of HumanDiffusion, trained without any rating.

The same network and Langevin sampler, with the score learned by denoising score matching
(Vincent 2011; Song & Ermon 2019) on the real data alone: x̃ = x + σ z, target −z / σ, for
`num_copies` noisy copies of every datum, drawn in minibatches so that almost every step sees
fresh noise (a small fixed set of copies left regions where the learned score pointed outwards
and chains diverged). It learns the real-data distribution smoothed by
N(0, σ² I), not the acceptable one: the contrast the paper draws between a diffusion model and
HumanDiffusion. It spends no rating.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from hdbench.algorithms.base import (
    ALGORITHMS,
    AlgorithmOutput,
    DiffusionParams,
    fit_score_network,
    sample_from_real_data,
)
from hdbench.models.score_network import gradient_score_fn
from hdbench.oracles import Panel
from hdbench.samplers.langevin import TraceFn


class DataDiffusionParams(DiffusionParams):
    sigma_dsm: float = Field(0.3, gt=0, description="noise sd of denoising score matching")
    num_copies: int = Field(1000, ge=1, description="noisy copies of each real datum")
    batch_size: int = Field(300, ge=0, description="0: full batch")


class DataDiffusion:
    Params = DataDiffusionParams
    description: ClassVar[str] = "control: score matching on the real data alone, no ratings"

    def run(
        self,
        params: DataDiffusionParams,
        panel: Panel,
        real_data: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
    ) -> AlgorithmOutput:
        clean = np.repeat(real_data, params.num_copies, axis=0)
        z = rng.standard_normal(clean.shape)
        noisy = clean + params.sigma_dsm * z
        network, losses = fit_score_network(params, noisy, None, -z / params.sigma_dsm, rng)
        score_fn = gradient_score_fn(network)
        samples = sample_from_real_data(params, score_fn, real_data, rng, trace_fn)
        return AlgorithmOutput(samples, {"training_loss": losses})


ALGORITHMS.add("data_diffusion", DataDiffusion())
