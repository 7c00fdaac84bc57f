"""The method contract, over every method: the registered ones and a user's folder of them.

A method never reaches the truth, stays within its budget, gives the same samples for the same
seed, survives a save and load of its state between any two calls, and works with a panel that
answers late.
"""

from __future__ import annotations

import gc
import types

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.experiments.run import RunSpec, execute, problem_for
from hdbench.methods.base import ReferenceProblem, is_reference
from hdbench.methods.plugins import method_names, resolve_method, use_method_dirs
from hdbench.oracles import Acceptability, Oracle, SimulatedPanel, load_oracle
from hdbench.protocol import MethodOutput, Problem, planned_ratings
from hdbench.protocol.state import MethodState, copy_state
from hdbench.rng import named_generator
from hdbench.studies import loop
from hdbench.studies.ledger import Ledger
from tests.methods.conftest import EXAMPLE_METHODS

#: Small settings, so that every case runs in about a second.
FAST = {
    "humandiffusion": {
        "train_steps": 30,
        "num_steps": 50,
        "num_periphery": 1,
        "R": 2,
    },
    "humandiffusion_iter": {
        "train_steps": 30,
        "num_steps": 50,
        "num_centres": 20,
        "round_steps": 10,
        "R": 2,
        "num_rounds": 2,
    },
    "humandiffusion_ms": {
        "train_steps": 30,
        "num_periphery": 1,
        "R": 2,
        "sample_levels": 3,
        "steps_per_level": 10,
    },
    "data_diffusion": {"train_steps": 30, "num_steps": 50, "num_copies": 5},
    "humangan": {"num_updates": 3, "pretrain_steps": 10, "R": 2},
    "humangan_truncated": {"pretrain_steps": 10, "R": 2},
    "random_walk": {"num_rounds": 3, "num_particles": 20},
    "exact_score": {"sampler_settings": {"num_steps": 50}},
}
#: Variants that take other paths through ask and tell.
VARIANTS = {
    "humangan/restart": ("humangan", {"initialisation": "restart", "max_restarts": 3}),
    "humangan/surrogate": ("humangan", {"discriminator": "surrogate"}),
    "humandiffusion/data_noise": ("humandiffusion", {"noise": "data"}),
    "humandiffusion_ms/pc": ("humandiffusion_ms", {"sampler": "predictor_corrector"}),
}

use_method_dirs([EXAMPLE_METHODS])
CASES = {name: (name, {}) for name in method_names()} | VARIANTS


def case(name: str) -> tuple[str, dict]:
    method, extra = CASES[name]
    return method, {**FAST.get(method, {}), **extra}


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return load_oracle("three_bumps")


#: Particles scored: few, for speed.
EVAL = 20


def problem_of(oracle: Oracle, budget: int | None = None, method: object = None) -> Problem:
    """What the harness hands `method`: the truth only when it is a reference method."""
    return problem_for(method, oracle, budget, EVAL)


def test_the_contract_covers_the_users_method():
    assert "random_walk" in CASES


def reachable(*roots: object) -> list[object]:
    """Every object reachable from `roots` through data (not through modules, classes or
    functions, whose globals reach the whole program)."""
    seen: dict[int, object] = {}
    todo = list(roots)
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(
            item, types.ModuleType | type | types.FunctionType | types.BuiltinFunctionType
        ):
            continue
        seen[id(item)] = item
        todo.extend(gc.get_referents(item))
    return list(seen.values())


class TruthGuard:
    """Wraps a method; fails when anything it is handed reaches the truth or a panel."""

    def __init__(self, method):
        self.method, self.Params, self.checked = method, method.Params, 0

    def _check(self, *handed: object) -> None:
        leaks = [
            type(o).__name__
            for o in reachable(self.method, *handed)
            if isinstance(o, Acceptability | Oracle | SimulatedPanel)
        ]
        assert not leaks, f"a method was handed {leaks}"
        self.checked += 1

    def init(self, params, problem, rng):
        self._check(params, problem, rng)
        return self.method.init(params, problem, rng)

    def ask(self, params, problem, state):
        self._check(params, problem, state)
        return self.method.ask(params, problem, state)

    def tell(self, params, problem, state, ratings):
        self._check(params, problem, state, ratings)
        return self.method.tell(params, problem, state, ratings)

    def finish(self, params, problem, state):
        self._check(params, problem, state)
        return self.method.finish(params, problem, state)


