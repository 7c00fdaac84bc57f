"""One run: a frozen spec in, one tidy result row (and its arrays) out.

The runner orchestrates; the method trains and samples through the query loop
(`hdbench.studies.loop`), the metrics score, the store writes. A method gets only the problem
(dimension, slider, budget, real data) and the ratings it is told; the truth goes to the metrics,
which also score the snapshots the method reports along its chain.

A run keeps its ledger (every trial and rating, SQLite) and the method's state in its folder, so
it can stop while people answer and go on in another process (`hdbench study`). Everything from
the method's first call to the last metric is inside the run's error boundary: a failure
becomes a row with status `error` (or `diverged`), and a suite goes on.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from hdbench import __version__, progress
from hdbench.errors import HdbenchError, MethodOutputError, SpecError
from hdbench.experiments import store
from hdbench.experiments.run_spec import RUN_SPEC_KEY, RunSpec
from hdbench.files import clean_temporaries
from hdbench.methods.base import ReferenceProblem, is_reference
from hdbench.methods.plugins import resolve_method
from hdbench.metrics import METRICS, TruthContext, evaluate
from hdbench.metrics.escape import ESCAPE_FACTOR, MAX_ESCAPED_SHARE
from hdbench.metrics.listening import ListeningTest, ListeningTestMethod
from hdbench.oracles import Oracle, load_oracle
from hdbench.protocol import (
    NUM_EVAL_SAMPLES,
    Method,
    MethodOutput,
    MethodParams,
    Problem,
    planned_ratings,
)
from hdbench.rng import named_generator
from hdbench.samplers.langevin import SamplerDivergedError
from hdbench.studies import loop
from hdbench.studies.guard import DEFAULT_BUDGET, Guard, configured_time_limit
from hdbench.studies.ledger import LEDGER_NAME, DamagedLedgerError, Ledger
from hdbench.studies.people import PeopleAnswerer
from hdbench.threads import thread_policy
from hdbench.validation import validate

#: Metrics recorded along a run (Langevin steps, generator updates), where they apply.
TRACE_METRICS = ("mmd2", "var_ratio_target", "collapse_ratio", "mean_true_d", "modes_captured")
#: The particles of a snapshot the trace scores: the first ones, each an independent chain (the
#: final particles are scored whole). MMD² is quadratic in them.
TRACE_PARTICLES = 1000


def problem_for(
    method: object,
    oracle: Oracle,
    budget: int | None = None,
    num_eval_samples: int = NUM_EVAL_SAMPLES,
) -> Problem:
    """What `method` may know of `oracle`: a Problem, or a ReferenceProblem (with the truth) for
    a reference method."""
    known = (oracle.dim, oracle.listener.slider, oracle.real_data, budget, num_eval_samples)
    return ReferenceProblem(*known, truth=oracle.truth) if is_reference(method) else Problem(*known)


def run_budget(spec: RunSpec, oracle: Oracle) -> int | None:
    """The most ratings the run's method may spend: its own budget, else its oracle's panel's."""
    return spec.budget if spec.budget is not None else oracle.spec.panel.budget


DEFAULT_BUDGET_NOTE = (
    " (the default cap of a run without a budget whose method states no plan); "
    "expected a method that stops, or a --budget"
)


@dataclass(frozen=True)
class RunPlan:
    """A run resolved once, before anything is asked: its spec bound to the oracle's full spec,
    the method and its validated parameters, the problem it is handed, its plan, and the one
    budget its stream, its panel and its problem share (`budget_note` says where it comes from);
    and the time limit of each of the method's calls."""

    spec: RunSpec
    oracle: Oracle
    method: Method
    params: MethodParams
    problem: Problem
    planned: int | None
    budget: int | None
    budget_note: str
    time_limit: float | None

    @classmethod
    def build(cls, spec: RunSpec, oracle: Oracle) -> RunPlan:
        """The plan; SpecError when the method plans more ratings than the run's budget."""
        spec = spec.for_oracle(oracle)
        method = resolve_method(spec.method)
        params = validate(method.Params, spec.params, "params", spec.method)
        budget = run_budget(spec, oracle)
        problem = problem_for(method, oracle, budget, spec.num_eval_samples)
        planned = planned_ratings(method, params, problem)
        source = f"{oracle.source or oracle.name}: panel.budget"
        where = "budget" if spec.budget is not None else source
        if budget is not None and planned is not None and planned > budget:
            raise SpecError(
                f"{where}: {spec.method} plans {planned:,} ratings with these parameters on "
                f"{oracle.name}, more than the budget of {budget:,}; expected a budget of at "
                f"least {planned:,}, or parameters that ask for fewer ratings"
            )
        note = "" if spec.budget is not None or budget is None else f" ({where})"
        if budget is None and planned is None:
            budget, note = DEFAULT_BUDGET, DEFAULT_BUDGET_NOTE
            problem = problem_for(method, oracle, budget, spec.num_eval_samples)
        seconds = configured_time_limit()
        return cls(spec, oracle, method, params, problem, planned, budget, note, seconds)

    def guard(self) -> Guard:
        """The checks around the method's calls (`hdbench.studies.guard`)."""
        return Guard(self.spec.method, self.oracle.dim, True, self.planned, self.time_limit)


