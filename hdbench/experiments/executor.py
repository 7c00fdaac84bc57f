"""Running many specs: in parallel processes (joblib) or on a Dask cluster, resumably.

Each worker runs one spec and stores its run folder, then its row, each written whole; the row
is the mark that the run is finished. A sweep started again skips the runs whose rows exist, so
an interrupted sweep (Ctrl-C, kill) loses no finished run and never leaves a half row (a row
stored with another fingerprint of its oracle is run again); damaged
row files are moved aside first and their runs redone (`store.heal`), and with `retry_errors`
the runs whose rows say `error` are redone too. After every finished run the table (runs.csv,
runs.parquet) is rewritten from the stored rows.

A worker process that dies (killed, or out of memory) costs only its own run: the runs that
were under way when it died are run again one at a time, each in a process of its own, and the
one whose process dies again is stored as an `error` row; the rest of the sweep goes on.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed, parallel_config
from joblib.externals.loky.process_executor import TerminatedWorkerError
from tqdm import tqdm

from hdbench import progress
from hdbench.errors import HdbenchError, SpecError
from hdbench.experiments import store
from hdbench.experiments.preflight import check_budgets, check_runs
from hdbench.experiments.run import RunSpec, execute, param_columns
from hdbench.metrics import TruthContext
from hdbench.oracles import Oracle, load_oracle
from hdbench.threads import apply_thread_policy


@cache
def _oracle(name: str, oracle_dirs: tuple[Path, ...], spec_hash: str) -> Oracle:
    """The oracle, kept per process for each version of its spec."""
    return load_oracle(name, oracle_dirs)


@cache
def _oracle_and_context(
    name: str, oracle_dirs: tuple[Path, ...], spec_hash: str, seed: int
) -> tuple[Oracle, TruthContext]:
    """The oracle and its truth context for one seed, whose reference sample is drawn afresh,
    so that the spread over seeds includes the reference's; kept per process."""
    oracle = _oracle(name, oracle_dirs, spec_hash)
    return oracle, TruthContext.build(oracle.truth, oracle.real_data, seed=seed)


def _marker(folder: Path, spec: RunSpec) -> Path:
    """A file that exists while a worker runs `spec`: after a worker dies, what was under way."""
    return folder / "running" / spec.run_id


def run_and_store(spec: RunSpec, folder: Path, oracle_dirs: tuple[Path, ...] = ()) -> dict:
    """Run one spec in this process and store its folder and row; returns the row.

    Parallelism is across runs; each worker follows the thread policy (`hdbench.threads`).
    """
    apply_thread_policy()
    marker = _marker(folder, spec)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()))
    oracle, context = _oracle_and_context(
        spec.oracle, oracle_dirs, spec.oracle_spec_hash, spec.seed
    )
    where = store.run_folder(folder, oracle.name, spec.method, spec.run_id)
    result = execute(spec, oracle, context, folder=where)
    store.write_run(result, where)
    store.write_row(result.row, folder)
    marker.unlink(missing_ok=True)
    return result.row


def finished_with_todays_oracles(
    folder: Path,
    specs: Sequence[RunSpec],
    oracle_dirs: tuple[Path, ...],
    retry_errors: bool = False,
) -> set[str]:
    """Ids of the runs of `specs` whose rows are stored with their oracle's current fingerprint
    (with `retry_errors`, less those whose status is `error`)."""
    stored = store.read_rows(folder) if store.finished_run_ids(folder) else pd.DataFrame()
    if stored.empty:
        return set()
    wanted = {spec.run_id: spec.oracle for spec in specs}
    stored = stored[stored["run_id"].isin(wanted)]
    fingerprints = {
        name: load_oracle(name, oracle_dirs).fingerprint
        for name in {wanted[i] for i in stored.run_id}
    }
    return {
        row.run_id
        for row in stored.itertuples()
        if row.fingerprint == fingerprints[wanted[row.run_id]]
        and not (retry_errors and row.status == "error")
    }


def failed_row(spec: RunSpec, message: str, oracle_dirs: tuple[Path, ...]) -> dict[str, Any]:
    """The row of a run that could not even report its own failure (its process died)."""
    oracle = load_oracle(spec.oracle, oracle_dirs)
    return {
        "run_id": spec.run_id,
        "oracle": spec.oracle,
        "method": spec.method,
        "seed": spec.seed,
        **param_columns(spec.resolved_params()),
        "spec_hash": oracle.spec_hash,
        "fingerprint": oracle.fingerprint,
        "status": "error",
        "error": message,
        "diverged_at": None,
        "num_ratings": None,
        "wall_time": None,
    }


def _worker_deaths() -> tuple[type[BaseException], ...]:
    """The exceptions that say a worker process died, not that a run failed."""
    deaths: list[type[BaseException]] = [TerminatedWorkerError]
    with contextlib.suppress(ImportError):
        from distributed import KilledWorker

        deaths.append(KilledWorker)
    return tuple(deaths)


