"""`real_kde`: a kernel density estimate of the real data, a baseline that asks nobody.

An isotropic Gaussian KDE of the N real data whose bandwidth maximises the likelihood of each
real datum left out in turn (`hdbench.estimators.blur`): chosen without the truth. Its samples
are the real data resampled plus N(0, h² I). It spreads the seen modes and reaches unseen ones
only by accident: what a method must beat to show that its ratings taught it something.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from hdbench.estimators.blur import best_scale, blurred, leave_one_out_log_likelihood
from hdbench.methods.base import METHODS
from hdbench.methods.no_ratings import AsksNobody
from hdbench.protocol import MethodOutput, MethodParams, MethodState, Problem, eval_starts


class RealKDEParams(MethodParams):
    """No parameters: the bandwidth is chosen from the real data."""


class RealKDE(AsksNobody):
    Params = RealKDEParams
    description: ClassVar[str] = (
        "baseline: KDE of the real data, bandwidth by held-out likelihood, no ratings"
    )

    def finish(self, params: RealKDEParams, problem: Problem, state: MethodState) -> MethodOutput:
        """Samples (num_eval_samples, dim); `bandwidth` (1,) among the arrays."""
        centres = np.unique(problem.real_data, axis=0)  # a repeated datum would pick h → 0
        if len(centres) < 2:
            raise ValueError(
                "real_kde: expected at least 2 distinct real data to choose a bandwidth"
            )
        scale = best_scale(lambda h: leave_one_out_log_likelihood(centres, h), centres)
        samples = blurred(eval_starts(problem, state.rng), scale, state.rng)
        return MethodOutput(samples, {"bandwidth": np.array([scale])})


METHODS.add("real_kde", RealKDE())
