"""A suite: a sweep run whole, then reported. `make bench` runs the `standard` suite.

Into its folder: oracles/ (each oracle drawn, its metrics' floor and ceiling), rows/ and runs/
(each run's row and files), runs.csv and runs.parquet (one row per run), listening.parquet (every
rating of the simulated listening tests), summary.md, figures/, and speech/ (a few WAV files
of each method's samples on the speech oracles). Tables and figures are all
drawn from runs.parquet and the brackets, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from hdbench import files, progress
from hdbench.experiments import store
from hdbench.experiments.executor import prepare, run_specs
from hdbench.experiments.oracle_suite import run_oracle_suite
from hdbench.experiments.plan import SweepSpec
from hdbench.oracles import Oracle, load_oracle
from hdbench.report.run_figures import plot_final_samples
from hdbench.report.speech_figures import render_points
from hdbench.report.suite_figures import plot_listening, plot_metrics
from hdbench.report.tables import methods_markdown

NUM_WAVS = 3


def run_suite(
    sweep: SweepSpec,
    folder: Path,
    oracle_dirs: Sequence[Path] = (),
    n_jobs: int = -1,
    scheduler: str | None = None,
    retry_errors: bool = False,
) -> pd.DataFrame:
    """Run `sweep` into `folder` (resuming what is there) and write its report; returns runs.
    Everything checkable is checked before the oracles' brackets are computed."""
    specs = sweep.runs(oracle_dirs)
    oracles = [load_oracle(name, oracle_dirs) for name in sweep.oracle_names(oracle_dirs)]
    prepare(specs, folder, n_jobs, scheduler, sweep.definition(), oracle_dirs)
    brackets = run_oracle_suite(folder, oracles, sweep.num_eval_samples, n_jobs)
    runs = run_specs(
        specs, folder, oracle_dirs, n_jobs, scheduler, retry_errors, sweep.definition()
    )
    with progress.phase("figures and summary"):
        listening = listening_table(folder, runs)
        store.write_table(listening, folder, "listening")
        figures = folder / "figures"
        first_seed = runs[runs["seed"] == runs["seed"].min()]
        finals = {
            (row.oracle, row.method): store.read_run_array(folder, row._asdict(), "samples")
            for row in first_seed.itertuples()
        }
        # Each drawing takes seconds to tens of seconds: they share the workers.
        Parallel(n_jobs=n_jobs)(
            [
                delayed(plot_metrics)(runs, brackets, store.figure_path(figures, "metrics")),
                delayed(plot_listening)(listening, store.figure_path(figures, "listening")),
                delayed(plot_final_samples)(
                    oracles, sweep.methods, finals, store.figure_path(figures, "samples")
                ),
                delayed(write_speech_samples)(oracles, finals, folder / "speech"),
            ]
        )
        summary = methods_markdown(runs, brackets)
        files.write_text(summary, folder / "summary.md")
    return runs


def write_speech_samples(
    oracles: Sequence[Oracle],
    finals: dict[tuple[str, str], np.ndarray | None],
    folder: Path,
    num: int = NUM_WAVS,
) -> None:
    """For speech oracles, the first `num` final samples of each method as WAV files:
    folder/ORACLE/METHOD/sample_000.wav, … (and spectrograms.png)."""
    for oracle in oracles:
        space = getattr(oracle.truth, "space", None)
        if space is None:
            continue
        for (name, method), samples in finals.items():
            if name == oracle.name and samples is not None:
                render_points(space, samples[:num], folder / name / method)


def listening_table(folder: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Every rating of every run's listening test: oracle, method, seed, set, rating."""
    parts = []
    for row in runs[runs["status"] == "ok"].itertuples():
        for which in ("real", "generated"):
            ratings = store.read_run_array(folder, row._asdict(), f"listening_{which}")
            if ratings is not None:
                parts.append(
                    pd.DataFrame(
                        {
                            "oracle": row.oracle,
                            "method": row.method,
                            "seed": row.seed,
                            "set": which,
                            "rating": ratings,
                        }
                    )
                )
    columns = ["oracle", "method", "seed", "set", "rating"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
