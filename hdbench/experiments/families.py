"""Families: every method on generated discovery oracles, judged against what asks nobody.

`make families` (`benchmarks/families.toml`): `num_oracles` oracles of a generated family
(`hdbench.oracles.generated`), family seeds from `first_seed` (claims from 1000 on; defaults
are chosen below), each run by every method at `seeds` seeds. The oracles are written as specs
into OUT/NAME/oracles/specs/ and run as one sweep (the same runner, rows and store as any
suite), so a run that is stopped and started again skips every finished run. The report pairs
each method with the best ratings-free method on each (oracle, seed) (`hdbench.report.families`)
by each metric of `metrics` (default: the headline pair).

    hdbench families [benchmarks/families.toml] [--out results] [--jobs N] [--report-only]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import ConfigDict, Field, field_validator

from hdbench import files
from hdbench.errors import SpecError
from hdbench.experiments import store
from hdbench.experiments.executor import notify, prepare, run_specs
from hdbench.experiments.oracle_suite import run_oracle_suite
from hdbench.experiments.plan import BENCHMARKS_DIR, SweepSpec
from hdbench.experiments.run import escape_status
from hdbench.experiments.scaling import write_oracle_specs
from hdbench.metrics import METRICS, TruthContext
from hdbench.metrics.headline import HEADLINE_METRICS
from hdbench.metrics.metric import MIN_SAMPLES
from hdbench.oracles import Oracle, load_oracle
from hdbench.oracles.generated import FAMILY_NAMES, generate_spec, oracle_name
from hdbench.protocol import NUM_EVAL_SAMPLES
from hdbench.report.families import (
    family_markdown,
    oracle_shapes,
    paired_table,
    summary_table,
)
from hdbench.report.family_figures import plot_family
from hdbench.validation import UserModel, read_toml, validate


class FamilySuite(UserModel):
    """What `make families` runs: a generated family's oracles × methods × seeds."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)
    name: str = Field("families", pattern=r"^[a-z][a-z0-9_]*$")
    family: Literal["bumps", "curved", "discovery"] = "discovery"
    first_seed: int = Field(1000, ge=0, description="the family seed of the first oracle")
    num_oracles: int = Field(20, ge=1)
    methods: list[str] = Field(min_length=1)
    seeds: int = Field(3, ge=1, description="method seeds per oracle")
    method_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    metrics: list[str] | None = Field(
        None, description="the metrics the report pairs on; default: the headline pair"
    )
    num_eval_samples: int = Field(NUM_EVAL_SAMPLES, ge=MIN_SAMPLES)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str] | None) -> list[str] | None:
        for metric in metrics or []:
            if metric not in METRICS:
                raise ValueError(
                    f"expected registered metrics ({', '.join(METRICS)}), got {metric!r}"
                )
        return metrics

    def oracle_names(self) -> list[str]:
        seeds = range(self.first_seed, self.first_seed + self.num_oracles)
        return [oracle_name(self.family, seed) for seed in seeds]

    def report_metrics(self) -> list[str]:
        return list(self.metrics) if self.metrics is not None else list(HEADLINE_METRICS)

    def definition(self) -> dict[str, Any]:
        """What the results folder holds: the family's oracles and how runs are scored; not the
        method seeds or the methods, so that more of either join the same table."""
        return self.model_dump(mode="json", exclude={"seeds", "methods", "metrics"})

    def sweep(self) -> SweepSpec:
        return SweepSpec(
            name=self.name,
            oracles=self.oracle_names(),
            methods=self.methods,
            seeds=self.seeds,
            method_params=self.method_params,
            num_eval_samples=self.num_eval_samples,
        )


def read_family_suite(path_or_name: str | Path) -> FamilySuite:
    """A families file by path, or by name from benchmarks/ (`families`)."""
    path = Path(path_or_name)
    if path.suffix != ".toml":
        path = BENCHMARKS_DIR / f"{path_or_name}.toml"
    data = read_toml(path, "families file")
    data.setdefault("name", path.stem)
    return validate(FamilySuite, data, str(path))


def write_family_oracles(suite: FamilySuite, folder: Path) -> Path:
    """The suite's oracle specs as folder/NAME.toml; returns the folder."""
    if suite.family not in FAMILY_NAMES:
        raise SpecError(f"family: expected one of {', '.join(FAMILY_NAMES)}")
    specs = {
        oracle_name(suite.family, seed): generate_spec(suite.family, seed)
        for seed in range(suite.first_seed, suite.first_seed + suite.num_oracles)
    }
    return write_oracle_specs(specs, folder)


