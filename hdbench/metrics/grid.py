"""Grid coverage (dim 2): the share of the target's mass in grid cells that hold a sample.

With p_c the target's mass in cell c of the context's bins × bins grid over the box,

    grid_coverage = Σ_c p_c · 1[cell c holds at least one sample],

a mass-weighted count of occupied cells, in the spirit of the modes-captured counts on rings and
grids of modes (Metz et al., "Unrolled GANs", ICLR 2017; Srivastava et al., "VEEGAN", NeurIPS
2017), but needing no list of modes.
Only the box's cells count: a sample outside the box covers nothing, and the outside mass is
never covered, so the maximum is the box's share of the mass (≈ 1). For n exact target samples
the expectation is known in closed form,

    E[grid_coverage] = Σ_c p_c (1 - (1 - p_c)^n),

which lies below 1 for any finite n: exact samples do not score 1, they score this.
"""

from __future__ import annotations

import numpy as np

from hdbench.metrics.context import TargetGrid, TruthContext
from hdbench.metrics.metric import is_planar, register_metric


def planar_grid(context: TruthContext) -> TargetGrid:
    """The context's grid; ValueError when the truth is not 2-D."""
    if context.grid is None:
        raise ValueError(f"grid metrics need dim 2, got dim {context.dim}")
    return context.grid


@register_metric(
    "grid_coverage",
    direction="higher",
    low=0.0,
    high=1.0,
    description="share of the target's mass in grid cells holding at least one sample",
    applies=is_planar,
)
def grid_coverage(samples: np.ndarray, context: TruthContext) -> float:
    """Σ_c p_c 1[cell c occupied] for samples (n, 2)."""
    grid = planar_grid(context)
    occupied = grid.counts(samples)[: grid.num_cells] > 0
    return float(grid.cell_mass[occupied].sum())


def expected_grid_coverage(context: TruthContext, num_samples: int) -> float:
    """Σ_c p_c (1 - (1 - p_c)^n): the expected grid coverage of n exact target samples."""
    mass = planar_grid(context).cell_mass
    return float(np.sum(mass * -np.expm1(num_samples * np.log1p(-mass))))
