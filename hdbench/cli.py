"""The `hdbench` command line.

Each command imports what it needs when it runs, so that `hdbench --help` and light commands do
not pay for torch, pandas, scipy or matplotlib.

Exit codes: 0 when everything asked for was done and every run is `ok`; 1 when a run errored or
diverged (`hdbench run`), or when any run of a sweep, suite or comparison errored (diverged runs
of a sweep are results, listed in its summary); 2 for bad input, which gets one line on stderr
before anything is computed; 130 when interrupted, by Ctrl-C or by SIGTERM alike (which reaches
only this process: ending as on Ctrl-C stops a sweep's worker processes too).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from hdbench import files, progress
from hdbench.errors import HdbenchError, SpecError
from hdbench.threads import apply_thread_policy

#: What `hdbench run` prints, the headline pair first (`hdbench.metrics.headline`, not imported
#: here: importing the metrics package would load scipy at start-up).
RUN_SUMMARY_KEYS = (
    "ksd2",
    "mmd2_multiscale",
    "var_ratio_real",
    "var_ratio_target",
    "mmd2",
    "grid_coverage",
    "mean_true_d",
    "listening_mean",
    "num_ratings",
    "chain_steps",
    "stationary_at",
    "wall_time",
)


T = TypeVar("T")

EXIT_FAILED_RUNS = 1
EXIT_BAD_INPUT = 2
#: Commands that can redo the runs whose rows say `error`.
RETRY = ("sweep", "bench", "families")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_BAD_INPUT
    try:
        with sigterm_as_interrupt(), progress.shown(getattr(args, "quiet", False)):
            apply_thread_policy()
            if getattr(args, "methods", None):
                from hdbench.methods.plugins import use_method_dirs

                use_method_dirs(args.methods)
            if getattr(args, "time_limit", None) is not None:
                from hdbench.studies.guard import TIME_LIMIT_VARIABLE

                # In the environment, as --methods is, so that worker processes have it too.
                os.environ[TIME_LIMIT_VARIABLE] = repr(args.time_limit)
            return args.handler(args) or 0
    except HdbenchError as error:
        print(f"hdbench: error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("hdbench: interrupted", file=sys.stderr)
        return 130


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt in the body, as Ctrl-C would; the previous handler is
    back afterwards. Only the main thread can take signals: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def one_line(text: str) -> str:
    """`text` with its line breaks folded, so that an error is always one line."""
    return " ".join(text.split())


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the command and what was wrong)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def checked_option(
    convert: Callable[[str], T], ok: Callable[[T], bool], expected: str
) -> Callable[[str], T]:
    """An argparse `type`: `convert(text)`, refused in one line unless it parses and is `ok`."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


