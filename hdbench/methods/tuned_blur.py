"""`tuned_blur`: a reference, not a competitor. The real data blurred at the scale best for the
truth.

The isotropic blur of the real data (resampled, plus N(0, h² I)) whose scale h maximises the
mean log-likelihood of `num_target` exact target samples under the blur, i.e. minimises
KL(p_D ‖ blur) (`hdbench.estimators.blur`). No blur of the real data is a better density model
of the target: a method below it has learnt nothing a blur could not give; one above it has
learnt where the real data are not. It needs the truth, so it is a reference (`reference =
True`, a `ReferenceProblem`), listed apart like `exact_score`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from hdbench.estimators.blur import best_scale, blur_log_likelihood, blurred
from hdbench.methods.base import METHODS, ReferenceProblem
from hdbench.methods.no_ratings import AsksNobody
from hdbench.protocol import MethodOutput, MethodParams, MethodState, Problem, eval_starts


class TunedBlurParams(MethodParams):
    num_target: int = Field(2000, ge=10, description="exact target samples the scale is fit to")


class TunedBlur(AsksNobody):
    Params = TunedBlurParams
    description: ClassVar[str] = "reference: the real data blurred at the scale best for the truth"
    reference: ClassVar[bool] = True

    def finish(self, params: TunedBlurParams, problem: Problem, state: MethodState) -> MethodOutput:
        """Samples (num_eval_samples, dim); `scale` (1,) among the arrays."""
        if not isinstance(problem, ReferenceProblem) or problem.truth is None:
            raise TypeError("tuned_blur is a reference method: it needs a ReferenceProblem")
        target = problem.truth.sample(params.num_target, state.rng)
        centres = problem.real_data
        scale = best_scale(lambda h: blur_log_likelihood(target, centres, h), centres)
        samples = blurred(eval_starts(problem, state.rng), scale, state.rng)
        return MethodOutput(samples, {"scale": np.array([scale])})


METHODS.add("tuned_blur", TunedBlur())
