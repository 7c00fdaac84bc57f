"""The rating scale a panel answers on: what a method knows of how ratings are given."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Slider:
    """A rating scale from `low` to `high` in steps of `step` (0: continuous)."""

    low: float = 0.0
    high: float = 1.0
    step: float = 0.01

    def to_scale(self, unit: np.ndarray) -> np.ndarray:
        """Map values in [0, 1] onto the slider."""
        return self.low + (self.high - self.low) * unit


#: Named scales: a unit slider (HumanDiffusion), MUSHRA's 0–100, and a 5-point category scale.
SCALES: dict[str, Slider] = {
    "slider": Slider(0.0, 1.0, 0.01),
    "mushra": Slider(0.0, 100.0, 1.0),
    "five_point": Slider(1.0, 5.0, 1.0),
}
