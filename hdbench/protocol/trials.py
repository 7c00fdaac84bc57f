"""Trials and ratings: what a method hands to a panel and what comes back.

A batch holds trials of one kind, stored column-wise so that 10⁵ trials cost one array, and
converts to plain records (`to_records`) for a panel of real people. Kinds:

- `absolute`: one stimulus, one rating on the slider;
- `paired`: two stimuli played to one listener, each rated on its own slider (HumanDiffusion's
  x̂ ± Δ, Ueda et al. 2023 §3.2); the listener's bias is shared within the pair;
- `differential`: two stimuli a, b and one answer in [-1, 1], "how much more natural is b than a"
  (HumanGAN's ΔD, Fujii et al. 2020 Eq. 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hdbench.errors import StimulusError

TrialKind = Literal["absolute", "paired", "differential"]
STIMULI_PER_TRIAL: dict[TrialKind, int] = {"absolute": 1, "paired": 2, "differential": 2}
ANSWERS_PER_TRIAL: dict[TrialKind, int] = {"absolute": 1, "paired": 2, "differential": 1}


@dataclass(frozen=True)
class TrialBatch:
    """Trials of one kind; `stimuli` has shape (num_trials, stimuli per trial, dim)."""

    kind: TrialKind
    stimuli: np.ndarray

    @classmethod
    def absolute(cls, x: np.ndarray) -> TrialBatch:
        """One trial per row of x (num_trials, dim)."""
        return cls.build("absolute", np.asarray(x, dtype=float)[:, None, :])

    @classmethod
    def paired(cls, a: np.ndarray, b: np.ndarray) -> TrialBatch:
        """Trial i plays a[i] and b[i] (each (num_trials, dim)) to one listener."""
        return cls.build("paired", _stack_pair(a, b))

    @classmethod
    def differential(cls, a: np.ndarray, b: np.ndarray) -> TrialBatch:
        """Trial i asks how much more natural b[i] is than a[i]."""
        return cls.build("differential", _stack_pair(a, b))

    @classmethod
    def build(cls, kind: TrialKind, stimuli: np.ndarray) -> TrialBatch:
        if stimuli.ndim != 3 or stimuli.shape[1] != STIMULI_PER_TRIAL[kind]:
            raise StimulusError(
                f"stimuli: expected shape (num_trials, {STIMULI_PER_TRIAL[kind]}, dim) for "
                f"{kind} trials, got {stimuli.shape}"
            )
        return cls(kind, stimuli)

    @property
    def num_trials(self) -> int:
        return self.stimuli.shape[0]

    @property
    def num_ratings(self) -> int:
        """Answers this batch asks for: the count a budget is charged."""
        return self.num_trials * ANSWERS_PER_TRIAL[self.kind]

    def to_records(self, batch_id: str) -> list[dict]:
        """Plain, JSON-serialisable trial records for a panel of real listeners."""
        return [
            {"trial_id": f"{batch_id}-{i}", "kind": self.kind, "stimuli": stimuli.tolist()}
            for i, stimuli in enumerate(self.stimuli)
        ]


def _stack_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 2:
        raise StimulusError(
            "stimuli: expected two arrays of one shape (num_trials, dim), "
            f"got {a.shape} and {b.shape}"
        )
    return np.stack([a, b], axis=1)


@dataclass(frozen=True)
class RatingBatch:
    """A panel's answers to one batch.

    `values` has shape (num_trials, answers per trial): on the slider's own scale for absolute
    and paired trials, in [-1, 1] for differential ones. `listener_ids` has shape (num_trials,).
    """

    batch_id: str
    kind: TrialKind
    values: np.ndarray
    listener_ids: np.ndarray
    low: float
    high: float

    def __post_init__(self) -> None:
        # What a method is told: it cannot write the answers the ledger recorded.
        for name in ("values", "listener_ids"):
            view = np.asarray(getattr(self, name)).view()
            view.flags.writeable = False
            object.__setattr__(self, name, view)

    @property
    def num_ratings(self) -> int:
        return self.values.size

    def normalised(self) -> np.ndarray:
        """Answers mapped to [0, 1] (absolute, paired) or kept in [-1, 1] (differential)."""
        if self.kind == "differential":
            return self.values
        return (self.values - self.low) / (self.high - self.low)
