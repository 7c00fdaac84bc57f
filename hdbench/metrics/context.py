"""What the metrics know about the truth, computed once per oracle and reused for every sample set.

`TruthContext.build` draws, with generators named from one seed (`hdbench.rng.named_generator`):

- a reference sample of `num_reference` exact target samples, the "real" set of PRDC (Naeem et
  al., ICML 2020) and the second sample of MMD, energy distance and sliced Wasserstein;
- a separate moment sample of `NUM_MOMENT_SAMPLES` exact target samples, whose covariance is the
  target covariance. One code path for every kind (no closed form per kind); the relative error
  of a variance is about √(2 / 100 000) ≈ 0.45 %, well below that of the sample sets scored
  (n up to a few thousand), and the tests allow for it.

It also precomputes the k-nearest-neighbour radii of the reference sample (PRDC), the median
pairwise distance of the reference sample (the MMD bandwidth) with the reference's own kernel
and distance means (MMD and energy distance), the reference's kernel means at the truth's own
length scales (`KERNEL_SCALES` × `truth.length_scale`, the multi-scale MMD), and, in dim 2, the
grid of the target's mass per cell (`TargetGrid`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from hdbench.errors import SpecError
from hdbench.oracles.acceptability import Acceptability, box_grid
from hdbench.rng import named_generator

#: Size of the exact sample whose covariance is the target covariance.
NUM_MOMENT_SAMPLES = 100_000
#: Sub-points per axis and per grid cell for the midpoint rule that integrates D over a cell.
NUM_SUB_POINTS = 8
#: k of PRDC's k-nearest-neighbour balls (Naeem et al. 2020 use k = 5).
NUM_NEIGHBOURS = 5
#: Bandwidths of the multi-scale MMD, in units of the truth's `length_scale`: from the scale of
#: the target's shape up past the spacing of its modes (`hdbench.metrics.multiscale`). Each
#: doubles the one before, which `hdbench.metrics.multiscale.kernels_by_scale` relies on.
KERNEL_SCALES = (1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True, eq=False)
class TargetGrid:
    """A bins × bins grid over a 2-D box with the target's probability mass per cell.

    `cell_mass` has shape (bins * bins,), cells flattened row-major over (axis 0, axis 1);
    `outside_mass` is the target's mass outside the box, the extra "outside" cell.
    """

    bounds: np.ndarray
    bins: int
    cell_mass: np.ndarray
    outside_mass: float

    @classmethod
    def build(cls, truth: Acceptability, bins: int) -> TargetGrid:
        """Integrate D over each cell by the midpoint rule on NUM_SUB_POINTS² sub-points.

        Masses are the integrals over ∫D (`truth.normaliser`); the box's share is capped at 1
        (the quadrature can overshoot a normaliser computed over the box by ~1e-6) and the
        rest of the mass is the outside cell.
        """
        fine = bins * NUM_SUB_POINTS
        points, sub_volume = box_grid(truth.bounds, fine)
        values = truth(points).reshape(bins, NUM_SUB_POINTS, bins, NUM_SUB_POINTS)
        integrals = values.sum(axis=(1, 3)).ravel() * sub_volume
        inside = min(1.0, float(integrals.sum()) / truth.normaliser)
        cell_mass = inside * integrals / integrals.sum()
        return cls(_frozen(truth.bounds), bins, _frozen(cell_mass), 1.0 - inside)

    @property
    def num_cells(self) -> int:
        """Cells of the box, without the outside cell."""
        return self.bins * self.bins

    @property
    def mass_with_outside(self) -> np.ndarray:
        """Masses of the box's cells then of the outside cell, shape (bins * bins + 1,)."""
        return np.append(self.cell_mass, self.outside_mass)

    def cell_index(self, points: np.ndarray) -> np.ndarray:
        """Flat cell of each point of shape (n, 2): shape (n,), `num_cells` for outside the box.

        The box is closed: points on its upper faces fall in the last cell of that axis.
        """
        lo, hi = self.bounds.T
        scaled = (points - lo) / (hi - lo) * self.bins
        inside = np.all((points >= lo) & (points <= hi), axis=1)
        axis_index = np.clip(np.floor(np.where(inside[:, None], scaled, 0.0)), 0, self.bins - 1)
        flat = axis_index[:, 0].astype(int) * self.bins + axis_index[:, 1].astype(int)
        return np.where(inside, flat, self.num_cells)

    def counts(self, points: np.ndarray) -> np.ndarray:
        """Points of shape (n, 2) per cell, outside cell last: shape (bins * bins + 1,)."""
        return np.bincount(self.cell_index(points), minlength=self.num_cells + 1)


