"""`hdbench run --replay LEDGER`: the run a ledger recorded, answered from that ledger.

The run's oracle, method, parameters, seed, budget and number of scoring particles come from the
ledger (the run it recorded); what the command line gives is checked against them, as a run
that asks other trials than the recorded ones cannot be answered. A disagreement is one
SpecError naming the option, the ledger's value and how to take it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hdbench.errors import SpecError
from hdbench.experiments.run_spec import RUN_SPEC_KEY, RunSpec
from hdbench.oracles import Oracle, load_oracle
from hdbench.studies.ledger import Ledger
from hdbench.validation import validate

#: The spec fields a replay takes from the ledger, with the option that gives each.
OPTIONS = {
    "oracle": "--oracle",
    "method": "--method",
    "seed": "--seed",
    "budget": "--budget",
    "num_eval_samples": "--eval-samples",
}


def recorded_spec(ledger_path: Path) -> dict[str, Any]:
    """The run spec `ledger_path` recorded (spec fields, params resolved): from the ledger's
    meta, else from the study.json or spec.json beside it (ledgers written before runs recorded
    their spec). SpecError when it names none."""
    if not ledger_path.is_file():
        raise SpecError(f"--replay: expected a ledger file (ledger.sqlite), got {ledger_path}")
    with Ledger(ledger_path, create=False) as ledger:
        stored = ledger.meta(RUN_SPEC_KEY)
    if isinstance(stored, dict):
        return stored
    beside = ledger_path.parent
    for name, key in (("study.json", "run"), ("spec.json", None)):
        path = beside / name
        try:
            value = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            value = None
        value = value.get(key) if key and isinstance(value, dict) else value
        if isinstance(value, dict):
            return value
    raise SpecError(
        f"--replay: {ledger_path} does not record its run (no spec in it, no study.json or "
        "spec.json beside it); expected the ledger of an hdbench run or study"
    )


def replayed_spec(
    ledger_path: Path, given: dict[str, Any], oracle_dirs: Sequence[Path] = ()
) -> tuple[RunSpec, Oracle]:
    """The spec of the run `ledger_path` recorded, and its oracle; `given` (the fields of
    OPTIONS and "params", each only when the command line gave it) must agree with it."""
    recorded = recorded_spec(ledger_path)
    fields = {k: recorded[k] for k in ("params", *OPTIONS) if k in recorded}
    spec = validate(RunSpec, fields, f"--replay {ledger_path}")
    for field, option in OPTIONS.items():
        value = given.get(field)
        if field == "oracle" or value is None or value == getattr(spec, field):
            continue
        raise disagreement(option, getattr(spec, field), value)
    oracle = load_oracle(given.get("oracle") or spec.oracle, oracle_dirs)
    if oracle.name != spec.oracle:
        raise disagreement("--oracle", spec.oracle, given.get("oracle"))
    if recorded.get("oracle_spec_hash") not in (None, "", oracle.spec_hash):
        raise SpecError(
            f"--oracle: {oracle.name!r} has changed since the ledger was recorded (spec hash "
            f"{oracle.spec_hash}, the ledger's {recorded['oracle_spec_hash']})"
        )
    spec = spec.for_oracle(oracle)
    check_params(spec, given.get("params") or {})
    from hdbench.experiments.run import RunPlan  # the runner: once the spec is known good

    return RunPlan.build(spec, oracle).spec, oracle


def check_params(spec: RunSpec, given: dict[str, Any]) -> None:
    """Each `--set KEY=VALUE` must agree with the ledger's run."""
    if not given:
        return
    recorded = spec.resolved_params().model_dump(by_alias=True)
    asked = spec.model_copy(update={"params": {**spec.params, **given}})
    resolved = asked.resolved_params().model_dump(by_alias=True)
    differing = [key for key in resolved if resolved[key] != recorded.get(key)]
    if differing:
        key = differing[0]
        raise disagreement(f"--set {key}", recorded.get(key), resolved[key])


def disagreement(option: str, recorded: Any, given: Any) -> SpecError:
    return SpecError(
        f"{option}: the replayed ledger's run has {recorded!r}, got {given!r}; leave {option} "
        "out to take the ledger's, or give the ledger of that run"
    )
