"""A family's verdict: each method against the best method that asks nobody, pair by pair.

For each metric and each (oracle, seed) pair, a method's **gap** is how far its value lies from
the ceiling (the mean over exact target sample sets of the same size), in the metric's bad
direction, floored at the ceiling's own standard deviation: below that, a sample set cannot be
told from exact samples. The **ratio** is the baseline's gap over the method's: 3 means three
times closer to the truth. The baseline is the best ratings-free competitor (every one of its
runs spent 0 ratings) of best mean rank among them over the pairs all of them finished, chosen
per metric.

Per method and metric: the pairs, the win rate (ratio > 1; a tie, both at the floor, counts a
half), the median ratio, the Wilcoxon signed-rank test of the log ratios (two-sided, scipy) and
its effect size, the matched-pairs rank-biserial correlation r = (R⁺ - R⁻) / (R⁺ + R⁻) (Kerby
2014): +1 when the method is closer on every pair, -1 when farther. A run that failed (error,
diverged) loses its pair, ranked below every measured loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hdbench.metrics.metric import metric_info
from hdbench.oracles import Oracle
from hdbench.report.tables import ARROWS

#: Dimension groups of the breakdown tables.
DIM_GROUPS = ((2, 3), (4, 5), (6, 8))
PAIRED_COLUMNS = [
    "method",
    "reference",
    "metric",
    "oracle",
    "seed",
    "shape",
    "dim",
    "baseline",
    "value",
    "baseline_value",
    "ratio",
    "status",
]


def oracle_shapes(oracles: Sequence[Oracle]) -> pd.DataFrame:
    """One row per oracle: name, shape (`bumps` or `curved`), dim, modes, modes with real data."""
    rows = []
    for oracle in oracles:
        kind = oracle.spec.acceptability["kind"]
        seen = oracle.spec.real_data.get("modes", [])
        rows.append(
            {
                "oracle": oracle.name,
                "shape": "curved" if kind == "twisted" else "bumps",
                "dim": oracle.dim,
                "num_modes": len(oracle.truth.modes),
                "num_seen": len(seen),
            }
        )
    return pd.DataFrame(rows)


def gaps(runs: pd.DataFrame, brackets: pd.DataFrame, metric: str) -> pd.Series:
    """Each row's gap to the ceiling in `metric`'s bad direction, floored at the ceiling's sd;
    NaN where the metric or the ceiling is missing, +inf for a run that did not finish ok."""
    ceiling = brackets[(brackets["bracket"] == "ceiling") & (brackets["metric"] == metric)]
    levels = ceiling.set_index("oracle")[["mean", "sd"]]
    centre = runs["oracle"].map(levels["mean"])
    noise = runs["oracle"].map(levels["sd"])
    value = runs[metric] if metric in runs else pd.Series(np.nan, index=runs.index)
    way = metric_info(metric).direction
    if way == "lower":
        raw = value - centre
    elif way == "higher":
        raw = centre - value
    else:
        raw = (value - centre).abs()
    gap = np.maximum(raw, noise)
    failed = runs["status"] != "ok"
    return gap.where(~failed, np.inf).where(centre.notna())


def ratings_free(runs: pd.DataFrame) -> list[str]:
    """Competitors (not references) every run of which spent 0 ratings."""
    competitors = runs[~runs["reference"].astype(bool)]
    spent = competitors.groupby("method")["num_ratings"].apply(lambda s: (s.fillna(0) == 0).all())
    return sorted(spent[spent].index)


def paired_table(
    runs: pd.DataFrame, brackets: pd.DataFrame, shapes: pd.DataFrame, metrics: Sequence[str]
) -> pd.DataFrame:
    """One row per (method, metric, oracle, seed): `PAIRED_COLUMNS`, ratio = baseline gap /
    method gap (NaN where the metric does not apply; 0 for a failed run)."""
    baselines = ratings_free(runs)
    parts = []
    for metric in metrics:
        frame = runs[["oracle", "method", "seed", "reference", "status"]].copy()
        frame["value"] = runs.get(metric, np.nan)
        frame["gap"] = gaps(runs, brackets, metric)
        best = best_baseline(frame, baselines)
        if best is None:
            continue
        base = frame[frame["method"] == best].set_index(["oracle", "seed"])
        keys = pd.MultiIndex.from_frame(frame[["oracle", "seed"]])
        frame["baseline"] = best
        frame["baseline_value"] = base["value"].reindex(keys).to_numpy()
        baseline_gap = base["gap"].reindex(keys).to_numpy()
        with np.errstate(invalid="ignore"):  # inf / inf: the baseline's run failed too
            frame["ratio"] = baseline_gap / frame["gap"].to_numpy()
        frame["metric"] = metric
        parts.append(frame[frame["method"] != best])
    if not parts:
        return pd.DataFrame(columns=PAIRED_COLUMNS)
    paired = pd.concat(parts, ignore_index=True).merge(shapes, on="oracle", how="left")
    paired = paired[np.isfinite(paired["ratio"])]  # drops what does not apply, and lost baselines
    return paired[PAIRED_COLUMNS].reset_index(drop=True)


def best_baseline(frame: pd.DataFrame, baselines: Sequence[str]) -> str | None:
    """The baseline of best mean rank among the baselines over the (oracle, seed) pairs every
    one of them finished (gaps of different oracles are not on one scale, their ranks are; and
    one run on easy oracles only cannot look best), ties broken by median gap; None without
    such pairs."""
    gaps = frame[frame["method"].isin(baselines)].pivot_table(
        index=["oracle", "seed"], columns="method", values="gap", aggfunc="first"
    )
    common = gaps.dropna()
    if common.empty:
        return None
    order = pd.DataFrame({"rank": common.rank(axis=1).mean(), "gap": common.median()})
    return str(order.sort_values(["rank", "gap"]).index[0])


def signed_rank_summary(ratios: np.ndarray) -> dict[str, float]:
    """Win rate, median ratio, Wilcoxon p and rank-biserial r of paired ratios (n,) > 0 or 0
    (a failed run: ranked below every measured loss)."""
    from scipy.stats import rankdata, wilcoxon

    logs = np.log(np.where(ratios > 0, ratios, np.nan))
    worst = np.nanmax(np.abs(logs)) + 1 if np.isfinite(logs).any() else 1.0
    logs = np.where(ratios > 0, logs, -worst)
    wins = float(np.mean(np.where(ratios > 1, 1.0, np.where(ratios == 1, 0.5, 0.0))))
    nonzero = logs[logs != 0]
    if len(nonzero) == 0:
        return {"win_rate": wins, "median_ratio": 1.0, "p_value": 1.0, "rank_biserial": 0.0}
    ranks = rankdata(np.abs(nonzero))
    above, below = ranks[nonzero > 0].sum(), ranks[nonzero < 0].sum()
    p_value = float(wilcoxon(nonzero).pvalue) if len(nonzero) >= 2 else 1.0
    return {
        "win_rate": wins,
        "median_ratio": float(np.median(ratios)),
        "p_value": p_value,
        "rank_biserial": float((above - below) / (above + below)),
    }


def summary_table(paired: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, metric): pairs, failed runs, baseline and `signed_rank_summary`."""
    rows = []
    for (method, metric), group in paired.groupby(["method", "metric"], sort=False):
        rows.append(
            {
                "method": method,
                "reference": bool(group["reference"].iloc[0]),
                "metric": metric,
                "baseline": group["baseline"].iloc[0],
                "num_pairs": len(group),
                "num_failed": int((group["status"] != "ok").sum()),
                **signed_rank_summary(group["ratio"].to_numpy(dtype=float)),
            }
        )
    return pd.DataFrame(rows)


