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
final samples are G of `problem.num_eval_samples` fresh latents.

Through the protocol: each update asks one batch of differential trials (and each `restart` try one
batch of absolute trials); with the surrogate discriminator only the surrogate's training
queries are asked, and every later trial is answered by S_D inside `ask`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field

from hdbench.estimators.nes import NESEstimator, Normalisation
from hdbench.methods import steps
from hdbench.methods.base import METHODS
from hdbench.methods.humandiffusion import (
    HumanDiffusion,
    HumanDiffusionParams,
    learn,
    nes_of,
)
from hdbench.methods.surrogate import SurrogatePanel
from hdbench.models.generator import Generator
from hdbench.models.score_network import network_fn
from hdbench.protocol import (
    MethodOutput,
    MethodParams,
    MethodState,
    Problem,
    RatingBatch,
    TrialBatch,
    collect,
)

ARCHITECTURES = {
    # name: (activation, default width, default learning rate, optimiser)
    "humandiffusion": ("softplus", 32, 0.005, "adam"),
    "humangan": ("sigmoid", 4, 0.0015, "sgd"),
}


class HumanGANParams(MethodParams):
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


class TruncatedHumanGANParams(HumanGANParams):
    num_updates: int = Field(4, ge=0, description="HumanGAN's heuristic truncation")


#: The surrogate's own training queries: HumanDiffusion at its defaults.
SURROGATE_PARAMS = HumanDiffusionParams()


