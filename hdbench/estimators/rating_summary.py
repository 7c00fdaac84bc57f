"""Estimating D(x̂) from the 2R ratings of a point: the mode of a kernel density estimate.

HumanDiffusion (Ueda et al., Interspeech 2023, §3.2, the paragraph between Eqs. 8 and 9) pools the
2R ratings {D(x̂ + Δ_r), D(x̂ − Δ_r)} of a point x̂ and takes D(x̂) as the mode of their kernel
density estimate, because the slider is bounded: near 0 or 1 the ratings' distribution is
skewed (clipped), and their mean is biased towards the middle (the authors report that the
mean "did not show the sampling convergence").

Summaries map normalised ratings of shape (num_points, num_ratings), values in [0, 1], to
estimates of shape (num_points,). Registered in `RATING_SUMMARIES`:

- `mode` (the paper's choice, the default): the KDE mode, see `kde_mode`;
- `mean`: the arithmetic mean, biased towards 0.5 near the ends of the slider;
- `median`: unaffected by clipping while fewer than half of a point's ratings are clipped.

Every summary returns a point's common value exactly when all its ratings are equal (e.g. a
region rated 0 throughout), never NaN.

KDE mode, the choices the paper leaves open:

- kernel: Gaussian;
- bandwidth, one per point: Silverman's rule of thumb h = 0.9 · min(s, IQR/1.349) · n^(−1/5),
  with s the sample standard deviation (ddof 1) and n = num_ratings; when the IQR is 0 (the
  middle half of the ratings on one value) s alone is used. h is floored at `BANDWIDTH_FLOOR` =
  0.02, twice the step of the unit slider, so equal or quantised ratings never give a zero
  bandwidth;
- grid: `NUM_GRID` = 201 equally spaced points over [0, 1] (resolution 0.005, finer than the
  slider's step 0.01, and holding both ends exactly); the mode is the grid point of highest
  density;
- ties: the lowest of the tied grid points, so a tie never overstates D;
- no reflection at the slider's ends. Reflecting the ratings about 0 and 1 (the usual boundary
  correction for densities) doubles the weight of a pile of ratings clipped at an end, and the
  mode then snaps onto the pile for true values well inside: in simulations of the default
  listener (noise 0.1, bias 0.05, lapses 2%, 40 ratings) reflection moved the mode's bias at
  D = 0.9 from about +0.03 to +0.09 (and symmetrically near 0). Without reflection a pile at an
  end still pulls the mode onto it when D is at that end, which is what is wanted, and the bias at
  D = 1 stays below 0.01.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hdbench.errors import SpecError
from hdbench.registry import Registry

#: Smallest KDE bandwidth, on the normalised [0, 1] slider: twice the unit slider's step.
BANDWIDTH_FLOOR = 0.02
#: Points of the grid over [0, 1] on which each KDE is evaluated.
NUM_GRID = 201
#: Largest (points × ratings × grid) block evaluated at once: ~32 MB per temporary array.
MAX_KDE_CELLS = 2**22

RatingSummary = Callable[[np.ndarray], np.ndarray]
"""A summary: normalised ratings (num_points, num_ratings) in [0, 1] → estimates (num_points,)."""

RATING_SUMMARIES: Registry[RatingSummary] = Registry("rating summary")


def summarise(ratings: np.ndarray, name: str = "mode") -> np.ndarray:
    """Estimates of D of shape (num_points,) from ratings (num_points, num_ratings) in [0, 1],
    with the registered summary `name`."""
    return RATING_SUMMARIES[name](ratings)


def check_ratings(ratings: np.ndarray) -> np.ndarray:
    """Ratings as a float array of shape (num_points, num_ratings), finite and in [0, 1]."""
    ratings = np.asarray(ratings, dtype=float)
    if ratings.ndim != 2 or ratings.shape[1] < 1:
        raise SpecError(
            f"ratings: expected shape (num_points, num_ratings) with num_ratings ≥ 1, "
            f"got {ratings.shape}"
        )
    # NaN fails both comparisons, so this also rejects NaN (and ±inf is out of range).
    if not ((ratings >= 0.0) & (ratings <= 1.0)).all():
        raise SpecError("ratings: expected finite values in [0, 1] (the normalised slider)")
    return ratings


def _exact_if_constant(ratings: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """`estimates`, except that a row of equal ratings gets that value exactly."""
    constant = (ratings == ratings[:, :1]).all(axis=1)
    return np.where(constant, ratings[:, 0], estimates)


@RATING_SUMMARIES.register("mean")
def mean_rating(ratings: np.ndarray) -> np.ndarray:
    """Mean of each row: (num_points, num_ratings) → (num_points,)."""
    ratings = check_ratings(ratings)
    return _exact_if_constant(ratings, ratings.mean(axis=1))


@RATING_SUMMARIES.register("median")
def median_rating(ratings: np.ndarray) -> np.ndarray:
    """Median of each row: (num_points, num_ratings) → (num_points,)."""
    ratings = check_ratings(ratings)
    return np.median(ratings, axis=1)


def kde_bandwidth(ratings: np.ndarray, floor: float = BANDWIDTH_FLOOR) -> np.ndarray:
    """Silverman's bandwidth of each row, at least `floor`: (num_points, num_ratings) →
    (num_points,)."""
    ratings = check_ratings(ratings)
    num_ratings = ratings.shape[1]
    if num_ratings < 2:
        return np.full(ratings.shape[0], float(floor))
    sd = ratings.std(axis=1, ddof=1)
    q25, q75 = np.percentile(ratings, [25, 75], axis=1)
    iqr_sd = (q75 - q25) / 1.349
    spread = np.where(iqr_sd > 0, np.minimum(sd, iqr_sd), sd)
    return np.maximum(0.9 * spread * num_ratings ** (-0.2), floor)


def kde_density_on_grid(ratings: np.ndarray, bandwidth: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Unnormalised Gaussian KDE of each row on `grid`: ratings (num_points, num_ratings),
    bandwidth (num_points,), grid (num_grid,) → (num_points, num_grid).

    The common factor 1/(n·h·√(2π)) is left out: it does not move a row's argmax.
    """
    scaled = (grid[None, None, :] - ratings[:, :, None]) / bandwidth[:, None, None]
    return np.exp(-0.5 * scaled**2).sum(axis=1)


