"""`real_resampled`: the real data resampled with replacement, a baseline that asks nobody.

What a method scores by standing still: the particles scored are the real data themselves.
On a discovery oracle it holds the seen modes exactly and misses the rest.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from hdbench.methods.base import METHODS
from hdbench.methods.no_ratings import AsksNobody
from hdbench.protocol import MethodOutput, MethodParams, MethodState, Problem, eval_starts


class RealResampledParams(MethodParams):
    """No parameters."""


class RealResampled(AsksNobody):
    Params = RealResampledParams
    description: ClassVar[str] = "baseline: the real data resampled, no ratings"

    def finish(
        self, params: RealResampledParams, problem: Problem, state: MethodState
    ) -> MethodOutput:
        """`num_eval_samples` real data drawn with replacement: shape (num_eval_samples, dim)."""
        return MethodOutput(np.array(eval_starts(problem, state.rng)))


METHODS.add("real_resampled", RealResampled())
