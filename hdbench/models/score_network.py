"""The score network of HumanDiffusion (Ueda et al., Interspeech 2023, §3.2, Eq. 7).

An MLP with softplus hidden layers and two heads: S_D(x) ∈ (0, 1) (sigmoid, 1 output) regresses
the rating D, S_∇D(x) ∈ ℝ^dim (linear) regresses its gradient. The poster's "3 fully-connected
layers" reads as two hidden layers plus the output layer (`depth` = 2). Loss, summed over the
periphery points: ‖S_∇D(x̂) − ∇D(x̂)‖² + (S_D(x̂) − D(x̂))², here averaged over a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hdbench.models.layers import initialise_, mlp_body


class ScoreNetwork(nn.Module):
    """dim → width (softplus) × depth → 1 + dim. `forward` returns (S_D (n,), S_∇D (n, dim))."""

    def __init__(
        self, dim: int, generator: torch.Generator, width: int = 128, depth: int = 2
    ) -> None:
        super().__init__()
        # Inputs are standardised with the training set's mean and scale (set by `fit_inputs`):
        # periphery points spread over tens of units, where softplus units would saturate.
        self.register_buffer("input_mean", torch.zeros(dim))
        self.register_buffer("input_scale", torch.ones(dim))
        self.body = mlp_body(dim, width, depth, "softplus")
        self.head = nn.Linear(width if depth else dim, 1 + dim)
        initialise_(self, generator)

    def fit_inputs(self, x: np.ndarray) -> None:
        """Standardise future inputs by the mean and sd of x (n, dim)."""
        self.input_mean.copy_(torch.as_tensor(x.mean(axis=0)))
        self.input_scale.copy_(torch.as_tensor(x.std(axis=0) + 1e-8))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.body((x - self.input_mean) / self.input_scale))
        return torch.sigmoid(out[:, 0]), out[:, 1:]


@dataclass(frozen=True)
class TrainingConfig:
    num_steps: int = 2000
    learning_rate: float = 3e-3
    batch_size: int = 0  # 0: the whole set in every step; else drawn with replacement


def train_score_network(
    network: ScoreNetwork,
    x: np.ndarray,
    d_target: np.ndarray | None,
    grad_target: np.ndarray,
    config: TrainingConfig,
    generator: torch.Generator,
) -> np.ndarray:
    """Fit the heads to targets with Adam; returns the loss per step, shape (num_steps,).

    x (n, dim), d_target (n,) or None (the D head is then left out of the loss), grad_target
    (n, dim).
    """
    network.fit_inputs(x)
    inputs = torch.as_tensor(x, dtype=torch.float32)
    grads = torch.as_tensor(grad_target, dtype=torch.float32)
    ds = None if d_target is None else torch.as_tensor(d_target, dtype=torch.float32)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate, fused=True)
    losses = np.empty(config.num_steps)
    batch = config.batch_size or len(inputs)
    for step in range(config.num_steps):
        index = (
            torch.randint(len(inputs), (batch,), generator=generator)
            if batch < len(inputs)
            else slice(None)
        )
        s_d, s_grad = network(inputs[index])
        loss = ((s_grad - grads[index]) ** 2).sum(dim=1).mean()
        if ds is not None:
            loss = loss + ((s_d - ds[index]) ** 2).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses[step] = loss.item()
    return losses


def network_fn(network: ScoreNetwork) -> Callable[[np.ndarray], tuple[torch.Tensor, torch.Tensor]]:
    """The trained network as a function of x (n, dim) → (S_D (n,), S_∇D (n, dim)).

    It calls the layers' functions on frozen copies of their weights: in the Langevin loop,
    which evaluates it 10⁴ times, nn.Module's call machinery would cost more than a layer.
    """
    layers = [
        (layer.weight.detach().clone(), layer.bias.detach().clone())
        for layer in network.modules()
        if isinstance(layer, nn.Linear)
    ]
    mean, scale = network.input_mean.clone(), network.input_scale.clone()

    @torch.inference_mode()
    def heads(x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        h = (torch.from_numpy(np.asarray(x, dtype=np.float32)) - mean) / scale
        for weight, bias in layers[:-1]:
            h = F.softplus(F.linear(h, weight, bias))
        out = F.linear(h, *layers[-1])
        return torch.sigmoid(out[:, 0]), out[:, 1:]

    return heads


def gradient_score_fn(network: ScoreNetwork) -> Callable[[np.ndarray], np.ndarray]:
    """The S_∇D head alone as a score, for a network trained by score matching."""
    heads = network_fn(network)
    return lambda x: heads(x)[1].double().numpy()


def ratio_score_fn(network: ScoreNetwork, d_floor: float) -> Callable[[np.ndarray], np.ndarray]:
    """HumanDiffusion's score S_∇D / max(S_D, d_floor) as a numpy function of x (n, dim)."""
    heads = network_fn(network)

    def score(x: np.ndarray) -> np.ndarray:
        s_d, s_grad = heads(x)
        return (s_grad / s_d.clamp(min=d_floor)[:, None]).double().numpy()

    return score
