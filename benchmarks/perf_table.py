"""The speed table: each figure of `make perf` beside its goal, in seconds and in calibration units.

    python benchmarks/perf_table.py results/perf/benchmarks.json [results/perf/suites.json]
        [--into docs/speed.md]

Reads pytest-benchmark's JSON files (`make perf`'s, and `make perf-suites`' when it has run)
and prints a Markdown table (also written beside the first file as speed.md). A calibration
unit is one 512 × 512 float64 matrix product on the same machine in the same session, so that
two machines' tables compare as ratios. With --into FILE, the table
between FILE's `<!-- speed table -->` markers is replaced.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Benchmarks = dict[str, dict]
MARKERS = ("<!-- speed table -->", "<!-- /speed table -->")


@dataclass(frozen=True)
class Row:
    """One line: `value` in seconds (or a ratio when `ratio`), a goal `limit` or None, an upper
    bound unless `at_least`."""

    label: str
    value: Callable[[Benchmarks], float]
    limit: float | None = None
    ratio: bool = False
    at_least: bool = False


def mean(name: str) -> Callable[[Benchmarks], float]:
    return lambda b: b[name]["stats"]["mean"]


def per_step(name: str) -> Callable[[Benchmarks], float]:
    """Mean over the steps (and the runs) a benchmark times at once."""

    def value(b: Benchmarks) -> float:
        info = b[name]["extra_info"]
        return b[name]["stats"]["mean"] / info["steps"] / info.get("runs", 1)

    return value


def extra(name: str, key: str) -> Callable[[Benchmarks], float]:
    return lambda b: b[name]["extra_info"][key]


def ratio(top: Callable, bottom: Callable) -> Callable[[Benchmarks], float]:
    return lambda b: top(b) / bottom(b)


THREADS = "test_default_run_beside_a_busy_process"
SUITE = "test_suite_wall_time[{}]"
ROWS = [
    Row(
        "calibration: 512² float64 matrix product (numpy)", mean("test_calibration_matrix_product")
    ),
    Row("`hdbench --help`, process start to exit", mean("test_command_line[help]")),
    *[
        Row(
            f"{label}, CPU time, start to exit",
            extra(f"test_light_command[{case}]", "cpu_seconds"),
            0.3,
        )
        for case, label in [
            ("oracles", "`hdbench oracles`"),
            ("study_status", "`hdbench study status DIR`"),
            ("unknown_oracle", "`hdbench run --oracle nope …` (refused)"),
            ("negative_seed", "`hdbench run … --seed -1` (refused)"),
        ]
    ],
    Row(
        "`hdbench run` humandiffusion on paper_like, start to exit, figures included",
        mean("test_command_line[run]"),
        10.0,
    ),
    Row(
        "… the same with the paper's fixed chain (`--set stop=fixed`)",
        mean("test_command_line[run_fixed]"),
    ),
    Row(
        "… fixed chain / chain stopped when stationary",
        ratio(mean("test_command_line[run_fixed]"), mean("test_command_line[run]")),
        ratio=True,
    ),
    Row(
        "… the same, scoring 200 particles (`--eval-samples 200`)",
        mean("test_command_line[run200]"),
        10.0,
    ),
    Row(
        "humandiffusion default run: the method's `wall_time`",
        extra("test_whole_default_run[humandiffusion]", "wall_time"),
        1.0,
    ),
    Row(
        "… the same, scoring 200 particles",
        extra("test_run_scoring_200_particles", "wall_time"),
        1.0,
    ),
    Row(
        "humandiffusion default run, scored (`execute`)",
        mean("test_whole_default_run[humandiffusion]"),
    ),
    *(
        Row(f"{method} default run, scored", mean(f"test_whole_default_run[{method}]"))
        for method in (
            "humandiffusion_iter",
            "humandiffusion_ms",
            "data_diffusion",
            "humangan",
            "humangan_truncated",
            "exact_score",
        )
    ),
    *(
        Row(
            f"{method} default run, fixed chain / stopped when stationary",
            ratio(
                mean(f"test_whole_default_run[{method}-fixed]"),
                mean(f"test_whole_default_run[{method}]"),
            ),
            ratio=True,
        )
        for method in ("humandiffusion", "humandiffusion_iter", "data_diffusion", "exact_score")
    ),
    Row(
        "`make bench` (the standard suite, 420 runs with the baselines), start to exit",
        mean(SUITE.format("bench")),
        480.0,
    ),
    Row(
        "… the same with the paper's fixed chains (`--set stop=fixed`)",
        mean(SUITE.format("bench_fixed")),
    ),
    Row(
        "… fixed chains / chains stopped when stationary",
        ratio(mean(SUITE.format("bench_fixed")), mean(SUITE.format("bench"))),
        2.5,
        ratio=True,
        at_least=True,
    ),
    Row("`make sweep` (320 runs), start to exit", mean(SUITE.format("sweep")), 480.0),
    Row("one training step, 300 points (2→128→128→3, Adam)", per_step("test_training_steps")),
    Row(
        "… per network, 16 networks trained at once",
        per_step("test_training_steps_of_16_networks_at_once"),
    ),
    Row("one Langevin step, 10,000 particles", per_step("test_langevin_steps[10000]"), 5e-3),
    Row(
        "… of which the 128 × 128 product",
        mean("test_parts_of_a_langevin_step[hidden_product]"),
    ),
    Row(
        "… of which the two softplus layers",
        mean("test_parts_of_a_langevin_step[softplus_layers]"),
    ),
    Row(
        "one Langevin step, 3,000 particles (`--eval-samples 3000`)",
        per_step("test_langevin_steps[3000]"),
    ),
    Row(
        "one Langevin step, 1,000 particles (the chains of a run, a suite or a sweep)",
        per_step("test_langevin_steps[1000]"),
    ),
    Row(
        "… per chain set, 16 sets of 1,000 at once",
        per_step("test_langevin_steps_of_16_chain_sets_at_once[1000]"),
    ),
    Row("one Langevin step, 200 particles", per_step("test_langevin_steps[200]")),
    Row(
        "… per chain set, 16 sets of 200 at once",
        per_step("test_langevin_steps_of_16_chain_sets_at_once[200]"),
    ),
    Row("one Langevin step, 100 particles", per_step("test_langevin_steps[100]")),
    Row(
        "Langevin step / bare forward pass, 100 particles",
        ratio(per_step("test_langevin_steps[100]"), mean("test_bare_forward[100]")),
        1.2,
        ratio=True,
    ),
    Row(
        "Langevin step / bare forward pass, 10,000 particles",
        ratio(per_step("test_langevin_steps[10000]"), mean("test_bare_forward[10000]")),
        ratio=True,
    ),
    Row(
        "beside a busy process: `hdbench run`, start to exit (no thread variables)",
        extra(THREADS, "cli"),
    ),
    Row(
        "beside a busy process: `hdbench run` / the same with OMP_NUM_THREADS=1",
        extra(THREADS, "cli_over_one_thread"),
        1.1,
        ratio=True,
    ),
    Row(
        "beside a busy process: `execute` from Python / `hdbench run` on one thread",
        extra(THREADS, "python_over_one_thread"),
        1.1,
        ratio=True,
    ),
    *(
        Row(
            f"beside a busy process: forward pass of {rows:,} rows, 2 threads / 1",
            ratio(
                mean(f"test_forward_pass_beside_a_busy_process[{rows}-2]"),
                mean(f"test_forward_pass_beside_a_busy_process[{rows}-1]"),
            ),
            ratio=True,
        )
        for rows in (200, 10_000, 100_000)
    ),
    Row(
        "10⁵ paired trials (2·10⁵ ratings), noisy listener",
        mean("test_paired_ratings_per_second"),
    ),
    Row("NES gradients of 10⁴ points (R = 20)", mean("test_nes_gradients_per_second")),
    Row("KDE modes of 10⁴ points (40 ratings each)", mean("test_kde_modes_per_second")),
    Row(
        "listening page, 200 participants at a human pace: sound latency p95",
        extra("test_serve_200_participants_at_a_human_pace", "sound_p95"),
        1.0,
    ),
    Row(
        "… answer latency p95",
        extra("test_serve_200_participants_at_a_human_pace", "answer_p95"),
        0.2,
    ),
    Row(
        "listening page flat out, every sound rendered afresh: time per answer (first to last)",
        extra("test_serve_flat_out_rendering_every_sound", "seconds_per_answer"),
        1 / 50,
    ),
]


def seconds(value: float) -> str:
    if value >= 120:
        minutes, rest = divmod(round(value), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.0f} µs"


def table(benchmarks: Benchmarks) -> str:
    unit = benchmarks.get("test_calibration_matrix_product", {}).get("stats", {}).get("mean")
    lines = [
        "| figure | measured | calibration units | goal | met |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        try:
            value = row.value(benchmarks)
        except KeyError:
            continue  # a benchmark left out of this session (pytest -k)
        shown = f"{value:.2f}" if row.ratio else seconds(value)
        units = "" if row.ratio or unit is None else f"{value / unit:,.3g}"
        if row.limit is None:
            goal, met = "", ""
        else:
            sign = "≥" if row.at_least else "≤"
            goal = f"{sign} {row.limit:g}" if row.ratio else f"{sign} {seconds(row.limit)}"
            reached = value >= row.limit if row.at_least else value <= row.limit
            met = "yes" if reached else "**no**"
        lines.append(f"| {row.label} | {shown} | {units} | {goal} | {met} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "json", type=Path, nargs="+", help="pytest-benchmark's --benchmark-json files"
    )
    parser.add_argument(
        "--into", type=Path, help="a file whose table between the markers to replace"
    )
    args = parser.parse_args()
    files = [json.loads(path.read_text()) for path in args.json]
    benchmarks: Benchmarks = {}
    for data in files:  # the first file's calibration and figures win
        for bench in data["benchmarks"]:
            benchmarks.setdefault(bench["name"], bench)
    data = files[0]
    text = table(benchmarks)
    cpu = data["machine_info"].get("cpu", {})
    header = (
        f"{cpu.get('brand_raw', 'unknown CPU')}, {cpu.get('count', '?')} cores, "
        f"{data['datetime'][:10]}\n\n"
    )
    (args.json[0].parent / "speed.md").write_text(header + text)
    print(header + text, end="")
    if args.into:
        page = args.into.read_text()
        pattern = re.compile(f"{re.escape(MARKERS[0])}.*?{re.escape(MARKERS[1])}", re.S)
        if not pattern.search(page):
            raise SystemExit(f"{args.into}: no {MARKERS[0]} … {MARKERS[1]} markers")
        block = f"{MARKERS[0]}\n{header}{text}{MARKERS[1]}"
        args.into.write_text(pattern.sub(lambda _: block, page))


if __name__ == "__main__":
    main()
