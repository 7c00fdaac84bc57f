"""How far the headline pair ranks each set of known quality below exact samples, per oracle.

    .venv/bin/python benchmarks/ranking_table.py [--particles 1000] [--seeds 3] [--oracle NAME]

Runs `hdbench.metrics.ranking.ranking_table` (the check of tests/metrics/test_ranking.py) on
every bundled oracle and prints, per set and metric, the gap to exact samples in standard
errors: the smallest over the oracles, and the median. Positive is worse than exact samples; a
set counts as ranked below them beyond +3. With --oracle, that oracle's gaps themselves (each
metric's mean over the seeds, less that of exact samples) and their standard errors. The
README's *Metrics* section quotes both.
"""

from __future__ import annotations

import argparse

import pandas as pd

from hdbench.metrics.ranking import ranking_table
from hdbench.oracles import find_specs, load_oracle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--oracle", help="print this oracle's gaps and standard errors")
    args = parser.parse_args()
    if args.oracle:
        oracle = load_oracle(args.oracle)
        table = ranking_table(
            oracle.truth, oracle.real_data, args.particles, tuple(range(args.seeds))
        )
        print(table.to_markdown(index=False, floatfmt=".4g"))
        return
    tables = []
    for name in sorted(find_specs()):
        oracle = load_oracle(name)
        table = ranking_table(
            oracle.truth, oracle.real_data, args.particles, tuple(range(args.seeds))
        )
        tables.append(table.assign(oracle=name, z=table["gap"] / table["error"]))
    every = pd.concat(tables, ignore_index=True)
    summary = every.groupby(["set", "metric"])["z"].agg(["min", "median"]).unstack("metric")
    summary.columns = [f"{metric} {stat}" for stat, metric in summary.columns]
    print(summary.round(1).to_markdown())
    lowest = every.loc[every.groupby(["set", "metric"])["z"].idxmin().dropna()]
    print("\nwhere the smallest is:")
    print(lowest[["set", "metric", "oracle", "z"]].round(1).to_markdown(index=False))


if __name__ == "__main__":
    main()
