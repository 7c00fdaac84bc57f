"""Simulated listening panels: acceptability functions (the truth), listeners, panels, specs."""

from hdbench.oracles.acceptability import Acceptability, Mode
from hdbench.oracles.catalog import find_specs, load_all, load_oracle
from hdbench.oracles.listener import SCALES, ListenerModel, Slider
from hdbench.oracles.oracle import Oracle
from hdbench.oracles.panel import Panel, SimulatedPanel, collect
from hdbench.oracles.trials import RatingBatch, TrialBatch

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
