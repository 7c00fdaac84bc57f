"""Unadjusted Langevin dynamics with any score function.

    x ← x + (η/2) · s(x) + √η · r,   r ~ N(0, I)

HumanDiffusion (Ueda et al. 2023, Eq. 10) uses s = S_∇D / S_D from its score network, starting
from the real data. The poster writes the step as ε²/2 and the noise as ε with ε = 0.003 and
T = 10,000; taken literally the total Langevin time is ε²T = 0.09 and unit-variance data barely
move, so hdbench parameterises by η (= ε² in the poster's notation) and chooses a default that
converges (see the convergence curves). The sampler never knows where the score comes from: the
trained network, raw NES estimates, or the oracle's exact ∇log D (the upper bound).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hdbench import progress
from hdbench.errors import HdbenchError, SpecError

ScoreFn = Callable[[np.ndarray], np.ndarray]
#: A particle with a coordinate beyond this has left every space an oracle defines (they are of
#: unit scale; the speech space's components are standardised): its chain is running away, as
#: one whose score grows outside the data does, and the run is reported as diverged instead of
#: being scored on it.
RUNAWAY = 1e6
TraceFn = Callable[[int, np.ndarray], None]
#: Standard normals drawn at once ahead of the chain (8 MB): fewer calls, the same stream.
NOISE_BLOCK_SIZE = 2**20


class StopRule(Protocol):
    """Says when a chain may stop: `update(step, x)` at every multiple of `check_every`, with
    the particles x (n, dim), returns True to stop there
    (`hdbench.samplers.convergence.StationarityDiagnostic`)."""

    check_every: int

    def update(self, step: int, x: np.ndarray) -> bool: ...


class SamplerDivergedError(HdbenchError):
    """A particle became NaN or infinite or ran away (beyond `RUNAWAY`); `step` is the first
    step at which one did."""

    def __init__(self, step: int, num_bad: int) -> None:
        super().__init__(
            f"Langevin diverged at step {step}: {num_bad} particle(s) not finite or beyond "
            f"{RUNAWAY:.0e}"
        )
        self.step, self.num_bad = step, num_bad

    def __reduce__(self) -> tuple[type, tuple[int, int]]:
        # Rebuilt from its fields, so that it crosses from a worker process intact.
        return type(self), (self.step, self.num_bad)


def within_bounds(x: np.ndarray) -> np.ndarray:
    """Which particles of x (..., n, dim) are finite and within `RUNAWAY`: shape (..., n)."""
    return (np.abs(x) <= RUNAWAY).all(axis=-1)


@dataclass(frozen=True)
class LangevinSampler:
    """At most `num_steps` steps of size `step_size` (η); `trace_fn(t, x)` every `trace_every`
    steps and at the last step; a chain given a `StopRule` ends where the rule says."""

    step_size: float = 0.01
    num_steps: int = 10_000
    trace_every: int = 500

    def __post_init__(self) -> None:
        if not self.step_size > 0:
            raise SpecError(f"step_size: expected a number > 0, got {self.step_size}")
        if self.num_steps < 0:
            raise SpecError(f"num_steps: expected an integer ≥ 0, got {self.num_steps}")
        if self.trace_every < 1:
            raise SpecError(f"trace_every: expected an integer ≥ 1, got {self.trace_every}")

    def sample(
        self,
        score_fn: ScoreFn,
        x0: np.ndarray,
        rng: np.random.Generator,
        trace_fn: TraceFn | None = None,
        stop_rule: StopRule | None = None,
    ) -> np.ndarray:
        """Run the chain from x0 (num_particles, dim); returns the final particles, same shape."""
        traces = None if trace_fn is None else [trace_fn]
        rules = None if stop_rule is None else [stop_rule]
        (result,) = self.sample_many(
            lambda x: score_fn(x[0])[None], np.asarray(x0)[None], [rng], traces, rules
        )
        if isinstance(result, SamplerDivergedError):
            raise result
        return result

    def sample_many(
        self,
        score_fn: ScoreFn,
        x0: np.ndarray,
        rngs: Sequence[np.random.Generator],
        trace_fns: Sequence[TraceFn] | None = None,
        stop_rules: Sequence[StopRule] | None = None,
    ) -> list[np.ndarray | SamplerDivergedError]:
        """K chain sets at once: x0 (K, num_particles, dim), score_fn of x (K, n, dim).

        Set k draws its noise from rngs[k], step by step, exactly as `sample` would alone, and
        reports to trace_fns[k]; with stop_rules, set k ends at the check where stop_rules[k]
        says so (traced there). Returns set k's final particles (n, dim), or the error of a set
        that diverged. A set that ended is held at 0 while the others go on.
        """
        x = np.array(x0, dtype=float)
        if x.ndim != 3 or len(rngs) != len(x):
            raise SpecError(f"x0: expected shape (K={len(rngs)}, n, dim), got {x.shape}")
        half_step, noise_scale = 0.5 * self.step_size, np.sqrt(self.step_size)
        finals: list[np.ndarray | SamplerDivergedError | None] = [None] * len(x)
        ended: list[int] = []
        check_every = math.gcd(*(rule.check_every for rule in stop_rules or ()))
        self._trace(0, x, finals, trace_fns)
        noise, used, drift = np.empty((0, *x.shape)), 0, np.empty_like(x)
        for step in progress.steps("Langevin sampling", range(1, self.num_steps + 1)):
            if used == len(noise):
                steps_left = self.num_steps - step + 1
                if check_every:  # no noise is drawn past a step where a set may end
                    steps_left = min(steps_left, check_every - (step - 1) % check_every)
                noise, used = self._noise_block(x.shape, rngs, steps_left, finals), 0
                noise *= noise_scale
            x += np.multiply(score_fn(x), half_step, out=drift)
            x += noise[used]
            used += 1
            bounded = within_bounds(x)
            if not bounded.all():
                for k in np.flatnonzero(~bounded.all(axis=1)):
                    if finals[k] is None:
                        finals[k] = SamplerDivergedError(step, int((~bounded[k]).sum()))
                        ended.append(k)
            if stop_rules is not None:
                for k, rule in enumerate(stop_rules):
                    if (
                        finals[k] is None
                        and step % rule.check_every == 0
                        and rule.update(step, x[k])
                    ):
                        if trace_fns is not None:
                            trace_fns[k](step, x[k])
                        finals[k] = x[k].copy()
                        ended.append(k)
            if len(ended) == len(x):
                break
            if ended:
                x[ended] = 0.0
            if step % self.trace_every == 0 or step == self.num_steps:
                self._trace(step, x, finals, trace_fns)
        return [x[k] if final is None else final for k, final in enumerate(finals)]

    def _noise_block(
        self,
        shape: tuple[int, ...],
        rngs: Sequence[np.random.Generator],
        steps_left: int,
        finals: list[np.ndarray | SamplerDivergedError | None],
    ) -> np.ndarray:
        """Standard normals for the next steps, shape (steps, K, n, dim): a block drawn at once
        is the same stream as one draw per step, and it stops at the last step, so every
        generator ends where a per-step loop would leave it. A set that ended draws no more."""
        steps = max(1, min(steps_left, NOISE_BLOCK_SIZE // int(np.prod(shape))))
        block = np.zeros((steps, *shape))
        for k, rng in enumerate(rngs):
            if finals[k] is None:
                block[:, k] = rng.standard_normal((steps, *shape[1:]))
        return block

    @staticmethod
    def _trace(
        step: int,
        x: np.ndarray,
        finals: Sequence[np.ndarray | SamplerDivergedError | None],
        trace_fns: Sequence[TraceFn] | None,
    ) -> None:
        for k, trace_fn in enumerate(trace_fns or ()):
            if finals[k] is None:
                trace_fn(step, x[k])
