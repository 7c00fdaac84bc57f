"""Adam (Kingma and Ba, ICLR 2015, Algorithm 1) on one flat parameter tensor.

The update is element-wise, so one call updates every parameter of K stacked networks
(`hdbench.models.stacked`), each exactly as if it were trained alone. The arithmetic follows
torch.optim.Adam's (bias corrections applied to the step size and to √v̂), without its
per-parameter loops; torch.optim would also import torch._dynamo on first use, which costs a
fresh process more than a whole training run.
"""

from __future__ import annotations

import math

import torch


class FlatAdam:
    """Adam with learning rate `learning_rate`, β₁, β₂ and ε, on a tensor updated in place."""

    def __init__(
        self,
        params: torch.Tensor,
        learning_rate: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = params
        self.learning_rate, (self.beta1, self.beta2), self.eps = learning_rate, betas, eps
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self._denom = torch.empty_like(params)
        self.num_steps = 0

    def step(self, grads: torch.Tensor) -> None:
        """One update with the gradient `grads` (same shape as the parameters)."""
        self.num_steps += 1
        bias_correction1 = 1 - self.beta1**self.num_steps
        bias_correction2 = 1 - self.beta2**self.num_steps
        self.exp_avg.lerp_(grads, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grads, grads, value=1 - self.beta2)
        torch.sqrt(self.exp_avg_sq, out=self._denom)
        self._denom.div_(math.sqrt(bias_correction2)).add_(self.eps)
        step_size = self.learning_rate / bias_correction1
        self.params.addcdiv_(self.exp_avg, self._denom, value=-step_size)
