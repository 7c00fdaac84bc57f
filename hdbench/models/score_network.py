"""The score network of HumanDiffusion (Ueda et al., Interspeech 2023, §3.2, Eq. 7).

An MLP with softplus hidden layers and two heads: S_D(x) ∈ (0, 1) (sigmoid, 1 output) regresses
the rating D, S_∇D(x) ∈ ℝ^dim (linear) regresses its gradient. The poster's "3 fully-connected
layers" reads as two hidden layers plus the output layer (`depth` = 2). Loss, summed over the
periphery points: ‖S_∇D(x̂) − ∇D(x̂)‖² + (S_D(x̂) − D(x̂))², here averaged over a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from hdbench import progress
from hdbench.models.adam import FlatAdam
from hdbench.models.layers import initialise_, mlp_body
from hdbench.models.stacked import StackedMLP, backward, forward

#: Rows of all K networks evaluated together in a Langevin step: 2,048 × 128 float32 units
#: (1 MB a layer) stay in a core's L2 cache between the passes of a layer.
CHUNK_ROWS = 2048


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
    d_targets = None if d_target is None else d_target[None]
    return train_score_networks(
        [network], x[None], d_targets, grad_target[None], config, [generator]
    )[0]


def train_score_networks(
    networks: Sequence[ScoreNetwork],
    x: np.ndarray,
    d_target: np.ndarray | None,
    grad_target: np.ndarray,
    config: TrainingConfig,
    generators: Sequence[torch.Generator],
) -> np.ndarray:
    """Train K networks of one shape at once, each on its own set, as `train_score_network`
    trains one; returns the losses, shape (K, num_steps).

    x (K, n, dim), d_target (K, n) or None, grad_target (K, n, dim); network k draws its
    batches from generators[k]. Forward and backward passes are written out over stacked
    weights (`hdbench.models.stacked`) and Adam updates them all in one call.
    """
    for network, points in zip(networks, x, strict=True):
        network.fit_inputs(points)
    mean = torch.stack([network.input_mean for network in networks])[:, None]
    scale = torch.stack([network.input_scale for network in networks])[:, None]
    inputs = (torch.as_tensor(x, dtype=torch.float32) - mean) / scale
    stack = StackedMLP.from_modules(networks)
    losses = fit_stack(stack, inputs, d_target, grad_target, config, generators)
    stack.write_to(networks)
    return losses


def fit_stack(
    stack: StackedMLP,
    inputs: torch.Tensor,
    d_target: np.ndarray | None,
    grad_target: np.ndarray,
    config: TrainingConfig,
    generators: Sequence[torch.Generator],
) -> np.ndarray:
    """Fit K stacked MLPs in place to Eq. 7's targets with Adam, on standardised inputs
    (K, n, in); returns the losses, shape (K, num_steps).

    Output 0 regresses d_target (K, n) through a sigmoid (left out of the loss if None), the
    others grad_target (K, n, out − 1); network k draws its batches from generators[k].
    """
    num, n = inputs.shape[:2]
    grads = torch.as_tensor(grad_target, dtype=torch.float32)
    ds = None if d_target is None else torch.as_tensor(d_target, dtype=torch.float32)
    gradients = stack.like()
    optimiser = FlatAdam(stack.flat, config.learning_rate)
    losses = torch.empty(config.num_steps, num)
    batch = config.batch_size or n
    for step in progress.steps("training", range(config.num_steps)):
        h, g, d = inputs, grads, ds
        if batch < n:
            index = torch.stack([torch.randint(n, (batch,), generator=gen) for gen in generators])
            h, g = _take(inputs, index), _take(grads, index)
            d = None if ds is None else torch.gather(ds, 1, index)
        cache = forward(stack, h)
        d_output, losses[step] = _loss_gradient(cache.output, d, g)
        backward(stack, cache, d_output, gradients)
        optimiser.step(gradients.flat)
    return losses.T.double().numpy()


def _take(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Rows index (K, b) of values (K, n, c): shape (K, b, c)."""
    return torch.gather(values, 1, index[..., None].expand(-1, -1, values.shape[2]))


