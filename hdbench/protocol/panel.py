"""Who answers trials, as the harness and a method's helpers see it: `submit` a batch, `poll` it
later (None until answered), as with people. A simulated panel (`hdbench.oracles.panel`)
answers at once; nothing relies on that."""

from __future__ import annotations

from typing import Protocol

from hdbench.errors import RatingsNotReadyError
from hdbench.protocol.slider import Slider
from hdbench.protocol.trials import RatingBatch, TrialBatch


class Panel(Protocol):
    """Something that rates stimuli, within a budget, and does nothing else."""

    dim: int
    slider: Slider
    budget: int | None

    @property
    def num_ratings_spent(self) -> int: ...

    def submit(self, batch: TrialBatch) -> str: ...

    def poll(self, batch_id: str) -> RatingBatch | None: ...


def collect(panel: Panel, batch_id: str) -> RatingBatch:
    """The ratings of a submitted batch; raises RatingsNotReadyError while they are pending."""
    ratings = panel.poll(batch_id)
    if ratings is None:
        raise RatingsNotReadyError(f"batch {batch_id}: ratings are not in yet")
    return ratings
