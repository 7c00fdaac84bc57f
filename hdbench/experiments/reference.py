"""The committed reference of a reduced suite, and the check that catches regressions.

`make reference` runs benchmarks/reference.toml on its N reference seeds and stores, for every
(oracle, method, metric), the mean over seeds, the seed-to-seed sd and a tolerance in
results/reference/reference.csv. The check (`hdbench reference --check`) runs the same suite on
a set of m = `SEEDS_PER_SET` other seeds and fails, naming the metric, the oracle, the method
and both values, when the check's median moves past its tolerance in the bad direction (up for
lower-is-better, down for higher-is-better, away from 1 for ratios, either way for what has no
better direction: the stop step, the chain's state at step 500, the ratings spent).

How the false alarms of unchanged code are bounded. The tolerance is a band for one fresh seed:
mean ± k·sd·√(1 + 1/N), where a seed falls past it with probability q. A method's metric over
seeds is heavy-tailed (HumanDiffusion fails outright at about one seed in ten; a training loss
is skewed), so k is the quantile of a Student-t with `NOISE_DF` = 4 degrees of freedom scaled to
unit variance (the robust noise model of Lange, Little & Taylor 1989), not of a normal. The
median of m = 5 seeds is past the band only when 3 of the 5 are: probability at most 10q³. Each
of the C compared rows gets q = (α / 10C)^⅓ (q/2 a side for rows that can be worse both ways), so
that by Bonferroni a check of unchanged code fails with probability at most α = `FALSE_ALARM_RATE`
whatever the dependence between metrics, if no metric's noise has heavier tails than that
model; the false alarms are measured on fresh seed sets (`hdbench reference --power`).

Some rows are mixtures no such model fits: HumanDiffusion over-spreads on about one seed in
eight (precision 0.975 where the bulk of its seeds reach 0.998), and three such seeds among five
happen in about 2 % of checks. So the tolerance also reaches the reference's own worst seed
(`reach`): a value that unchanged code gave is no regression. That bound needs no model at all:
the 30 reference seeds and the 5 fresh ones are exchangeable, so the three worst of the 35 are
all fresh, which a median past every reference seed requires, with probability
C(m, ⌈m/2⌉) / C(N + m, ⌈m/2⌉) = 0.0015 (N = 30, m = 5) whatever the distribution. Shares
and counts have a least tolerance (`resolution`): a share seen at 1 in every reference seed
still allows the misses one seed's particles can hide. A run that raised an error is a
regression; a run that diverged counts with the metrics it has, as in the reference, and is past
the band on those it has none of. Check seed sets never overlap the reference seeds
(`check_seeds`); a reference made from another sweep file (seeds aside) is refused.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from hdbench import files
from hdbench.errors import SpecError
from hdbench.experiments import store
from hdbench.experiments.plan import SweepSpec
from hdbench.lazy import lazy_import
from hdbench.report.tables import direction
from hdbench.rng import stable_hash

special = lazy_import("scipy.special")

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
    "chain_steps",
    "var_ratio_target_at_500",
    "final_training_loss",
    "num_ratings",
)
#: How far a Langevin chain has got at step 500, from its trace: a changed step size that the
#: stopping rule makes up for by running longer still shows in how fast the chain moves.
EARLY_STEP = 500
EARLY_COLUMN = f"var_ratio_target_at_{EARLY_STEP}"
#: The score network's training loss over its last steps, from the run's arrays: training cut
#: short or fed other targets shows there before it shows in the samples.
LOSS_COLUMN = "final_training_loss"
LAST_TRAINING_STEPS = 50
#: Columns with no better direction, checked both ways: a stop step or an early state that moves
#: either way by more than its tolerance means the chain has changed, and ratings spent the
#: method; so does a metric whose best value is the target's (→ ceiling), which the check has no
#: ceiling to compare with.
EITHER_WAY = {"chain_steps", EARLY_COLUMN, "num_ratings"}
#: The most probability with which a check of unchanged code on fresh seeds fails.
FALSE_ALARM_RATE = 0.01
#: Degrees of freedom of the Student-t that models a metric's seed-to-seed noise.
NOISE_DF = 4
#: Seeds of one check set; check set k holds FIRST_CHECK_SEED + m·k, …, + m·k + m − 1.
SEEDS_PER_SET = 5
FIRST_CHECK_SEED = 1000
#: A row of the reference: one metric of one method on one oracle.
KEYS = ["oracle", "method", "metric"]
#: Metrics that are shares of particles, reference points or grid cells, and metrics that count
#: whole units (modes): see `resolution`.
SHARES = ("prdc_precision", "prdc_recall", "escaped_share", "grid_coverage")
COUNTS = ("modes_captured",)


def check_seeds(seed_set: int) -> list[int]:
    """The seeds of check set `seed_set` (≥ 0): disjoint from every other set and from the
    reference seeds (which are below FIRST_CHECK_SEED)."""
    if seed_set < 0:
        raise SpecError(f"seed_set: expected an integer ≥ 0, got {seed_set}")
    first = FIRST_CHECK_SEED + SEEDS_PER_SET * seed_set
    return list(range(first, first + SEEDS_PER_SET))


def sweep_hash(sweep: SweepSpec) -> str:
    """The sweep's identity without its seeds: a check on other seeds uses the same reference."""
    return stable_hash(json.dumps(sweep.definition(), sort_keys=True))


