"""Does a metric pair rank sets of known quality below exact samples? The check, for any truth.

For each seed a fresh truth context (its own reference sample), exact samples and the sets of
`hdbench.metrics.known_quality`, all of `num` points, are scored by each metric with its
standard error (a U-statistic's, `hdbench.metrics.ustatistic`). Per set and metric, the gap
to exact samples is the mean over seeds of the paired difference (set minus exact, the pair
sharing the seed's reference), signed so that positive is worse, and its standard error is
√(Σ_s se_set,s² + se_exact,s²) / seeds. A set is ranked *below* exact samples by a metric when
its gap exceeds `MARGIN` standard errors, *above* them when it is under -MARGIN of them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from hdbench.metrics.context import TruthContext
from hdbench.metrics.known_quality import known_quality_sets
from hdbench.metrics.multiscale import mmd2_multiscale_with_error
from hdbench.metrics.stein import has_exact_score, ksd2_with_error
from hdbench.oracles.acceptability import Acceptability
from hdbench.rng import named_generator

#: Standard errors a gap must exceed to count as a ranking.
MARGIN = 3.0
#: Columns of `ranking_table`.
RANKING_COLUMNS = ["set", "metric", "gap", "error", "verdict"]

ErrorFn = Callable[[np.ndarray, TruthContext], tuple[float, float]]
#: Metrics (all lower-is-better) with their standard errors, and where each applies.
METRICS_WITH_ERRORS: dict[str, tuple[ErrorFn, Callable[[TruthContext], bool]]] = {
    "ksd2": (ksd2_with_error, has_exact_score),
    "mmd2_multiscale": (mmd2_multiscale_with_error, lambda context: True),
}


def ranking_table(
    truth: Acceptability, real_data: np.ndarray, num: int, seeds: tuple[int, ...]
) -> pd.DataFrame:
    """Per known-quality set and metric: the gap to exact samples (positive: worse), its
    standard error and the verdict ("below", "above" or "tied"): columns RANKING_COLUMNS.
    Metrics that do not apply to the truth are left out."""
    scores: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for seed in seeds:
        context = TruthContext.build(truth, real_data, seed=seed)
        rng = named_generator(seed, "ranking")
        sets = {"exact": truth.sample(num, rng), **known_quality_sets(truth, real_data, num, rng)}
        for metric, (fn, applies) in METRICS_WITH_ERRORS.items():
            if applies(context):
                for name, points in sets.items():
                    scores.setdefault((name, metric), []).append(fn(points, context))
    rows = []
    for (name, metric), values in scores.items():
        if name == "exact":
            continue
        mine, exact = np.asarray(values), np.asarray(scores[("exact", metric)])
        gap = float(np.mean(mine[:, 0] - exact[:, 0]))
        error = float(np.sqrt(np.sum(mine[:, 1] ** 2 + exact[:, 1] ** 2)) / len(seeds))
        verdict = "below" if gap > MARGIN * error else "above" if gap < -MARGIN * error else "tied"
        rows.append((name, metric, gap, error, verdict))
    return pd.DataFrame(rows, columns=RANKING_COLUMNS)
