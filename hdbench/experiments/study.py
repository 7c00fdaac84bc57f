"""Studies that wait for people: start, answer, status, resume.

A study is a run whose trials go to a queue in its ledger instead of to a simulated panel. Its
folder holds `study.json` (what it runs), `ledger.sqlite` (every trial and rating), `state/`
(each method's state after its last `tell`) and, once finished, the same files as
`hdbench run` writes (samples, metrics, figures).

    hdbench study start DIR --oracle paper_like --method humandiffusion --panel queue
    hdbench study answer DIR --oracle paper_like      # or people, through a listening page
    hdbench study resume DIR

Any of these can be killed at any point and started again: the ledger and the state files are
written so that nothing is lost and nothing counted twice (see `hdbench.studies.loop`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hdbench.errors import SpecError
from hdbench.experiments.run_spec import RunSpec
from hdbench.oracles import Oracle, load_oracle
from hdbench.studies import faults, loop
from hdbench.studies.ledger import LEDGER_NAME, Ledger
from hdbench.studies.ledger_people import ANSWERED_STREAMS
from hdbench.studies.people import people_status
from hdbench.validation import validate

if TYPE_CHECKING:
    from hdbench.experiments.run import RunResult

# The runner (torch, the methods) is imported where a study runs or is answered, so that
# `study status` and a refused folder stay light.

STUDY_FILE = "study.json"


@dataclass(frozen=True)
class Study:
    """A study's folder and what it runs."""

    folder: Path
    spec: RunSpec
    oracle: Oracle

    @classmethod
    def create(cls, folder: Path, spec: RunSpec, oracle: Oracle) -> Study:
        """A new study in `folder`, or the one there when it runs the same spec."""
        from hdbench.experiments.run import RunPlan

        spec = RunPlan.build(spec, oracle).spec
        described = {"run": spec.model_dump(mode="json"), "oracle_source": str(oracle.source)}
        path = folder / STUDY_FILE
        if path.exists():
            stored = read_study_file(path)
            if stored["run"] != described["run"]:
                raise SpecError(
                    f"{folder}: holds another study (run {RunSpec(**stored['run']).run_id}); "
                    "start a new one in another folder"
                )
        else:
            folder.mkdir(parents=True, exist_ok=True)
            _write_json(path, described)
        return cls(folder, spec, oracle)

    @classmethod
    def open(cls, folder: Path, oracle_dirs: Sequence[Path] = ()) -> Study:
        path = folder / STUDY_FILE
        if not path.is_file():
            raise SpecError(f"{folder}: no study here (expected {STUDY_FILE}); see study start")
        stored = read_study_file(path)
        spec = validate(RunSpec, stored["run"], str(path), "run")
        source = Path(stored["oracle_source"])
        oracle = load_oracle(source if source.is_file() else spec.oracle, oracle_dirs)
        if oracle.spec_hash != spec.oracle_spec_hash:
            raise SpecError(
                f"{folder}: the oracle {spec.oracle!r} has changed since the study started "
                f"(spec hash {oracle.spec_hash}, the study's {spec.oracle_spec_hash})"
            )
        return cls(folder, spec, oracle)

    def proceed(self) -> RunResult | loop.Waiting:
        """As far as the answers go (the truth scores it once it is finished)."""
        from hdbench.experiments.run import proceed

        return proceed(self.spec, self.oracle, self.folder, "queue", raise_errors=True)

    def status(self) -> list[str]:
        """Lines: each batch asked with its answers given and expected; people's progress."""
        with Ledger(self.folder / LEDGER_NAME) as ledger:
            batches = ledger.progress()
            people = people_status(ledger)
        lines = [f"{self.spec.oracle} · {self.spec.method} · seed {self.spec.seed}"]
        for batch in batches:
            if batch.stream not in ANSWERED_STREAMS:
                continue
            mark = "done" if batch.complete else "waiting"
            lines.append(
                f"  {batch.batch_id:<6} {batch.stream:<10} {batch.num_answered:>7,} of "
                f"{batch.num_answers:,} ratings  {mark}"
            )
        if people.participants or people.responses:
            lines.append(
                f"  people: {people.participants} participants ({people.flagged} flagged), "
                f"{people.answered:,} trials answered, {people.pending:,} pending, "
                f"{people.leased:,} leased"
            )
        if (self.folder / "metrics.json").exists():
            lines.append("  finished: results in this folder")
        return lines


def read_study_file(path: Path) -> dict:
    """study.json, checked: {"run": {...}, "oracle_source": "..."}; SpecError naming the file
    when it is unreadable, not JSON or not of that shape (a hand edit, a damaged disk)."""
    expected = "expected the study.json that `hdbench study start` wrote"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SpecError(f"{path}: cannot read the study ({error}); {expected}") from None
    if (
        not isinstance(stored, dict)
        or not isinstance(stored.get("run"), dict)
        or not isinstance(stored.get("oracle_source"), str)
    ):
        raise SpecError(f"{path}: not a study (no run and oracle_source); {expected}")
    return stored


def answer(study: Study, oracle: Oracle) -> int:
    """Answer every pending trial of `study` with `oracle`'s simulated listeners, one batch per
    transaction (with the panel's state); returns the number of ratings given. An oracle other
    than the study's (another spec) is refused: its answers would score the method against a
    truth it was not run on. The budget was checked when the study asked the trials."""
    if oracle.spec_hash != study.oracle.spec_hash:
        raise SpecError(
            f"--oracle: expected the study's oracle {study.oracle.name} (spec hash "
            f"{study.oracle.spec_hash}), got {oracle.name} (spec hash {oracle.spec_hash})"
        )
    from hdbench.experiments.run import simulated_answerer

    given = 0
    with Ledger(study.folder / LEDGER_NAME) as ledger:
        for batch in ledger.progress():
            if batch.complete or batch.stream not in ANSWERED_STREAMS:
                continue
            answerer = simulated_answerer(oracle, ledger, batch.stream, study.spec, None)
            trials = ledger.batch(batch.batch_id)
            ratings = answerer.answer(batch.batch_id, trials)
            state = (batch.stream, answerer.state())
            given += ledger.add_ratings(batch.batch_id, ratings, f"simulated:{oracle.name}", state)
            faults.checkpoint("after-answer")
    return given


def follow(study: Study, oracle: Oracle, poll_interval: float, timeout: float) -> int:
    """Keep answering as new batches come, until the study is finished or `timeout` s pass
    without a new batch."""
    given, idle_since = 0, time.monotonic()
    while not (study.folder / "metrics.json").exists():
        new = answer(study, oracle)
        given += new
        if new:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > timeout:
            break
        time.sleep(poll_interval)
    return given


def waiting_line(study: Study, waiting: loop.Waiting) -> str:
    return (
        f"waiting for {waiting.num_missing:,} ratings of batch {waiting.batch_id}; "
        f"resume with hdbench study resume {study.folder}"
    )


def _write_json(path: Path, value: dict) -> None:
    from hdbench.files import write_text

    write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", path)