class HumanGAN:
    """One method, registered twice: run to the end, and truncated (other default updates).

    Phases: `surrogate` (its queries asked) → `initialise` → `restart` (a try asked) →
    `update` (a batch asked) → `done`.
    """

    def __init__(
        self,
        params: type[HumanGANParams] = HumanGANParams,
        description: str = "generator trained on differential ratings (NES), run to the end",
    ) -> None:
        self.Params = params
        self.description = description

    def init(
        self, params: HumanGANParams, problem: Problem, rng: np.random.Generator
    ) -> MethodState:
        torch_rng = torch.Generator().manual_seed(int(rng.integers(2**62)))
        z = rng.uniform(-1.0, 1.0, (params.num_latent, problem.dim))
        phase = "surrogate" if params.discriminator == "surrogate" else "initialise"
        state = MethodState(phase, rng, values={"update": 0, "tries": 0, "best_rating": None})
        state.arrays["z"] = z
        state.modules["torch_rng"] = torch_rng.get_state()
        return state

    def planned_ratings(self, params: HumanGANParams, problem: Problem) -> int:
        """The most ratings: with the surrogate, only its HumanDiffusion queries; else up to
        `max_restarts` restart tries of N absolute ratings each (when initialised by restarts;
        fewer when a try reaches the threshold) and N·R differential ratings per update."""
        if params.discriminator == "surrogate":
            return HumanDiffusion().planned_ratings(SURROGATE_PARAMS, problem)
        tries = params.max_restarts if params.initialisation == "restart" else 0
        return params.num_latent * (tries + params.R * params.num_updates)

    def ask(
        self, params: HumanGANParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        while state.phase != "done":
            if state.phase == "surrogate_rate":
                raise AssertionError("humangan: asked again before its surrogate was told")
            batch = self._next_batch(params, problem, state)
            if batch is None:
                continue
            if state.phase == "surrogate_rate" or "surrogate" not in state.modules:
                return batch
            surrogate = surrogate_panel(problem, state)
            state = self.tell(params, problem, state, collect(surrogate, surrogate.submit(batch)))
        return None

    def tell(
        self,
        params: HumanGANParams,
        problem: Problem,
        state: MethodState,
        ratings: RatingBatch,
    ) -> MethodState:
        if state.phase == "surrogate_rate":
            network, arrays = learn(SURROGATE_PARAMS, problem.real_data, state, ratings)
            state.modules["surrogate"] = network.state_dict()
            state.arrays.update(arrays)
            state.phase = "initialise"
        elif state.phase == "restart_rate":
            tell_restart(params, problem, state, float(ratings.normalised().mean()))
        elif state.phase == "update_rate":
            tell_update(params, problem, state, ratings)
        else:
            raise AssertionError(f"humangan: told ratings in phase {state.phase!r}")
        return state

    def finish(self, params: HumanGANParams, problem: Problem, state: MethodState) -> MethodOutput:
        model = load_generator(params, problem.dim, state.modules["generator"])
        z = state.arrays["z"]
        fresh = state.rng.uniform(-1.0, 1.0, (problem.num_eval_samples, problem.dim))
        kept = ("periphery", "d_estimate", "nes_grad", "regularised_grad", "training_loss")
        arrays = {name: state.arrays[name] for name in kept if name in state.arrays}
        arrays.update(latents=z, training_outputs=model.generate(z))
        snapshots = {
            int(name.removeprefix("snapshot_")): value
            for name, value in state.arrays.items()
            if name.startswith("snapshot_")
        }
        return MethodOutput(model.generate(fresh), arrays, snapshots)

    def _next_batch(
        self, params: HumanGANParams, problem: Problem, state: MethodState
    ) -> TrialBatch | None:
        """The trials the current phase needs, advancing the phase; None when the phase needed
        none (its work is done and the next phase is set)."""
        if state.phase == "surrogate":
            surrogate = SURROGATE_PARAMS
            around = steps.periphery(
                problem.real_data, surrogate.num_periphery, surrogate.sigma_nei, state.rng
            )
            batch, delta = steps.queries(around.points, nes_of(SURROGATE_PARAMS), state.rng)
            state.arrays.update(periphery=around.points, parents=around.parents, delta=delta)
            state.phase = "surrogate_rate"
            return batch
        if state.phase == "initialise":
            initialise(params, problem, state)
            return None
        if state.phase == "restart":
            candidate = load_generator(params, problem.dim, state.modules["candidate"])
            state.phase = "restart_rate"
            return TrialBatch.absolute(candidate.generate(state.arrays["z"]))
        if state.phase == "update":
            if state.values["update"] >= params.num_updates:
                state.phase = "done"
                return None
            model = load_generator(params, problem.dim, state.modules["generator"])
            stimuli = model.generate(state.arrays["z"])
            delta = nes(params).perturbations(len(stimuli), problem.dim, state.rng)
            state.arrays["delta"] = delta
            state.phase = "update_rate"
            return nes(params).differential_trials(stimuli, delta)
        raise AssertionError(f"humangan: unknown phase {state.phase!r}")


def nes(params: HumanGANParams) -> NESEstimator:
    return NESEstimator(params.sigma_nes, params.R, params.nes_normalisation)


def architecture(params: HumanGANParams) -> tuple[str, int, float, str]:
    """(activation, width, learning rate, optimiser) with `params`' overrides."""
    activation, width, learning_rate, optimiser = ARCHITECTURES[params.architecture]
    return activation, params.width or width, params.learning_rate or learning_rate, optimiser


def new_generator(params: HumanGANParams, dim: int, state: MethodState) -> Generator:
    """A generator initialised from the state's torch generator (which advances)."""
    torch_rng = torch.Generator()
    torch_rng.set_state(state.modules["torch_rng"])
    activation, width, _, _ = architecture(params)
    model = Generator(dim, torch_rng, width, params.depth, activation)
    state.modules["torch_rng"] = torch_rng.get_state()
    return model


def load_generator(params: HumanGANParams, dim: int, state_dict: dict) -> Generator:
    activation, width, _, _ = architecture(params)
    model = Generator(dim, torch.Generator().manual_seed(0), width, params.depth, activation)
    model.load_state_dict(state_dict)
    return model


def surrogate_panel(problem: Problem, state: MethodState) -> SurrogatePanel:
    """The trained S_D speaking the panel protocol (Ueda et al. 2023, §4.1)."""
    network = steps.load_network(SURROGATE_PARAMS, problem.dim, state.modules["surrogate"])
    heads = network_fn(network)
    return SurrogatePanel(lambda x: heads(x)[0].double().numpy(), problem.dim, problem.slider)


def initialise(params: HumanGANParams, problem: Problem, state: MethodState) -> None:
    """A generator whose outputs cover the real data's neighbourhood, by `params.initialisation`:

    - `pretrain`: fit G(z) to the real data by sliced Wasserstein-2 (16 random projections per
      step, Adam): a documented stand-in for HumanGAN's hand-checked initialisation;
    - `restart`: HumanGAN's own heuristic, draw random initialisations until the panel's mean
      rating of G(z) reaches `restart_threshold` (each try costs N ratings; the best is kept);
    - `random`: one random initialisation, no heuristic.
    """
    model = new_generator(params, problem.dim, state)
    if params.initialisation == "restart":
        state.modules["candidate"] = model.state_dict()
        state.phase = "restart"
        return
    if params.initialisation == "pretrain":
        torch_rng = torch.Generator()
        torch_rng.set_state(state.modules["torch_rng"])
        z = torch.as_tensor(state.arrays["z"], dtype=torch.float32)
        pretrain(model, z, problem.real_data, params.pretrain_steps, torch_rng)
        state.modules["torch_rng"] = torch_rng.get_state()
    state.modules["generator"] = model.state_dict()
    begin_updates(params, problem, state)


def tell_restart(
    params: HumanGANParams, problem: Problem, state: MethodState, rating: float
) -> None:
    """Keep the candidate if it is the best so far; stop at the threshold or the last try."""
    state.values["tries"] += 1
    best = state.values["best_rating"]
    if best is None or rating > best:
        state.values["best_rating"] = rating
        state.modules["best"] = state.modules["candidate"]
    del state.modules["candidate"]
    if rating >= params.restart_threshold or state.values["tries"] >= params.max_restarts:
        state.modules["generator"] = state.modules.pop("best")
        begin_updates(params, problem, state)
        return
    candidate = new_generator(params, problem.dim, state)
    state.modules["candidate"] = candidate.state_dict()
    state.phase = "restart"


def begin_updates(params: HumanGANParams, problem: Problem, state: MethodState) -> None:
    """Updates start from the generator in the state; its outputs are the trace's step 0."""
    model = load_generator(params, problem.dim, state.modules["generator"])
    state.arrays["snapshot_0"] = model.generate(state.arrays["z"])
    state.values["update"] = 0
    state.phase = "update"


def tell_update(
    params: HumanGANParams, problem: Problem, state: MethodState, ratings: RatingBatch
) -> None:
    """One ascent step of Σ_n D(G(z_n)) with the NES gradient from the differential ratings."""
    model = load_generator(params, problem.dim, state.modules["generator"])
    _, _, learning_rate, optimiser_name = architecture(params)
    optimiser_class = torch.optim.Adam if optimiser_name == "adam" else torch.optim.SGD
    optimiser = optimiser_class(model.parameters(), lr=learning_rate)
    if "optimiser" in state.modules:
        optimiser.load_state_dict(state.modules["optimiser"])
    gradient = nes(params).gradient(
        nes(params).differential_differences(ratings), state.arrays.pop("delta")
    )
    x = model(torch.as_tensor(state.arrays["z"], dtype=torch.float32))
    optimiser.zero_grad(set_to_none=True)
    # Minimising −Σ_n ĝ_n · G(z_n) ascends V: its gradient is −Σ_n ĝ_nᵀ ∂G(z_n)/∂θ.
    (-(x * torch.as_tensor(gradient, dtype=torch.float32)).sum()).backward()
    optimiser.step()
    state.modules["generator"] = model.state_dict()
    state.modules["optimiser"] = optimiser.state_dict()
    state.values["update"] += 1
    state.arrays[f"snapshot_{state.values['update']}"] = model.generate(state.arrays["z"])
    state.phase = "update"


def pretrain(
    model: Generator,
    z: torch.Tensor,
    real_data: np.ndarray,
    num_steps: int,
    torch_rng: torch.Generator,
) -> None:
    """Fit the distribution of G(z) to the real data by sliced Wasserstein-2."""
    target = torch.tensor(real_data, dtype=torch.float32)
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


METHODS.add("humangan", HumanGAN())
METHODS.add(
    "humangan_truncated",
    HumanGAN(TruncatedHumanGANParams, "HumanGAN with its heuristic: stopped after 4 updates"),
)