@contextlib.contextmanager
def backend(scheduler: str | None) -> Iterator[None]:
    """joblib's process pool, or the Dask cluster at `scheduler` (tcp://HOST:PORT)."""
    if scheduler is None:
        yield
        return
    try:
        from distributed import Client
    except ImportError:
        raise SpecError(
            "--scheduler: needs dask.distributed: pip install 'hdbench[cluster]'"
        ) from None
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as error:
        raise HdbenchError(f"--scheduler: cannot connect to {scheduler}: {error}") from None
    with client, parallel_config(backend="dask"):
        yield


def notify(line: str) -> None:
    """One line for the user on stderr, between progress bars."""
    tqdm.write(f"hdbench: {line}", file=sys.stderr)


def prepare(
    specs: Sequence[RunSpec],
    folder: Path,
    n_jobs: int = -1,
    scheduler: str | None = None,
    definition: dict[str, Any] | None = None,
    oracle_dirs: Sequence[Path] = (),
) -> None:
    """Before anything runs: check everything checkable (`preflight.check_runs`, and each
    method's planned ratings against its budget, `preflight.check_budgets`), record
    `definition` (the sweep as JSON values) in the folder or refuse the folder if it holds
    another sweep, and move damaged rows aside, one line each."""
    check_budgets(specs, oracle_dirs)
    check_runs(specs, folder, n_jobs, scheduler)
    lines = [] if definition is None else store.claim(folder, definition, (s.run_id for s in specs))
    for line in [*lines, *store.heal(folder)]:
        notify(line)


def run_specs(
    specs: Sequence[RunSpec],
    folder: Path,
    oracle_dirs: Sequence[Path] = (),
    n_jobs: int = -1,
    scheduler: str | None = None,
    retry_errors: bool = False,
    definition: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run every spec not yet finished in `folder`; returns the rows of all `specs`.

    A stored row counts as finished only when its oracle's fingerprint (D and a seeded panel's
    ratings at probe points) is today's: a changed Python oracle is run again.
    """
    prepare(specs, folder, n_jobs, scheduler, definition, oracle_dirs)
    dirs = tuple(Path(d) for d in oracle_dirs)
    done = finished_with_todays_oracles(folder, specs, dirs, retry_errors)
    todo = [spec for spec in specs if spec.run_id not in done]
    bar = progress.runs_bar(len(specs), len(specs) - len(todo))
    ratings = 0

    def finished(row: dict) -> None:
        nonlocal ratings
        ratings += row["num_ratings"] or 0
        bar.set_postfix_str(f"{row['oracle']} · {row['method']} · {ratings:,} ratings")
        bar.update()
        store.write_table(store.read_rows(folder), folder, "runs")

    # A run in this process (one job) shows no progress of its own under the sweep's bar.
    with backend(scheduler), bar, progress.silenced():
        _run_resiliently(todo, folder, dirs, n_jobs, finished)
    with contextlib.suppress(OSError):  # the markers' folder, once no run is under way
        (folder / "running").rmdir()
    table = store.read_rows(folder)
    if not table.empty:
        store.write_table(table, folder, "runs")
        table = table[table["run_id"].isin({spec.run_id for spec in specs})]
    return table.reset_index(drop=True)


def _run_resiliently(
    todo: list[RunSpec], folder: Path, dirs: tuple[Path, ...], n_jobs: int, finished
) -> None:
    """Run `todo` in parallel; when a worker dies, isolate the runs it may have held."""
    deaths = _worker_deaths()
    pending = list(todo)
    while pending:
        try:
            for row in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                delayed(run_and_store)(spec, folder, dirs) for spec in pending
            ):
                finished(row)
            return
        except deaths as error:
            done = store.finished_run_ids(folder)
            pending = [spec for spec in pending if spec.run_id not in done]
            suspects = [spec for spec in pending if _marker(folder, spec).exists()]
            notify(
                f"a worker process died ({type(error).__name__}); running the "
                f"{len(suspects)} run(s) it may have held one at a time"
            )
            for spec in suspects:
                _marker(folder, spec).unlink(missing_ok=True)
                finished(_run_alone(spec, folder, dirs, deaths))
            pending = [spec for spec in pending if spec not in suspects]


def _run_alone(
    spec: RunSpec, folder: Path, dirs: tuple[Path, ...], deaths: tuple[type[BaseException], ...]
) -> dict:
    """Run one spec in a worker process of its own; if that process dies too, store and
    return an `error` row for it."""
    try:
        # Two jobs for one task: joblib runs a single job in this process, and it must not
        # take the sweep down with it.
        return Parallel(n_jobs=2)([delayed(run_and_store)(spec, folder, dirs)])[0]
    except deaths as error:
        _marker(folder, spec).unlink(missing_ok=True)
        message = (
            f"WorkerDied: the process running it died twice, alone the second time "
            f"(killed, or out of memory): {type(error).__name__}: {error}"
        )
        row = failed_row(spec, " ".join(message.split()), dirs)
        store.write_row(row, folder)
        return row
