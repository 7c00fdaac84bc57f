"""A surrogate panel: a trained network answers in place of listeners.

The HumanDiffusion paper trained its HumanGAN baseline against the score network's S_D "to reduce
the cost of experiments" (Ueda et al. 2023, §4.1). The surrogate speaks the panel protocol, so a
method cannot tell it from people, but it spends no rating: it answers with S_D exactly
(absolute and paired trials on the slider's scale, differential ones as S_D(b) − S_D(a)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hdbench.protocol import RatingBatch, Slider, TrialBatch


class SurrogatePanel:
    """Answers trials with `d_fn` (x (n, dim) → (n,) in [0, 1]); counts queries, not ratings."""

    budget: int | None = None

    def __init__(self, d_fn: Callable[[np.ndarray], np.ndarray], dim: int, slider: Slider):
        self.dim = dim
        self.slider = slider
        self.num_queries = 0
        self._d_fn = d_fn
        self._answers: dict[str, RatingBatch] = {}

    @property
    def num_ratings_spent(self) -> int:
        return 0

    def submit(self, batch: TrialBatch) -> str:
        num_trials, per_trial, dim = batch.stimuli.shape
        d = self._d_fn(batch.stimuli.reshape(-1, dim)).reshape(num_trials, per_trial)
        values = (d[:, 1] - d[:, 0])[:, None] if batch.kind == "differential" else d
        if batch.kind != "differential":
            values = self.slider.to_scale(values)
        batch_id = f"s{len(self._answers)}"
        self._answers[batch_id] = RatingBatch(
            batch_id, batch.kind, values, np.full(num_trials, -1), self.slider.low, self.slider.high
        )
        self.num_queries += batch.num_ratings
        return batch_id

    def poll(self, batch_id: str) -> RatingBatch | None:
        return self._answers.get(batch_id)
