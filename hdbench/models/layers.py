"""Building blocks shared by the networks."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"softplus": nn.Softplus, "sigmoid": nn.Sigmoid}


def mlp_body(dim: int, width: int, depth: int, activation: str = "softplus") -> nn.Sequential:
    """`depth` hidden layers of `width` units: dim → width → … → width."""
    layers: list[nn.Module] = []
    size = dim
    for _ in range(depth):
        layers += [nn.Linear(size, width), ACTIVATIONS[activation]()]
        size = width
    return nn.Sequential(*layers)


@torch.no_grad()
def initialise_(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """PyTorch's default initialisation of every linear layer, U(±1/√fan_in), drawn from
    `generator` so that a run's seed fixes its networks."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            bound = 1.0 / np.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
    return module