def _loss_gradient(
    output: torch.Tensor, d: torch.Tensor | None, grad: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """∂loss_k/∂output (K, b, 1 + dim) and loss_k (K,) of Eq. 7 over a batch of b points:
    loss_k = mean over points of ‖S_∇D − ∇D‖² + (S_D − D)², S_D = sigmoid(output[..., 0])."""
    batch = output.shape[1]
    residual = output.clone()
    residual[..., 1:] -= grad
    if d is None:
        residual[..., 0] = 0.0
        loss = residual.square().sum(dim=(1, 2))
    else:
        s_d = torch.sigmoid(output[..., 0])
        residual[..., 0] = s_d - d
        loss = residual.square().sum(dim=(1, 2))
        residual[..., 0] *= s_d * (1.0 - s_d)
    return residual.mul_(2.0 / batch), loss.div_(batch)


class ScoreHeads:
    """K trained networks as one function of x (K, n, dim) → S_D (K, n), S_∇D (K, n, dim).

    Evaluated 10⁴ times in a Langevin chain, so it is written for that: frozen float32 copies
    of the weights with the input standardisation folded into the first layer, buffers kept
    from one call to the next, and rows taken in chunks of at most CHUNK_ROWS · K so that
    each layer's passes stay in cache.
    """

    def __init__(self, networks: Sequence[ScoreNetwork]) -> None:
        stack = StackedMLP.from_modules(networks)
        scale = torch.stack([network.input_scale for network in networks])[:, None]
        mean = torch.stack([network.input_mean for network in networks])[:, None]
        first = stack.weights[0] / scale  # (K, width, dim): W (x − m) / s = (W / s) x − (W / s) m
        # Transposed weights stored contiguous: MKL's kernels run faster on them.
        self.transposed = tuple(w.mT.contiguous() for w in (first, *stack.weights[1:]))
        self.biases = (stack.biases[0] - mean @ first.mT, *stack.biases[1:])
        self.sizes = stack.sizes
        self._shape: tuple[int, ...] = ()

    def _allocate(self, shape: tuple[int, ...]) -> None:
        num, n, _ = shape
        rows = min(n, max(1, CHUNK_ROWS // num))
        self._shape, self._rows = shape, rows
        self._input = torch.empty(num, rows, self.sizes[0])
        self._hidden = [torch.empty(num, rows, size) for size in self.sizes[1:-1]]
        self._output = torch.empty(num, n, self.sizes[-1])

    def outputs(self, x: np.ndarray) -> torch.Tensor:
        """Raw outputs (K, n, 1 + dim) for points x (K, n, dim), any float dtype.

        The result is a buffer that the next call overwrites.
        """
        x = torch.from_numpy(np.asarray(x))
        if x.shape != self._shape:
            self._allocate(tuple(x.shape))
        with torch.inference_mode():
            for start in range(0, x.shape[1], self._rows):
                rows = min(self._rows, x.shape[1] - start)
                h = self._input[:, :rows]
                h.copy_(x[:, start : start + rows])
                for i, buffer in enumerate(self._hidden):
                    z = torch.baddbmm(self.biases[i], h, self.transposed[i], out=buffer[:, :rows])
                    h = F.softplus(z)
                out = self._output[:, start : start + rows]
                torch.baddbmm(self.biases[-1], h, self.transposed[-1], out=out)
        return self._output

    def __call__(self, x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.outputs(x)
        return torch.sigmoid(out[..., 0]), out[..., 1:].clone()


def network_fn(network: ScoreNetwork) -> Callable[[np.ndarray], tuple[torch.Tensor, torch.Tensor]]:
    """The trained network as a function of x (n, dim) → (S_D (n,), S_∇D (n, dim))."""
    heads = ScoreHeads([network])

    def one(x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        s_d, s_grad = heads(np.asarray(x, dtype=np.float32)[None])
        return s_d[0], s_grad[0]

    return one


def gradient_score_fns(networks: Sequence[ScoreNetwork]) -> Callable[[np.ndarray], np.ndarray]:
    """The S_∇D heads of K networks trained by score matching, as one score of x (K, n, dim)."""
    heads = ScoreHeads(networks)
    return lambda x: heads.outputs(x)[..., 1:].double().numpy()


def ratio_score_fns(
    networks: Sequence[ScoreNetwork], d_floor: float
) -> Callable[[np.ndarray], np.ndarray]:
    """HumanDiffusion's score S_∇D / max(S_D, d_floor) of K networks, as one numpy function of
    x (K, n, dim) → (K, n, dim). The ratio is taken in float64."""
    heads = ScoreHeads(networks)

    def score(x: np.ndarray) -> np.ndarray:
        out = heads.outputs(x).numpy()
        with np.errstate(over="ignore"):  # e^(−z) = ∞ for a very negative z: S_D = 0, floored
            s_d = 1.0 / (1.0 + np.exp(-out[..., :1], dtype=np.float64))
        return out[..., 1:] / np.maximum(s_d, d_floor)

    return score


def gradient_score_fn(network: ScoreNetwork) -> Callable[[np.ndarray], np.ndarray]:
    """The S_∇D head alone as a score, for a network trained by score matching: x (n, dim)."""
    score = gradient_score_fns([network])
    return lambda x: score(x[None])[0]


def ratio_score_fn(network: ScoreNetwork, d_floor: float) -> Callable[[np.ndarray], np.ndarray]:
    """HumanDiffusion's score S_∇D / max(S_D, d_floor) as a numpy function of x (n, dim)."""
    score = ratio_score_fns([network], d_floor)
    return lambda x: score(x[None])[0]
