"""Is stopping at the diagnostic's step harmless? The paired stop-versus-fixed check.

    .venv/bin/python benchmarks/stop_vs_fixed.py [--oracle paper_like] [--seeds 10]
        [--eval-samples 1000] [--methods ...] [--jobs 1]

For each fixed-noise Langevin method (exact_score with HumanDiffusion's plain chain) and
seed, one run at the defaults with `stop = "fixed"` (the paper's T steps) and a snapshot every
100 steps, scoring 1,000 particles (the default of a run, a suite and a sweep).
A chain stopped by the diagnostic is the fixed chain up to its stop step (the same generator,
step for step: tests/samplers), so the snapshot at the step where the watching diagnostic
called it stationary *is* the stopped run's
output: each seed gives a perfectly paired (stopped, fixed) sample from one chain. Both are
scored with every metric; results/reference/stopping/paired.csv holds one row per (method,
seed, arm).

The summary (results/reference/stopping/summary.md) compares, for every reference metric, the
mean over seeds of stopped − fixed with the metric's tolerance in
results/reference/reference.csv (the same oracle and method; HumanDiffusion's for its iterative
variant, whose final chain it is): a method passes when every difference in the bad direction is
within one tolerance and its stopped chains ran away no more often than its fixed ones.

A fixed chain that runs away (a particle beyond 10⁶) has no snapshots to score, so its stopped
arm is run as a run with the stopping rule: the same chain, which ran away too unless the
diagnostic stopped it first. Means compare the seeds on which both arms have the metric.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from unittest import mock

import pandas as pd
from joblib import Parallel, delayed

from hdbench.experiments import run as run_module
from hdbench.experiments.reference import REFERENCE_METRICS, read_reference, worse_by
from hdbench.experiments.run import RunSpec, execute
from hdbench.metrics import TruthContext, evaluate
from hdbench.oracles import Oracle, load_oracle
from hdbench.samplers.langevin import SamplerDivergedError

METHODS = ("humandiffusion", "humandiffusion_iter", "data_diffusion", "exact_score")
#: The reference method whose tolerances judge a method the reduced suite does not run: the
#: iterative variant's final chain is HumanDiffusion's.
YARDSTICK = {"humandiffusion_iter": "humandiffusion"}
OUT = Path("results/reference/stopping")
SNAPSHOT_EVERY = 100


def fixed_params(method: str) -> dict:
    """A fixed chain with a snapshot at every check of the diagnostic."""
    if method == "exact_score":  # HumanDiffusion's plain chain with the exact score
        settings = {"trace_every": SNAPSHOT_EVERY}
        return {"sampler": "langevin", "stop": "fixed", "sampler_settings": settings}
    return {"stop": "fixed", "trace_every": SNAPSHOT_EVERY}


def paired_rows(oracle_name: str, method: str, seed: int, num_eval_samples: int) -> list[dict]:
    """The (stopped, fixed) arms of one seed: the metrics of the particles at the stationary
    step and at the last step of one fixed chain."""
    oracle = load_oracle(oracle_name)
    context = TruthContext.build(oracle.truth, oracle.real_data, seed=seed)
    spec = RunSpec(
        oracle=oracle_name,
        method=method,
        params=fixed_params(method),
        seed=seed,
        num_eval_samples=num_eval_samples,
    )
    base = {"oracle": oracle_name, "method": method, "seed": seed}
    # The trace's metrics at every snapshot are not needed here: only two are scored.
    with mock.patch.object(run_module, "trace_table", lambda *_: pd.DataFrame()):
        try:
            result = execute(spec, oracle, context, raise_errors=True)
        except SamplerDivergedError as error:
            stopped_spec = spec.model_copy(update={"params": stopping_params(method)})
            return [
                {**base, "arm": "stopped", **scored_run(stopped_spec, oracle, context)},
                {**base, "arm": "fixed", "chain_steps": error.step, "ran_away": True},
            ]
    stationary = result.row["stationary_at"]
    last = result.row["chain_steps"]
    stopped_at = last if stationary is None else stationary
    stopped = evaluate(result.snapshots[stopped_at], context)
    fixed = evaluate(result.samples, context)
    return [
        {**base, "arm": "stopped", "chain_steps": stopped_at, "ran_away": False, **stopped},
        {**base, "arm": "fixed", "chain_steps": last, "ran_away": False, **fixed},
    ]


def stopping_params(method: str) -> dict:
    """`fixed_params` with the default stopping rule."""
    return {key: value for key, value in fixed_params(method).items() if key != "stop"}


def scored_run(spec: RunSpec, oracle: Oracle, context: TruthContext) -> dict:
    """The stop step and metrics of one run, or the step at which its chain ran away."""
    try:
        result = execute(spec, oracle, context, raise_errors=True)
    except SamplerDivergedError as error:
        return {"chain_steps": error.step, "ran_away": True}
    return {
        "chain_steps": result.row["chain_steps"],
        "ran_away": False,
        **evaluate(result.samples, context),
    }


def summary(paired: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per (oracle, method, metric): mean stopped − fixed, how much worse that is in the metric's
    bad direction, the reference tolerance, and whether it is within. A method none of whose
    seeds could be scored in both arms gets one row with no metric."""
    rows = []
    for (oracle, method), group in paired.groupby(["oracle", "method"]):
        arms = group.pivot(index="seed", columns="arm")
        ran_away = arms["ran_away"].fillna(False).astype(bool)
        common = {
            "steps_stopped": arms[("chain_steps", "stopped")][~ran_away["stopped"]].mean(),
            "seeds": len(arms),
            "ran_away_stopped": int(ran_away["stopped"].sum()),
            "ran_away_fixed": int(ran_away["fixed"].sum()),
        }
        judged_as = YARDSTICK.get(method, method)
        tolerances = reference[(reference["oracle"] == oracle) & (reference["method"] == judged_as)]
        compared = [
            (ref, arms[[(ref.metric, "stopped"), (ref.metric, "fixed")]].dropna())
            for ref in tolerances.itertuples()
            if ref.metric in REFERENCE_METRICS
            and ref.metric != "chain_steps"
            and (ref.metric, "fixed") in arms
        ]
        compared = [(ref, both) for ref, both in compared if len(both)]
        if not compared:
            rows.append({"oracle": oracle, "method": method, "metric": None, **common})
        for ref, both in compared:
            stopped, fixed = both[(ref.metric, "stopped")], both[(ref.metric, "fixed")]
            worse = worse_by(stopped.mean(), fixed.mean(), ref.direction)
            rows.append(
                {
                    "oracle": oracle,
                    "method": method,
                    "metric": ref.metric,
                    "stopped": stopped.mean(),
                    "fixed": fixed.mean(),
                    "worse_by": worse,
                    "tolerance": ref.tolerance,
                    "within": worse <= ref.tolerance,
                    **common,
                }
            )
    return pd.DataFrame(rows)


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    """One line per (oracle, method): seeds, mean stop step, the metric closest to (or past) its
    tolerance, as stopped − fixed worse by a multiple of the tolerance, and the verdict."""
    rows = []
    for (oracle, method), group in table.groupby(["oracle", "method"], dropna=False):
        first = group.iloc[0]
        line = {
            "oracle": oracle,
            "method": method,
            "seeds": int(first.seeds),
            "mean stop step": "—"
            if pd.isna(first.steps_stopped)
            else f"{first.steps_stopped:,.0f} of 10,000",
            "closest metric": "— (no seed scored in both arms)",
            "ran away, stopped · fixed": f"{first.ran_away_stopped} · {first.ran_away_fixed}",
            "stopping is harmless": "**unknown**",
        }
        if group["metric"].notna().any():
            ratio = group["worse_by"] / group["tolerance"]
            worst = group.loc[ratio.idxmax()]
            harmless = group["within"].all() and first.ran_away_stopped <= first.ran_away_fixed
            line["closest metric"] = f"{worst.metric} ({ratio.max():+.2f}× its tolerance)"
            line["stopping is harmless"] = "yes" if harmless else "**no**"
        rows.append(line)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracle", default="paper_like")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--eval-samples", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "paired.csv"
    done = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["method", "seed"])
    todo = [
        (method, seed)
        for seed in range(args.seeds)
        for method in args.methods
        if not ((done["method"] == method) & (done["seed"] == seed)).any()
    ]
    for rows in Parallel(n_jobs=args.jobs, return_as="generator")(
        delayed(paired_rows)(args.oracle, method, seed, args.eval_samples) for method, seed in todo
    ):
        done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
        done.to_csv(path, index=False)
        stopped = rows[0]
        what = "ran away at step" if stopped["ran_away"] else "stopped at"
        print(f"{stopped['method']} seed {stopped['seed']}: {what} {stopped['chain_steps']:,.0f}")
    table = summary(done, read_reference())
    text = "\n\n".join(
        [
            verdicts(table).to_markdown(index=False),
            table.to_markdown(index=False, floatfmt=".4g"),
        ]
    )
    (OUT / "summary.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
