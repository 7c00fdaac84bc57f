"""How often does a chain stop early, by the number of particles it runs?

    .venv/bin/python benchmarks/early_stops.py [--oracle paper_like] [--method exact_score]
        [--particles 500 1000] [--seeds 60] [--by-step 1300] [--jobs 2]

The stopping rule compares the cloud with itself half a chain earlier against the noise floor of
two half-clouds, and that floor grows as 1/√n: a chain that still spreads slowly is seen at
3,000 particles and may not be at 500. This runs one method at its defaults (`exact_score`
with HumanDiffusion's plain Langevin chain, whose exact score makes it cheap) on seeds 5000 and
on, at each particle count, and prints the share of chains stopped by `--by-step`, the stop
step's quartiles and the variance ratio to the target's. benchmarks/reference.toml's particle
count is set by it.
"""

from __future__ import annotations

import argparse

import pandas as pd
from joblib import Parallel, delayed

from hdbench.experiments.run import RunSpec, execute

FIRST_SEED = 5000
COLUMNS = ("chain_steps", "var_ratio_target", "energy_distance", "status")


def one_run(oracle: str, method: str, params: dict, seed: int, particles: int) -> dict:
    spec = RunSpec(
        oracle=oracle, method=method, params=params, seed=seed, num_eval_samples=particles
    )
    row = execute(spec).row
    return {"particles": particles, "seed": seed, **{key: row.get(key) for key in COLUMNS}}


def summary(runs: pd.DataFrame, by_step: int) -> pd.DataFrame:
    """One row per particle count: the share stopped by `by_step`, stop-step quartiles and the
    variance ratio's 5 % quantile and median."""
    grouped = runs.groupby("particles")
    steps = grouped["chain_steps"]
    ratio = grouped["var_ratio_target"]
    return pd.DataFrame(
        {
            "runs": grouped.size(),
            f"stopped by {by_step:,}": (runs["chain_steps"] <= by_step)
            .groupby(runs["particles"])
            .mean(),
            "stop step q25": steps.quantile(0.25),
            "median": steps.median(),
            "q75": steps.quantile(0.75),
            "var ratio q05": ratio.quantile(0.05),
            "var ratio median": ratio.median(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracle", default="paper_like")
    parser.add_argument("--method", default="exact_score")
    parser.add_argument("--particles", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--by-step", type=int, default=1300)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    params = {"sampler": "langevin"} if args.method == "exact_score" else {}
    seeds = range(FIRST_SEED, FIRST_SEED + args.seeds)
    rows = Parallel(n_jobs=args.jobs)(
        delayed(one_run)(args.oracle, args.method, params, seed, particles)
        for particles in args.particles
        for seed in seeds
    )
    table = summary(pd.DataFrame(rows), args.by_step)
    print(f"{args.oracle} · {args.method} · seeds {seeds.start}–{seeds.stop - 1}")
    print(table.to_markdown(floatfmt=(".0f", ".0f", ".3f", ",.0f", ",.0f", ",.0f", ".3f", ".3f")))


if __name__ == "__main__":
    main()
