"""What a method may import, and all it needs: the `Problem` it is handed, the `Method`
protocol (init, ask, tell, finish), its `MethodState`, trial and rating batches, the slider, a
panel's protocol and the in-memory driver. Nothing here reaches an oracle, the truth, the
metrics or the experiments (tests/protocol/test_isolation.py)."""

from hdbench.protocol.driver import run_in_memory
from hdbench.protocol.method import (
    MIN_SAMPLES,
    NUM_EVAL_SAMPLES,
    Method,
    MethodOutput,
    MethodParams,
    Problem,
    eval_starts,
    planned_ratings,
    starting_points,
)
from hdbench.protocol.panel import Panel, collect
from hdbench.protocol.slider import SCALES, Slider
from hdbench.protocol.state import MethodState
from hdbench.protocol.trials import RatingBatch, TrialBatch, TrialKind

__all__ = [
    "MIN_SAMPLES",
    "NUM_EVAL_SAMPLES",
    "SCALES",
    "Method",
    "MethodOutput",
    "MethodParams",
    "MethodState",
    "Panel",
    "Problem",
    "RatingBatch",
    "Slider",
    "TrialBatch",
    "TrialKind",
    "collect",
    "eval_starts",
    "planned_ratings",
    "run_in_memory",
    "starting_points",
]
