"""K softplus MLPs of one shape as one computation: stacked weights and batched matrix products.

The weights of K networks live in one flat float32 tensor of shape (K, num_params); each layer's
weight (K, out, in) and bias (K, 1, out) is a view into it, so an optimiser updates every
parameter of every network with a few element-wise operations. Each network's block is padded
to a multiple of `ALIGN` elements: a vectorised element-wise kernel then treats network k's
parameters the same way whatever K is, so K networks trained together give the numbers each
gives alone (to the last bit on this machine; the tests allow for float rounding).

The forward pass keeps what the hand-written backward pass needs (pre-activations z and
activations a of every layer); `backward` gives the gradients of Σ_k loss_k with respect to
every network's parameters, given ∂loss/∂output, without autograd's bookkeeping, which costs
more than the arithmetic at these sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

#: Elements per network block: a multiple of every CPU vector width (AVX-512 holds 16 floats).
ALIGN = 64


@dataclass(frozen=True, eq=False)
class StackedMLP:
    """K MLPs with layer sizes `sizes` (input, hidden…, output) as views into `flat` (K, P)."""

    sizes: tuple[int, ...]
    flat: torch.Tensor
    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]

    @classmethod
    def zeros(cls, num: int, sizes: Sequence[int]) -> StackedMLP:
        """K = `num` networks of zeros; weights (K, out, in), biases (K, 1, out)."""
        sizes = tuple(sizes)
        shapes = list(zip(sizes[1:], sizes[:-1], strict=True))
        used = sum(out * (inp + 1) for out, inp in shapes)
        flat = torch.zeros(num, -(-used // ALIGN) * ALIGN)
        weights, biases, offset = [], [], 0
        for out, inp in shapes:
            weights.append(flat[:, offset : offset + out * inp].view(num, out, inp))
            offset += out * inp
            biases.append(flat[:, offset : offset + out].view(num, 1, out))
            offset += out
        return cls(sizes, flat, tuple(weights), tuple(biases))

    @classmethod
    def from_modules(cls, modules: Sequence[nn.Module]) -> StackedMLP:
        """Copies of the linear layers of each module, in order; every module has one shape."""
        layers = [[m for m in module.modules() if isinstance(m, nn.Linear)] for module in modules]
        sizes = [layers[0][0].in_features] + [layer.out_features for layer in layers[0]]
        stack = cls.zeros(len(modules), sizes)
        with torch.no_grad():
            for k, linears in enumerate(layers):
                for weight, bias, linear in zip(stack.weights, stack.biases, linears, strict=True):
                    weight[k].copy_(linear.weight)
                    bias[k, 0].copy_(linear.bias)
        return stack

    def write_to(self, modules: Sequence[nn.Module]) -> None:
        """Copy network k's weights into the linear layers of modules[k]."""
        with torch.no_grad():
            for k, module in enumerate(modules):
                linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
                for weight, bias, linear in zip(self.weights, self.biases, linears, strict=True):
                    linear.weight.copy_(weight[k])
                    linear.bias.copy_(bias[k, 0])

    def like(self) -> StackedMLP:
        """A stack of zeros with the same layout (for gradients and optimiser moments)."""
        return StackedMLP.zeros(len(self.flat), self.sizes)

    def __len__(self) -> int:
        return len(self.flat)


@dataclass(frozen=True, eq=False)
class Activations:
    """What a forward pass keeps for the backward pass: the input (K, n, in), the activations
    a = softplus(z) of each hidden layer and their slopes sigmoid(z) (K, n, width), and the
    output (K, n, out)."""

    inputs: torch.Tensor
    hidden: tuple[torch.Tensor, ...]
    slopes: tuple[torch.Tensor, ...]
    output: torch.Tensor


def forward(stack: StackedMLP, inputs: torch.Tensor) -> Activations:
    """Softplus hidden layers, linear output; inputs (K, n, sizes[0])."""
    hidden, slopes, h = [], [], inputs
    for weight, bias in zip(stack.weights[:-1], stack.biases[:-1], strict=True):
        z = torch.baddbmm(bias, h, weight.transpose(1, 2))
        h = F.softplus(z)
        hidden.append(h)
        slopes.append(torch.sigmoid(z))  # softplus′(z)
    output = torch.baddbmm(stack.biases[-1], h, stack.weights[-1].transpose(1, 2))
    return Activations(inputs, tuple(hidden), tuple(slopes), output)


def backward(
    stack: StackedMLP, cache: Activations, d_output: torch.Tensor, grads: StackedMLP
) -> None:
    """Write ∂(Σ_k loss_k)/∂parameters into `grads`, given d_output = ∂loss/∂output (K, n, out)."""
    delta = d_output
    below = (cache.inputs, *cache.hidden)
    for i in reversed(range(len(stack.weights))):
        torch.bmm(delta.transpose(1, 2), below[i], out=grads.weights[i])
        torch.sum(delta, dim=1, keepdim=True, out=grads.biases[i])
        if i > 0:
            delta = torch.bmm(delta, stack.weights[i]).mul_(cache.slopes[i - 1])