def run_families(
    suite: FamilySuite,
    out: Path,
    n_jobs: int = -1,
    scheduler: str | None = None,
    retry_errors: bool = False,
    report_only: bool = False,
) -> pd.DataFrame:
    """Run the suite into out/NAME (resuming what is there) and write its report; returns the
    paired table (one row per method, metric, oracle and seed). With `report_only`, nothing
    is run: the report covers the runs finished so far."""
    folder = out / suite.name
    oracle_dir = write_family_oracles(suite, folder / "oracles" / "specs")
    dirs = (oracle_dir,)
    sweep = suite.sweep()
    specs = sweep.runs(dirs)
    prepare(specs, folder, n_jobs, scheduler, suite.definition(), dirs)
    oracles = [load_oracle(name, dirs) for name in suite.oracle_names()]
    brackets = brackets_of(folder, oracles, suite.num_eval_samples, suite.report_metrics(), n_jobs)
    if report_only:
        stored = store.read_rows(folder)
        wanted = {spec.run_id for spec in specs}
        runs = stored[stored["run_id"].isin(wanted)].reset_index(drop=True)
        notify(f"report of the {len(runs)} of {len(specs)} runs finished")
    else:
        runs = run_specs(specs, folder, dirs, n_jobs, scheduler, retry_errors, suite.definition())
    runs = complete_rows(folder, runs, oracles, suite.report_metrics())
    return write_family_report(folder, runs, brackets, oracles, suite.report_metrics())


def complete_rows(
    folder: Path, runs: pd.DataFrame, oracles: Sequence[Oracle], metrics: Sequence[str]
) -> pd.DataFrame:
    """`runs` with every metric of `metrics` and the escaped share filled in: a finished run
    whose row was stored before a metric existed gets it from its stored samples, scored as a
    run is today (its seed's truth context; `diverged` when its particles left the target's
    region), and its row is stored again. Returns the updated table."""
    wanted = [*metrics, "escaped_share"]
    finished = runs.index[runs["status"] == "ok"]
    missing = [m for m in wanted if m not in runs or runs.loc[finished, m].isna().any()]
    if not missing:
        return runs
    by_name = {oracle.name: oracle for oracle in oracles}
    stored = store.stored_rows(folder)
    updated = 0
    for (name, seed), group in runs.loc[finished].groupby(["oracle", "seed"]):
        oracle = by_name[name]
        context = TruthContext.build(oracle.truth, oracle.real_data, seed=int(seed))
        applicable = [m for m in missing if METRICS[m].applies(context)]
        for index, row in group.iterrows():
            absent = [m for m in applicable if m not in runs or pd.isna(row.get(m))]
            samples = store.read_run_array(folder, row, "samples") if absent else None
            if samples is None:
                continue
            record = stored[row["run_id"]]
            record.update({m: float(METRICS[m].fn(samples, context)) for m in absent})
            if "escaped_share" in absent:
                record.update(escape_status(record["escaped_share"]))
            for key in [*absent, "status", "error"]:
                runs.loc[index, key] = record.get(key)
            store.write_row(record, folder)
            updated += 1
    if updated:
        notify(f"{updated} rows scored by {', '.join(missing)} from their stored samples")
        store.write_table(store.read_rows(folder), folder, "runs")
    return runs


def brackets_of(
    folder: Path,
    oracles: Sequence[Oracle],
    num_samples: int,
    metrics: Sequence[str],
    n_jobs: int = 1,
) -> pd.DataFrame:
    """The oracles' floors and ceilings: stored ones when they are of today's oracles, of sets
    of `num_samples`, and hold `metrics`; else computed (`run_oracle_suite`) and stored."""
    try:
        stored = store.read_table(folder / "oracles", "brackets")
    except (OSError, ValueError):
        stored = pd.DataFrame()
    wanted = {(o.name, o.fingerprint) for o in oracles}
    if not stored.empty:
        have = set(zip(stored["oracle"], stored["fingerprint"], strict=True))
        sizes = set(stored.loc[stored["bracket"] != "real_data", "num_samples"])
        if wanted <= have and sizes == {num_samples} and set(metrics) <= set(stored["metric"]):
            return stored[stored["oracle"].isin({o.name for o in oracles})]
    notify(f"brackets of {len(oracles)} generated oracles (floor, real data, ceiling)")
    return run_oracle_suite(folder, oracles, num_samples, n_jobs)


def write_family_report(
    folder: Path,
    runs: pd.DataFrame,
    brackets: pd.DataFrame,
    oracles: Sequence[Oracle],
    metrics: Sequence[str],
) -> pd.DataFrame:
    """families.md, paired.csv/.parquet, summary.csv/.parquet and figures/families.png."""
    shapes = oracle_shapes(oracles)
    paired = paired_table(runs, brackets, shapes, metrics)
    summary = summary_table(paired)
    store.write_table(paired, folder, "paired")
    store.write_table(summary, folder, "family_summary")
    files.write_text(family_markdown(summary, paired, runs), folder / "families.md")
    plot_family(paired, summary, store.figure_path(folder / "figures", "families"))
    return paired
