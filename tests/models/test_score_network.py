"""The score network's hand-written training and inference, one network and K at once."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hdbench.models.score_network import (
    CHUNK_ROWS,
    ScoreNetwork,
    TrainingConfig,
    network_fn,
    ratio_score_fn,
    ratio_score_fns,
    train_score_network,
    train_score_networks,
)

NUM_POINTS, DIM = 120, 2


def data(seed: int, num: int = NUM_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points spread like a periphery (sd 10), noisy D = exp(−|x|²/200) and its noisy
    gradient, like HumanDiffusion's targets."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 10, (num, DIM))
    d = np.exp(-(x**2).sum(axis=1) / 200)
    grad = -x / 100 * d[:, None]
    return x, d + rng.normal(0, 0.05, num), 10 * grad + rng.normal(0, 0.1, (num, DIM))


def network(seed: int, depth: int = 2) -> tuple[ScoreNetwork, torch.Generator]:
    generator = torch.Generator().manual_seed(seed)
    return ScoreNetwork(DIM, generator, width=32, depth=depth), generator


def train_with_autograd(net, x, d, grad, config, generator) -> np.ndarray:
    """The reference: torch.optim.Adam on autograd's gradients of the same loss (Eq. 7)."""
    net.fit_inputs(x)
    inputs, grads = (
        torch.as_tensor(x, dtype=torch.float32),
        torch.as_tensor(grad, dtype=torch.float32),
    )
    ds = None if d is None else torch.as_tensor(d, dtype=torch.float32)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    losses, batch = [], config.batch_size or len(x)
    for _ in range(config.num_steps):
        index = (
            torch.randint(len(x), (batch,), generator=generator) if batch < len(x) else slice(None)
        )
        s_d, s_grad = net(inputs[index])
        loss = ((s_grad - grads[index]) ** 2).sum(dim=1).mean()
        if ds is not None:
            loss = loss + ((s_d - ds[index]) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return np.array(losses)


@pytest.mark.parametrize(
    ("with_d", "batch_size", "depth"), [(True, 0, 2), (False, 0, 2), (True, 40, 2), (True, 0, 3)]
)
def test_hand_written_training_follows_autograd_and_adam(with_d, batch_size, depth):
    """Same parameters as autograd + torch.optim.Adam after 60 steps, to float32 rounding: a
    wrong term in the backward pass or in Adam would be off by far more than 1e-4."""
    x, d, grad = data(0)
    d = d if with_d else None
    config = TrainingConfig(num_steps=60, learning_rate=3e-3, batch_size=batch_size)
    ours, generator = network(1, depth)
    losses = train_score_network(ours, x, d, grad, config, generator)
    reference, generator = network(1, depth)
    expected = train_with_autograd(reference, x, d, grad, config, generator)
    np.testing.assert_allclose(losses, expected, rtol=1e-4)
    for mine, theirs in zip(ours.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(mine.detach(), theirs.detach(), atol=1e-4)
    assert losses[-1] < 0.5 * losses[0]


def test_k_networks_trained_at_once_equal_each_trained_alone():
    """Stacked training gives every network the parameters and losses it gets alone (on this
    machine to the last bit; float32 rounding is the tolerance)."""
    sets = [data(seed) for seed in range(3)]
    config = TrainingConfig(num_steps=50, batch_size=50)
    alone = []
    for k, (x, d, grad) in enumerate(sets):
        net, generator = network(10 + k)
        alone.append((net, train_score_network(net, x, d, grad, config, generator)))
    pairs = [network(10 + k) for k in range(3)]
    together = [net for net, _ in pairs]
    x, d, grad = (np.stack(arrays) for arrays in zip(*sets, strict=True))
    losses = train_score_networks(together, x, d, grad, config, [g for _, g in pairs])
    for k, (net, loss) in enumerate(alone):
        np.testing.assert_allclose(losses[k], loss, rtol=1e-6)
        for mine, theirs in zip(together[k].parameters(), net.parameters(), strict=True):
            np.testing.assert_allclose(mine.detach(), theirs.detach(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("num_points", [7, CHUNK_ROWS + 13])
def test_inference_matches_the_module_forward(num_points):
    """The fused path (folded standardisation, chunks of rows, buffers) against nn.Module."""
    net, generator = network(3)
    x, d, grad = data(3)
    train_score_network(net, x, d, grad, TrainingConfig(num_steps=20), generator)
    points = np.random.default_rng(4).normal(0, 10, (num_points, DIM))
    with torch.no_grad():
        s_d, s_grad = net(torch.as_tensor(points, dtype=torch.float32))
    heads = network_fn(net)
    for _ in range(2):  # the second call reuses the buffers
        ours_d, ours_grad = heads(points)
        torch.testing.assert_close(ours_d, s_d, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours_grad, s_grad, rtol=1e-5, atol=1e-6)
    expected = (s_grad / s_d.clamp(min=1e-3)[:, None]).double().numpy()
    np.testing.assert_allclose(ratio_score_fn(net, 1e-3)(points), expected, rtol=1e-5, atol=1e-6)


def test_k_scores_at_once_equal_each_alone():
    nets = []
    for k in range(3):
        net, generator = network(20 + k)
        train_score_network(net, *data(20 + k), TrainingConfig(num_steps=10), generator)
        nets.append(net)
    points = np.random.default_rng(5).normal(0, 5, (3, 50, DIM))
    together = ratio_score_fns(nets, 1e-3)(points)
    for k, net in enumerate(nets):
        np.testing.assert_allclose(together[k], ratio_score_fn(net, 1e-3)(points[k]), rtol=1e-6)