def drive(method, params, problem, state: MethodState, panel, copying: bool) -> MethodOutput:
    """Ask and tell to the end; with `copying`, the state goes through its saved form between
    every two calls, as when a study stops and resumes in another process."""
    again = copy_state if copying else (lambda s: s)
    while (batch := method.ask(params, problem, state := again(state))) is not None:
        ratings = panel.poll(panel.submit(batch))
        state = method.tell(params, problem, again(state), ratings)
    return method.finish(params, problem, again(state))


def start(name: str, oracle: Oracle, seed: int = 0):
    method_name, params = case(name)
    method = resolve_method(method_name)
    params = method.Params(**params)
    problem = problem_of(oracle, method=method)
    state = method.init(params, problem, named_generator(seed, "method", method_name))
    return method, params, problem, state


#: The surrogate's queries are HumanDiffusion's at full size: only the state test takes it.
LIGHT = sorted(set(CASES) - {"humangan/surrogate"})
COMPETITORS = sorted(name for name in CASES if not is_reference(resolve_method(case(name)[0])))


@pytest.mark.parametrize("name", sorted(set(LIGHT) & set(COMPETITORS)))
def test_a_method_is_handed_nothing_that_reaches_the_truth(name, oracle):
    method_name, params = case(name)
    guard = TruthGuard(resolve_method(method_name))
    params = guard.Params(**params)
    problem = problem_of(oracle, method=guard.method)
    state = guard.init(params, problem, np.random.default_rng(0))
    drive(guard, params, problem, state, oracle.panel(seed=0), copying=False)
    assert guard.checked >= 2


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_state_saved_and_loaded_between_any_two_calls_changes_nothing(name, oracle):
    outputs = [
        drive(*start(name, oracle), oracle.panel(seed=0), copying=copying)
        for copying in (False, True)
    ]
    np.testing.assert_array_equal(outputs[0].samples, outputs[1].samples)


@pytest.mark.parametrize("name", sorted(set(CASES) - set(VARIANTS)))
def test_same_seed_same_samples_and_another_seed_other_samples(name, oracle):
    method, params = case(name)
    results = [
        execute(
            RunSpec(
                oracle="three_bumps", method=method, params=params, seed=seed, num_eval_samples=EVAL
            ),
            oracle,
        )
        for seed in (0, 0, 1)
    ]
    assert all(r.row["status"] == "ok" for r in results), [r.row["error"] for r in results]
    np.testing.assert_array_equal(results[0].samples, results[1].samples)
    assert not np.array_equal(results[0].samples, results[2].samples)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_method_scores_as_many_particles_as_the_run_asks_for(name, oracle):
    """`--eval-samples` (Problem.num_eval_samples) sets the particles scored, whatever a
    method's own settings: 37 is none of their defaults."""
    method_name, params = case(name)
    method = resolve_method(method_name)
    params = method.Params(**params)
    problem = problem_for(method, oracle, None, 37)
    state = method.init(params, problem, named_generator(0, "method", method_name))
    output = drive(method, params, problem, state, oracle.panel(seed=0), copying=False)
    assert output.samples.shape == (37, oracle.dim)


