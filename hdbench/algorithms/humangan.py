"""HumanGAN (Fujii, Saito, Takamichi, Baba, Saruwatari; ICASSP 2020): HumanDiffusion's baseline.

A generator G maps latent z_n ~ U(−1, 1)^dim, drawn once and kept fixed, to stimuli x̂_n = G(z_n),
and is trained to maximise V = Σ_n D(G(z_n)) (Eq. 1). D is a listener, so ∂V/∂x̂_n comes from NES
on differential trials: a listener hears x̂ − Δ and x̂ + Δ and answers ΔD ∈ [−1, 1] (Eqs. 2–3),
with the same estimator HumanDiffusion uses; then back-propagation through G. Each update spends
N·R ratings. Left alone, G climbs to the region of highest rating and collapses there; HumanGAN
relied on two heuristics, both options here: an initialisation that covers the neighbourhood of
the real data, and truncation after a few updates (4 in the paper; `humangan_truncated`).

Choices where the papers are silent: σ_NES = 1 (as HumanDiffusion); the HumanDiffusion paper's
variant (softplus, Adam, lr 0.005, 32 units) by default, the original (sigmoid, 4 units, plain
gradient ascent with lr 0.0015) as `architecture = "humangan"`; "run to convergence" is 100
updates, by which the mean true D of G(z) has stopped rising on the bundled oracles with the
default architecture (see each run's trace; the original architecture climbs more slowly);
final samples are G of `num_samples` fresh latents.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field

from hdbench.algorithms.base import ALGORITHMS, AlgorithmOutput, AlgorithmParams
from hdbench.algorithms.humandiffusion import HumanDiffusionParams, learn_score_network
from hdbench.algorithms.surrogate import SurrogatePanel
from hdbench.estimators.nes import NESEstimator, Normalisation
from hdbench.models.generator import Generator
from hdbench.models.score_network import network_fn
from hdbench.oracles import Panel, TrialBatch, collect
from hdbench.samplers.langevin import TraceFn

ARCHITECTURES = {
    # name: (activation, default width, default learning rate, optimiser)
    "humandiffusion": ("softplus", 32, 0.005, "adam"),
    "humangan": ("sigmoid", 4, 0.0015, "sgd"),
}


class HumanGANParams(AlgorithmParams):
    architecture: Literal["humandiffusion", "humangan"] = "humandiffusion"
    width: int | None = Field(None, ge=1, description="hidden units; default by architecture")
    depth: int = Field(2, ge=1)
    learning_rate: float | None = Field(None, gt=0, description="default by architecture")
    num_latent: int = Field(100, ge=1, description="N, latents z_n fixed during training")
    sigma_nes: float = Field(1.0, gt=0)
    R: int = Field(5, ge=1, description="antithetic pairs per generated stimulus")
    nes_normalisation: Normalisation = "unbiased"
    num_updates: int = Field(100, ge=0, description="updates of G; 4 is HumanGAN's truncation")
    initialisation: Literal["pretrain", "restart", "random"] = "pretrain"
    pretrain_steps: int = Field(500, ge=1)
    restart_threshold: float = Field(0.3, ge=0, le=1, description="mean rating to accept an init")
    max_restarts: int = Field(20, ge=1)
    discriminator: Literal["panel", "surrogate"] = "panel"
    num_samples: int = Field(200, ge=1, description="final samples, from fresh latents")


class TruncatedHumanGANParams(HumanGANParams):
    num_updates: int = Field(4, ge=0, description="HumanGAN's heuristic truncation")


class HumanGAN:
    """One algorithm, registered twice: run to the end, and truncated (other default updates)."""

    def __init__(
        self,
        params: type[HumanGANParams] = HumanGANParams,
        description: str = "generator trained on differential ratings (NES), run to the end",
    ) -> None:
        self.Params = params
        self.description = description

    def run(
        self,
        params: HumanGANParams,
        panel: Panel,
        real_data: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
    ) -> AlgorithmOutput:
        dim = real_data.shape[1]
        activation, width, learning_rate, optimiser_name = ARCHITECTURES[params.architecture]
        torch_rng = torch.Generator().manual_seed(int(rng.integers(2**62)))
        z = torch.as_tensor(rng.uniform(-1.0, 1.0, (params.num_latent, dim)), dtype=torch.float32)

        def new_generator() -> Generator:
            return Generator(dim, torch_rng, params.width or width, params.depth, activation)

        discriminator: Panel = panel
        arrays: dict[str, np.ndarray] = {}
        if params.discriminator == "surrogate":
            network, arrays = learn_score_network(HumanDiffusionParams(), panel, real_data, rng)
            heads = network_fn(network)
            discriminator = SurrogatePanel(
                lambda x: heads(x)[0].double().numpy(), dim, panel.slider
            )

        model = initialise(params, new_generator, z, real_data, discriminator, torch_rng)
        optimiser_class = torch.optim.Adam if optimiser_name == "adam" else torch.optim.SGD
        optimiser = optimiser_class(model.parameters(), lr=params.learning_rate or learning_rate)
        nes = NESEstimator(params.sigma_nes, params.R, params.nes_normalisation)
        if trace_fn is not None:
            trace_fn(0, model.generate(z))
        for update in range(1, params.num_updates + 1):
            x = model(z)
            stimuli = x.detach().double().numpy()
            delta = nes.perturbations(len(stimuli), dim, rng)
            answers = collect(
                discriminator, discriminator.submit(nes.differential_trials(stimuli, delta))
            )
            gradient = nes.gradient(nes.differential_differences(answers), delta)
            optimiser.zero_grad(set_to_none=True)
            # Minimising −Σ_n ĝ_n · G(z_n) ascends V: its gradient is −Σ_n ĝ_nᵀ ∂G(z_n)/∂θ.
            (-(x * torch.as_tensor(gradient, dtype=torch.float32)).sum()).backward()
            optimiser.step()
            if trace_fn is not None:
                trace_fn(update, model.generate(z))
        fresh = rng.uniform(-1.0, 1.0, (params.num_samples, dim))
        arrays.update(latents=z.numpy(), training_outputs=model.generate(z))
        return AlgorithmOutput(model.generate(fresh), arrays)


def initialise(
    params: HumanGANParams,
    new_generator,
    z: torch.Tensor,
    real_data: np.ndarray,
    panel: Panel,
    torch_rng: torch.Generator,
) -> Generator:
    """A generator whose outputs cover the real data's neighbourhood, by `params.initialisation`:

    - `pretrain`: fit G(z) to the real data by sliced Wasserstein-2 (16 random projections per
      step, Adam): a documented stand-in for HumanGAN's hand-checked initialisation;
    - `restart`: HumanGAN's own heuristic, draw random initialisations until the panel's mean
      rating of G(z) reaches `restart_threshold` (each try costs N ratings; the best is kept);
    - `random`: one random initialisation, no heuristic.
    """
    model = new_generator()
    if params.initialisation == "pretrain":
        pretrain(model, z, real_data, params.pretrain_steps, torch_rng)
    elif params.initialisation == "restart":
        best, best_rating = model, -np.inf
        for _ in range(params.max_restarts):
            outputs = model.generate(z)
            rating = float(
                collect(panel, panel.submit(TrialBatch.absolute(outputs))).normalised().mean()
            )
            if rating > best_rating:
                best, best_rating = model, rating
            if rating >= params.restart_threshold:
                break
            model = new_generator()
        model = best
    return model


def pretrain(
    model: Generator,
    z: torch.Tensor,
    real_data: np.ndarray,
    num_steps: int,
    torch_rng: torch.Generator,
) -> None:
    """Fit the distribution of G(z) to the real data by sliced Wasserstein-2."""
    target = torch.as_tensor(real_data, dtype=torch.float32)
    levels = (torch.arange(len(z), dtype=torch.float32) + 0.5) / len(z)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(num_steps):
        directions = torch.randn(real_data.shape[1], 16, generator=torch_rng)
        directions /= directions.norm(dim=0, keepdim=True)
        generated = (model(z) @ directions).sort(dim=0).values
        real = torch.quantile(target @ directions, levels, dim=0)
        loss = ((generated - real) ** 2).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()


ALGORITHMS.add("humangan", HumanGAN())
ALGORITHMS.add(
    "humangan_truncated",
    HumanGAN(TruncatedHumanGANParams, "HumanGAN with its heuristic: stopped after 4 updates"),
)
