"""Simulated listening panels: acceptability functions (the truth), listeners, panels, specs."""

from hdbench.oracles.acceptability import Acceptability, Mode
from hdbench.oracles.catalog import find_specs, load_all, load_oracle
from hdbench.oracles.listener import ListenerModel
from hdbench.oracles.oracle import Oracle
from hdbench.oracles.panel import SimulatedPanel
from hdbench.protocol import SCALES, Panel, RatingBatch, Slider, TrialBatch, collect

__all__ = [
    "SCALES",
    "Acceptability",
    "ListenerModel",
    "Mode",
    "Oracle",
    "Panel",
    "RatingBatch",
    "SimulatedPanel",
    "Slider",
    "TrialBatch",
    "collect",
    "find_specs",
    "load_all",
    "load_oracle",
]
