"""Fidelity under the exact truth: how acceptable the samples are to the (noise-free) listener.

Both reward collapse: samples piled on the best point of D score above the exact target, so
their direction is "ceiling" (closer to the exact target's value is better), not "higher".

`mean_true_d` = (1/n) Σ_j D(y_j), the expected acceptance rate of a sample, the quantity a
listening test of the generated stimuli estimates (Ueda et al., Interspeech 2023).
`precision_d` = (1/n) Σ_j 1[D(y_j) ≥ τ], the share of samples a listener accepts more often
than not at τ = 0.5. Both read D itself, never a noisy rating.
"""

from __future__ import annotations

import numpy as np

from hdbench.metrics.context import TruthContext
from hdbench.metrics.metric import register_metric

#: D above which a sample counts as acceptable for `precision_d`.
ACCEPT_THRESHOLD = 0.5


@register_metric(
    "mean_true_d",
    direction="ceiling",
    low=0.0,
    high=1.0,
    description="mean true acceptability D over the samples",
)
def mean_true_d(samples: np.ndarray, context: TruthContext) -> float:
    """(1/n) Σ D(y_j) for samples (n, dim)."""
    return float(np.mean(context.truth(samples)))


@register_metric(
    "precision_d",
    direction="ceiling",
    low=0.0,
    high=1.0,
    description=f"share of samples with true acceptability D ≥ {ACCEPT_THRESHOLD}",
)
def precision_d(
    samples: np.ndarray, context: TruthContext, threshold: float = ACCEPT_THRESHOLD
) -> float:
    """(1/n) Σ 1[D(y_j) ≥ threshold] for samples (n, dim)."""
    return float(np.mean(context.truth(samples) >= threshold))