def checked_direction(metric: str) -> str:
    """lower, higher, one (closer to 1) or either (may not move)."""
    if metric in EITHER_WAY:
        return "either"
    if metric == LOSS_COLUMN:
        return "lower"
    way = direction(metric)
    return way if way in ("lower", "higher", "one") else "either"


def with_run_state(runs: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """`runs` (stored in `folder`) with EARLY_COLUMN, the variance ratio to the target at step
    EARLY_STEP of each Langevin run's trace, and LOSS_COLUMN, the mean training loss of a
    score network's last LAST_TRAINING_STEPS steps (NaN where a run has neither)."""
    early, loss = [], []
    for row in runs.to_dict("records"):
        chain = "chain_steps" in row and pd.notna(row["chain_steps"])
        trace = store.read_run_trace(folder, row) if chain else None
        at = None if trace is None else trace[trace["step"] == EARLY_STEP]
        has = at is not None and len(at) and "var_ratio_target" in at
        early.append(float(at["var_ratio_target"].iloc[0]) if has else np.nan)
        losses = store.read_run_array(folder, row, "training_loss") if chain else None
        loss.append(np.nan if losses is None else float(np.mean(losses[-LAST_TRAINING_STEPS:])))
    return runs.assign(**{EARLY_COLUMN: early, LOSS_COLUMN: loss})


def long_form(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (oracle, method, seed, metric) that `runs` has a value for."""
    metrics = [m for m in REFERENCE_METRICS if m in runs.columns]
    long = runs.melt(id_vars=["oracle", "method", "seed"], value_vars=metrics, var_name="metric")
    return long.dropna(subset=["value"])


def build_reference(runs: pd.DataFrame, sweep: SweepSpec) -> pd.DataFrame:
    """One row per (oracle, method, metric): mean, sd, num_seeds, direction, the one-seed
    band (or the least tolerance of a share or count), the reach of the worst seed and the
    tolerance, the wider of the two. A diverged run is part of what the suite does: the
    metrics it has (those of particles that ran off the target's region) count; a run that
    raised an error is refused."""
    if (runs["status"] == "error").any():
        bad = runs[runs["status"] == "error"].iloc[0]
        raise SpecError(f"reference: run {bad.run_id} failed ({bad.error}); fix it first")
    grouped = long_form(runs).groupby(KEYS)["value"]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    table = table.rename(columns={"std": "sd", "count": "num_seeds"})
    table["sd"] = table["sd"].fillna(0.0)
    table["direction"] = table["metric"].map(checked_direction)
    quantile = band_quantile(len(table), table["direction"])
    band = quantile * table["sd"] * np.sqrt(1.0 + 1.0 / table["num_seeds"])
    floors = [
        resolution(metric, mean, sweep.num_eval_samples, z)
        for metric, mean, z in zip(table["metric"], table["mean"], quantile, strict=True)
    ]
    table["band"] = np.maximum(band, floors)
    table["reach"] = reach(runs, table)
    # The small floor absorbs rounding when a metric does not vary across seeds at all.
    widest = np.maximum(table["band"], table["reach"])
    table["tolerance"] = widest + 1e-6 * (1.0 + table["mean"].abs())
    table["sweep_hash"] = sweep_hash(sweep)
    return table


def band_quantile(num_rows: int, ways: pd.Series) -> np.ndarray:
    """k of each row's band, in sds: the quantile of a unit-variance Student-t with NOISE_DF
    degrees of freedom past which a seed falls with probability q over C = `num_rows` rows (q/2
    a side for rows that can be worse both ways: either, one). The median of m seeds is past
    the band when j = ⌈m/2⌉ of them are, with probability at most binom(m, j)·q^j: q is set
    so that this is α / C."""
    past = (SEEDS_PER_SET + 1) // 2
    q = (FALSE_ALARM_RATE / (math.comb(SEEDS_PER_SET, past) * num_rows)) ** (1 / past)
    tail = np.where(ways.isin(["either", "one"]), q / 2, q)
    return special.stdtrit(NOISE_DF, 1.0 - tail) * np.sqrt((NOISE_DF - 2) / NOISE_DF)


def reach(runs: pd.DataFrame, table: pd.DataFrame) -> np.ndarray:
    """How much worse than its mean the reference's worst seed is, per row of `table` (mean,
    direction by oracle, method and metric), in the row's bad direction (either way: the
    farthest seed)."""
    worst = seed_by_seed(runs, table).groupby(KEYS)["worse"].max()
    return table.join(worst, on=KEYS)["worse"].clip(lower=0.0).to_numpy()


def seed_by_seed(runs: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """`long_form(runs)` joined with the rows of `table` (mean, direction by oracle, method and
    metric), with `worse`: how much worse each seed's value is than the row's mean."""
    seeds = long_form(runs).merge(table, on=KEYS)
    seeds["worse"] = [
        worse_by(value, mean, way)
        for value, mean, way in zip(seeds["value"], seeds["mean"], seeds["direction"], strict=True)
    ]
    return seeds


def resolution(metric: str, mean: float, num_particles: int, z: float) -> float:
    """The least tolerance of one seed's value, whatever the reference's sd: a share of
    `num_particles` indicators has a standard error √(p(1 − p)/n), with p taken one
    pseudo-count in from 0 and 1 (Laplace) so that a share seen at 1 still allows the misses n
    draws can hide, z of them; a count (modes) allows one unit. Other metrics: 0."""
    if metric in SHARES:
        share = (mean * num_particles + 1.0) / (num_particles + 2.0)
        return z * float(np.sqrt(share * (1.0 - share) / num_particles))
    if metric in COUNTS:
        return 1.0
    return 0.0


def margins(runs: pd.DataFrame, reference: pd.DataFrame, sweep: SweepSpec) -> pd.DataFrame:
    """Every reference row that `runs` has: the check's median (`new`), how much worse the
    median seed is (`worse`, negative: better) and `margin` = worse / tolerance (> 1: a
    regression). Runs that raised an error are rows of metric `status` with an infinite
    margin."""
    if reference["sweep_hash"].iloc[0] != sweep_hash(sweep):
        raise SpecError(
            "reference: made from another benchmarks/reference.toml; run `make reference`"
        )
    finished = runs[runs["status"] != "error"]
    long = seed_by_seed(finished, reference)
    # A diverged run's metric without a value (its particles ran off to infinity) is past
    # the band; the metrics it has count as they are, as in the reference.
    diverged = finished.loc[finished["status"] == "diverged", ["oracle", "method", "seed"]]
    expected = diverged.merge(reference[KEYS], on=["oracle", "method"])
    seen = long[[*KEYS, "seed"]].assign(seen=True)
    past = expected.merge(seen, on=[*KEYS, "seed"], how="left")
    past = past[past["seen"].isna()].drop(columns="seen").merge(reference, on=KEYS)
    long = pd.concat([long, past.assign(value=np.nan, worse=np.inf)], ignore_index=True)
    table = long.groupby(KEYS).agg(new=("value", "median"), worse=("worse", "median"))
    table = reference.merge(table.reset_index(), on=KEYS)
    table["margin"] = table["worse"] / table["tolerance"]
    failed = runs.loc[runs["status"] == "error", ["oracle", "method", "seed", "status", "error"]]
    failed = failed.assign(metric="status", margin=np.inf, worse=np.inf)
    return pd.concat([table, failed], ignore_index=True)


def regressions(runs: pd.DataFrame, reference: pd.DataFrame, sweep: SweepSpec) -> list[str]:
    """One message per metric whose check median moved past its tolerance in the bad direction,
    and per run that raised an error."""
    try:
        table = margins(runs, reference, sweep)
    except SpecError as error:
        return [str(error)]
    return [
        f"{row.oracle} ({row.method}) seed {row.seed:.0f}: {row.status}: {row.error}"
        if row.metric == "status"
        else f"{row.metric} on {row.oracle} ({row.method}): median {row.new:.4g} against the "
        f"reference {row.mean:.4g} ± {row.tolerance:.2g} ({explained(row.direction)})"
        for row in table.itertuples()
        if row.margin > 1.0
    ]


def explained(direction: str) -> str:
    return "it may not move" if direction == "either" else f"{direction} is better"


def worse_by(new: float, old: float, direction: str) -> float:
    """How much worse `new` is than `old` for a metric whose `direction` is lower, higher or one
    (closer to 1) is better, negative when it is better; for `either`, how far it moved."""
    return {
        "lower": new - old,
        "higher": old - new,
        "one": abs(new - 1.0) - abs(old - 1.0),
        "either": abs(new - old),
    }[direction]


def write_reference(table: pd.DataFrame, folder: Path = REFERENCE_DIR) -> Path:
    files.write_text(table.to_csv(index=False, float_format="%.10g"), folder / "reference.csv")
    return folder / "reference.csv"


def read_reference(folder: Path = REFERENCE_DIR) -> pd.DataFrame:
    path = folder / "reference.csv"
    if not path.exists():
        raise SpecError(f"{path}: no reference yet; run `make reference`")
    return pd.read_csv(path)
