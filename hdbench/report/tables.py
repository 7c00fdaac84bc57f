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


def brackets_markdown(frame: pd.DataFrame, per_dim: bool = False) -> str:
    """One section per oracle: each metric (with its direction) at floor, real data, ceiling."""
    sections = []
    for oracle, table in frame.groupby("oracle", sort=True):
        if not per_dim:
            table = table[~table["metric"].str.contains(r"_d\d+$")]
        cells = table.assign(
            value=[
                f"{m:.3g} ± {s:.2g}" if s > 0 else f"{m:.3g}"
                for m, s in zip(table["mean"], table["sd"], strict=True)
            ]
        ).pivot(index="metric", columns="bracket", values="value")[BRACKETS]
        cells.index = [f"{name} {ARROWS[direction(name)]}".strip() for name in cells.index]
        cells.columns = ["floor (uniform)", "real data", "ceiling (exact target)"]
        sections.append(f"### {oracle}\n\n{cells.to_markdown()}\n")
    legend = "↑ higher is better, ↓ lower is better, →1 closer to 1 is better; mean ± sd over sets."
    return "\n".join(["## Metrics bracketed by floor and ceiling", "", legend, "", *sections])
