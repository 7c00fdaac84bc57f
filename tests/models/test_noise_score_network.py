"""The noise-conditional score network learns a known smoothed score, at the levels it was
trained on and between them."""

from __future__ import annotations

import numpy as np
import torch

from hdbench.models.noise_score_network import (
    NoiseScoreNetwork,
    noise_heads_fn,
    train_noise_score_network,
)
from hdbench.models.score_network import TrainingConfig

DIM, SD, PEAK, MEAN = 2, 0.5, 0.8, np.array([1.0, -0.5])
LEVELS = np.array([0.25, 0.5, 1.0])


def smoothed(x: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """D_σ and ∇D_σ of the bump D(x) = PEAK exp(-|x - MEAN|² / (2 SD²)): a bump of variance
    SD² + σ² and peak PEAK (SD² / (SD² + σ²))^(dim/2)."""
    variance = SD**2 + sigma**2
    d = PEAK * (SD**2 / variance) ** (DIM / 2) * np.exp(-((x - MEAN) ** 2).sum(1) / (2 * variance))
    return d, -d[:, None] * (x - MEAN) / variance


def trained_score():
    rng = np.random.default_rng(0)
    # 60 points a level, spread a little wider than the smoothed bump, as a periphery is.
    x = np.concatenate(
        [MEAN + np.sqrt(SD**2 + s**2 + 1.0) * rng.standard_normal((60, DIM)) for s in LEVELS]
    )
    sigma = np.repeat(LEVELS, 60)
    targets = [smoothed(x[sigma == s], s) for s in LEVELS]
    d = np.concatenate([t[0] for t in targets])
    grad = np.concatenate([t[1] for t in targets])
    generator = torch.Generator().manual_seed(0)
    network = NoiseScoreNetwork(DIM, generator, width=32, depth=2)
    config = TrainingConfig(num_steps=3000, learning_rate=0.01)
    losses = train_noise_score_network(network, x, sigma, d, grad, config, generator)
    heads = noise_heads_fn(network)

    def score_fn(x: np.ndarray, sigma: float) -> np.ndarray:
        s_d, s_grad = heads(x, sigma)
        return (s_grad / s_d[:, None]).double().numpy()

    return score_fn, losses


def relative_error(score_fn, sigma: float) -> tuple[float, float]:
    """RMS error of the learned score and of a σ-blind one (the truth at σ = 0.5) relative to
    the RMS of the true score -(x - MEAN) / (SD² + σ²), over 500 draws of the smoothed bump
    kept where D_σ is at least a quarter of its peak."""
    variance = SD**2 + sigma**2
    x = MEAN + np.sqrt(variance) * np.random.default_rng(1).standard_normal((500, DIM))
    x = x[((x - MEAN) ** 2).sum(1) < 2 * np.log(4) * variance]
    truth = -(x - MEAN) / variance
    blind = -(x - MEAN) / (SD**2 + 0.5**2)
    scale = np.sqrt((truth**2).sum(1).mean())

    def rms(a: np.ndarray) -> float:
        return float(np.sqrt(((a - truth) ** 2).sum(1).mean()) / scale)

    return rms(score_fn(x, sigma)), rms(blind)


def test_the_network_learns_a_known_smoothed_score_at_and_between_its_levels():
    score_fn, losses = trained_score()
    assert losses[-1] < losses[0] / 100
    # Trained on 0.25, 0.5 and 1; 0.35 and 0.7 lie between, in log σ. A score off by a factor
    # 1 + e samples a Gaussian with variance v / (1 + e): a 25% error moves the sd by at most
    # 13%. Where D_σ is below a quarter of its peak, S_D's absolute error (about 0.01 here)
    # is a larger share of it, and the ratio is looser: the test stays inside.
    for sigma in (0.25, 0.35, 0.5, 0.7, 1.0):
        error, _ = relative_error(score_fn, sigma)
        assert error < 0.25, f"σ = {sigma}: relative error {error:.2f}"
    # A network that ignored σ would miss at the end levels by more than the bound allows.
    for sigma in (0.25, 1.0):
        assert relative_error(score_fn, sigma)[1] > 0.25
