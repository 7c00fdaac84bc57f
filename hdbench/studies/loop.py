"""The query loop the harness owns: ask, record, get answers, tell, save; until finished.

One loop serves a simulated panel that answers at once, a panel that answers later, people
answering a queue in the ledger, and a replay of a ledger. Each step is written before the next
starts:

1. the state before `ask` is on disk (`state_path`), with the loop's counters;
2. `ask` gives a batch (the same batch whenever it is asked from the same saved state);
3. the batch is recorded in the ledger (idempotent) before anyone rates it;
4. answers come from the ledger, or from the answerer, and are committed in one transaction;
5. `tell`, then the new state replaces the old one on disk.

A process killed anywhere in between starts again at step 1 with nothing lost and nothing
counted twice. When the answers are not in (people have not finished), `advance` returns
`Waiting` and the process may exit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hdbench import progress
from hdbench.errors import BudgetExceededError
from hdbench.protocol import Method, MethodOutput, MethodParams, Panel, Problem
from hdbench.protocol.state import MethodState, StateValueError, load_state, save_state
from hdbench.protocol.trials import RatingBatch, TrialBatch
from hdbench.studies import faults
from hdbench.studies.guard import Guard
from hdbench.studies.ledger import Ledger, LedgerError


@dataclass(frozen=True)
class Finished:
    output: MethodOutput
    num_ratings: int
    method_time: float


@dataclass(frozen=True)
class Waiting:
    batch_id: str
    num_answers: int
    num_missing: int


class Answerer(Protocol):
    """Who answers a recorded batch now: None means not yet (people are still at it)."""

    source: str

    def answer(self, batch_id: str, batch: TrialBatch) -> RatingBatch | None: ...

    def state(self) -> dict | None: ...


class PanelAnswerer:
    """Any `Panel`: submits a batch once and polls it. A panel with `state_dict` (the simulated
    one) has its state stored with its answers, and restored from the ledger on a restart."""

    def __init__(self, panel: Panel, source: str = "simulated") -> None:
        self.panel = panel
        self.source = source
        self._submitted: dict[str, str] = {}

    def restore(self, ledger: Ledger, stream: str) -> PanelAnswerer:
        stored = ledger.answerer_state(stream)
        if stored is not None:
            self.panel.load_state_dict(stored)
        return self

    def answer(self, batch_id: str, batch: TrialBatch) -> RatingBatch | None:
        if batch_id not in self._submitted:
            self._submitted[batch_id] = self.panel.submit(batch)
        return self.panel.poll(self._submitted[batch_id])

    def state(self) -> dict | None:
        state_dict = getattr(self.panel, "state_dict", None)
        return None if state_dict is None else state_dict()


class ReplayAnswerer:
    """Answers from another study's ledger, which must hold the very trials asked."""

    source = "replay"

    def __init__(self, ledger: Ledger, low: float, high: float) -> None:
        self.ledger = ledger
        self._low, self._high = low, high

    def answer(self, batch_id: str, batch: TrialBatch) -> RatingBatch | None:
        stored = self.ledger.batch(batch_id)
        where = f"replay {self.ledger.path}"
        if stored is None:
            raise LedgerError(f"{where}: the run asks for trial {batch_id}-0, which it lacks")
        if stored.kind != batch.kind or stored.stimuli.shape != batch.stimuli.shape:
            raise LedgerError(
                f"{where}: batch {batch_id} holds {stored.num_trials} {stored.kind} trials, the "
                f"run asks for {batch.num_trials} {batch.kind} trials"
            )
        differs = (stored.stimuli != batch.stimuli).any(axis=(1, 2))
        if differs.any():
            raise LedgerError(
                f"{where}: the run asks for trial {batch_id}-{differs.argmax()} with other "
                "stimuli than the ledger's"
            )
        ratings = self.ledger.ratings(batch_id, self._low, self._high)
        if ratings is None:
            pending = self.ledger.pending_trials(batch_id)
            raise LedgerError(f"{where}: trial {pending[0][0]} has no rating")
        return ratings

    def state(self) -> dict | None:
        return None


@dataclass
class Stream:
    """One method's journal: its ledger stream and its state file."""

    ledger: Ledger
    name: str
    state_path: Path
    answerer: Answerer | None = None
    budget: int | None = None
    poll_interval: float | None = None
    guard: Guard | None = None
    budget_note: str = ""
    #: The run the state belongs to (its run id): a state of another run is refused.
    owner: str = ""