# eq=False: fields are arrays, whose == is elementwise; contexts compare by identity.
@dataclass(frozen=True, eq=False)
class TruthContext:
    """The exact truth and everything precomputed from it; see the module docstring.

    Shapes: real_data (num_real, dim), reference (num_reference, dim), target_cov and real_cov
    (dim, dim), knn_radii (num_reference,), scale_kernel_means (len(KERNEL_SCALES),). `grid` is
    None unless dim == 2. A truth that cannot draw exact samples (`truth.sampling_limit()`, e.g.
    the vowel space above dim 2) leaves reference, target_cov, knn_radii, scale_kernel_means and
    grid None and the scalars NaN; `sampling_limit` keeps its one line, and the metrics that need
    them are NaN.
    """

    truth: Acceptability
    real_data: np.ndarray
    reference: np.ndarray | None
    seed: int
    target_cov: np.ndarray | None
    real_cov: np.ndarray
    grid: TargetGrid | None
    num_neighbours: int
    knn_radii: np.ndarray | None
    bandwidth: float
    reference_kernel_mean: float
    reference_distance_mean: float
    sampling_limit: str | None = None
    length_scale: float = np.nan
    scale_kernel_means: np.ndarray | None = None

    @property
    def dim(self) -> int:
        return self.truth.dim

    @classmethod
    def build(
        cls,
        truth: Acceptability,
        real_data: np.ndarray,
        seed: int = 0,
        num_reference: int = 2000,
        bins: int = 25,
    ) -> TruthContext:
        """Draw the reference and moment samples and precompute; real_data has shape (n, dim).

        Time and memory grow as num_reference² (all pairwise distances of the reference sample).
        """
        real = _check_points(real_data, truth.dim, "real_data", minimum=2)
        if num_reference < NUM_NEIGHBOURS + 1:
            raise SpecError(
                f"num_reference: expected at least {NUM_NEIGHBOURS + 1}, got {num_reference}"
            )
        if bins < 1:
            raise SpecError(f"bins: expected a positive number of cells per axis, got {bins}")
        limit = truth.sampling_limit()
        if limit is not None:
            return cls.without_target(truth, real, seed, limit)
        reference = truth.sample(num_reference, named_generator(seed, "metrics", "reference"))
        moments = truth.sample(NUM_MOMENT_SAMPLES, named_generator(seed, "metrics", "moments"))
        distances = pdist(reference)
        bandwidth = float(np.median(distances))
        length_scale = float(truth.length_scale)
        squared = distances**2
        scale_means = [
            np.exp(-squared / (2 * (scale * length_scale) ** 2)).mean() for scale in KERNEL_SCALES
        ]
        return cls(
            truth=truth,
            real_data=_frozen(real),
            reference=_frozen(reference),
            seed=seed,
            target_cov=_frozen(np.atleast_2d(np.cov(moments, rowvar=False))),
            real_cov=_frozen(np.atleast_2d(np.cov(real, rowvar=False))),
            grid=TargetGrid.build(truth, bins) if truth.dim == 2 else None,
            num_neighbours=NUM_NEIGHBOURS,
            knn_radii=_frozen(knn_radii(reference, NUM_NEIGHBOURS)),
            bandwidth=bandwidth,
            reference_kernel_mean=float(np.exp(-(distances**2) / (2 * bandwidth**2)).mean()),
            reference_distance_mean=float(distances.mean()),
            length_scale=length_scale,
            scale_kernel_means=_frozen(scale_means),
        )

    @classmethod
    def without_target(
        cls, truth: Acceptability, real: np.ndarray, seed: int, limit: str
    ) -> TruthContext:
        """A context for a truth with no exact target: D and the real data only."""
        return cls(
            truth=truth,
            real_data=_frozen(real),
            reference=None,
            seed=seed,
            target_cov=None,
            real_cov=_frozen(np.atleast_2d(np.cov(real, rowvar=False))),
            grid=None,
            num_neighbours=NUM_NEIGHBOURS,
            knn_radii=None,
            bandwidth=np.nan,
            reference_kernel_mean=np.nan,
            reference_distance_mean=np.nan,
            sampling_limit=limit,
        )


def knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point of shape (n, dim) to its k-th nearest other point: shape (n,).

    Duplicated points are neighbours at distance 0, so a set collapsed onto few points has
    radius 0; PRDC's closed balls still count such points as covered.
    """
    distances, _ = cKDTree(points).query(points, k=k + 1)
    return distances[:, k]


def _check_points(points: np.ndarray, dim: int, name: str, minimum: int) -> np.ndarray:
    array = np.asarray(points, dtype=float)
    if array.ndim != 2 or array.shape[1] != dim or len(array) < minimum:
        raise SpecError(
            f"{name}: expected at least {minimum} points of shape (n, {dim}), got {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise SpecError(f"{name}: expected finite values, got NaN or infinity")
    return array


def _frozen(array: np.ndarray) -> np.ndarray:
    """A read-only copy, so that a context shared by many evaluations cannot be changed."""
    copy = np.array(array, dtype=float)
    copy.setflags(write=False)
    return copy
