"""TruthContext: reproducible reference sample, exact grid masses, kNN radii, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import norm

from hdbench.errors import SpecError
from hdbench.metrics import TruthContext
from hdbench.metrics.context import NUM_MOMENT_SAMPLES, NUM_NEIGHBOURS, NUM_SUB_POINTS, knn_radii
from hdbench.oracles.kinds.gaussian import GaussianAcceptability


def test_reference_sample_is_fixed_by_the_seed(truths) -> None:
    truth = truths("ring_of_8")
    real = truth.sample(50, np.random.default_rng(0))
    first = TruthContext.build(truth, real, seed=3, num_reference=300)
    again = TruthContext.build(truth, real, seed=3, num_reference=300)
    other = TruthContext.build(truth, real, seed=4, num_reference=300)
    assert first.reference.shape == (300, 2)
    np.testing.assert_array_equal(first.reference, again.reference)
    assert not np.allclose(first.reference, other.reference)


def test_context_arrays_are_read_only(contexts) -> None:
    context = contexts("gaussian")
    for array in (context.reference, context.real_data, context.target_cov, context.knn_radii):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0.0


def test_grid_masses_match_the_gaussian_cdf() -> None:
    # Diagonal covariance: a cell's mass is a product of two differences of normal CDFs.
    sd = np.array([2.0, 0.5])
    truth = GaussianAcceptability(mean=[1.0, -1.0], cov=np.diag(sd**2).tolist(), peak=0.7)
    context = TruthContext.build(truth, truth.sample(10, np.random.default_rng(0)), bins=10)
    grid = context.grid
    edges = [np.linspace(lo, hi, grid.bins + 1) for lo, hi in truth.bounds]
    z = [(e - m) / s for e, m, s in zip(edges, truth.mean, sd, strict=True)]
    mass = [np.diff(norm.cdf(zi)) for zi in z]
    exact = np.outer(*mass).ravel()
    # Composite midpoint rule with sub-step h (in sd units) on one axis of a cell [a, b]:
    # error ≈ h² / 24 · (φ'(b) - φ'(a)), φ'(z) = -z φ(z); a cell's error combines both axes.
    step = 12.0 / (grid.bins * NUM_SUB_POINTS)
    error = [step**2 / 24 * np.abs(np.diff(-zi * norm.pdf(zi))) for zi in z]
    bound = (np.outer(error[0], mass[1]) + np.outer(mass[0], error[1])).ravel()
    assert np.all(np.abs(grid.cell_mass - exact) <= 1.5 * bound + 1e-12)
    outside = 1 - (norm.cdf(6) - norm.cdf(-6)) ** 2
    assert grid.outside_mass == pytest.approx(outside, abs=1e-6)
    assert grid.mass_with_outside.sum() == pytest.approx(1.0, abs=1e-12)


def test_cell_index_puts_faces_inside_and_far_points_outside(contexts) -> None:
    grid = contexts("gaussian").grid
    (lo0, hi0), (lo1, hi1) = grid.bounds
    points = np.array([[lo0, lo1], [hi0, hi1], [hi0 + 1e-9, 0.0], [0.0, lo1 - 1.0]])
    np.testing.assert_array_equal(
        grid.cell_index(points), [0, grid.num_cells - 1, grid.num_cells, grid.num_cells]
    )


def test_knn_radii_match_brute_force() -> None:
    points = np.random.default_rng(1).normal(size=(60, 3))
    distances = np.sort(cdist(points, points), axis=1)  # column 0 is the point itself
    np.testing.assert_allclose(knn_radii(points, NUM_NEIGHBOURS), distances[:, NUM_NEIGHBOURS])


def test_target_covariance_is_within_sampling_error(contexts, truths) -> None:
    truth = truths("gaussian")
    estimate = contexts("gaussian").target_cov
    variance = np.diag(truth.cov)
    # sd of a sample covariance entry: √((σ_ii σ_jj + σ_ij²) / N).
    sd = np.sqrt((np.outer(variance, variance) + truth.cov**2) / NUM_MOMENT_SAMPLES)
    assert np.all(np.abs(estimate - truth.cov) <= 4 * sd)


def test_grid_exists_only_in_dim_2(contexts) -> None:
    assert contexts("gaussian").grid is not None
    assert contexts("gaussian_3d").grid is None


@pytest.mark.parametrize(
    ("real_data", "field"),
    [
        (np.zeros((5, 3)), "real_data"),
        (np.zeros(5), "real_data"),
        (np.array([[0.0, 1.0], [np.nan, 0.0]]), "real_data"),
    ],
)
def test_build_rejects_bad_real_data(truths, real_data: np.ndarray, field: str) -> None:
    with pytest.raises(SpecError, match=f"^{field}: expected"):
        TruthContext.build(truths("gaussian"), real_data)


def test_build_rejects_bad_sizes(truths) -> None:
    real = np.zeros((10, 2))
    with pytest.raises(SpecError, match=r"^num_reference: expected at least 6"):
        TruthContext.build(truths("gaussian"), real, num_reference=5)
    with pytest.raises(SpecError, match=r"^bins: expected"):
        TruthContext.build(truths("gaussian"), real, bins=0)
