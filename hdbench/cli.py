"""The `hdbench` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hdbench.errors import HdbenchError
from hdbench.oracles import find_specs, load_oracle
from hdbench.oracles.spec import read_spec

RUN_SUMMARY_KEYS = (
    "var_ratio_real",
    "var_ratio_target",
    "mmd2",
    "grid_coverage",
    "mean_true_d",
    "listening_mean",
    "num_ratings",
    "wall_time",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except HdbenchError as error:
        print(f"hdbench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hdbench: interrupted", file=sys.stderr)
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hdbench", description="Benchmark human-in-the-loop generative models."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    oracles = commands.add_parser("oracles", help="list the oracles, or draw one")
    add_oracle_dirs(oracles)
    oracles.set_defaults(handler=list_oracles)
    oracle_commands = oracles.add_subparsers(dest="oracles_command")
    show = oracle_commands.add_parser("show", help="draw D with the real data and target samples")
    show.add_argument("name", help="oracle name or path to a spec file")
    show.add_argument("--out", type=Path, help="PNG to write (default: results/oracles/NAME.png)")
    add_oracle_dirs(show)
    show.set_defaults(handler=show_oracle)

    run = commands.add_parser("run", help="run one method on one oracle and score it")
    run.add_argument("--oracle", required=True, help="oracle name or spec file")
    run.add_argument("--method", required=True, help="humandiffusion or data_diffusion")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a method parameter, e.g. --set R=10 --set lambda=0.1",
    )
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--budget", type=int, help="most ratings the method may spend")
    run.add_argument("--out", type=Path, help="run folder (default: results/runs/ORACLE-METHOD-ID)")
    add_oracle_dirs(run)
    run.set_defaults(handler=run_one)

    compare = commands.add_parser(
        "compare",
        help="HumanGAN (truncated, converged), HumanDiffusion and the control, side by side",
    )
    compare.add_argument("--oracle", required=True, help="oracle name or spec file")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--out", type=Path, help="folder (default: results/compare/ORACLE)")
    add_oracle_dirs(compare)
    compare.set_defaults(handler=run_compare)

    bench = commands.add_parser("bench", help="run the benchmark suite")
    bench.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    add_oracle_dirs(bench)
    bench.set_defaults(handler=run_bench)
    return parser


def add_oracle_dirs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--oracles",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="another folder of oracle specs (also: HDBENCH_ORACLES)",
    )


def list_oracles(args: argparse.Namespace) -> None:
    specs = find_specs(args.oracles)
    width = max(map(len, specs), default=0)
    for name, path in specs.items():
        print(f"{name:<{width}}  {read_spec(path).description}")


def show_oracle(args: argparse.Namespace) -> None:
    from hdbench.report.oracle_figure import plot_oracle

    oracle = load_oracle(args.name, args.oracles)
    path = plot_oracle(oracle, args.out or Path("results") / "oracles" / f"{oracle.name}.png")
    target = oracle.truth.sample(100_000, np.random.default_rng(0))
    target_var, real_var = target.var(axis=0), oracle.real_data.var(axis=0)
    per_dim = ", ".join(f"{r:.2f}" for r in target_var / real_var)
    print(f"{oracle.name}: {oracle.spec.description}")
    print(
        f"variance of the target / of the real data: {target_var.sum() / real_var.sum():.2f} "
        f"in total; per dimension: {per_dim}"
    )
    print(f"wrote {path}")


def run_one(args: argparse.Namespace) -> None:
    from hdbench.experiments import store
    from hdbench.experiments.run import RunSpec, execute, parse_assignments
    from hdbench.metrics import TruthContext
    from hdbench.oracles.spec import validate
    from hdbench.report.run_figures import write_run_figures

    oracle = load_oracle(args.oracle, args.oracles)
    spec = validate(
        RunSpec,
        {
            "oracle": oracle.name,
            "method": args.method,
            "params": parse_assignments(args.set),
            "seed": args.seed,
            "budget": args.budget,
        },
        "run",
    )
    context = TruthContext.build(oracle.truth, oracle.real_data)
    result = execute(spec, oracle, context)
    folder = args.out or Path("results") / "runs" / f"{oracle.name}-{spec.method}-{spec.run_id}"
    store.write_run(result, folder)
    write_run_figures(oracle, context, result, folder)
    row = result.row
    print(f"{oracle.name} · {spec.method} · seed {spec.seed}: {row['status']} {row['error']}")
    for key in RUN_SUMMARY_KEYS:
        if key in row:
            value = row[key]
            print(
                f"  {key:<18} {value:.4g}" if isinstance(value, float) else f"  {key:<18} {value}"
            )
    print(f"wrote {folder}")


COMPARED_METHODS = ("humangan_truncated", "humangan", "humandiffusion", "data_diffusion")


def run_compare(args: argparse.Namespace) -> None:
    from hdbench.experiments.method_suite import run_method_suite
    from hdbench.experiments.oracle_suite import bracket_oracle

    oracle = load_oracle(args.oracle, args.oracles)
    folder = args.out or Path("results") / "compare" / oracle.name
    brackets = bracket_oracle(oracle)
    run_method_suite(folder, [oracle], brackets, COMPARED_METHODS, seeds=(args.seed,))
    print(f"wrote {folder}")


def run_bench(args: argparse.Namespace) -> None:
    from hdbench.experiments.method_suite import run_method_suite
    from hdbench.experiments.oracle_suite import run_oracle_suite
    from hdbench.oracles import load_all

    oracles = load_all(args.oracles)
    brackets = run_oracle_suite(args.out, oracles)
    run_method_suite(args.out, oracles, brackets)


if __name__ == "__main__":
    sys.exit(main())
