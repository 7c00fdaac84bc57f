"""Particles that left the region where the target has mass.

The region is the truth's box (`Acceptability.bounds`, which holds all but a negligible share of
p_D: 6 sd past the outermost bump of a mixture or Gaussian, the radius where a radial density
has fallen below 10⁻⁸ of its peak, a python kind's declared bounds) widened `ESCAPE_FACTOR`
times about its centre. `escaped_share` is the share of the samples outside it: 0 for exact
samples but for about 10⁻⁸ of them. A run with more than `MAX_ESCAPED_SHARE` of its particles
outside is `diverged` however far they went (`hdbench.experiments.run`): its metrics are kept in
its row, and tables list it among the failed runs instead of averaging it in.
"""

from __future__ import annotations

import numpy as np

from hdbench.metrics.context import TruthContext
from hdbench.metrics.metric import register_metric

#: The region's half-widths over the box's.
ESCAPE_FACTOR = 1.5
#: Largest share of particles outside the region for a run to be scored as ok.
MAX_ESCAPED_SHARE = 0.01


def region(context: TruthContext) -> np.ndarray:
    """The box widened ESCAPE_FACTOR times about its centre: shape (dim, 2)."""
    lo, hi = context.truth.bounds.T
    centre, half = (lo + hi) / 2, ESCAPE_FACTOR * (hi - lo) / 2
    return np.stack([centre - half, centre + half], axis=1)


@register_metric(
    "escaped_share",
    direction="lower",
    low=0.0,
    high=1.0,
    description=f"share of particles outside the target's box widened {ESCAPE_FACTOR:g}× "
    "about its centre",
)
def escaped_share(samples: np.ndarray, context: TruthContext) -> float:
    """Share of samples (n, dim) outside `region`."""
    lo, hi = region(context).T
    return float(np.mean(np.any((samples < lo) | (samples > hi), axis=1)))
