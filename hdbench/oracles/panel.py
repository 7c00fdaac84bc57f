"""Panels: who answers trials. A simulated panel stands in for a real one.

The protocol is asynchronous, as with people: the harness `submit`s a batch and gets a batch id;
the ratings are fetched later with `poll` (None until answered). A simulated panel answers at
once, but nothing relies on that: methods never see a panel (the harness asks for them, see
`hdbench.studies.loop`), so a panel of real listeners, answering after minutes or days, can
take its place.

Every rating is counted. A batch that would exceed the budget is refused whole: nothing is
spent and no random number is drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hdbench.errors import BudgetExceededError, StimulusError
from hdbench.oracles.listener import ListenerModel
from hdbench.protocol.trials import RatingBatch, TrialBatch


class SimulatedPanel:
    """`num_listeners` synthetic listeners rating stimuli through a known acceptability D.

    Each trial goes to one listener drawn uniformly at random. Listener biases are drawn once,
    N(0, bias_sd²), when the panel is made; drift offsets start at 0 and take one N(0, drift_sd²)
    step each time their listener answers a trial.
    """

    def __init__(
        self,
        acceptability_fn: Callable[[np.ndarray], np.ndarray],
        dim: int,
        listener: ListenerModel,
        num_listeners: int,
        rng: np.random.Generator,
        budget: int | None = None,
    ) -> None:
        self.dim = dim
        self.listener = listener
        self.slider = listener.slider
        self.budget = budget
        self._acceptability_fn = acceptability_fn
        self._rng = rng
        self._biases = (
            np.zeros(num_listeners)
            if listener.ideal
            else listener.bias_sd * rng.standard_normal(num_listeners)
        )
        self._drift = np.zeros(num_listeners)
        self._answers: dict[str, RatingBatch] = {}
        self._num_spent = 0

    @property
    def num_listeners(self) -> int:
        return len(self._biases)

    @property
    def num_ratings_spent(self) -> int:
        return self._num_spent

    def submit(self, batch: TrialBatch) -> str:
        self._check(batch)
        batch_id = f"b{len(self._answers)}"
        self._answers[batch_id] = self._rate(batch_id, batch)
        self._num_spent += batch.num_ratings
        return batch_id

    def poll(self, batch_id: str) -> RatingBatch | None:
        return self._answers.get(batch_id)

    def state_dict(self) -> dict:
        """What changes as the panel answers (its generator, drifts, ratings spent), as plain
        JSON: stored beside its answers, so a restarted study's panel goes on identically."""
        return {
            "rng": self._rng.bit_generator.state,
            "drift": self._drift.tolist(),
            "num_spent": self._num_spent,
        }

    def load_state_dict(self, state: dict) -> None:
        self._rng.bit_generator.state = state["rng"]
        self._drift = np.asarray(state["drift"], dtype=float)
        self._num_spent = int(state["num_spent"])

    def _check(self, batch: TrialBatch) -> None:
        if batch.stimuli.shape[2] != self.dim:
            raise StimulusError(
                f"stimuli: expected dimension {self.dim}, got {batch.stimuli.shape[2]}"
            )
        bad = ~np.isfinite(batch.stimuli).all(axis=(1, 2))
        if bad.any():
            raise StimulusError(
                f"stimuli: expected finite values, got NaN or infinity in trial {np.argmax(bad)}"
            )
        if self.budget is not None and self._num_spent + batch.num_ratings > self.budget:
            raise BudgetExceededError(
                f"budget: this batch needs {batch.num_ratings} ratings but only "
                f"{self.budget - self._num_spent} of {self.budget} are left"
            )

    def _rate(self, batch_id: str, batch: TrialBatch) -> RatingBatch:
        num_trials, per_trial, dim = batch.stimuli.shape
        d = self._acceptability_fn(batch.stimuli.reshape(-1, dim)).reshape(num_trials, per_trial)
        listeners = self._rng.integers(self.num_listeners, size=num_trials)
        if batch.kind == "differential":
            values = self.listener.rate_difference(d[:, 0], d[:, 1], self._rng)[:, None]
        else:
            shift = self._biases[listeners] + self._drift_offsets(listeners)
            values = self.listener.rate(d, shift[:, None], self._rng)
        slider = self.slider
        return RatingBatch(batch_id, batch.kind, values, listeners, slider.low, slider.high)

    def _drift_offsets(self, listeners: np.ndarray) -> np.ndarray:
        """Each listener's drift when answering each trial, shape (num_trials,); advances it."""
        if self.listener.drift_sd <= 0 or self.listener.ideal:
            return np.zeros(len(listeners))
        steps = self.listener.drift_sd * self._rng.standard_normal(len(listeners))
        order = np.argsort(listeners, kind="stable")
        walk = np.cumsum(steps[order])
        starts = np.flatnonzero(np.r_[True, np.diff(listeners[order]) != 0])
        ends = np.r_[starts[1:], len(order)]
        before_group = walk[starts] - steps[order][starts]
        within = walk - np.repeat(before_group, ends - starts)
        owners = listeners[order]
        offsets = np.empty(len(listeners))
        offsets[order] = self._drift[owners] + within
        self._drift[owners[ends - 1]] += within[ends - 1]
        return offsets
