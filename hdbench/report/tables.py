"""Markdown tables drawn from the tidy result tables."""

from __future__ import annotations

import pandas as pd

from hdbench.errors import SpecError
from hdbench.metrics import metric_info
from hdbench.metrics.listening import LISTENING_COLUMNS

ARROWS = {"higher": "↑", "lower": "↓", "one": "→1", "none": ""}
BRACKETS = ["floor", "real_data", "ceiling"]


def direction(column: str) -> str:
    """The direction of a metric column: higher, lower, one or none."""
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
    legend = "↑ higher is better, ↓ lower is better, →1 closer to 1 is better; mean ± sd over sets."
    return "\n".join(["## Metrics bracketed by floor and ceiling", "", legend, "", *sections])


#: The columns of the methods summary, in order; those an oracle lacks are left out.
SUMMARY_METRICS = (
    "var_ratio_real",
    "var_ratio_target",
    "mmd2",
    "grid_coverage",
    "prdc_recall",
    "modes_captured",
    "collapse_ratio",
    "mean_true_d",
    "listening_mean",
)


def methods_markdown(runs: pd.DataFrame, brackets: pd.DataFrame) -> str:
    """One table per oracle: a row per method, mean ± standard error over seeds, between the
    floor and the ceiling; failed runs are listed under their table."""
    sections = []
    for oracle, table in runs.groupby("oracle", sort=True):
        ok = table[table["status"] == "ok"]
        # A metric that is NaN throughout does not apply here: its column says why.
        columns = [m for m in SUMMARY_METRICS if m in ok.columns]
        methods = [m for m in table["method"].unique() if m in set(ok["method"])]
        grouped = ok.groupby("method")
        means, errors = grouped[columns].mean(), grouped[columns].sem()
        cells = pd.DataFrame(index=[f"**{m}**" for m in methods], columns=columns, dtype=object)
        for method in methods:
            for column in columns:
                mean, error = means.loc[method, column], errors.loc[method, column]
                cells.loc[f"**{method}**", column] = (
                    not_applicable(column)
                    if mean != mean
                    else f"{mean:.3g} ± {error:.2g}"
                    if error == error and error > 0
                    else f"{mean:.3g}"
                )
        cells["num_ratings"] = [f"{grouped['num_ratings'].mean()[m]:,.0f}" for m in methods]
        cells["wall_time"] = [f"{grouped['wall_time'].mean()[m]:.1f} s" for m in methods]
        levels = brackets[(brackets["oracle"] == oracle) & brackets["metric"].isin(columns)]
        levels = levels.pivot(index="bracket", columns="metric", values="mean")
        rows = {"floor (uniform)": "floor", "ceiling (exact target)": "ceiling"}
        bracket_cells = pd.DataFrame(
            {c: [bracket_cell(levels, b, c) for b in rows.values()] for c in columns},
            index=list(rows),
        ).assign(num_ratings="", wall_time="")
        combined = pd.concat([bracket_cells.iloc[:1], cells, bracket_cells.iloc[1:]])
        combined.columns = [f"{c} {ARROWS[direction(c)]}".strip() for c in combined.columns]
        failed = table[table["status"] != "ok"]
        notes = "".join(
            f"\n- {r.method} seed {r.seed}: {r.status}: {r.error}" for r in failed.itertuples()
        )
        seeds = table["seed"].nunique()
        sections.append(
            f"### {oracle} ({seeds} seed{'s' * (seeds > 1)})\n\n{combined.to_markdown()}\n{notes}"
        )
    legend = (
        "Mean ± standard error over seeds; ↑ higher is better, ↓ lower is better, →1 closer to 1."
    )
    return "\n".join(["## Methods", "", legend, "", *sections])


def bracket_cell(levels: pd.DataFrame, bracket: str, column: str) -> str:
    """A bracket's value of one metric; "—" where the oracle lacks that bracket or metric (no
    ceiling without exact target samples)."""
    if bracket not in levels.index or column not in levels.columns:
        return "—"
    value = levels.loc[bracket, column]
    return "—" if value != value else f"{value:.3g}"
