"""The committed reference of a reduced suite, and the check that catches regressions.

`make reference` runs benchmarks/reference.toml and stores, for every (oracle, method, metric),
the mean over seeds, the seed-to-seed sd and a tolerance of four standard errors of that mean
(4 sd / √seeds) in results/reference/reference.csv. The regression test runs the same suite and
fails, naming the metric, the oracle, the method and both values, when a mean moves past its
tolerance in the bad direction (up for lower-is-better, down for higher-is-better, away from 1
for ratios). A reference made from another sweep file is refused as stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from hdbench import files
from hdbench.errors import SpecError
from hdbench.experiments.plan import SweepSpec
from hdbench.report.tables import direction
from hdbench.rng import stable_hash

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "results" / "reference"
REFERENCE_METRICS = (
    "ksd2",
    "mmd2_multiscale",
    "mmd2",
    "energy_distance",
    "sliced_w2",
    "var_ratio_target",
    "escaped_share",
    "collapse_ratio",
    "grid_coverage",
    "prdc_precision",
    "prdc_recall",
    "modes_captured",
    "mean_true_d",
)
NUM_STANDARD_ERRORS = 4.0
#: Metrics that are shares of particles, reference points or grid cells: their seed-to-seed sd is
#: 0 where every seed gives the same share (a precision of 1), though one particle more or less
#: is within chance.
SHARES = ("prdc_precision", "prdc_recall", "escaped_share", "grid_coverage")
#: Metrics that count whole units (modes): their mean over seeds moves in steps of 1 / seeds.
COUNTS = ("modes_captured",)


def sweep_hash(sweep: SweepSpec) -> str:
    return stable_hash(json.dumps(sweep.canonical(), sort_keys=True))


def build_reference(runs: pd.DataFrame, sweep: SweepSpec) -> pd.DataFrame:
    """One row per (oracle, method, metric): mean, sd, seeds, tolerance, direction. A diverged
    run is part of what the suite does: the metrics it has (those of particles that ran off the
    target's region) count; a run that failed is refused."""
    if (runs["status"] == "error").any():
        bad = runs[runs["status"] == "error"].iloc[0]
        raise SpecError(f"reference: run {bad.run_id} failed ({bad.error}); fix it first")
    metrics = [m for m in REFERENCE_METRICS if m in runs.columns]
    long = runs.melt(id_vars=["oracle", "method", "seed"], value_vars=metrics, var_name="metric")
    long = long.dropna(subset=["value"])
    table = long.groupby(["oracle", "method", "metric"])["value"].agg(["mean", "std", "count"])
    table = table.rename(columns={"std": "sd", "count": "num_seeds"}).reset_index()
    table["sd"] = table["sd"].fillna(0.0)
    # The small floor absorbs rounding when a metric does not vary across seeds at all.
    spread = NUM_STANDARD_ERRORS * table["sd"] / np.sqrt(table["num_seeds"])
    floors = [
        resolution(*row, sweep.num_eval_samples)
        for row in table[["metric", "mean", "num_seeds"]].itertuples(index=False)
    ]
    table["tolerance"] = np.maximum(spread, floors) + 1e-6 * (1.0 + table["mean"].abs())
    table["direction"] = table["metric"].map(direction)
    table["sweep_hash"] = sweep_hash(sweep)
    return table


def resolution(metric: str, mean: float, num_seeds: int, num_particles: int) -> float:
    """The least tolerance a metric's mean over `num_seeds` runs can have, whatever the sd seen.

    A share over N = seeds × particles indicators has a standard error of √(p(1 − p)/N), with p
    taken one pseudo-count in from 0 and 1 (Laplace) so that a share seen at 1 in every seed
    still allows the misses N draws can hide; four of them, as for the sd. A count (modes)
    allows one unit in one seed. Other metrics: 0."""
    if metric in SHARES:
        total = num_seeds * num_particles
        share = (mean * total + 1.0) / (total + 2.0)
        return NUM_STANDARD_ERRORS * float(np.sqrt(share * (1.0 - share) / total))
    if metric in COUNTS:
        return 1.0 / num_seeds
    return 0.0


def regressions(runs: pd.DataFrame, reference: pd.DataFrame, sweep: SweepSpec) -> list[str]:
    """One message per metric whose mean moved past its tolerance in the bad direction."""
    if reference["sweep_hash"].iloc[0] != sweep_hash(sweep):
        return ["reference: made from another benchmarks/reference.toml; run `make reference`"]
    current = build_reference(runs, sweep).set_index(["oracle", "method", "metric"])["mean"]
    failures = []
    for row in reference.itertuples():
        key = (row.oracle, row.method, row.metric)
        if key not in current.index:
            continue
        new, old, tolerance = float(current[key]), row.mean, row.tolerance
        if worse_by(new, old, row.direction) > tolerance:
            failures.append(
                f"{row.metric} on {row.oracle} ({row.method}): {new:.4g} against the reference "
                f"{old:.4g} ± {tolerance:.2g} ({row.direction} is better)"
            )
    return failures


def worse_by(new: float, old: float, direction: str) -> float:
    """How much worse `new` is than `old` for a metric whose `direction` is lower, higher or one
    (closer to 1) is better; negative when it is better."""
    return {
        "lower": new - old,
        "higher": old - new,
        "one": abs(new - 1.0) - abs(old - 1.0),
    }.get(direction, 0.0)


def write_reference(table: pd.DataFrame, folder: Path = REFERENCE_DIR) -> Path:
    files.write_text(table.to_csv(index=False, float_format="%.10g"), folder / "reference.csv")
    return folder / "reference.csv"


def read_reference(folder: Path = REFERENCE_DIR) -> pd.DataFrame:
    path = folder / "reference.csv"
    if not path.exists():
        raise SpecError(f"{path}: no reference yet; run `make reference`")
    return pd.read_csv(path)
