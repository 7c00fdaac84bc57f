"""Running many specs: in parallel processes (joblib) or on a Dask cluster, resumably.

Each worker runs one spec and stores its run folder, then its row, each written whole; the row
is the mark that the run is finished. A sweep started again skips the runs whose rows exist, so
an interrupted sweep (Ctrl-C, kill) loses no finished run and never leaves a half row. After
every finished run the table (runs.csv, runs.parquet) is rewritten from the stored rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed, parallel_config
from tqdm import tqdm

from hdbench.experiments import store
from hdbench.experiments.run import RunSpec, execute
from hdbench.metrics import TruthContext
from hdbench.oracles import Oracle, load_oracle
from hdbench.threads import apply_thread_policy


@cache
def _oracle_and_context(
    name: str, oracle_dirs: tuple[Path, ...], spec_hash: str
) -> tuple[Oracle, TruthContext]:
    """The oracle and its truth context, kept per process for each version of its spec."""
    oracle = load_oracle(name, oracle_dirs)
    return oracle, TruthContext.build(oracle.truth, oracle.real_data)


def run_and_store(spec: RunSpec, folder: Path, oracle_dirs: tuple[Path, ...] = ()) -> dict:
    """Run one spec in this process and store its folder and row; returns the row.

    Parallelism is across runs; each worker follows the thread policy (`hdbench.threads`).
    """
    apply_thread_policy()
    oracle, context = _oracle_and_context(spec.oracle, oracle_dirs, spec.oracle_spec_hash)
    where = store.run_folder(folder, oracle.name, spec.method, spec.run_id)
    result = execute(spec, oracle, context, folder=where)
    store.write_run(result, where)
    store.write_row(result.row, folder)
    return result.row


def finished_with_todays_oracles(
    folder: Path, specs: Sequence[RunSpec], oracle_dirs: tuple[Path, ...]
) -> set[str]:
    """Ids of the runs of `specs` whose rows are stored with their oracle's current fingerprint."""
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
    }


@contextlib.contextmanager
def backend(scheduler: str | None) -> Iterator[None]:
    """joblib's process pool, or the Dask cluster at `scheduler` (tcp://HOST:PORT)."""
    if scheduler is None:
        yield
        return
    from distributed import Client

    with Client(scheduler), parallel_config(backend="dask"):
        yield


def run_specs(
    specs: Sequence[RunSpec],
    folder: Path,
    oracle_dirs: Sequence[Path] = (),
    n_jobs: int = -1,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Run every spec not yet finished in `folder`; returns the rows of all `specs`.

    A stored row counts as finished only when its oracle's fingerprint (D and a seeded panel's
    ratings at probe points) is today's: a changed Python oracle is run again.
    """
    dirs = tuple(Path(d) for d in oracle_dirs)
    done = finished_with_todays_oracles(folder, specs, dirs)
    todo = [spec for spec in specs if spec.run_id not in done]
    progress = tqdm(total=len(specs), initial=len(specs) - len(todo), desc="runs", unit="run")
    ratings = 0
    with backend(scheduler), progress:
        rows = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(run_and_store)(spec, folder, dirs) for spec in todo
        )
        for row in rows:
            ratings += row["num_ratings"]
            progress.set_postfix_str(f"{row['oracle']} · {row['method']} · {ratings:,} ratings")
            progress.update()
            store.write_table(store.read_rows(folder), folder, "runs")
    table = store.read_rows(folder)
    if not table.empty:
        store.write_table(table, folder, "runs")
        table = table[table["run_id"].isin({spec.run_id for spec in specs})]
    return table.reset_index(drop=True)
