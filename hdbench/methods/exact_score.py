"""`exact_score`: a reference, not a competitor. It samples with the oracle's exact score.

Any registered sampler (`hdbench.samplers`), given the score of D smoothed at each noise level,
∇log (D * N(0, σ² I)) (`Acceptability.smoothed_score`; closed form for the gaussian and mixture
kinds), from the real data resampled. The default, `auto`, anneals with the predictor–corrector
where that score is a closed form: plain Langevin from the real data does not cross between
modes several sd apart, and real data that miss a mode would leave it empty. Elsewhere
(radial, python and vowel kinds, whose smoothed score would cost 1,024 evaluations of D a point)
it is plain Langevin with the exact score, as in HumanDiffusion's chain. It spends no rating.
Against a method with the same sampler it separates the sampler's error (what exact_score still
misses) from the estimator's (the rest): with `sampler = "langevin"` and HumanDiffusion's chain
it is the upper bound of HumanDiffusion.

It is the one kind of method handed the truth (a `ReferenceProblem`, since `reference = True`),
and tables list it apart from the competitors.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from hdbench.errors import SpecError
from hdbench.methods.base import METHODS, ReferenceProblem
from hdbench.methods.no_ratings import AsksNobody
from hdbench.methods.steps import convergence_arrays
from hdbench.protocol import (
    MethodOutput,
    MethodParams,
    MethodState,
    Problem,
    eval_starts,
)
from hdbench.samplers import SAMPLERS, Sampler, build_sampler
from hdbench.samplers.convergence import StationarityDiagnostic
from hdbench.samplers.plain_langevin import PlainLangevinSampler

#: The sampler `auto` picks where the truth's smoothed score is a closed form, and elsewhere.
AUTO_SAMPLERS = {True: "predictor_corrector", False: "langevin"}


class ExactScoreParams(MethodParams):
    sampler: str = Field(
        "auto",
        description="a registered sampler, or auto: predictor_corrector where the smoothed "
        "score is a closed form (crosses between separated modes), langevin elsewhere",
    )
    sampler_settings: dict[str, Any] = Field(
        default_factory=dict, description="the sampler's settings; its defaults for the rest"
    )
    stop: Literal["converged", "fixed"] = Field(
        "converged",
        description="langevin: end the chain once stationary, or run all num_steps; the "
        "annealed samplers keep their schedules",
    )

    @model_validator(mode="after")
    def _sampler_is_valid(self) -> ExactScoreParams:
        if self.sampler == "auto":
            known = set().union(*(SAMPLERS[name].model_fields for name in AUTO_SAMPLERS.values()))
            unknown = sorted(set(self.sampler_settings) - known)
            if unknown:
                raise SpecError(
                    f"sampler_settings: {unknown[0]!r} is a setting of neither sampler of "
                    f"auto; expected one of {sorted(known)}"
                )
        for closed_form in {True, False} if self.sampler == "auto" else {True}:
            self.chain(closed_form)
        return self

    def chain(self, closed_form: bool) -> Sampler:
        """The sampler for a truth whose smoothed score is (or is not) a closed form, validated
        (SpecError in one line naming a bad setting). Under `auto`, each setting goes to the
        sampler that has it (`num_steps` to both, `step_size` to langevin alone)."""
        if self.sampler != "auto":
            return build_sampler(self.sampler, self.sampler_settings)
        name = AUTO_SAMPLERS[closed_form]
        fields = SAMPLERS[name].model_fields
        return build_sampler(name, {k: v for k, v in self.sampler_settings.items() if k in fields})


class ExactScore(AsksNobody):
    """Asks nothing: everything happens in `finish`."""

    Params = ExactScoreParams
    description: ClassVar[str] = "reference: a sampler with the oracle's exact smoothed score"
    reference: ClassVar[bool] = True

    def finish(
        self, params: ExactScoreParams, problem: Problem, state: MethodState
    ) -> MethodOutput:
        if not isinstance(problem, ReferenceProblem) or problem.truth is None:
            raise TypeError("exact_score is a reference method: it needs a ReferenceProblem")
        snapshots: dict[int, np.ndarray] = {}

        def keep(step: int, x: np.ndarray) -> None:
            snapshots[step] = x.copy()

        starts = eval_starts(problem, state.rng)
        sampler = params.chain(problem.truth.closed_form_smoothing)
        if not isinstance(sampler, PlainLangevinSampler):
            samples = sampler.sample(problem.truth.smoothed_score, starts, state.rng, keep)
            return MethodOutput(samples, {}, snapshots)
        diagnostic = StationarityDiagnostic(stops=params.stop == "converged")
        samples = sampler.sample(problem.truth.smoothed_score, starts, state.rng, keep, diagnostic)
        return MethodOutput(samples, convergence_arrays(diagnostic, max(snapshots)), snapshots)


METHODS.add("exact_score", ExactScore())
