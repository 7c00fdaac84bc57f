"""Methods that break the protocol, each in one way (tests/experiments/test_hostile_methods.py)."""

from __future__ import annotations

import numpy as np

from hdbench.protocol import MethodOutput, MethodParams, MethodState, TrialBatch, eval_starts


class NoParams(MethodParams):
    pass


class Base:
    """Asks one batch of 10 absolute trials, then gives the real data resampled."""

    Params = NoParams
    description = "a method for tests"

    def init(self, params, problem, rng):
        return MethodState("ask", rng)

    def ask(self, params, problem, state):
        if state.phase != "ask":
            return None
        state.phase = "done"
        return TrialBatch.absolute(np.zeros((10, problem.dim)))

    def tell(self, params, problem, state, ratings):
        return state

    def finish(self, params, problem, state):
        return MethodOutput(eval_starts(problem, state.rng))


class NeverStops(Base):
    def ask(self, params, problem, state):
        return TrialBatch.absolute(np.zeros((100, problem.dim)))


class LoopsInAsk(Base):
    def ask(self, params, problem, state):
        while True:
            pass


class WritesTheRealData(Base):
    def init(self, params, problem, rng):
        problem.real_data[:] = 0.0
        return MethodState("ask", rng)


class SpendsPastItsPlan(NeverStops):
    def planned_ratings(self, params, problem):
        return 20


class NaNSamples(Base):
    def finish(self, params, problem, state):
        samples = eval_starts(problem, state.rng)
        samples[3] = np.nan
        return MethodOutput(samples)


class WrongDimension(Base):
    def finish(self, params, problem, state):
        return MethodOutput(np.zeros((problem.num_eval_samples, problem.dim + 1)))


class SetInState(Base):
    def tell(self, params, problem, state, ratings):
        state.values["seen"] = {1, 2}
        return state


class TellsNothing(Base):
    def tell(self, params, problem, state, ratings):
        state.phase = "done"


class AsksAList(Base):
    def ask(self, params, problem, state):
        return [[0.0, 0.0]]


class AsksInOtherDimension(Base):
    def ask(self, params, problem, state):
        return TrialBatch.absolute(np.zeros((10, problem.dim + 2)))


class TellsTheBudget(Base):
    """Records the budget it was told in its output's arrays."""

    def finish(self, params, problem, state):
        budget = -1 if problem.budget is None else problem.budget
        return MethodOutput(eval_starts(problem, state.rng), {"budget": np.array([budget])})
