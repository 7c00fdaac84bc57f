"""One run: a frozen spec in, one tidy result row (and its arrays) out.

The runner orchestrates; the algorithm trains and samples, the metrics score, the store writes.
An algorithm gets only the panel, the real data and a generator; the truth goes to the metrics,
including the trace that the sampler reports every few steps.
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field

import hdbench
from hdbench.algorithms import ALGORITHMS
from hdbench.errors import SpecError
from hdbench.metrics import METRICS, TruthContext, evaluate
from hdbench.metrics.listening import listening_test
from hdbench.oracles import Oracle, load_oracle
from hdbench.oracles.spec import validate
from hdbench.rng import named_generator, stable_hash
from hdbench.samplers.langevin import SamplerDivergedError

#: Metrics recorded along a run (Langevin steps, generator updates), where they apply.
TRACE_METRICS = ("mmd2", "var_ratio_target", "collapse_ratio", "mean_true_d", "modes_captured")


class RunSpec(BaseModel):
    """What to run: oracle, method, its parameters (validated by the method), seed, budget."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    oracle: str
    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(0, ge=0)
    budget: int | None = Field(None, ge=1)

    def resolved_params(self) -> BaseModel:
        algorithm = ALGORITHMS[self.method]
        return validate(algorithm.Params, self.params, "params", self.method)

    @property
    def run_id(self) -> str:
        """Short hash of the canonical spec, parameters resolved to their full set."""
        canonical = {
            **self.model_dump(exclude={"params"}),
            "params": self.resolved_params().model_dump(by_alias=True),
        }
        return stable_hash(json.dumps(canonical, sort_keys=True))


@dataclass
class RunResult:
    spec: dict[str, Any]
    row: dict[str, Any]
    samples: np.ndarray | None = None
    trace: pd.DataFrame = field(default_factory=pd.DataFrame)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """`key=value` strings into a dict; values are read as JSON where they parse, else text."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SpecError(f"--set: expected key=value, got {item!r}")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    return params


@cache
def versions() -> dict[str, str]:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(hdbench.__file__).parent,
            check=False,
        ).stdout.strip()
    except OSError:
        revision = ""
    return {
        "hdbench_version": hdbench.__version__,
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
) -> RunResult:
    """Run `spec` and score it against `context` (built from the oracle when not given).

    A failure becomes a row with status error (or diverged); with `raise_errors` it propagates.
    """
    params = spec.resolved_params()
    oracle = oracle or load_oracle(spec.oracle)
    row: dict[str, Any] = {
        "run_id": spec.run_id,
        "oracle": oracle.name,
        "method": spec.method,
        "seed": spec.seed,
        **{f"param_{k}": v for k, v in params.model_dump(by_alias=True).items()},
        "spec_hash": oracle.spec_hash,
        "fingerprint": oracle.fingerprint,
        **versions(),
    }
    described = {**spec.model_dump(), "params": params.model_dump(by_alias=True)}
    context = context or TruthContext.build(oracle.truth, oracle.real_data)
    panel = oracle.panel(seed=spec.seed, budget=spec.budget)
    trace_rows: list[dict[str, float]] = []
    snapshots: dict[int, np.ndarray] = {}

    traced = [METRICS[m] for m in TRACE_METRICS if METRICS[m].applies(context)]

    def trace_fn(step: int, x: np.ndarray) -> None:
        trace_rows.append({"step": step, **{m.name: m.fn(x, context) for m in traced}})
        snapshots[step] = x.copy()

    start = time.perf_counter()
    try:
        output = ALGORITHMS[spec.method].run(
            params,
            panel,
            oracle.real_data,
            named_generator(spec.seed, "method", spec.method),
            trace_fn,
        )
    except Exception as error:
        if raise_errors:
            raise
        diverged = isinstance(error, SamplerDivergedError)
        row.update(
            status="diverged" if diverged else "error",
            error=str(error) if diverged else f"{type(error).__name__}: {error}",
            diverged_at=error.step if diverged else None,
            num_ratings=panel.num_ratings_spent,
            wall_time=time.perf_counter() - start,
        )
        return RunResult(described, row, trace=pd.DataFrame(trace_rows), snapshots=snapshots)
    row.update(
        status="ok",
        error="",
        diverged_at=None,
        num_ratings=panel.num_ratings_spent,
        wall_time=time.perf_counter() - start,
    )
    row.update(evaluate(output.samples, context))
    evaluation_rng = named_generator(spec.seed, "listening test")
    evaluation_panel = oracle.panel(seed=int(evaluation_rng.integers(2**31)))
    test = listening_test(output.samples, oracle.real_data, evaluation_panel, evaluation_rng)
    row.update(test.summary())
    arrays = {**output.arrays, "listening_real": test.real, "listening_generated": test.generated}
    return RunResult(described, row, output.samples, pd.DataFrame(trace_rows), snapshots, arrays)
