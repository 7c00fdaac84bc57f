"""The simulated listening test (Ueda et al. 2023, §4.4, Fig. 6).

A panel rates real and generated samples, mixed in one batch, each on the slider; the paper
used 200 of each in a MUSHRA test and found their means "almost the same" although the
generated samples spread wider. Unlike the other metrics this one goes through the noisy
panel, as a real listening test would; it is paid from an evaluation panel of its own, never
from a method's budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hdbench.oracles import Panel, TrialBatch, collect

NUM_PER_SET = 200

#: Direction and description of the columns `ListeningTest.summary` writes.
LISTENING_COLUMNS: dict[str, tuple[str, str]] = {
    "listening_mean": ("higher", "mean rating of the generated samples by the panel, in [0, 1]"),
    "listening_sd": ("none", "sd of those ratings"),
    "listening_mean_real": ("none", "mean rating of the real data in the same test"),
    "listening_gap": ("higher", "listening_mean minus listening_mean_real"),
}


@dataclass(frozen=True)
class ListeningTest:
    """Ratings in [0, 1]: `real` of shape (num_real,), `generated` of shape (num_generated,)."""

    real: np.ndarray
    generated: np.ndarray

    def summary(self) -> dict[str, float]:
        return {
            "listening_mean": float(self.generated.mean()),
            "listening_sd": float(self.generated.std(ddof=1)),
            "listening_mean_real": float(self.real.mean()),
            "listening_gap": float(self.generated.mean() - self.real.mean()),
        }


def listening_test(
    samples: np.ndarray,
    real_data: np.ndarray,
    panel: Panel,
    rng: np.random.Generator,
    num_per_set: int = NUM_PER_SET,
) -> ListeningTest:
    """Rate up to `num_per_set` of the samples (n, dim) and of the real data (m, dim)."""
    chosen = [_subset(points, num_per_set, rng) for points in (real_data, samples)]
    stimuli = np.concatenate(chosen)
    order = rng.permutation(len(stimuli))
    answers = collect(panel, panel.submit(TrialBatch.absolute(stimuli[order])))
    ratings = np.empty(len(stimuli))
    ratings[order] = answers.normalised()[:, 0]
    return ListeningTest(real=ratings[: len(chosen[0])], generated=ratings[len(chosen[0]) :])


def _subset(points: np.ndarray, num: int, rng: np.random.Generator) -> np.ndarray:
    if len(points) <= num:
        return points
    return points[rng.choice(len(points), size=num, replace=False)]
