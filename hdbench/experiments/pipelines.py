"""The recipes behind the command line, as functions Python calls alike: one run, a comparison,
a suite, a sweep and the reference. Each checks what it can before anything is computed, runs,
and writes its folder; the command line only parses its options and prints what comes back."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hdbench import files, progress
from hdbench.errors import SpecError
from hdbench.experiments import reference, run, store
from hdbench.experiments.executor import run_specs
from hdbench.experiments.plan import SweepSpec, read_sweep
from hdbench.experiments.preflight import check_memory, check_output
from hdbench.experiments.run import RunPlan, RunResult, RunSpec
from hdbench.experiments.suite import run_suite
from hdbench.metrics import TruthContext
from hdbench.oracles import Oracle
from hdbench.report.sweep_figures import plot_frontier, plot_heatmaps, sweep_markdown
from hdbench.studies.ledger import Ledger
from hdbench.validation import validate

#: The methods `compare` runs, in the order of its table.
COMPARED_METHODS = [
    "humangan_truncated",
    "humangan",
    "humandiffusion",
    "humandiffusion_iter",
    "data_diffusion",
]


def run_one(
    spec: RunSpec, oracle: Oracle, folder: Path | None = None, replay: Path | None = None
) -> tuple[RunResult, Path]:
    """One run into `folder` (default: results/ORACLE/METHOD/RUN_ID) with its files and
    figures, answered by simulated panels or by the ledger `replay`; returns the result and
    the folder. A bad parameter, budget, replay ledger or folder is refused first."""
    RunPlan.build(spec, oracle)
    if replay is not None:
        if not replay.is_file():
            raise SpecError(f"--replay: expected a ledger file (ledger.sqlite), got {replay}")
        Ledger(replay, create=False).close()  # one that is not a ledger is refused now
    check_memory([spec])
    folder = folder or store.run_folder(Path("results"), oracle.name, spec.method, spec.run_id)
    check_output(folder, "--out")
    context = TruthContext.build(oracle.truth, oracle.real_data, seed=spec.seed)
    result = run.execute(spec, oracle, context, folder=folder, replay=replay)
    write_run_outputs(oracle, context, result, folder)
    return result, folder


def write_run_outputs(oracle: Oracle, context: TruthContext, result: RunResult, folder: Path):
    """A finished run's files and figures in `folder` (a study people answered: its listening
    test, participants and SCORING.md instead of the metrics' figures)."""
    from hdbench.report.run_figures import write_run_figures

    store.write_run(result, folder)
    if result.row.get("answered_by") == "people":
        from hdbench.report.people_report import write_people_outputs

        write_people_outputs(oracle, result, folder)
    elif result.row["status"] == "ok":
        with progress.phase("figures"):
            write_run_figures(oracle, context, result, folder)


def compare(
    oracle: Oracle,
    seed: int,
    folder: Path | None,
    oracle_dirs: Sequence[Path] = (),
    method_params: dict[str, dict[str, Any]] | None = None,
    sizes: dict[str, int] | None = None,
    n_jobs: int = -1,
    scheduler: str | None = None,
) -> tuple[pd.DataFrame, Path]:
    """Every compared method on `oracle` at `seed` (with `method_params` per method, and
    `sizes` such as num_eval_samples), as a suite into `folder` (default:
    results/compare/ORACLE); returns its runs and the folder."""
    fields = {
        "name": "compare",
        "oracles": [oracle.name],
        "methods": COMPARED_METHODS,
        "seeds": [seed],
        "method_params": method_params or {},
        **(sizes or {}),
    }
    sweep = validate(SweepSpec, fields, "compare")
    folder = folder or Path("results") / "compare" / oracle.name
    return run_suite(sweep, folder, oracle_dirs, n_jobs, scheduler), folder


def bench(
    suite: str,
    out: Path,
    oracle_dirs: Sequence[Path] = (),
    n_jobs: int = -1,
    scheduler: str | None = None,
    retry_errors: bool = False,
    method_params: dict[str, dict[str, Any]] | None = None,
) -> tuple[pd.DataFrame, Path]:
    """The suite named `suite` (benchmarks/SUITE.toml) into out/NAME, with `method_params`
    over the suite's own; its runs and folder."""
    sweep = read_sweep(suite)
    if method_params:
        merged = {
            method: {**sweep.method_params.get(method, {}), **method_params.get(method, {})}
            for method in {*sweep.method_params, *method_params}
        }
        sweep = validate(SweepSpec, {**sweep.model_dump(), "method_params": merged}, suite)
    folder = out / sweep.name
    runs = run_suite(sweep, folder, oracle_dirs, n_jobs, scheduler, retry_errors=retry_errors)
    return runs, folder


