"""Markdown tables drawn from the tidy result tables."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from hdbench.errors import SpecError
from hdbench.metrics import metric_info
from hdbench.metrics.headline import HEADLINE_METRICS
from hdbench.metrics.listening import LISTENING_COLUMNS

ARROWS = {"higher": "↑", "lower": "↓", "one": "→1", "ceiling": "→ ceiling", "none": ""}
LEGEND = (
    "↑ higher is better, ↓ lower is better, →1 closer to 1, → ceiling closer to the exact "
    "target's value (higher alone would reward collapse; unranked without a ceiling)"
)
BRACKETS = ["floor", "real_data", "ceiling"]


def direction(column: str) -> str:
    """The direction of a metric column (its registry entry's): higher, lower, one, ceiling or
    none."""
    if column in LISTENING_COLUMNS:
        return LISTENING_COLUMNS[column][0]
    try:
        return metric_info(column).direction
    except SpecError:
        return "none"


def not_applicable(column: str) -> str:
    """The cell of a metric that does not apply to an oracle: "—" and the registry's reason."""
    try:
        note = metric_info(column).note
    except SpecError:
        note = ""
    return f"— ({note})" if note else "—"


def brackets_markdown(frame: pd.DataFrame, per_dim: bool = False) -> str:
    """One section per oracle: each metric (with its direction) at floor, real data, ceiling."""
    sections = []
    for oracle, table in frame.groupby("oracle", sort=True):
        if not per_dim:
            table = table[~table["metric"].str.contains(r"_d\d+$")]
        cells = table.assign(
            value=[
                not_applicable(name) if m != m else f"{m:.3g} ± {s:.2g}" if s > 0 else f"{m:.3g}"
                for name, m, s in zip(table["metric"], table["mean"], table["sd"], strict=True)
            ]
        ).pivot(index="metric", columns="bracket", values="value")
        # An oracle without exact target samples has no ceiling.
        cells = cells.reindex(columns=BRACKETS).astype(object).fillna("—")
        cells.index = [f"{name} {ARROWS[direction(name)]}".strip() for name in cells.index]
        cells.columns = ["floor (uniform)", "real data", "ceiling (exact target)"]
        sections.append(f"### {oracle}\n\n{cells.to_markdown()}\n")
    legend = f"{LEGEND}; mean ± sd over sets."
    return "\n".join(["## Metrics bracketed by floor and ceiling", "", legend, "", *sections])


#: The columns of the methods summary, in order, the headline pair first; those an oracle lacks
#: are left out.
SUMMARY_METRICS = (
    *HEADLINE_METRICS,
    "var_ratio_real",
    "var_ratio_target",
    "mmd2",
    "grid_coverage",
    "prdc_recall",
    "modes_captured",
    "modes_discovered_strict",
    "discovery_coverage",
    "collapse_ratio",
    "mean_true_d",
    "listening_mean",
)
#: Two methods differ on a metric when their means do by more than this many standard errors of
#: the difference, √(se_a² + se_b²) (about a 5% two-sided test for normal means).
SEPARATION = 2.0


def methods_markdown(runs: pd.DataFrame, brackets: pd.DataFrame) -> str:
    """One table per oracle: a row per method, mean ± standard error over seeds, between the
    floor and the ceiling, reference methods apart; in bold, per metric and with ≥ 2 seeds,
    the best competitor and those not separated from it; under each table, the competitors
    ranked per metric with the differences larger than SEPARATION standard errors marked, and
    failed runs."""
    sections = [
        oracle_section(str(oracle), table, brackets)
        for oracle, table in runs.groupby("oracle", sort=True)
    ]
    legend = (
        f"Mean ± standard error over seeds; {LEGEND}. "
        "Bold (with 2 seeds or more): the best competitor and those whose difference from it "
        f"is within {SEPARATION:g} standard errors of the difference. In the rankings, `>` "
        f"means better by more than {SEPARATION:g} standard errors of the difference, `≈` "
        "within them. Reference methods (e.g. `exact_score`, which samples with the exact "
        "score) bound what the competitors can reach and are not ranked."
    )
    return "\n".join(["## Methods", "", legend, "", *sections])


def oracle_section(oracle: str, table: pd.DataFrame, brackets: pd.DataFrame) -> str:
    """The markdown section of one oracle's runs (one row per run of `table`)."""
    ok = table[table["status"] == "ok"]
    # A metric that is NaN throughout does not apply here: its column says why.
    columns = [m for m in SUMMARY_METRICS if m in ok.columns]
    methods = [m for m in table["method"].unique() if m in set(ok["method"])]
    references = reference_methods(ok)
    competitors = [m for m in methods if m not in references]
    grouped = ok.groupby("method")
    means, errors = grouped[columns].mean(), grouped[columns].sem()
    ceilings = ceiling_values(brackets[brackets["oracle"] == oracle])
    best = best_groups(means.loc[competitors], errors.loc[competitors], columns, ceilings)
    labels = {m: f"{m} (reference)" if m in references else m for m in methods}
    order = competitors + [m for m in methods if m in references]
    cells = pd.DataFrame(index=[labels[m] for m in order], columns=columns, dtype=object)
    for method in order:
        for column in columns:
            text = mean_and_error(means.loc[method, column], errors.loc[method, column], column)
            bold = method in best.get(column, set())
            cells.loc[labels[method], column] = f"**{text}**" if bold else text
    cells["num_ratings"] = [f"{grouped['num_ratings'].mean()[m]:,.0f}" for m in order]
    if "chain_steps" in ok:
        steps = grouped["chain_steps"].mean()
        cells["chain_steps"] = ["—" if steps[m] != steps[m] else f"{steps[m]:,.0f}" for m in order]
    cells["wall_time"] = [f"{grouped['wall_time'].mean()[m]:.1f} s" for m in order]
    combined = bracketed(cells, brackets[brackets["oracle"] == oracle], columns)
    combined.columns = [f"{c} {ARROWS[direction(c)]}".strip() for c in combined.columns]
    rankings = ranking_lines(means.loc[competitors], errors.loc[competitors], columns, ceilings)
    failed = table[table["status"] != "ok"]
    notes = "".join(
        f"\n- {r.method} seed {r.seed}: {r.status}: {r.error}" for r in failed.itertuples()
    )
    seeds = table["seed"].nunique()
    return (
        f"### {oracle} ({seeds} seed{'s' * (seeds > 1)})\n\n{combined.to_markdown()}\n\n"
        f"{rankings}{notes}\n"
    )


def reference_methods(runs: pd.DataFrame) -> set[str]:
    """Methods whose rows are marked `reference` (older tables lack the column: none)."""
    if "reference" not in runs.columns:
        return set()
    return set(runs.loc[runs["reference"].fillna(False).astype(bool), "method"])


def mean_and_error(mean: float, error: float, column: str) -> str:
    """`mean ± error`; the mean alone without an error; "—" and why where the metric does not
    apply."""
    if mean != mean:
        return not_applicable(column)
    return f"{mean:.3g} ± {error:.2g}" if error == error and error > 0 else f"{mean:.3g}"


def bracketed(cells: pd.DataFrame, brackets: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The floor row above `cells` and the ceiling row below, from the oracle's brackets."""
    levels = brackets[brackets["metric"].isin(columns)]
    levels = levels.pivot(index="bracket", columns="metric", values="mean")
    rows = {"floor (uniform)": "floor", "ceiling (exact target)": "ceiling"}
    bracket_cells = pd.DataFrame(
        {c: [bracket_cell(levels, b, c) for b in rows.values()] for c in columns},
        index=list(rows),
    ).assign(**dict.fromkeys(cells.columns.drop(columns, errors="ignore"), ""))
    return pd.concat([bracket_cells.iloc[:1], cells, bracket_cells.iloc[1:]])


def ceiling_values(brackets: pd.DataFrame) -> dict[str, float]:
    """Each metric's value on exact target samples, from one oracle's brackets (none for an
    oracle that cannot draw them)."""
    ceiling = brackets[brackets["bracket"] == "ceiling"].dropna(subset=["mean"])
    return dict(zip(ceiling["metric"], ceiling["mean"].astype(float), strict=True))


def badness(column: str, values: pd.Series, ceiling: float | None = None) -> pd.Series | None:
    """How far each value is from ideal in the column's direction: smaller is better; None when
    the column has no order here (no direction, or "ceiling" without a ceiling value)."""
    kind = direction(column)
    if kind == "ceiling":
        return None if ceiling is None or ceiling != ceiling else (values - ceiling).abs()
    return {"higher": -values, "lower": values, "one": (values - 1.0).abs()}.get(kind)


def separated(bad_a: float, se_a: float, bad_b: float, se_b: float) -> bool:
    """Whether two means differ by more than SEPARATION standard errors of their difference."""
    return abs(bad_a - bad_b) > SEPARATION * float(np.hypot(se_a, se_b))


def ranked(
    means: pd.DataFrame, errors: pd.DataFrame, column: str, ceiling: float | None = None
) -> list[str] | None:
    """Methods best first on `column`, or None when it has no order here (see `badness`), does
    not apply, or a standard error is missing (a single seed)."""
    bad = badness(column, means[column], ceiling)
    if bad is None or means[column].isna().any() or errors[column].isna().any():
        return None
    return list(bad.sort_values(kind="stable").index)


def best_groups(
    means: pd.DataFrame,
    errors: pd.DataFrame,
    columns: list[str],
    ceilings: dict[str, float] | None = None,
) -> dict[str, set[str]]:
    """Per metric, the best method and those not separated from it (empty without order);
    `ceilings`: each metric's exact-target value, for those whose direction is "ceiling"."""
    groups: dict[str, set[str]] = {}
    ceilings = ceilings or {}
    for column in columns:
        order = ranked(means, errors, column, ceilings.get(column))
        if not order:
            continue
        bad, first = badness(column, means[column], ceilings.get(column)), order[0]
        groups[column] = {
            m
            for m in order
            if not separated(bad[m], errors.loc[m, column], bad[first], errors.loc[first, column])
        }
    return groups


def ranking_lines(
    means: pd.DataFrame,
    errors: pd.DataFrame,
    columns: list[str],
    ceilings: dict[str, float] | None = None,
) -> str:
    """One line per metric: the methods best first, `>` between two that differ by more than
    SEPARATION standard errors, `≈` between two that do not."""
    if len(means) < 2:
        return ""
    lines = []
    ceilings = ceilings or {}
    for column in columns:
        order = ranked(means, errors, column, ceilings.get(column))
        if order is None:
            continue
        bad = badness(column, means[column], ceilings.get(column))
        parts = [order[0]]
        for better, worse in itertools.pairwise(order):
            gap = separated(
                bad[better], errors.loc[better, column], bad[worse], errors.loc[worse, column]
            )
            parts += [">" if gap else "≈", worse]
        lines.append(f"- {column} {ARROWS[direction(column)]}: {' '.join(parts)}")
    if not lines:
        return "Differences not tested: a single seed gives no standard error.\n"
    return "\n".join(lines) + "\n"


def bracket_cell(levels: pd.DataFrame, bracket: str, column: str) -> str:
    """A bracket's value of one metric; "—" where the oracle lacks that bracket or metric (no
    ceiling without exact target samples)."""
    if bracket not in levels.index or column not in levels.columns:
        return "—"
    value = levels.loc[bracket, column]
    return "—" if value != value else f"{value:.3g}"
