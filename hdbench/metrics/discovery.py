"""Discovery: what the samples reach of the acceptable region that the real data do not cover.

HumanDiffusion exists to find stimuli that listeners accept beyond the real data (Ueda et al.,
Interspeech 2023, §4.3); on oracles whose real data cover only part of the acceptable region
(the `*_discover` oracles) these metrics ask whether a method found the rest.

- `modes_discovered`: modes captured by the samples (VEEGAN's criterion, as `modes_captured`)
  that hold no real datum, i.e. no real datum lies within Mahalanobis distance 3 of them as its
  nearest mode; `modes_discovered_strict` uses the strict capture (a quarter of the fair share).
  They apply when the truth lists modes and at least one of them holds no real data.
- `discovery_mass` (dim 2): the target's mass in the grid cells far from every real datum that
  the samples reach, Σ_{c far} p_c · 1[c holds a sample], with p_c as in `grid_coverage`. A cell
  is *near* the real data when it or one of its 8 neighbours holds a real datum, *far*
  otherwise; the mass of the far cells, M_far = Σ_{c far} p_c, is the most it can be.
- `discovery_coverage` (dim 2): discovery_mass / M_far, the share of that unexplored mass the
  samples cover. Like `grid_coverage`, exact samples of size n score below 1, their expectation
  being Σ_{c far} p_c (1 - (1 - p_c)^n) / M_far.

The grid metrics apply when M_far ≥ MIN_FAR_MASS, so that the share has something to measure.
The real data themselves score 0 on every one of these metrics.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import binary_dilation

from hdbench.metrics.context import TruthContext
from hdbench.metrics.grid import planar_grid
from hdbench.metrics.metric import Scope, has_modes, is_planar, register_metric
from hdbench.metrics.modes import captured, high_quality_counts

#: Smallest target mass far from the real data for the grid discovery metrics to apply.
MIN_FAR_MASS = 0.01
#: Cells (Chebyshev distance on the grid) within which a real datum makes a cell near.
NEAR_CELLS = 1


def modes_without_real_data(context: TruthContext) -> np.ndarray:
    """Which modes hold no high-quality real datum: boolean (num_modes,)."""
    return high_quality_counts(context.real_data, context) == 0


#: Applies when the truth lists modes and some hold no real data.
has_unvisited_modes = Scope(
    "needs modes without real data",
    lambda context: has_modes(context) and bool(modes_without_real_data(context).any()),
)


def far_cells(context: TruthContext) -> np.ndarray:
    """Grid cells farther than NEAR_CELLS cells from every real datum: boolean (bins * bins,)."""
    grid = planar_grid(context)
    occupied = grid.counts(context.real_data)[: grid.num_cells] > 0
    structure = np.ones((2 * NEAR_CELLS + 1,) * 2, dtype=bool)
    near = binary_dilation(occupied.reshape(grid.bins, grid.bins), structure=structure)
    return ~near.ravel()


def far_mass(context: TruthContext) -> float:
    """M_far: the target's mass in the cells far from every real datum."""
    return float(planar_grid(context).cell_mass[far_cells(context)].sum())


#: Applies in dim 2 when at least MIN_FAR_MASS of the target lies far from the real data.
has_far_mass = Scope(
    "2-D, with target mass far from the real data",
    lambda context: is_planar(context) and far_mass(context) >= MIN_FAR_MASS,
)


@register_metric(
    "modes_discovered",
    direction="higher",
    low=0.0,
    high=math.inf,
    description="modes captured by the samples that hold no real datum (VEEGAN's criterion)",
    applies=has_unvisited_modes,
)
def modes_discovered(samples: np.ndarray, context: TruthContext) -> float:
    """Number of modes without real data that samples (n, dim) capture."""
    found = captured(samples, context, strict=False) & modes_without_real_data(context)
    return float(np.count_nonzero(found))


@register_metric(
    "modes_discovered_strict",
    direction="higher",
    low=0.0,
    high=math.inf,
    description="modes without real data holding at least a quarter of their fair share",
    applies=has_unvisited_modes,
)
def modes_discovered_strict(samples: np.ndarray, context: TruthContext) -> float:
    """Number of modes without real data that samples (n, dim) capture strictly."""
    found = captured(samples, context, strict=True) & modes_without_real_data(context)
    return float(np.count_nonzero(found))


@register_metric(
    "discovery_mass",
    direction="higher",
    low=0.0,
    high=1.0,
    description="target mass in grid cells far from the real data that samples reach",
    applies=has_far_mass,
)
def discovery_mass(samples: np.ndarray, context: TruthContext) -> float:
    """Σ_{c far} p_c 1[c occupied] for samples (n, 2)."""
    grid = planar_grid(context)
    occupied = grid.counts(samples)[: grid.num_cells] > 0
    return float(grid.cell_mass[occupied & far_cells(context)].sum())


@register_metric(
    "discovery_coverage",
    direction="higher",
    low=0.0,
    high=1.0,
    description="share of the target mass far from the real data in cells that samples reach",
    applies=has_far_mass,
)
def discovery_coverage(samples: np.ndarray, context: TruthContext) -> float:
    """discovery_mass / M_far for samples (n, 2)."""
    return min(1.0, discovery_mass(samples, context) / far_mass(context))


def expected_discovery_coverage(context: TruthContext, num_samples: int) -> float:
    """Σ_{c far} p_c (1 - (1 - p_c)^n) / M_far: the expected discovery coverage of n exact
    target samples."""
    mass = planar_grid(context).cell_mass[far_cells(context)]
    return float(np.sum(mass * -np.expm1(num_samples * np.log1p(-mass))) / mass.sum())
