"""HumanGAN's generator G: prior z → x (Fujii et al., ICASSP 2020, §3).

The original: 2 inputs, two sigmoid hidden layers of 4 units and a linear output. The baseline
in the HumanDiffusion paper (Ueda et al. 2023, §4.1) used softplus hidden layers instead.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from hdbench.models.layers import initialise_, mlp_body


class Generator(nn.Module):
    """dim → width (activation) × depth → dim, linear output. `forward(z)` maps (n, dim)."""

    def __init__(
        self,
        dim: int,
        generator: torch.Generator,
        width: int,
        depth: int = 2,
        activation: str = "softplus",
    ) -> None:
        super().__init__()
        self.body = mlp_body(dim, width, depth, activation)
        self.out = nn.Linear(width if depth else dim, dim)
        initialise_(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(z))

    @torch.no_grad()
    def generate(self, z: np.ndarray) -> np.ndarray:
        """G(z) for z of shape (n, dim) as float64 numpy, shape (n, dim)."""
        return self(torch.as_tensor(z, dtype=torch.float32)).double().numpy()