@RATING_SUMMARIES.register("mode")
def kde_mode(
    ratings: np.ndarray,
    *,
    bandwidth_floor: float = BANDWIDTH_FLOOR,
    num_grid: int = NUM_GRID,
) -> np.ndarray:
    """Mode of each row's Gaussian KDE on a grid over [0, 1]: (num_points, num_ratings) →
    (num_points,). Kernel, bandwidth, grid, ties and ends as in the module docstring."""
    if not bandwidth_floor > 0:
        raise SpecError(f"bandwidth_floor: expected a number > 0, got {bandwidth_floor!r}")
    if isinstance(num_grid, bool) or not isinstance(num_grid, int) or num_grid < 2:
        raise SpecError(f"num_grid: expected an integer ≥ 2, got {num_grid!r}")
    ratings = check_ratings(ratings)
    bandwidth = kde_bandwidth(ratings, bandwidth_floor)
    grid = np.linspace(0.0, 1.0, num_grid)
    modes = np.empty(ratings.shape[0])
    # Blocks of points bound the (points, ratings, grid) array; each block is one array op.
    block = max(1, MAX_KDE_CELLS // (ratings.shape[1] * num_grid))
    for start in range(0, ratings.shape[0], block):
        rows = slice(start, start + block)
        density = kde_density_on_grid(ratings[rows], bandwidth[rows], grid)
        # argmax returns the first maximum: on the ascending grid, the lowest tied point.
        modes[rows] = grid[np.argmax(density, axis=1)]
    return _exact_if_constant(ratings, modes)
