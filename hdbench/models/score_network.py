"""The score network of HumanDiffusion (Ueda et al., Interspeech 2023, §3.2, Eq. 7).

An MLP with softplus hidden layers and two heads: S_D(x) ∈ (0, 1) (sigmoid, 1 output) regresses
the rating D, S_∇D(x) ∈ ℝ^dim (linear) regresses its gradient. The poster's "3 fully-connected
layers" reads as two hidden layers plus the output layer (`depth` = 2). Loss, summed over the
periphery points: ‖S_∇D(x̂) − ∇D(x̂)‖² + (S_D(x̂) − D(x̂))², here averaged over a batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


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
        layers: list[nn.Module] = []
        size = dim
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.Softplus()]
            size = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(size, 1 + dim)
        with torch.no_grad():
            for layer in self.modules():
                if isinstance(layer, nn.Linear):
                    # PyTorch's default initialisation, drawn from the run's own generator.
                    bound = 1.0 / np.sqrt(layer.in_features)
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.uniform_(-bound, bound, generator=generator)

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
    batch_size: int = 0  # 0: the whole training set in every step


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
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    losses = np.empty(config.num_steps)
    batch = config.batch_size or len(inputs)
    for step in range(config.num_steps):
        index = (
            torch.randperm(len(inputs), generator=generator)[:batch]
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


def network_fn(network: ScoreNetwork):
    """A numpy function of x (n, dim) returning both heads: S_D (n,) and S_∇D (n, dim)."""

    @torch.inference_mode()
    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s_d, s_grad = network(torch.as_tensor(x, dtype=torch.float32))
        return s_d.double().numpy(), s_grad.double().numpy()

    return evaluate


def ratio_score_fn(network: ScoreNetwork, d_floor: float):
    """HumanDiffusion's score S_∇D / max(S_D, d_floor) as a numpy function of x (n, dim)."""
    heads = network_fn(network)

    def score(x: np.ndarray) -> np.ndarray:
        s_d, s_grad = heads(x)
        return s_grad / np.maximum(s_d, d_floor)[:, None]

    return score
