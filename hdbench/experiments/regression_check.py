"""The regression check on fresh seeds, with or without a mutant, and its measured power.

`run_check` runs the reference suite (or the methods a mutant touches) on one check seed set,
each run in a worker with the mutant applied (`hdbench.experiments.mutants`), into a folder of
its own per mutant: a mutant's runs have the unchanged runs' ids. `power` runs the unchanged
code on `num_sets` seed sets and every mutant on the set after them, and tabulates what the
check says (`hdbench reference --power`, results/reference/power.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from hdbench import progress
from hdbench.experiments import store
from hdbench.experiments.executor import run_and_store
from hdbench.experiments.mutants import MUTANTS, applied
from hdbench.experiments.plan import SweepSpec
from hdbench.experiments.reference import check_seeds, margins, with_run_state
from hdbench.experiments.run import RunSpec

UNCHANGED = "unchanged"


def _run_mutated(spec: RunSpec, folder: Path, mutant: str | None) -> dict:
    with applied(mutant):
        return run_and_store(spec, folder)


def run_check(
    sweep: SweepSpec,
    seed_set: int,
    folder: Path,
    mutant: str | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """The rows of `sweep` on check set `seed_set`, restricted to the methods `mutant` touches
    and run with it applied; runs already in `folder`/MUTANT are read, not redone (the command
    line starts from an empty folder, since stored runs may be of other code)."""
    methods = (
        sweep.methods
        if mutant is None
        else [m for m in sweep.methods if m in MUTANTS[mutant].methods]
    )
    where = folder / (mutant or UNCHANGED)
    specs = sweep.model_copy(update={"seeds": check_seeds(seed_set), "methods": methods}).runs()
    done = store.finished_run_ids(where) if where.exists() else set()
    todo = [spec for spec in specs if spec.run_id not in done]
    bar = progress.runs_bar(len(specs), len(specs) - len(todo), desc=mutant or UNCHANGED)
    with bar, progress.silenced():
        for _ in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_run_mutated)(spec, where, mutant) for spec in todo
        ):
            bar.update()
    rows = store.read_rows(where)
    return with_run_state(rows[rows["run_id"].isin({spec.run_id for spec in specs})], where)


def power(
    sweep: SweepSpec,
    reference: pd.DataFrame,
    folder: Path,
    mutants: Sequence[str] | None = None,
    num_sets: int = 10,
    n_jobs: int = 1,
    first_set: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every reference row's margin (worse / tolerance) under the unchanged code on check sets
    first_set … first_set + num_sets − 1, and under each mutant on the set after them:
    (mutant margins, unchanged margins), tidy, with columns `mutant` and `seed_set`."""
    caught = []
    for name in mutants or list(MUTANTS):
        if not set(MUTANTS[name].methods) & set(sweep.methods):
            continue
        runs = run_check(sweep, first_set + num_sets, folder, name, n_jobs)
        caught.append(
            margins(runs, reference, sweep).assign(mutant=name, seed_set=first_set + num_sets)
        )
    unchanged = []
    for seed_set in range(first_set, first_set + num_sets):
        runs = run_check(sweep, seed_set, folder, None, n_jobs)
        unchanged.append(margins(runs, reference, sweep).assign(seed_set=seed_set))
    return pd.concat(caught, ignore_index=True), pd.concat(unchanged, ignore_index=True)


def power_markdown(caught: pd.DataFrame, unchanged: pd.DataFrame) -> str:
    """The power table (mutant × oracle: the metric that catches it by the largest margin, as a
    multiple of its tolerance) and the unchanged code's false alarms per seed set."""
    oracles = sorted(caught["oracle"].unique())
    seeds = ", ".join(str(s) for s in check_seeds(int(caught["seed_set"].iloc[0])))
    lines = [
        f"Mutants on seeds {seeds}; each cell: the metric and method that catch the mutant by the "
        "largest margin, as a multiple of its tolerance (above 1×: caught).",
        "",
        "| mutant | what it changes | " + " | ".join(oracles) + " | caught |",
        "|---|---|" + "---|" * len(oracles) + "---|",
    ]
    for name, rows in caught.groupby("mutant", sort=False):
        cells = []
        for oracle in oracles:
            here = rows[rows["oracle"] == oracle]
            if here.empty:
                cells.append("—")
                continue
            best = here.loc[here["margin"].idxmax()]
            mark = "**caught**" if best.margin > 1 else "missed"
            if best.metric == "status":
                failed = here[here["metric"] == "status"]
                cells.append(f"{mark}: {len(failed)} run(s) {best.status} ({best.method})")
            else:
                cells.append(f"{mark}: {best.metric} ({best.method}) {best.margin:.1f}×")
        verdict = "yes" if (rows["margin"] > 1).any() else "**no**"
        lines.append(
            f"| {name} | {MUTANTS[name].description} | " + " | ".join(cells) + f" | {verdict} |"
        )
    lines += ["", "| seed set | seeds | false alarms | largest margin |", "|---|---|---|---|"]
    for seed_set, rows in unchanged.groupby("seed_set"):
        seeds = ", ".join(str(s) for s in check_seeds(int(seed_set)))
        worst = rows.loc[rows["margin"].idxmax()]
        lines.append(
            f"| {seed_set} | {seeds} | {int((rows['margin'] > 1).sum())} | "
            f"{worst.margin:.2f}× ({worst.metric}, {worst.oracle}, {worst.method}) |"
        )
    return "\n".join(lines) + "\n"
