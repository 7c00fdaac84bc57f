"""The multi-scale MMD² against its definition, and what its small bandwidths see."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hdbench.metrics import TruthContext
from hdbench.metrics.context import KERNEL_SCALES
from hdbench.metrics.distances import mmd2
from hdbench.metrics.multiscale import mmd2_multiscale
from hdbench.oracles import load_oracle


def mmd2_by_pairs(x: np.ndarray, y: np.ndarray, h: float) -> float:
    """Gretton et al.'s unbiased MMD²_u, Gaussian kernel of bandwidth h, pair by pair."""

    def k(a, b):
        return np.exp(-np.sum((a - b) ** 2) / (2 * h**2))

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(a, b) for a in x for b in y) / (n * m)
    return xx + yy - 2 * xy


@pytest.fixture(scope="module")
def grid_context() -> TruthContext:
    oracle = load_oracle("grid_5x5_discover")
    return TruthContext.build(oracle.truth, oracle.real_data, seed=0, num_reference=300)


def test_the_mean_of_unbiased_mmd2_at_each_scale(grid_context) -> None:
    samples = grid_context.truth.sample(40, np.random.default_rng(1))
    scales = np.asarray(KERNEL_SCALES) * grid_context.truth.length_scale
    expected = np.mean([mmd2_by_pairs(samples, grid_context.reference, h) for h in scales])
    assert mmd2_multiscale(samples, grid_context) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_it_sees_the_bumps_a_blur_spreads_over(grid_context) -> None:
    """The real data's 9 bumps blurred to cover the 25: the median bandwidth (2.5) sees little
    wrong (2 times exact samples here); the multi-scale kernel, whose smallest bandwidth is the
    bumps' sd, sees more (5 times)."""
    rng = np.random.default_rng(2)
    truth = grid_context.truth
    exact = truth.sample(1000, rng)
    real = grid_context.real_data[rng.integers(len(grid_context.real_data), size=1000)]
    blur = real + 0.9 * rng.standard_normal(real.shape)
    ratio_median = mmd2(blur, grid_context) / abs(mmd2(exact, grid_context))
    ratio_multi = mmd2_multiscale(blur, grid_context) / abs(mmd2_multiscale(exact, grid_context))
    assert ratio_multi > ratio_median


def test_the_scales_double_as_the_kernels_assume() -> None:
    assert all(b == 2 * a for a, b in itertools.pairwise(KERNEL_SCALES))
