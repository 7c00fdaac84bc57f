"""The method suite: every method on every oracle at its defaults, one tidy row per run.

Each run also gets its own folder (spec, metrics, samples, trace, figures); the table is
rewritten after every run, so an interrupted suite keeps every run that finished.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from hdbench.algorithms import ALGORITHMS
from hdbench.experiments import store
from hdbench.experiments.run import RunSpec, execute
from hdbench.metrics import TruthContext
from hdbench.oracles import Oracle
from hdbench.report.run_figures import plot_final_samples, write_run_figures
from hdbench.report.tables import methods_markdown


def run_method_suite(
    out_dir: Path,
    oracles: Sequence[Oracle],
    brackets: pd.DataFrame,
    methods: Sequence[str] = tuple(ALGORITHMS),
    seeds: Sequence[int] = (0,),
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Run every (oracle, method, seed); writes out_dir/runs.{csv,parquet}, out_dir/runs/ and
    a summary beside the floor and ceiling in `brackets` (the oracle suite's table)."""
    plan = [
        (o, RunSpec(oracle=o.name, method=m, seed=s))
        for o in oracles
        for m in methods
        for s in seeds
    ]
    contexts = {o.name: TruthContext.build(o.truth, o.real_data) for o in oracles}
    rows, finals = [], {}
    progress = tqdm(plan, desc="runs", unit="run")
    for oracle, spec in progress:
        ratings = sum(row["num_ratings"] for row in rows)
        progress.set_postfix_str(
            f"{oracle.name} · {spec.method} · seed {spec.seed} · {ratings:,} ratings so far"
        )
        result = execute(spec, oracle, contexts[oracle.name])
        folder = out_dir / "runs" / f"{oracle.name}-{spec.method}-{spec.run_id}"
        store.write_run(result, folder)
        write_run_figures(oracle, contexts[oracle.name], result, folder)
        rows.append(result.row)
        store.write_table(pd.DataFrame(rows), out_dir, "runs")
        if result.samples is not None and spec.seed == seeds[0]:
            finals[(oracle.name, spec.method)] = result.samples
    frame = pd.DataFrame(rows)
    plot_final_samples(oracles, list(methods), finals, store.figure_path(out_dir, "samples"))
    summary = methods_markdown(frame, brackets)
    store.write_text(summary, out_dir / "summary.md")
    print(summary)
    return frame


__all__ = ["run_method_suite"]
