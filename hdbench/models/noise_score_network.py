"""A noise-conditional two-head score network S(x, σ) for multi-scale HumanDiffusion.

HumanDiffusion's network (Ueda et al., Interspeech 2023, Eq. 7) regresses D and ∇D at one
scale. Score-based models learn a score at every noise level of a sequence with one network
conditioned on the level (NCSN, Song & Ermon, NeurIPS 2019, §4.2; Song et al., ICLR 2021). Here
both heads are conditioned on σ:

    S_D(x, σ) ≈ D_σ(x),   S_∇D(x, σ) ≈ ∇D_σ(x),   D_σ = D * N(0, σ² I),

so that S_∇D / S_D ≈ ∇log D_σ, the score of p_D smoothed at σ that an annealed sampler follows.
The inputs are x standardised by the training points' mean and sd, and log σ standardised by the
training levels' (a softplus MLP sees inputs of order 1 either way).

The gradient head is scaled by the level, S_∇D = h(x, σ) / σ, and the loss of a point at level σ
is
    (S_D − D)² + σ² ‖S_∇D − ∇D‖² = (S_D − D)² + ‖h − σ ∇D‖²,
Song & Ermon's weighting λ(σ) = σ² (their Eq. 6 and §4.2). It suits NES targets too: the NES
estimate of ∇D_σ from R antithetic pairs of ratings with noise sd ν has variance about
ν² / (2σ² R) per component, so σ² equalises the noise of the levels, and no level's targets
dominate the fit because its perturbations were small.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hdbench.models.layers import initialise_, mlp_body
from hdbench.models.score_network import TrainingConfig, fit_stack
from hdbench.models.stacked import StackedMLP

#: (x (n, dim), σ) → S_D (n,), S_∇D (n, dim).
NoiseHeadsFn = Callable[[np.ndarray, float], tuple[torch.Tensor, torch.Tensor]]


class NoiseScoreNetwork(nn.Module):
    """(dim + 1) → width (softplus) × depth → 1 + dim.

    `forward(x, sigma)` with x (n, dim) and σ (n,) returns (S_D (n,), S_∇D (n, dim)).
    """

    def __init__(
        self, dim: int, generator: torch.Generator, width: int = 128, depth: int = 2
    ) -> None:
        super().__init__()
        # Set by `fit_inputs` from the training set; periphery points spread over tens of units
        # and σ over a decade or two, where softplus units would saturate.
        self.register_buffer("input_mean", torch.zeros(dim))
        self.register_buffer("input_scale", torch.ones(dim))
        self.register_buffer("log_sigma_mean", torch.zeros(()))
        self.register_buffer("log_sigma_scale", torch.ones(()))
        self.body = mlp_body(dim + 1, width, depth, "softplus")
        self.head = nn.Linear(width if depth else dim + 1, 1 + dim)
        initialise_(self, generator)

    def fit_inputs(self, x: np.ndarray, sigma: np.ndarray) -> None:
        """Standardise future inputs by the mean and sd of x (n, dim) and of log σ (n,)."""
        log_sigma = np.log(sigma)
        self.input_mean.copy_(torch.as_tensor(x.mean(axis=0)))
        self.input_scale.copy_(torch.as_tensor(x.std(axis=0) + 1e-8))
        self.log_sigma_mean.copy_(torch.as_tensor(log_sigma.mean()))
        # One level: any scale works, since log σ is then constant; 1 keeps it finite.
        self.log_sigma_scale.copy_(torch.as_tensor(log_sigma.std() if log_sigma.std() > 0 else 1))

    def features(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """The standardised inputs (n, dim + 1): x, then log σ."""
        level = (torch.log(sigma) - self.log_sigma_mean) / self.log_sigma_scale
        return torch.cat([(x - self.input_mean) / self.input_scale, level[:, None]], dim=1)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.body(self.features(x, sigma)))
        return torch.sigmoid(out[:, 0]), out[:, 1:] / sigma[:, None]


def train_noise_score_network(
    network: NoiseScoreNetwork,
    x: np.ndarray,
    sigma: np.ndarray,
    d_target: np.ndarray,
    grad_target: np.ndarray,
    config: TrainingConfig,
    generator: torch.Generator,
) -> np.ndarray:
    """Fit both heads with Adam to targets at x (n, dim), each at its level σ (n,); returns the
    loss per step, shape (num_steps,).

    d_target (n,) estimates D_σ(x), grad_target (n, dim) ∇D_σ(x). Loss: the mean over a batch
    of (S_D − D)² + σ² ‖S_∇D − ∇D‖² = (S_D − D)² + ‖h − σ ∇D‖² (module docstring): Eq. 7's
    loss of an MLP whose inputs are the standardised (x, log σ) and whose gradient targets are
    σ ∇D, so it trains as HumanDiffusion's network does (`score_network.fit_stack`).
    """
    network.fit_inputs(x, sigma)
    with torch.no_grad():
        inputs = network.features(
            torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(sigma, dtype=torch.float32)
        )
    stack = StackedMLP.from_modules([network])
    losses = fit_stack(
        stack,
        inputs[None],
        d_target[None],
        (grad_target * sigma[:, None])[None],
        config,
        [generator],
    )
    stack.write_to([network])
    return losses[0]


def noise_heads_fn(network: NoiseScoreNetwork) -> NoiseHeadsFn:
    """The trained network as a function of (x (n, dim), σ) → (S_D (n,), S_∇D (n, dim)).

    It calls the layers' functions on frozen copies of the weights: a sampler evaluates it 10³
    to 10⁴ times, where nn.Module's call machinery would cost more than a layer.
    """
    layers = [
        (layer.weight.detach().clone(), layer.bias.detach().clone())
        for layer in network.modules()
        if isinstance(layer, nn.Linear)
    ]
    mean, scale = network.input_mean.clone(), network.input_scale.clone()
    log_mean, log_scale = float(network.log_sigma_mean), float(network.log_sigma_scale)

    @torch.inference_mode()
    def heads(x: np.ndarray, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
        points = (torch.from_numpy(np.asarray(x, dtype=np.float32)) - mean) / scale
        level = torch.full((len(points), 1), (np.log(sigma) - log_mean) / log_scale)
        h = torch.cat([points, level], dim=1)
        for weight, bias in layers[:-1]:
            h = F.softplus(F.linear(h, weight, bias))
        out = F.linear(h, *layers[-1])
        return torch.sigmoid(out[:, 0]), out[:, 1:] / sigma

    return heads
