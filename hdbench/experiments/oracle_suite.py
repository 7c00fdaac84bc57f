"""The oracle suite: every oracle drawn, and every metric bracketed by its floor and ceiling.

For each oracle three sample sets are scored: the floor (uniform samples over the box), the real
data (what a method starts from) and the ceiling (exact target samples of the same size). The
floor and ceiling are averaged over `num_repeats` sets; the listening test rates each set with an
evaluation panel of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from hdbench import files, progress
from hdbench.experiments import store
from hdbench.metrics import TruthContext, evaluate, floor_and_ceiling
from hdbench.metrics.evaluate import uniform_box_samples
from hdbench.metrics.listening import listening_test
from hdbench.oracles import Oracle
from hdbench.protocol import NUM_EVAL_SAMPLES
from hdbench.report.oracle_figure import plot_oracle
from hdbench.report.tables import brackets_markdown
from hdbench.rng import named_generator
from hdbench.threads import apply_thread_policy

NUM_SAMPLES = NUM_EVAL_SAMPLES
NUM_REPEATS = 5


def bracket_oracle(
    oracle: Oracle, num_samples: int = NUM_SAMPLES, num_repeats: int = NUM_REPEATS, seed: int = 0
) -> pd.DataFrame:
    """Tidy table for one oracle: bracket (floor, real_data, ceiling), metric, mean, sd."""
    context = TruthContext.build(oracle.truth, oracle.real_data, seed=seed)
    truth_rows = floor_and_ceiling(context, num_samples, num_repeats, seed)
    real = evaluate(oracle.real_data, context)
    real_rows = pd.DataFrame(
        {
            "bracket": "real_data",
            "metric": list(real),
            "mean": list(real.values()),
            "sd": 0.0,
            "num_samples": len(oracle.real_data),
            "num_repeats": 1,
        }
    )
    frame = pd.concat(
        [truth_rows, real_rows, listening_rows(oracle, context, num_samples, num_repeats, seed)]
    )
    frame.insert(0, "oracle", oracle.name)
    frame["spec_hash"] = oracle.spec_hash
    frame["fingerprint"] = oracle.fingerprint
    return frame.reset_index(drop=True)


def listening_rows(
    oracle: Oracle, context: TruthContext, num_samples: int, num_repeats: int, seed: int
) -> pd.DataFrame:
    """The simulated listening test of each bracket's sample sets."""
    draws = {
        "floor": lambda rng: uniform_box_samples(context, num_samples, rng),
        "real_data": lambda rng: oracle.real_data,
    }
    if context.sampling_limit is None:  # no ceiling without exact target samples
        draws["ceiling"] = lambda rng: oracle.truth.sample(num_samples, rng)
    rows = []
    for bracket, draw in draws.items():
        repeats = 1 if bracket == "real_data" else num_repeats
        summaries = []
        for repeat in range(repeats):
            rng = named_generator(seed, "listening", bracket, str(repeat))
            panel = oracle.panel(seed=int(rng.integers(2**31)))
            summaries.append(listening_test(draw(rng), oracle.real_data, panel, rng).summary())
        scores = pd.DataFrame(summaries)
        for column in scores.columns:
            values = scores[column].to_numpy()
            sd = float(values.std(ddof=1)) if repeats > 1 else 0.0
            rows.append((bracket, column, float(values.mean()), sd, num_samples, repeats))
    return pd.DataFrame(
        rows, columns=["bracket", "metric", "mean", "sd", "num_samples", "num_repeats"]
    )


def run_oracle_suite(
    out_dir: Path, oracles: Sequence[Oracle], num_samples: int = NUM_SAMPLES, n_jobs: int = 1
) -> pd.DataFrame:
    """Draw every oracle and bracket its metrics with sets of `num_samples` (the runs'
    num_eval_samples, so that a method's scores and its brackets are of sets of one size), in
    `n_jobs` processes (−1: every core); writes into out_dir/oracles/."""
    folder = out_dir / "oracles"
    jobs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_draw_and_bracket)(oracle, folder, num_samples) for oracle in oracles
    )
    tables = list(progress.steps("floor and ceiling of each oracle", jobs, "oracle", len(oracles)))
    frame = pd.concat(tables, ignore_index=True)
    store.write_table(frame, folder, "brackets")
    files.write_text(brackets_markdown(frame), folder / "summary.md")
    return frame


def _draw_and_bracket(oracle: Oracle, folder: Path, num_samples: int) -> pd.DataFrame:
    """One oracle's figure in `folder`, and its brackets; in a worker under the thread policy.

    The worker goes on to run methods, so torch loads first: loky takes a worker's memory
    after its first task as the baseline, and would read torch's loading later as a leak
    (a warning, and a worker started again).
    """
    apply_thread_policy()
    import torch  # noqa: F401

    plot_oracle(oracle, store.figure_path(folder, oracle.name))
    return bracket_oracle(oracle, num_samples)


__all__ = ["bracket_oracle", "run_oracle_suite"]