def start(stream: Stream, state: MethodState) -> None:
    """Write the initial state, unless the stream has one already."""
    if not stream.state_path.exists():
        save(stream, state, {**counters(0, 0, 0.0), "owner": stream.owner})


def save(stream: Stream, state: MethodState, count: dict[str, Any]) -> None:
    """Write the state; one that cannot be saved is the method's fault, named as such."""
    try:
        save_state(state, stream.state_path, count)
    except StateValueError as error:
        (stream.guard or Guard(stream.name, 0)).refuse(str(error))


def counters(position: int, num_ratings: int, method_time: float) -> dict[str, Any]:
    return {"position": position, "num_ratings": num_ratings, "method_time": method_time}


def advance(
    method: Method,
    params: MethodParams | None,
    problem: Problem,
    stream: Stream,
) -> Finished | Waiting:
    """Drive `method` from its saved state as far as the answers go. A ledger that holds
    fewer of the stream's batches than its state was told (replaced, emptied) is refused: the
    study cannot go on from answers it no longer has."""
    state, count = load_state(stream.state_path)
    stored = count.get("owner", "")
    if stored and stream.owner and stored != stream.owner:
        raise LedgerError(
            f"{stream.state_path}: the method's state of another run ({stored}), not of this "
            f"folder's run ({stream.owner}); put back this run's state, or start again in "
            "another folder"
        )
    recorded = sum(1 for batch in stream.ledger.progress() if batch.stream == stream.name)
    if count["position"] > recorded:
        raise LedgerError(
            f"{stream.ledger.path}: holds {recorded} batches of the {stream.name} stream, but "
            f"the state in {stream.state_path} was told {count['position']}; the ledger was "
            "replaced or damaged: restore it, or start again in another folder"
        )
    guard = stream.guard or Guard(stream.name, problem.dim)
    name = "asking for ratings" if stream.name == "method" else f"{stream.name} test"
    with progress.phase(name, unit="rating"):
        return _drive(method, params, problem, stream, guard, state, count)


def _drive(
    method: Method,
    params: MethodParams | None,
    problem: Problem,
    stream: Stream,
    guard: Guard,
    state: MethodState,
    count: dict[str, Any],
) -> Finished | Waiting:
    """`advance`'s loop: ask, answer, tell, until the method asks nothing or answers wait."""
    while True:
        started = time.perf_counter()
        batch = guard.ask(method, params, problem, state)
        count["method_time"] += time.perf_counter() - started
        if batch is None:
            started = time.perf_counter()
            output = guard.finish(method, params, problem, state)
            elapsed = count["method_time"] + time.perf_counter() - started
            return Finished(output, count["num_ratings"], elapsed)
        guard.check_plan(count["num_ratings"], batch.num_ratings)
        ratings = answers(stream, count, batch)
        if isinstance(ratings, Waiting):
            return ratings
        progress.advance(batch.num_ratings)
        faults.checkpoint("before-tell")
        started = time.perf_counter()
        state = guard.tell(method, params, problem, state, ratings)
        count["method_time"] += time.perf_counter() - started
        count["position"] += 1
        count["num_ratings"] += batch.num_ratings
        save(stream, state, count)
        faults.checkpoint("after-save")


def answers(stream: Stream, count: dict[str, Any], batch: TrialBatch) -> RatingBatch | Waiting:
    """The answers to `batch`, recorded first in the ledger; Waiting when they are not all in."""
    spent = count["num_ratings"]
    if stream.budget is not None and spent + batch.num_ratings > stream.budget:
        raise BudgetExceededError(
            f"budget: this batch needs {batch.num_ratings:,} ratings but only "
            f"{stream.budget - spent:,} of {stream.budget:,} are left{stream.budget_note}"
        )
    ledger = stream.ledger
    low, high = ledger.meta("slider")
    batch_id = ledger.add_batch(stream.name, count["position"], batch)
    faults.checkpoint("after-batch")
    while True:
        ratings = ledger.ratings(batch_id, low, high)
        if ratings is not None:
            return ratings
        if stream.answerer is not None:
            ratings = stream.answerer.answer(batch_id, batch)
            if ratings is not None:
                state = stream.answerer.state()
                answerer = None if state is None else (stream.name, state)
                ledger.add_ratings(batch_id, ratings, stream.answerer.source, answerer)
                faults.checkpoint("after-ratings")
                continue
        if stream.poll_interval is None:
            missing = batch.num_ratings - ledger.num_answered(batch_id)
            return Waiting(batch_id, batch.num_ratings, missing)
        time.sleep(stream.poll_interval)
