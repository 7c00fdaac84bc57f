"""The simulated listening test (Ueda et al. 2023, §4.4, Fig. 6).

A panel rates real and generated samples, mixed in one batch in a random order, each on the
slider; the paper used 200 of each in a MUSHRA test and found their means "almost the same"
although the generated samples spread wider. Unlike the other metrics this one goes through the
noisy panel, as a real listening test would; it is paid from an evaluation panel of its own,
never from a method's budget.

It is a method like the others (`ask` the trials, `tell` the ratings), so the same loop and
ledger serve it, and a study can wait for people to answer it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hdbench.protocol import (
    MethodOutput,
    MethodState,
    Panel,
    Problem,
    RatingBatch,
    TrialBatch,
    run_in_memory,
)

NUM_PER_SET = 200

#: Direction and description of the columns `ListeningTest.summary` writes. The mean and the gap
#: reward collapse (samples on the best point are rated above the real data): "ceiling".
LISTENING_COLUMNS: dict[str, tuple[str, str]] = {
    "listening_mean": ("ceiling", "mean rating of the generated samples by the panel, in [0, 1]"),
    "listening_sd": ("none", "sd of those ratings"),
    "listening_mean_real": ("none", "mean rating of the real data in the same test"),
    "listening_gap": ("ceiling", "listening_mean minus listening_mean_real"),
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

    @classmethod
    def from_output(cls, output: MethodOutput) -> ListeningTest:
        return cls(output.arrays["listening_real"], output.arrays["listening_generated"])


class ListeningTestMethod:
    """Asks one batch of absolute trials: up to `num_per_set` of the real data and of the
    samples, shuffled; its output holds the two sets of ratings."""

    def start(
        self,
        samples: np.ndarray,
        real_data: np.ndarray,
        rng: np.random.Generator,
        num_per_set: int = NUM_PER_SET,
    ) -> MethodState:
        """The state before its one batch: samples (n, dim), real data (m, dim)."""
        chosen = [_subset(points, num_per_set, rng) for points in (real_data, samples)]
        stimuli = np.concatenate(chosen)
        order = rng.permutation(len(stimuli))
        arrays = {"stimuli": stimuli, "order": order}
        return MethodState("ask", rng, values={"num_real": len(chosen[0])}, arrays=arrays)

    def ask(self, params: None, problem: Problem, state: MethodState) -> TrialBatch | None:
        if state.phase != "ask":
            return None
        state.phase = "rate"
        return TrialBatch.absolute(state.arrays["stimuli"][state.arrays["order"]])

    def tell(
        self, params: None, problem: Problem, state: MethodState, ratings: RatingBatch
    ) -> MethodState:
        values = np.empty(len(state.arrays["order"]))
        values[state.arrays["order"]] = ratings.normalised()[:, 0]
        state.arrays["ratings"] = values
        state.phase = "done"
        return state

    def finish(self, params: None, problem: Problem, state: MethodState) -> MethodOutput:
        ratings, num_real = state.arrays["ratings"], state.values["num_real"]
        arrays = {"listening_real": ratings[:num_real], "listening_generated": ratings[num_real:]}
        return MethodOutput(state.arrays["stimuli"][num_real:], arrays)


def listening_test(
    samples: np.ndarray,
    real_data: np.ndarray,
    panel: Panel,
    rng: np.random.Generator,
    num_per_set: int = NUM_PER_SET,
) -> ListeningTest:
    """The test of `samples` (n, dim) beside `real_data` (m, dim), answered by `panel` here and
    now (the brackets' tests; a run's test goes through its ledger)."""
    test = ListeningTestMethod()
    state = test.start(samples, real_data, rng, num_per_set)
    problem = Problem(panel.dim, panel.slider, real_data, None)
    return ListeningTest.from_output(run_in_memory(test, None, problem, state, panel))


def _subset(points: np.ndarray, num: int, rng: np.random.Generator) -> np.ndarray:
    if len(points) <= num:
        return points
    return points[rng.choice(len(points), size=num, replace=False)]
