"""Named mutants: deliberate regressions, applied from outside the code, that the regression
check (`hdbench reference --check --mutant NAME`) must catch.

Each mutant patches one function below parameter validation for as long as it is applied, so
it changes what a run computes without changing its spec (nor its run id): a λ of −1 or a
step size no sampler setting allows are reachable. They are the regressions a change to the
code could make: a wrong constant in the sampler, the estimator, the regulariser or the
training, or a chain cut short.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from unittest import mock

from hdbench.estimators.nes import NESEstimator
from hdbench.methods import steps
from hdbench.registry import Registry
from hdbench.samplers.langevin import LangevinSampler

LANGEVIN_METHODS = ("humandiffusion", "humandiffusion_iter", "data_diffusion", "exact_score")
NES_METHODS = ("humandiffusion", "humandiffusion_iter", "humandiffusion_ms", "humangan")
REGULARISED_METHODS = ("humandiffusion", "humandiffusion_iter")
TRAINED_METHODS = ("humandiffusion", "humandiffusion_iter", "data_diffusion")


@dataclass(frozen=True)
class Mutant:
    """A regression: what it changes, the methods whose runs it can change, and the patch."""

    description: str
    methods: tuple[str, ...]
    patch: Callable[[], AbstractContextManager[None]]


MUTANTS: Registry[Mutant] = Registry("mutant")


@contextmanager
def applied(name: str | None) -> Iterator[None]:
    """Run the block with the mutant `name` applied (none: unchanged code)."""
    if name is None:
        yield
        return
    with MUTANTS[name].patch():
        yield


def scaled_step_size(factor: float) -> Callable[[], AbstractContextManager[None]]:
    """Every Langevin chain's η times `factor`."""
    validate = LangevinSampler.__post_init__

    def post_init(self: LangevinSampler) -> None:
        validate(self)
        object.__setattr__(self, "step_size", self.step_size * factor)

    return lambda: mock.patch.object(LangevinSampler, "__post_init__", post_init)


def scaled_regulariser(factor: float) -> Callable[[], AbstractContextManager[None]]:
    """The regulariser's weight λ times `factor` (negative: its sign flipped)."""
    targets = steps.targets

    def mutated(ratings, u, nes, summary, direction, lambda_, shape=None):
        return targets(ratings, u, nes, summary, direction, factor * lambda_, shape)

    return lambda: mock.patch.object(steps, "targets", mutated)


def scaled_nes(
    sigma: float = 1.0, pairs: float = 1.0
) -> Callable[[], AbstractContextManager[None]]:
    """Every NES estimator's σ times `sigma` and R times `pairs` (at least 1)."""
    init = NESEstimator.__init__

    def mutated(self, sigma_nes, num_perturbations, normalisation="unbiased"):
        fewer = max(1, int(num_perturbations * pairs))
        init(self, sigma_nes * sigma, fewer, normalisation)

    return lambda: mock.patch.object(NESEstimator, "__init__", mutated)


def halved_training() -> AbstractContextManager[None]:
    """Every score network trained for half its steps."""
    train = steps.train_score_network

    def mutated(network, x, d_target, grad_target, config, generator):
        fewer = dataclasses.replace(config, num_steps=max(1, config.num_steps // 2))
        return train(network, x, d_target, grad_target, fewer, generator)

    return mock.patch.object(steps, "train_score_network", mutated)


def cut_chains() -> AbstractContextManager[None]:
    """Every watched Langevin chain ended at a tenth of the step at which its diagnostic calls
    it stationary (of its most steps, when never): the chain is run once on copies of its
    generators to find that step, then for real to a tenth of it."""
    sample_many = LangevinSampler.sample_many

    def mutated(self, score_fn, x0, rngs, trace_fns=None, stop_rules=None):
        if stop_rules is None:
            return sample_many(self, score_fn, x0, rngs, trace_fns, stop_rules)
        rehearsal = copy.deepcopy(list(stop_rules))
        sample_many(self, score_fn, x0, copy.deepcopy(list(rngs)), None, rehearsal)
        stops = [rule.stop_step or self.num_steps for rule in rehearsal]
        shorter = dataclasses.replace(self, num_steps=max(1, min(stops) // 10))
        return sample_many(shorter, score_fn, x0, rngs, trace_fns, stop_rules)

    return mock.patch.object(LangevinSampler, "sample_many", mutated)


MUTANTS.add(
    "step_half", Mutant("Langevin step size η × ½", LANGEVIN_METHODS, scaled_step_size(0.5))
)
MUTANTS.add(
    "step_double", Mutant("Langevin step size η × 2", LANGEVIN_METHODS, scaled_step_size(2))
)
MUTANTS.add(
    "lambda_tenth",
    Mutant("regulariser weight λ ÷ 10", REGULARISED_METHODS, scaled_regulariser(0.1)),
)
MUTANTS.add(
    "lambda_ten", Mutant("regulariser weight λ × 10", REGULARISED_METHODS, scaled_regulariser(10))
)
MUTANTS.add(
    "lambda_flipped",
    Mutant("the regulariser's sign flipped (λ → −λ)", REGULARISED_METHODS, scaled_regulariser(-1)),
)
MUTANTS.add("sigma_nes_double", Mutant("NES σ × 2", NES_METHODS, scaled_nes(sigma=2.0)))
MUTANTS.add("r_half", Mutant("NES pairs R ÷ 2", NES_METHODS, scaled_nes(pairs=0.5)))
MUTANTS.add("train_half", Mutant("half the training steps", TRAINED_METHODS, halved_training))
MUTANTS.add(
    "chain_tenth",
    Mutant("chains stopped at a tenth of the diagnostic's stop step", LANGEVIN_METHODS, cut_chains),
)