def sweep(
    spec: SweepSpec,
    out: Path,
    oracle_dirs: Sequence[Path] = (),
    n_jobs: int = -1,
    scheduler: str | None = None,
    retry_errors: bool = False,
) -> tuple[pd.DataFrame, str]:
    """Every run of `spec` into out/NAME (resuming what is there), with its heatmaps, frontier
    and summary.md; returns the runs and the summary."""
    specs = spec.runs(oracle_dirs)
    folder = out / spec.name
    runs = run_specs(
        specs,
        folder,
        oracle_dirs,
        n_jobs,
        scheduler,
        retry_errors=retry_errors,
        definition=spec.definition(),
    )
    keys = spec.grid_keys()
    figures = folder / "figures"
    with progress.phase("figures and summary"):
        plot_heatmaps(runs, keys, figures)
        plot_frontier(runs, keys, store.figure_path(figures, "frontier"))
        summary = sweep_markdown(runs, keys)
        files.write_text(summary, folder / "summary.md")
    return runs, summary


def make_reference(
    out: Path | None = None, n_jobs: int = -1, scheduler: str | None = None
) -> tuple[pd.DataFrame, Path, Path]:
    """The reduced suite run afresh and its reference table written into `out` (default: the
    committed results/reference) with its summary and figures; returns the runs, the table's
    path and the folder."""
    sweep_spec = read_sweep("reference")
    out = out or reference.REFERENCE_DIR
    scratch = out.parent / f"{out.name}-runs"
    shutil.rmtree(scratch, ignore_errors=True)
    runs = run_suite(sweep_spec, scratch, n_jobs=n_jobs, scheduler=scheduler)
    runs = reference.with_run_state(runs, scratch)
    path = reference.write_reference(reference.build_reference(runs, sweep_spec), out)
    files.write_text((scratch / "summary.md").read_text(), out / "summary.md")
    for name in ("metrics", "samples"):
        shutil.copyfile(scratch / "figures" / f"{name}.png", out / f"{name}.png")
    return runs, path, out


def check_reference(
    seed_set: int, mutant: str | None = None, out: Path | None = None, n_jobs: int = -1
) -> tuple[list[str], str]:
    """The reduced suite on check seed set `seed_set` (with `mutant` applied) against the
    reference in `out` (default: the committed one): the regressions found, and what was
    checked ("unchanged code, seeds 1000, 1001, 1002")."""
    from hdbench.experiments import regression_check
    from hdbench.experiments.mutants import MUTANTS

    if mutant is not None:
        MUTANTS[mutant]  # an unknown name fails here, in one line
    sweep_spec = read_sweep("reference")
    out = out or reference.REFERENCE_DIR
    table = reference.read_reference(out)
    # Made afresh every time: runs stored by an earlier check may be of other code.
    scratch = out.parent / f"{out.name}-check"
    shutil.rmtree(scratch, ignore_errors=True)
    runs = regression_check.run_check(sweep_spec, seed_set, scratch, mutant, n_jobs)
    what = f"mutant {mutant}" if mutant else "unchanged code"
    seeds = ", ".join(str(s) for s in reference.check_seeds(seed_set))
    return reference.regressions(runs, table, sweep_spec), f"{what}, seeds {seeds}"


def reference_power(
    num_sets: int, first_set: int = 0, out: Path | None = None, n_jobs: int = -1
) -> tuple[str, Path]:
    """The unchanged code on check sets first_set … first_set + num_sets − 1, and every mutant
    on the next, against the reference in `out`: the power table (markdown), also written with
    its tidy margins (power.md, power.csv) into `out`."""
    from hdbench.experiments import regression_check

    sweep_spec = read_sweep("reference")
    out = out or reference.REFERENCE_DIR
    table = reference.read_reference(out)
    scratch = out.parent / f"{out.name}-check"
    shutil.rmtree(scratch, ignore_errors=True)
    caught, unchanged = regression_check.power(
        sweep_spec, table, scratch, num_sets=num_sets, n_jobs=n_jobs, first_set=first_set
    )
    text = regression_check.power_markdown(caught, unchanged)
    files.write_text(text, out / "power.md")
    files.write_frame(pd.concat([caught, unchanged], ignore_index=True), out / "power.csv")
    return text, out / "power.md"