@dataclass
class RunResult:
    spec: dict[str, Any]
    row: dict[str, Any]
    samples: np.ndarray | None = None
    trace: pd.DataFrame = field(default_factory=pd.DataFrame)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


AnswerMode = Literal["simulated", "queue"]


def param_columns(params: MethodParams) -> dict[str, Any]:
    """A run's parameters as row columns `param_KEY`; a table or list value (a sampler's
    settings) as its JSON text, so that every column is a scalar the tables can hold."""
    return {
        f"param_{key}": json.dumps(value, sort_keys=True)
        if isinstance(value, dict | list)
        else value
        for key, value in params.model_dump(by_alias=True, mode="json").items()
    }


@cache
def versions() -> dict[str, str]:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
            check=False,
        ).stdout.strip()
    except OSError:
        revision = ""
    return {
        "hdbench_version": __version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "git_revision": revision or "unknown",
    }


def execute(
    spec: RunSpec,
    oracle: Oracle | None = None,
    context: TruthContext | None = None,
    raise_errors: bool = False,
    folder: Path | None = None,
    replay: Path | None = None,
) -> RunResult:
    """Run `spec` to the end with simulated panels (or the answers of the ledger `replay`) and
    score it against `context` (built from the oracle when not given).

    The ledger and the method's state go to `folder` (a temporary folder when None); a run
    interrupted there goes on from its last saved state. A failure becomes a row with status
    error (or diverged); with `raise_errors` it propagates.
    """
    oracle = oracle or load_oracle(spec.oracle)
    with _study_folder(folder) as where:
        outcome = proceed(spec, oracle, where, "simulated", context, raise_errors, replay)
    if isinstance(outcome, loop.Waiting):
        raise AssertionError(f"a simulated run waits for batch {outcome.batch_id}")
    return outcome


@contextmanager
def _study_folder(folder: Path | None) -> Iterator[Path]:
    if folder is not None:
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="hdbench-run-") as temporary:
        yield Path(temporary)


def proceed(
    spec: RunSpec,
    oracle: Oracle,
    folder: Path,
    answers: AnswerMode,
    context: TruthContext | None = None,
    raise_errors: bool = False,
    replay: Path | None = None,
) -> RunResult | loop.Waiting:
    """Take the run in `folder` as far as the answers go: Waiting, or the scored result.

    The method and the scoring run under the thread policy (`hdbench.threads`)."""
    plan = RunPlan.build(spec, oracle)
    spec, params = plan.spec, plan.params
    row: dict[str, Any] = {
        "run_id": spec.run_id,
        "oracle": oracle.name,
        "method": spec.method,
        "reference": is_reference(plan.method),
        "seed": spec.seed,
        "num_eval_samples": spec.num_eval_samples,
        **param_columns(params),
        "spec_hash": oracle.spec_hash,
        "fingerprint": oracle.fingerprint,
        **versions(),
    }
    described = {**spec.model_dump(), "params": params.model_dump(by_alias=True)}
    with open_ledger(folder, redo=answers == "simulated") as ledger:
        streams = open_streams(plan, folder, ledger, answers, replay)
        try:
            with thread_policy():
                outcome = _proceed(plan, streams, context)
        except Exception as error:
            if raise_errors:
                raise
            return RunResult(described, {**row, **failure_columns(error, ledger)})
    if isinstance(outcome, loop.Waiting):
        return outcome
    result, columns = outcome
    result.spec, result.row = described, {**row, **columns}
    return result


STATE_DIR = "state"


