"""Speed of the NES estimator (`make perf`): estimates from already collected ratings."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.estimators.nes import NESEstimator
from hdbench.estimators.rating_summary import summarise
from hdbench.oracles import collect, load_oracle

NUM_POINTS = 10_000


@pytest.fixture(scope="module")
def rated():
    """Paired ratings of 10⁴ points × R = 20 perturbations on paper_like."""
    oracle = load_oracle("paper_like")
    nes = NESEstimator(1.0, 20)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (NUM_POINTS, 2))
    delta = nes.perturbations(NUM_POINTS, 2, rng)
    panel = oracle.panel(seed=0)
    return nes, delta, collect(panel, panel.submit(nes.paired_trials(x, delta)))


def test_nes_gradients_per_second(benchmark, rated):
    """∇D estimates of 10⁴ points from their 20 antithetic pairs each."""
    nes, delta, ratings = rated
    gradients = benchmark(lambda: nes.gradient(nes.paired_differences(ratings), delta))
    assert gradients.shape == (NUM_POINTS, 2)
    benchmark.extra_info["estimates_per_second"] = NUM_POINTS / benchmark.stats["mean"]


def test_kde_modes_per_second(benchmark, rated):
    """D estimates (KDE mode of 40 ratings) of 10⁴ points."""
    nes, _, ratings = rated
    modes = benchmark(summarise, nes.pooled_ratings(ratings), "mode")
    assert modes.shape == (NUM_POINTS,)
    benchmark.extra_info["estimates_per_second"] = NUM_POINTS / benchmark.stats["mean"]
