"""The in-memory driver: a method asked and told against a panel in this process, without a
ledger or files (for brackets, listening tests of brackets and quick experiments; a run or a
study drives its method through `hdbench.studies.loop`, which journals every step)."""

from __future__ import annotations

import time

from hdbench.protocol.method import Method, MethodOutput, MethodParams, Problem
from hdbench.protocol.panel import Panel
from hdbench.protocol.state import MethodState


def run_in_memory(
    method: Method,
    params: MethodParams | None,
    problem: Problem,
    state: MethodState,
    panel: Panel,
    poll_interval: float = 0.01,
) -> MethodOutput:
    """Drive `method` to the end against `panel` in this process, without a ledger or files
    (for brackets and quick experiments; a run or a study uses `advance`)."""
    while (batch := method.ask(params, problem, state)) is not None:
        batch_id = panel.submit(batch)
        while (ratings := panel.poll(batch_id)) is None:
            time.sleep(poll_interval)
        state = method.tell(params, problem, state, ratings)
    return method.finish(params, problem, state)