def open_ledger(folder: Path, redo: bool) -> Ledger:
    """The run's ledger in `folder`. One that is not a whole ledger (a write that failed half-way,
    a damaged file) is moved with the method's states to folder/damaged/, saying so in one line
    on stderr, and the run starts again from its first batch, when that loses nothing: its
    answers are simulated (`redo`), or its method was never told any (no state saved). Else
    (people's answers) it is refused in one line. The temporaries of killed writes are
    removed."""
    path = folder / LEDGER_NAME
    for where in (folder, folder / STATE_DIR):
        clean_temporaries(where)
    try:
        return Ledger(path)
    except DamagedLedgerError as error:
        if not redo and (folder / STATE_DIR / "method.npz").exists():
            raise
        damaged = [path.with_name(path.name + end) for end in ("", "-wal", "-shm")]
        moved = [store.move_aside(p, folder) for p in (*damaged, folder / STATE_DIR) if p.exists()]
        print(
            f"{error}; moved to {moved[0]} with the method's state, the run starts again",
            file=sys.stderr,
        )
    return Ledger(path)


def panel_seeds(spec: RunSpec, oracle: Oracle) -> dict[str, int]:
    """The seeds of the two simulated panels: the method's and the listening test's."""
    listening = int(named_generator(spec.seed, "listening test").integers(2**31))
    return {"method": spec.seed, "listening": listening}


def open_streams(
    plan: RunPlan,
    folder: Path,
    ledger: Ledger,
    answers: AnswerMode,
    replay: Path | None,
) -> dict[str, loop.Stream]:
    """The method's and the listening test's journals in `ledger`, with who answers them; the
    method's is held to the plan's budget and guarded, the listening test's is the harness's."""
    spec, oracle = plan.spec, plan.oracle
    slider = oracle.listener.slider
    if ledger.meta("run_id", spec.run_id) != spec.run_id:
        raise SpecError(
            f"{folder}: holds the ledger of another run ({ledger.meta('run_id')}); "
            "give another folder (--out) or remove this one"
        )
    ledger.set_meta("run_id", spec.run_id)
    params = plan.params.model_dump(by_alias=True, mode="json")
    ledger.set_meta(RUN_SPEC_KEY, {**spec.model_dump(mode="json"), "params": params})
    ledger.set_meta("slider", [slider.low, slider.high])
    ledger.set_meta("panel_seeds", panel_seeds(spec, oracle))
    streams = {
        "method": loop.Stream(
            ledger,
            "method",
            folder / STATE_DIR / "method.npz",
            budget=plan.budget,
            guard=plan.guard(),
            budget_note=plan.budget_note,
            owner=spec.run_id,
        ),
        "listening": loop.Stream(
            ledger, "listening", folder / STATE_DIR / "listening.npz", owner=spec.run_id
        ),
    }
    for name, stream in streams.items():
        if replay is not None:
            recorded = Ledger(replay, create=False)
            stream.answerer = loop.ReplayAnswerer(recorded, slider.low, slider.high)
        elif answers == "simulated":
            stream.answerer = simulated_answerer(oracle, ledger, name, spec, stream.budget)
        else:  # the queue: people's responses, once screened (`hdbench serve`)
            stream.answerer = PeopleAnswerer(ledger)
    return streams


def simulated_answerer(
    oracle: Oracle, ledger: Ledger, stream: str, spec: RunSpec, budget: int | None
) -> loop.PanelAnswerer:
    """The simulated panel of `stream` (held to `budget`), in the state its last answers left
    it in."""
    seed = panel_seeds(spec, oracle)[stream]
    panel = oracle.panel(seed=seed, budget=budget)
    return loop.PanelAnswerer(panel).restore(ledger, stream)


def _proceed(
    plan: RunPlan,
    streams: dict[str, loop.Stream],
    context: TruthContext | None,
) -> tuple[RunResult, dict[str, Any]] | loop.Waiting:
    spec, oracle, method, params, problem = (
        plan.spec,
        plan.oracle,
        plan.method,
        plan.params,
        plan.problem,
    )
    stream = streams["method"]
    if not stream.state_path.exists():
        rng = named_generator(spec.seed, "method", spec.method)
        state = plan.guard().init(method, params, problem, rng)
        loop.start(stream, state)
    finished = loop.advance(method, params, problem, stream)
    if isinstance(finished, loop.Waiting):
        return finished
    output = finished.output
    check_particles(output.samples, spec, oracle.dim)
    listening = listening_stream_finished(spec, oracle, output, problem, streams["listening"])
    if isinstance(listening, loop.Waiting):
        return listening
    started = time.perf_counter()
    test = ListeningTest.from_output(listening.output)
    columns: dict[str, Any] = {
        "status": "ok",
        "error": "",
        "diverged_at": None,
        "num_ratings": finished.num_ratings,
        "wall_time": finished.method_time,
    }
    if stream.ledger.answered_by_people():
        # People's D is unknown: the metrics against the simulated truth would score the method
        # against an oracle nobody listened to. Only the listening test says how it did.
        trace = pd.DataFrame()
        columns["answered_by"] = "people"
    else:
        context = context or TruthContext.build(oracle.truth, oracle.real_data, seed=spec.seed)
        trace = with_convergence(trace_table(output.snapshots, context), output.arrays)
        with progress.phase("scoring"):
            columns.update(evaluate(output.samples, context))
        columns.update(escape_status(columns["escaped_share"]))
    columns.update(chain_columns(output.arrays))
    columns.update(test.summary())
    columns["metric_time"] = time.perf_counter() - started
    arrays = {**output.arrays, "listening_real": test.real, "listening_generated": test.generated}
    result = RunResult({}, {}, output.samples, trace, output.snapshots, arrays)
    return result, columns