def breakdown(paired: pd.DataFrame, by: str) -> pd.DataFrame:
    """Win rate and median ratio per (method, metric) and value of `by` (shape, or dim group)."""
    frame = paired.copy()
    if by == "dims":
        frame["dims"] = frame["dim"].map(
            lambda d: next(f"{lo}-{hi}" for lo, hi in DIM_GROUPS if lo <= d <= hi)
        )
    return (
        frame.groupby(["method", "metric", by], sort=False)["ratio"]
        .agg(
            win_rate=lambda r: np.mean(np.where(r > 1, 1.0, np.where(r == 1, 0.5, 0.0))),
            median_ratio="median",
            num_pairs="size",
        )
        .reset_index()
    )


def family_markdown(summary: pd.DataFrame, paired: pd.DataFrame, runs: pd.DataFrame) -> str:
    """The report: per metric, every method against the best ratings-free one, references
    apart; then the same by shape and by dimension."""
    if summary.empty:
        return "# Families\n\nNo pair finished yet.\n"
    oracles, seeds = runs["oracle"].nunique(), runs["seed"].nunique()
    lines = [
        "# Families",
        "",
        f"{oracles} generated oracles × {seeds} seeds. Ratio: the best ratings-free method's "
        "gap to the ceiling over the method's (> 1: closer to the truth); win: ratio > 1; "
        "p: Wilcoxon signed-rank on the log ratios; r: rank-biserial effect size.",
    ]
    for metric, table in summary.groupby("metric", sort=False):
        arrow = ARROWS[metric_info(metric).direction]
        lines += [
            "",
            f"## {metric} {arrow} against {table['baseline'].iloc[0]}",
            "",
            "| method | pairs | failed | win rate | median ratio | p | r |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in table.sort_values(
            ["reference", "median_ratio"], ascending=[True, False]
        ).itertuples():
            name = f"{row.method} (reference)" if row.reference else row.method
            lines.append(
                f"| {name} | {row.num_pairs} | {row.num_failed} | {row.win_rate:.0%} | "
                f"{row.median_ratio:.2f}× | {row.p_value:.1e} | {row.rank_biserial:+.2f} |"
            )
    for by, title in (("shape", "shape"), ("dims", "dimension")):
        table = breakdown(paired, by)
        lines += ["", f"## By {title}: win rate · median ratio", ""]
        groups = sorted(set(table[by]), key=str)
        lines += [
            "| method | metric | " + " | ".join(map(str, groups)) + " |",
            "|---" * (len(groups) + 2) + "|",
        ]
        for (method, metric), part in table.groupby(["method", "metric"], sort=False):
            cells = part.set_index(by)
            row = [
                f"{cells.at[g, 'win_rate']:.0%} · {cells.at[g, 'median_ratio']:.2f}× "
                f"({cells.at[g, 'num_pairs']})"
                if g in cells.index
                else "—"
                for g in groups
            ]
            lines.append(f"| {method} | {metric} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