@pytest.mark.parametrize("name", sorted({*set(CASES) - set(VARIANTS), "humangan/restart"}))
def test_a_method_stays_within_its_budget_and_spends_what_it_plans(name, oracle, tmp_path):
    """A method that states its plan spends exactly that (HumanGAN's restarts aside, which
    spend less when a try reaches its threshold early: the plan is the most), and a budget
    below the plan is refused before anything is asked. A method without a plan is held to the
    budget by the panel as it goes."""
    method, params = case(name)
    spec = RunSpec(oracle="three_bumps", method=method, params=params, num_eval_samples=EVAL)
    needed = execute(spec, oracle).row["num_ratings"]
    found = resolve_method(method)
    planned = planned_ratings(found, spec.resolved_params(), problem_of(oracle, None, found))
    if planned is not None:
        restarts = params.get("initialisation") == "restart"
        assert planned >= needed if restarts else planned == needed
    if needed == 0:
        return  # a method that asks nothing cannot overspend
    short = spec.model_copy(update={"budget": needed - 1})
    if planned is not None and planned > needed - 1:
        with pytest.raises(SpecError, match=rf"^budget: {method} plans {planned:,} ratings"):
            execute(short, oracle, folder=tmp_path / "short")
        assert not (tmp_path / "short").exists()
    else:
        row = execute(short, oracle).row
        assert row["status"] == "error" and "BudgetExceededError" in row["error"]
        assert row["num_ratings"] <= needed - 1
    enough = needed if planned is None else planned
    exact = execute(spec.model_copy(update={"budget": enough}), oracle).row
    assert exact["status"] == "ok" and exact["num_ratings"] == needed


class LatePanel:
    """A simulated panel whose answers are there only on the second poll of a batch."""

    def __init__(self, panel: SimulatedPanel) -> None:
        self._panel, self._polled = panel, set()
        self.dim, self.slider, self.budget = panel.dim, panel.slider, panel.budget
        self.num_polls = 0

    @property
    def num_ratings_spent(self) -> int:
        return self._panel.num_ratings_spent

    def submit(self, batch) -> str:
        return self._panel.submit(batch)

    def poll(self, batch_id: str):
        self.num_polls += 1
        if batch_id not in self._polled:
            self._polled.add(batch_id)
            return None
        return self._panel.poll(batch_id)


@pytest.mark.parametrize("name", LIGHT)
def test_a_method_works_with_a_panel_that_answers_late(name, oracle, tmp_path):
    method, params, problem, state = start(name, oracle)
    expected = drive(*start(name, oracle), oracle.panel(seed=0), copying=False)
    late = LatePanel(oracle.panel(seed=0))
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.set_meta("slider", [problem.slider.low, problem.slider.high])
        stream = loop.Stream(
            ledger, "method", tmp_path / "state.npz", loop.PanelAnswerer(late), poll_interval=0.0
        )
        loop.start(stream, state)
        finished = loop.advance(method, params, problem, stream)
    np.testing.assert_array_equal(finished.output.samples, expected.samples)
    assert late.num_polls == 2 * ledger_batches(tmp_path / "ledger.sqlite")


def ledger_batches(path) -> int:
    with Ledger(path) as ledger:
        return len(ledger.progress())


def test_only_reference_methods_are_handed_the_truth(oracle):
    references = [name for name in CASES if name not in COMPETITORS]
    assert references == ["exact_score", "tuned_blur"]
    assert isinstance(problem_of(oracle, method=resolve_method("exact_score")), ReferenceProblem)
    for name in COMPETITORS:
        assert type(problem_of(oracle, method=resolve_method(case(name)[0]))) is Problem


def test_the_guard_finds_a_panel_or_the_truth_behind_what_a_method_is_handed(oracle):
    guard = TruthGuard(resolve_method("humandiffusion"))
    for leak in (oracle.panel(seed=0), {"hidden": [oracle.truth]}):
        with pytest.raises(AssertionError, match="a method was handed"):
            guard._check(problem_of(oracle), leak)


def test_the_docs_show_the_example_method_as_it_is():
    readme = (EXAMPLE_METHODS.parents[1] / "docs" / "how-to" / "method.md").read_text()
    source = (EXAMPLE_METHODS / "random_walk.py").read_text()
    assert source[source.index("import numpy as np") :] in readme