#: `--jobs`: a count ≥ 1, or -1 for every core.
jobs_count = checked_option(int, lambda v: v >= 1 or v == -1, "a count ≥ 1, or -1 for every core")
positive_count = checked_option(int, lambda v: v >= 1, "a count ≥ 1")
non_negative_count = checked_option(int, lambda v: v >= 0, "an integer ≥ 0")
#: NaN and infinity are not.
positive_number = checked_option(float, lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
port_number = checked_option(int, lambda v: 0 <= v <= 65535, "a port number from 0 to 65535")
seconds_count = checked_option(float, lambda v: math.isfinite(v) and v >= 0, "seconds ≥ 0")


class VersionAction(argparse.Action):
    """`--version`: the release and, from a checkout, its git revision (asked of git only when
    the option is given)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        help_ = "print the version (and the git revision of a checkout) and exit"
        super().__init__(option_strings, dest, nargs=0, help=help_)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from hdbench.version import version_line

        print(version_line())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="hdbench", description="Benchmark human-in-the-loop generative models."
    )
    parser.add_argument("--version", action=VersionAction)
    commands = parser.add_subparsers(dest="command", required=True)

    methods = commands.add_parser(
        "methods", help="list the methods, bundled and your own, with their parameters"
    )
    add_method_dirs(methods, runs=False)
    methods.set_defaults(handler=list_methods)

    oracles = commands.add_parser("oracles", help="list the oracles, or draw one")
    add_oracle_dirs(oracles)
    oracles.set_defaults(handler=list_oracles)
    oracle_commands = oracles.add_subparsers(dest="oracles_command")
    show = oracle_commands.add_parser("show", help="draw D with the real data and target samples")
    show.add_argument("name", help="oracle name or path to a spec file")
    show.add_argument("--out", type=Path, help="PNG to write (default: results/oracles/NAME.png)")
    add_oracle_dirs(show)
    show.set_defaults(handler=show_oracle)
    generate = oracle_commands.add_parser(
        "generate", help="write the spec of a generated discovery oracle (a family's member)"
    )
    generate.add_argument("family", help="bumps, curved or discovery")
    generate.add_argument("--seed", type=non_negative_count, required=True, help="family seed")
    generate.add_argument(
        "--out", type=Path, default=Path("results") / "oracles", help="folder of the spec"
    )
    generate.set_defaults(handler=generate_oracle)

    run = commands.add_parser("run", help="run one method on one oracle and score it")
    run.add_argument("--oracle", help="oracle name or spec file (required unless --replay)")
    run.add_argument(
        "--method",
        help="a method's name, or package.module:Class (your own; required unless --replay)",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a method parameter, e.g. --set R=10 --set lambda=0.1",
    )
    run.add_argument("--seed", type=int, help="default 0 (with --replay: the ledger's)")
    run.add_argument("--budget", type=int, help="most ratings the method may spend")
    add_eval_samples(run)
    run.add_argument("--out", type=Path, help="run folder (default: results/runs/ORACLE-METHOD-ID)")
    run.add_argument(
        "--replay",
        type=Path,
        metavar="LEDGER",
        help="answer every trial from this ledger (a run's or study's ledger.sqlite), not from "
        "a panel; the oracle, method, parameters and seed are the ledger's unless given",
    )
    add_oracle_dirs(run)
    add_method_dirs(run)
    add_quiet_option(run)
    run.set_defaults(handler=run_one)

    add_study_commands(commands)
    add_ledger_commands(commands)
    add_serve_command(commands)

    compare = commands.add_parser(
        "compare",
        help="HumanGAN (truncated, converged), HumanDiffusion and the control, side by side",
    )
    compare.add_argument("--oracle", required=True, help="oracle name or spec file")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="[METHOD.]KEY=VALUE",
        help="a parameter of every compared method that has it, or of one: --set R=5 "
        "--set humangan.num_updates=50",
    )
    add_eval_samples(compare)
    compare.add_argument("--out", type=Path, help="folder (default: results/compare/ORACLE)")
    add_parallel_options(compare)
    add_quiet_option(compare)
    add_oracle_dirs(compare)
    add_method_dirs(compare)
    compare.set_defaults(handler=run_compare)

    bench = commands.add_parser("bench", help="run a benchmark suite (default: standard)")
    bench.add_argument("--suite", default="standard", help="a suite in benchmarks/ or a file")
    bench.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    bench.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="[METHOD.]KEY=VALUE",
        help="a parameter of every method of the suite that has it, or of one, over the "
        "suite's own: --set stop=fixed --set humangan.num_updates=50",
    )
    add_parallel_options(bench)
    add_quiet_option(bench)
    add_retry_option(bench)
    add_oracle_dirs(bench)
    add_method_dirs(bench)
    bench.set_defaults(handler=run_bench)

    families = commands.add_parser(
        "families", help="every method on generated oracles, against the ratings-free baselines"
    )
    families.add_argument(
        "file", nargs="?", default="families", help="a families file in benchmarks/ or a path"
    )
    families.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    families.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: report the runs finished so far (e.g. while another process runs)",
    )
    add_parallel_options(families)
    add_retry_option(families)
    add_method_dirs(families)
    families.set_defaults(handler=run_families_command)

    speech = commands.add_parser("speech", help="listen to the speech space")
    speech_commands = speech.add_subparsers(dest="speech_command", required=True)
    render = speech_commands.add_parser("render", help="WAV files of a run's samples")
    render.add_argument("run_dir", type=Path, help="a run folder (with spec.json, samples.npy)")
    render.add_argument("--out", type=Path, help="default: RUN_DIR/audio")
    render.add_argument(
        "--first", type=positive_count, default=10, help="how many samples (default 10)"
    )
    add_oracle_dirs(render)
    render.set_defaults(handler=speech_render)

    reference = commands.add_parser(
        "reference", help="regenerate results/reference/ from benchmarks/reference.toml"
    )
    reference.add_argument("--out", type=Path, help="default: results/reference")
    reference.add_argument(
        "--check",
        action="store_true",
        help="run the suite on a check seed set and compare it with the reference instead; "
        "exit 1 on a regression",
    )
    reference.add_argument(
        "--mutant", help="with --check: apply this deliberate regression (see --power)"
    )
    reference.add_argument(
        "--seed-set",
        type=non_negative_count,
        default=0,
        help="with --check: the check seed set (default 0)",
    )
    reference.add_argument(
        "--power",
        action="store_true",
        help="every mutant, and the unchanged code on --sets seed sets: results/reference/power.md",
    )
    reference.add_argument(
        "--sets", type=positive_count, default=10, help="with --power: seed sets (default 10)"
    )
    reference.add_argument(
        "--first-set",
        type=non_negative_count,
        default=0,
        help="with --power: the first of the --sets seed sets (default 0); the mutants run on "
        "the set after the last",
    )
    add_parallel_options(reference)
    add_quiet_option(reference)
    reference.set_defaults(handler=run_reference)

    sweep = commands.add_parser("sweep", help="run a grid of parameters, resumably")
    sweep.add_argument("file", nargs="?", help="a sweep file (TOML); or give the grid below")
    sweep.add_argument(
        "--grid",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=V1,V2",
        help="e.g. --grid sigma_nes=0.5,1 R=5,10 lambda=0,1",
    )
    sweep.add_argument("--oracle", action="append", default=[], help="oracle (repeatable)")
    sweep.add_argument("--method", action="append", default=[], help="method (repeatable)")
    sweep.add_argument("--seeds", type=int, help="seeds 0, 1, …, N-1 (default 1 seed: 0)")
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a fixed parameter for every run",
    )
    add_eval_samples(sweep)
    sweep.add_argument("--name", help="results/NAME/ (default: sweep)")
    add_retry_option(sweep)
    sweep.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    add_parallel_options(sweep)
    add_quiet_option(sweep)
    add_oracle_dirs(sweep)
    add_method_dirs(sweep)
    sweep.set_defaults(handler=run_sweep)
    return parser


def add_parallel_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs", type=jobs_count, default=-1, help="processes (default -1: every core)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on this Dask cluster instead of local processes",
    )


def add_method_dirs(parser: argparse.ArgumentParser, runs: bool = True) -> None:
    """`--methods DIR`; and `--time-limit` where the command runs methods (`runs`)."""
    parser.add_argument(
        "--methods",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own methods, one module each (also: HDBENCH_METHODS)",
    )
    if runs:
        parser.add_argument(
            "--time-limit",
            type=seconds_count,
            metavar="SECONDS",
            help="most seconds one call of a method may take (default: an hour; 0: no limit; "
            "also: HDBENCH_TIME_LIMIT)",
        )


def add_study_commands(commands) -> None:
    study = commands.add_parser("study", help="a study whose trials wait for answers")
    study_commands = study.add_subparsers(dest="study_command", required=True)
    start = study_commands.add_parser("start", help="start a study; its trials go to a queue")
    start.add_argument("folder", type=Path, metavar="DIR")
    start.add_argument("--oracle", required=True, help="oracle name or spec file")
    start.add_argument("--method", required=True, help="a method's name, or package.module:Class")
    start.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    start.add_argument("--seed", type=int, default=0)
    start.add_argument("--budget", type=int, help="most ratings the method may spend")
    add_eval_samples(start)
    start.add_argument(
        "--panel", choices=["queue"], default="queue", help="who answers: a queue in the ledger"
    )
    add_oracle_dirs(start)
    add_method_dirs(start)
    add_quiet_option(start)
    start.set_defaults(handler=study_start)

    status = study_commands.add_parser("status", help="batches asked, ratings in")
    status.add_argument("folder", type=Path, metavar="DIR")
    add_oracle_dirs(status)
    add_method_dirs(status)
    status.set_defaults(handler=study_status)

    resume = study_commands.add_parser("resume", help="go on with the ratings that are in")
    resume.add_argument("folder", type=Path, metavar="DIR")
    resume.add_argument(
        "--wait", action="store_true", help="keep waiting for answers until the study finishes"
    )
    add_oracle_dirs(resume)
    add_method_dirs(resume)
    add_quiet_option(resume)
    resume.set_defaults(handler=study_resume)

    answer = study_commands.add_parser(
        "answer", help="answer the pending trials with an oracle's simulated listeners"
    )
    answer.add_argument("folder", type=Path, metavar="DIR")
    answer.add_argument("--oracle", required=True, help="oracle name or spec file")
    answer.add_argument(
        "--follow", action="store_true", help="keep answering new batches until the study ends"
    )
    add_oracle_dirs(answer)
    add_method_dirs(answer)
    answer.set_defaults(handler=study_answer)


def add_ledger_commands(commands) -> None:
    ledger = commands.add_parser("ledger", help="read a study's ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    export = ledger_commands.add_parser("export", help="one tidy row per rating")
    export.add_argument("ledger", type=Path, metavar="LEDGER")
    export.add_argument("--to", choices=["parquet", "csv"], default="parquet")
    export.add_argument("--out", type=Path, help="default: LEDGER with the format's suffix")
    export.set_defaults(handler=ledger_export)

    fit = ledger_commands.add_parser(
        "fit-listener", help="fit the listener model to a ledger's ratings (maximum likelihood)"
    )
    fit.add_argument("ledger", type=Path, metavar="LEDGER")
    fit.add_argument("--out", type=Path, required=True, metavar="FILE.toml")
    fit.add_argument(
        "--source", default="person", help="ratings of this source (prefix; default: person)"
    )
    fit.set_defaults(handler=ledger_fit_listener)


def completion_code(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", text):
        raise argparse.ArgumentTypeError(f"expected 1 to 64 letters, digits, - or _, got {text!r}")
    return text


def http_url(text: str) -> str:
    if not re.fullmatch(r"https?://[^\s\"'<>]+", text):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// address, got {text!r}")
    return text


def add_serve_command(commands) -> None:
    serve = commands.add_parser("serve", help="a listening page: people answer a waiting study")
    serve.add_argument("folder", type=Path, metavar="STUDY_DIR")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8000, help="0 to 65535 (8000)")
    serve.add_argument(
        "--session-size", type=positive_count, default=30, help="trials a session (30)"
    )
    serve.add_argument(
        "--lease-minutes",
        type=positive_number,
        default=10.0,
        help="a session's trials return to the queue after this long without activity (10)",
    )
    serve.add_argument("--screening-rate", type=float, help="share of screening trials (0.1)")
    serve.add_argument(
        "--reference-threshold", type=float, help="hidden reference below this fails (0.9)"
    )
    serve.add_argument("--anchor-threshold", type=float, help="anchor above this fails (0.5)")
    serve.add_argument(
        "--use-all", action="store_true", default=None, help="use flagged participants too"
    )
    serve.add_argument(
        "--no-prefetch",
        action="store_true",
        help="render each sound only when it is asked for, not a session's sounds ahead",
    )
    serve.add_argument(
        "--completion-code", type=completion_code, help="shown when a session is done (Prolific)"
    )
    serve.add_argument("--redirect-url", type=http_url, help="where a finished participant goes")
    serve.add_argument(
        "--invitations",
        type=positive_count,
        default=0,
        help="enter only by one of N signed links (written to STUDY_DIR/invitations.txt)",
    )
    serve.add_argument("--no-headphone-check", action="store_true", help="skip the headphone check")
    add_oracle_dirs(serve)
    add_method_dirs(serve)
    serve.set_defaults(handler=serve_study)


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (else: bars on a terminal, one line per phase elsewhere)",
    )


def add_retry_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--retry-errors",
        action="store_true",
        help="redo the runs whose stored rows say `error` (other finished runs are kept)",
    )


def add_eval_samples(parser: argparse.ArgumentParser) -> None:
    from hdbench.protocol import NUM_EVAL_SAMPLES

    parser.add_argument(
        "--eval-samples",
        type=int,
        metavar="N",
        help=f"particles the method draws for scoring (default {NUM_EVAL_SAMPLES})",
    )


def eval_samples(args: argparse.Namespace) -> dict[str, int]:
    """{"num_eval_samples": N} when --eval-samples was given, else nothing (the default)."""
    return {} if args.eval_samples is None else {"num_eval_samples": args.eval_samples}


def add_oracle_dirs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--oracles",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="another folder of oracle specs (also: HDBENCH_ORACLES)",
    )


def list_methods(args: argparse.Namespace) -> int:
    """One line per method (name, bundled or plug-in, description) and one of its parameters
    with their defaults; a plug-in that cannot be loaded is marked and makes the exit code
    non-zero."""
    from hdbench.methods.plugins import describe_methods

    rows = describe_methods()
    width = max((len(name) for name, *_ in rows), default=0)
    broken = [name for name, _, description, _ in rows if description.startswith("cannot load")]
    for name, origin, description, params in rows:
        mark = "✗ " if name in broken else ""
        print(f"{name:<{width}}  {origin:<7}  {mark}{one_line(description)}")
        if params:
            print(f"{'':<{width}}  {'':<7}  parameters: {params}")
    if broken:
        print(
            f"hdbench: error: {len(broken)} method(s) cannot be loaded: {', '.join(broken)}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return 0


def list_oracles(args: argparse.Namespace) -> int:
    """One line per oracle found; a spec that cannot be loaded is marked, and makes the exit
    code non-zero, with one line on stderr naming it."""
    from hdbench.oracles import find_specs
    from hdbench.oracles.catalog import check_spec

    specs = find_specs(args.oracles)
    width = max(map(len, specs), default=0)
    broken = []
    for name, path in specs.items():
        try:
            print(f"{name:<{width}}  {check_spec(path).description}")
        except SpecError as error:
            broken.append(name)
            print(f"{name:<{width}}  ✗ cannot load: {one_line(str(error))}")
    if broken:
        print(
            f"hdbench: error: {len(broken)} oracle spec(s) cannot be loaded: {', '.join(broken)}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return 0


def show_oracle(args: argparse.Namespace) -> None:
    import numpy as np

    from hdbench.experiments.preflight import check_output_file
    from hdbench.oracles import load_oracle
    from hdbench.report.oracle_figure import plot_oracle

    oracle = load_oracle(args.name, args.oracles)
    out = args.out or Path("results") / "oracles" / f"{oracle.name}.png"
    check_output_file(out, "--out")
    path = plot_oracle(oracle, out)
    target = oracle.truth.sample(100_000, np.random.default_rng(0))
    target_var, real_var = target.var(axis=0), oracle.real_data.var(axis=0)
    per_dim = ", ".join(f"{r:.2f}" for r in target_var / real_var)
    print(f"{oracle.name}: {oracle.spec.description}")
    print(
        f"variance of the target / of the real data: {target_var.sum() / real_var.sum():.2f} "
        f"in total; per dimension: {per_dim}"
    )
    print(f"wrote {path}")


def run_one(args: argparse.Namespace) -> int:
    if args.replay is not None:
        spec, oracle = replayed_run_spec(args)
    else:
        from hdbench.oracles import load_oracle

        for option, value in (("--oracle", args.oracle), ("--method", args.method)):
            if value is None:
                raise SpecError(f"{option}: required (or --replay LEDGER, which names it)")
        oracle = load_oracle(args.oracle, args.oracles)
        spec = run_spec_of(args, oracle, "run")
    from hdbench.experiments import pipelines  # the runner: once the spec is known good

    result, folder = pipelines.run_one(spec, oracle, args.out, args.replay)
    return print_run(oracle, result, folder)


def replayed_run_spec(args: argparse.Namespace):
    """The spec and oracle of the run `--replay` recorded; the options given are checked
    against it."""
    from hdbench.experiments.plan import parse_assignments
    from hdbench.experiments.replay import replayed_spec

    given = {
        "oracle": args.oracle,
        "method": args.method,
        "seed": args.seed,
        "budget": args.budget,
        "params": parse_assignments(args.set),
        **eval_samples(args),
    }
    return replayed_spec(args.replay, given, args.oracles)


def run_spec_of(args: argparse.Namespace, oracle, where: str):
    """The validated run spec of `--method`, `--set`, `--seed`, `--budget` and `--eval-samples`
    on `oracle`."""
    from hdbench.experiments.plan import parse_assignments
    from hdbench.experiments.run_spec import RunSpec
    from hdbench.validation import validate

    fields = {
        "oracle": oracle.name,
        "method": args.method,
        "params": parse_assignments(args.set),
        "seed": 0 if args.seed is None else args.seed,
        "budget": args.budget,
        **eval_samples(args),
    }
    return validate(RunSpec, fields, where).for_oracle(oracle)


def print_run(oracle, result, folder: Path) -> int:
    """A finished run's summary on the terminal; returns the exit code: EXIT_FAILED_RUNS, with
    one line on stderr, unless the run is ok."""
    row = result.row
    if row.get("answered_by") == "people":
        print("answered by people: the metrics against the truth are not computed (SCORING.md)")
    print(f"{oracle.name} · {row['method']} · seed {row['seed']}: {row['status']} {row['error']}")
    for key in RUN_SUMMARY_KEYS:
        if key in row and row[key] is not None:
            value = row[key]
            print(
                f"  {key:<18} {value:.4g}" if isinstance(value, float) else f"  {key:<18} {value}"
            )
    print(f"wrote {folder}")
    if row["status"] != "ok":
        print(
            f"hdbench: error: the run {row['status']}: {one_line(str(row['error']))}",
            file=sys.stderr,
        )
        return EXIT_FAILED_RUNS
    return 0


def study_start(args: argparse.Namespace) -> None:
    from hdbench.oracles import load_oracle

    oracle = load_oracle(args.oracle, args.oracles)
    spec = run_spec_of(args, oracle, "study")
    from hdbench.experiments.preflight import check_output  # the runner: once the spec is good
    from hdbench.experiments.run import RunPlan
    from hdbench.experiments.study import Study

    RunPlan.build(spec, oracle)  # before the folder is made
    check_output(args.folder, "DIR")
    proceed_study(Study.create(args.folder, spec, oracle), wait=False)


def study_resume(args: argparse.Namespace) -> None:
    from hdbench.experiments.study import Study

    proceed_study(Study.open(args.folder, args.oracles), wait=args.wait)


def proceed_study(study, wait: bool, poll_interval: float = 0.5) -> None:
    """Take a study as far as its answers go; with `wait`, until it is finished."""
    import time

    from hdbench.experiments.pipelines import write_run_outputs
    from hdbench.experiments.study import waiting_line
    from hdbench.metrics import TruthContext
    from hdbench.studies.loop import Waiting

    while isinstance(outcome := study.proceed(), Waiting):
        if not wait:
            print(waiting_line(study, outcome))
            return
        time.sleep(poll_interval)
    context = TruthContext.build(study.oracle.truth, study.oracle.real_data, seed=study.spec.seed)
    write_run_outputs(study.oracle, context, outcome, study.folder)
    print_run(study.oracle, outcome, study.folder)


def study_status(args: argparse.Namespace) -> None:
    from hdbench.experiments.study import Study

    print("\n".join(Study.open(args.folder, args.oracles).status()))


def study_answer(args: argparse.Namespace) -> None:
    from hdbench.experiments.study import Study, answer, follow
    from hdbench.oracles import load_oracle

    study = Study.open(args.folder, args.oracles)
    oracle = load_oracle(args.oracle, args.oracles)
    if args.follow:
        given = follow(study, oracle, poll_interval=0.2, timeout=600.0)
    else:
        given = answer(study, oracle)
    print(f"answered {given:,} ratings in {args.folder} with {oracle.name}'s listeners")


def ledger_export(args: argparse.Namespace) -> None:
    from hdbench.experiments.preflight import check_output_file
    from hdbench.studies.ledger import Ledger, ledger_table

    if not args.ledger.is_file():
        raise SpecError(f"LEDGER: expected a ledger file (ledger.sqlite), got {args.ledger}")
    out = args.out or args.ledger.with_suffix(f".{args.to}")
    check_output_file(out, "--out")
    if out.suffix != f".{args.to}":
        raise SpecError(f"--out: expected a .{args.to} file (--to {args.to}), got {out}")
    with Ledger(args.ledger, create=False) as ledger:
        table = ledger_table(ledger)
    files.write_frame(table, out)
    print(f"wrote {len(table):,} ratings to {out}")


def serve_study(args: argparse.Namespace) -> None:
    from hdbench.experiments.study import Study
    from hdbench.serve.server import PageOptions, check_address, screening_rule, serve

    check_address(args.host, args.port)
    Study.open(args.folder, args.oracles)  # a folder without a study is one line, and not made
    given = {
        "rate": args.screening_rate,
        "reference_threshold": args.reference_threshold,
        "anchor_threshold": args.anchor_threshold,
        "use_all": args.use_all,
    }
    rule = screening_rule(args.folder, {k: v for k, v in given.items() if v is not None})
    options = PageOptions(
        args.session_size,
        args.lease_minutes * 60,
        rule,
        prefetch=not args.no_prefetch,
        headphone_trials=0 if args.no_headphone_check else PageOptions.headphone_trials,
        completion_code=args.completion_code,
        redirect_url=args.redirect_url,
        invitations=args.invitations,
    )
    serve(args.folder, args.host, args.port, options, args.oracles)


def ledger_fit_listener(args: argparse.Namespace) -> None:
    from hdbench.experiments.preflight import check_output_file
    from hdbench.studies.fit_listener import fit_ledger, listener_toml

    if not args.ledger.is_file():
        raise SpecError(f"LEDGER: expected a ledger file (ledger.sqlite), got {args.ledger}")
    check_output_file(args.out, "--out")
    fit = fit_ledger(args.ledger, args.source)
    args.out.write_text(listener_toml(fit))
    print(fit.table())
    print(f"wrote {args.out}")


def run_compare(args: argparse.Namespace) -> int:
    from hdbench.experiments import pipelines
    from hdbench.oracles import load_oracle

    oracle = load_oracle(args.oracle, args.oracles)
    method_params = per_method_params(args.set, pipelines.COMPARED_METHODS)
    runs, folder = pipelines.compare(
        oracle,
        args.seed,
        args.out,
        args.oracles,
        method_params,
        eval_samples(args),
        args.jobs,
        args.scheduler,
    )
    print((folder / "summary.md").read_text())
    print(f"wrote {folder}")
    return failed_runs_exit(runs, "compare")


def per_method_params(assignments: Sequence[str], methods: Sequence[str]) -> dict[str, dict]:
    """`--set` of a comparison or suite as each method's parameters: `METHOD.KEY=VALUE` sets one
    method's, `KEY=VALUE` every method's that has KEY; a key that none has is refused."""
    from hdbench.experiments.plan import parse_assignments

    params: dict[str, dict] = {method: {} for method in methods}
    for key, value in parse_assignments(assignments).items():
        method, dot, name = key.rpartition(".")
        if dot and method not in params:
            raise SpecError(f"--set: {key}: expected one of {', '.join(methods)} before the dot")
        takers = [method] if dot else [m for m in methods if name in parameter_names(m)]
        if not takers or name not in parameter_names(takers[0]):
            whose = method if dot else "any of " + ", ".join(methods)
            raise SpecError(f"--set: {key}: not a parameter of {whose}")
        for taker in takers:
            params[taker][name] = value
    return {method: given for method, given in params.items() if given}


def parameter_names(method: str) -> set[str]:
    """The parameter names (and aliases, e.g. `lambda`) that `method` takes."""
    from hdbench.methods.plugins import resolve_method

    fields = resolve_method(method).Params.model_fields
    return set(fields) | {field.alias for field in fields.values() if field.alias}


def generate_oracle(args: argparse.Namespace) -> None:
    from hdbench.experiments.preflight import check_output_file
    from hdbench.experiments.scaling import to_toml
    from hdbench.files import write_text
    from hdbench.oracles import load_oracle
    from hdbench.oracles.generated import generate_spec

    spec = generate_spec(args.family, args.seed)
    path = args.out / f"{spec['name']}.toml"
    check_output_file(path, "--out")
    write_text(to_toml(spec), path)
    oracle = load_oracle(path)
    print(f"{oracle.name}: {oracle.spec.description}")
    print(f"wrote {path}")


def run_families_command(args: argparse.Namespace) -> int:
    from hdbench.experiments.families import read_family_suite, run_families
    from hdbench.experiments.store import read_table

    suite = read_family_suite(args.file)
    run_families(suite, args.out, args.jobs, args.scheduler, args.retry_errors, args.report_only)
    folder = args.out / suite.name
    print((folder / "families.md").read_text())
    print(f"wrote {folder}")
    return failed_runs_exit(read_table(folder, "runs"), "families")


def run_bench(args: argparse.Namespace) -> int:
    from hdbench.experiments import pipelines
    from hdbench.experiments.plan import read_sweep

    suite = read_sweep(args.suite)
    method_params = per_method_params(args.set, suite.methods) if args.set else {}
    runs, folder = pipelines.bench(
        args.suite,
        args.out,
        args.oracles,
        args.jobs,
        args.scheduler,
        args.retry_errors,
        method_params,
    )
    print((folder / "summary.md").read_text())
    print(f"wrote {folder}")
    return failed_runs_exit(runs, "bench")


def failed_runs_exit(runs, command: str) -> int:
    """EXIT_FAILED_RUNS, with one line on stderr, when any run's status is `error`."""
    errors = runs[runs["status"] == "error"] if not runs.empty else runs
    if errors.empty:
        return 0
    first = errors.iloc[0]
    retry = f"; `hdbench {command} ... --retry-errors` redoes them" if command in RETRY else ""
    print(
        f"hdbench: error: {len(errors)} of {len(runs)} runs failed, listed in summary.md "
        f"(first: {first['oracle']} · {first['method']} · seed {first['seed']}: "
        f"{one_line(str(first['error']))}){retry}",
        file=sys.stderr,
    )
    return EXIT_FAILED_RUNS


def speech_render(args: argparse.Namespace) -> None:
    import json

    import numpy as np

    from hdbench.oracles import load_oracle
    from hdbench.report.speech_figures import render_points

    spec_path, samples_path = args.run_dir / "spec.json", args.run_dir / "samples.npy"
    if not spec_path.exists() or not samples_path.exists():
        raise SpecError(
            f"run_dir: expected a run folder with spec.json and samples.npy, got {args.run_dir}"
        )
    try:
        name = json.loads(spec_path.read_text())["oracle"]
    except (ValueError, KeyError, TypeError):
        raise SpecError(f"run_dir: {spec_path} does not name its oracle (damaged?)") from None
    oracle = load_oracle(str(name), args.oracles)
    space = getattr(oracle.truth, "space", None)
    if space is None:
        raise SpecError(f"run_dir: oracle {oracle.name!r} is not a speech oracle (kind vowel)")
    points = np.load(samples_path)[: args.first]
    paths = render_points(space, points, args.out or args.run_dir / "audio")
    print(f"wrote {len(paths)} WAV files and spectrograms.png into {paths[0].parent}")


def run_reference(args: argparse.Namespace) -> int:
    from hdbench.experiments import pipelines

    if args.mutant is not None and not args.check:
        raise SpecError("--mutant: expected with --check")
    if args.power:
        text, path = pipelines.reference_power(args.sets, args.first_set, args.out, args.jobs)
        print(text)
        print(f"wrote {path}")
        return 0
    if args.check:
        failures, what = pipelines.check_reference(args.seed_set, args.mutant, args.out, args.jobs)
        if failures:
            print(f"{what}: {len(failures)} regression(s)")
            print("\n".join(f"  {line}" for line in failures))
            return 1
        print(f"{what}: no regression against the reference")
        return 0
    runs, path, out = pipelines.make_reference(args.out, args.jobs, args.scheduler)
    print(f"wrote {path}; `git diff {out}` shows what moved")
    return failed_runs_exit(runs, "reference")


def run_sweep(args: argparse.Namespace) -> int:
    from hdbench.experiments import pipelines
    from hdbench.experiments.plan import SweepSpec, parse_assignments, parse_grid, read_sweep
    from hdbench.validation import validate

    if args.file:
        given = [
            option
            for option, value in [
                ("--grid", args.grid),
                ("--oracle", args.oracle),
                ("--method", args.method),
                ("--set", args.set),
                ("--seeds", args.seeds is not None),
                ("--eval-samples", args.eval_samples is not None),
                ("--name", args.name is not None),
            ]
            if value
        ]
        if given:
            raise SpecError(
                f"{given[0]}: expected either a sweep file or {given[0]} and the other grid "
                "options, not both; put it in the file"
            )
        sweep = read_sweep(args.file)
    else:
        if not args.oracle:
            raise SpecError("--oracle: expected at least one oracle (or a sweep file)")
        fields = {
            "name": args.name or "sweep",
            "oracles": args.oracle,
            "seeds": 1 if args.seeds is None else args.seeds,
            "methods": args.method or ["humandiffusion"],
            "grid": parse_grid(args.grid),
            "params": parse_assignments(args.set),
            **eval_samples(args),
        }
        sweep = validate(SweepSpec, fields, "sweep")
    folder = args.out / sweep.name
    print(f"{sweep.name}: {len(sweep.runs(args.oracles))} runs into {folder}")
    runs, summary = pipelines.sweep(
        sweep, args.out, args.oracles, args.jobs, args.scheduler, args.retry_errors
    )
    print(summary)
    print(f"wrote {folder}")
    return failed_runs_exit(runs, "sweep")


if __name__ == "__main__":
    sys.exit(main())