def escape_status(share: float) -> dict[str, str]:
    """Status `diverged`, with the reason, for a run whose particles left the target's region
    (`hdbench.metrics.escape`); nothing otherwise."""
    if share <= MAX_ESCAPED_SHARE:
        return {}
    return {
        "status": "diverged",
        "error": f"{share:.0%} of the particles left the target's region (its box widened "
        f"{ESCAPE_FACTOR:g}× about its centre; at most {MAX_ESCAPED_SHARE:.0%} may)",
    }


def check_particles(samples: np.ndarray, spec: RunSpec, dim: int) -> None:
    """MethodOutputError unless a method's final samples have the shape the run asked for,
    (num_eval_samples, dim): every method is scored on as many particles as `--eval-samples`."""
    shape = np.shape(samples)
    if shape != (spec.num_eval_samples, dim):
        raise MethodOutputError(
            f"{spec.method} returned samples of shape {shape}; expected "
            f"({spec.num_eval_samples}, {dim}): num_eval_samples (--eval-samples) particles"
        )


def listening_stream_finished(
    spec: RunSpec,
    oracle: Oracle,
    output: MethodOutput,
    problem: Problem,
    stream: loop.Stream,
) -> loop.Finished | loop.Waiting:
    """The listening test of the method's samples, through the same loop."""
    test = ListeningTestMethod()
    if not stream.state_path.exists():
        rng = named_generator(spec.seed, "listening test")
        rng.integers(2**31)  # the listening panel's seed: see `panel_seeds`
        state = test.start(output.samples, oracle.real_data, rng)
        loop.start(stream, state)
    return loop.advance(test, None, problem, stream)


def trace_table(snapshots: dict[int, np.ndarray], context: TruthContext) -> pd.DataFrame:
    """The trace metrics of every snapshot's first TRACE_PARTICLES particles, a row per step."""
    traced = [METRICS[m] for m in TRACE_METRICS if METRICS[m].applies(context)]
    rows = [
        {"step": step, **{m.name: m.fn(x[:TRACE_PARTICLES], context) for m in traced}}
        for step, x in sorted(snapshots.items())
    ]
    return pd.DataFrame(rows)


CONVERGENCE_COLUMNS = ("lag_step", "movement", "noise_floor")


def with_convergence(trace: pd.DataFrame, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """The trace with the convergence diagnostic's checks (`arrays["convergence"]`, rows of
    step, lag step, movement, floor) joined on the step: one row per snapshot or check."""
    checks = arrays.get("convergence")
    if checks is None or not len(checks):
        return trace
    diagnostic = pd.DataFrame(checks, columns=["step", *CONVERGENCE_COLUMNS])
    diagnostic = diagnostic.astype({"step": int, "lag_step": int})
    if trace.empty:
        return diagnostic
    return trace.merge(diagnostic, on="step", how="outer").sort_values("step", ignore_index=True)


def chain_columns(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """`chain_steps` (the steps a Langevin chain ran) and `stationary_at` (the first step at
    which the diagnostic called it stationary; None: never), for the methods that record them."""
    if "chain_steps" not in arrays:
        return {}
    ran, stationary = (int(v) for v in arrays["chain_steps"])
    return {"chain_steps": ran, "stationary_at": stationary if stationary >= 0 else None}


def failure_columns(error: Exception, ledger: Ledger) -> dict[str, Any]:
    """The row's columns for a run that failed: status, one-line error, where it diverged, and
    the ratings the method was given before it failed."""
    diverged = isinstance(error, SamplerDivergedError)
    last = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    deliberate = isinstance(error, HdbenchError)
    where = f" (at {Path(last.filename).name}:{last.lineno})" if last and not deliberate else ""
    return {
        "status": "diverged" if diverged else "error",
        "error": str(error) if diverged else f"{type(error).__name__}: {error}{where}",
        "diverged_at": error.step if diverged else None,
        "num_ratings": ledger.num_ratings("method"),
        "wall_time": None,
    }
