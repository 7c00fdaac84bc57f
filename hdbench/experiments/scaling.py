"""Scaling: what every method costs and how good it is against the dimension d and the number N
of real data (`make scaling`, `benchmarks/scaling.toml`).

Each (family, d, N) of the scaling file becomes an oracle spec written into OUT/oracles/ (named
`gauss_d8_n1000`), so that its runs go through the same specs, runner, rows and store as any
sweep, and can be re-run alone with `hdbench run --oracles OUT/oracles --oracle gauss_d8_n1000`:

- `gauss`: `paper_like` in d dimensions: N(μ, Σ) with μ = (0.5, -1, 0, …), Σ = paper_like's
  2 × 2 block then variance 5 on every other axis, peak 0.85; real data N(0, I);
- `mixture`: `ring_of_8` in d dimensions: 8 bumps (sd 0.3) on a circle of radius 1.5 in the
  plane of the first two axes, thin (sd 0.3) along the other d - 2; real data N(0, I);
- `vowel`: the /a/ speech space at d PCA components; its real data are corpus tokens, so N
  is at most the corpus's 360 (larger N are skipped, and the summary says so).

Besides its row (whose `wall_time` is the method's own), each run records `run_time` and
`cpu_time` (wall and CPU time of the method, its scoring and listening test: on a shared
machine the CPU time is the steadier figure), `context_time` (the exact truth's reference and
moment samples, once per oracle and process) and `peak_memory_mb`, the resident memory the run
added at its peak: Linux's high-water mark VmHWM after the run less VmRSS before it, freed memory
handed back first (malloc_trim) and the mark reset through /proc/self/clear_refs.

    python -m hdbench.experiments.scaling benchmarks/scaling.toml --out results [--dims 2,8]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import time
import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from pydantic import BaseModel, ConfigDict, Field

from hdbench import files, progress
from hdbench.errors import HdbenchError, SpecError
from hdbench.experiments import store
from hdbench.experiments.run import RunSpec, execute
from hdbench.metrics import TruthContext, evaluate
from hdbench.metrics.metric import MIN_SAMPLES
from hdbench.oracles import Oracle, load_oracle
from hdbench.protocol import NUM_EVAL_SAMPLES
from hdbench.report.scaling_figures import CEILING, plot_cost, plot_quality, scaling_markdown
from hdbench.rng import named_generator
from hdbench.threads import apply_thread_policy
from hdbench.validation import validate

Family = Literal["gauss", "mixture", "vowel"]
#: Tokens of the default speech corpus (120 speakers × 3): the most real data `vowel` has.
VOWEL_CORPUS_SIZE = 360
PAPER_LIKE_MEAN = (0.5, -1.0)
PAPER_LIKE_COV = ((6.0, 1.5), (1.5, 4.0))
#: Variance of the `gauss` family on the axes beyond paper_like's two.
EXTRA_AXIS_VARIANCE = 5.0


class ScalingSpec(BaseModel):
    """A scaling study: families × dims × num_real oracles, each run by every method."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field("scaling", pattern=r"^[a-z][a-z0-9_]*$")
    families: list[Family] = Field(min_length=1)
    dims: list[Annotated[int, Field(ge=2, le=32)]] = Field(min_length=1)
    num_real: list[Annotated[int, Field(ge=6)]] = Field(min_length=1)
    methods: list[str] = Field(min_length=1)
    seeds: int = Field(1, ge=1)
    method_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    num_eval_samples: int = Field(
        NUM_EVAL_SAMPLES,
        ge=MIN_SAMPLES,
        description="particles each run draws for scoring, and exact samples in the ceiling",
    )

    def oracle_specs(self) -> tuple[dict[str, dict], list[str]]:
        """The oracle specs by name, and a line for each (family, d, N) that does not exist."""
        specs, skipped = {}, []
        for family in self.families:
            for dim in self.dims:
                for num in self.num_real:
                    if family == "vowel" and num > VOWEL_CORPUS_SIZE:
                        skipped.append(
                            f"vowel d={dim} N={num}: the corpus has {VOWEL_CORPUS_SIZE} tokens"
                        )
                        continue
                    specs[oracle_name(family, dim, num)] = family_spec(family, dim, num)
        return specs, skipped

    def runs(self, oracles: Sequence[Oracle]) -> list[RunSpec]:
        """Every run, bound to its oracle's full spec (so its id covers it)."""
        return [
            RunSpec(
                oracle=oracle.name,
                method=method,
                params=self.method_params.get(method, {}),
                seed=seed,
                num_eval_samples=self.num_eval_samples,
            ).for_oracle(oracle)
            for oracle in oracles
            for method in self.methods
            for seed in range(self.seeds)
        ]


def oracle_name(family: str, dim: int, num: int) -> str:
    return f"{family}_d{dim}_n{num}"


def _dim_and_num(name: str) -> tuple[int, int]:
    """(d, N) from an oracle name made by `oracle_name`: `gauss_d8_n100` → (8, 100)."""
    _, dim, num = name.rsplit("_", 2)
    return int(dim[1:]), int(num[1:])


def family_spec(family: Family, dim: int, num: int) -> dict[str, Any]:
    """The oracle spec (as the TOML file's tables) of one family in `dim` dimensions, N = num."""
    real_data = {"num": num, "seed": 0}
    if family == "vowel":
        return {
            "description": f"the /a/ speech space at {dim} PCA components, {num} corpus tokens",
            "acceptability": {"kind": "vowel", "dim": dim},
            "real_data": real_data,
        }
    if family == "gauss":
        mean = np.zeros(dim)
        cov = EXTRA_AXIS_VARIANCE * np.eye(dim)
        mean[:2], cov[:2, :2] = PAPER_LIKE_MEAN[:dim], np.asarray(PAPER_LIKE_COV)[:dim, :dim]
        return {
            "description": f"paper_like in {dim} dimensions: a Gaussian wider than N(0, I)",
            "acceptability": {
                "kind": "gaussian",
                "mean": mean.tolist(),
                "cov": cov.tolist(),
                "peak": 0.85,
            },
            "real_data": real_data,
        }
    ring = {"num_bumps": 8, "radius": 1.5, "sd": 0.3, "peak": 0.9, "dim": dim}
    return {
        "description": f"ring_of_8 in {dim} dimensions: 8 bumps on a circle, thin off its plane",
        "acceptability": {"kind": "mixture", "ring": ring},
        "real_data": real_data,
    }


def to_toml(spec: dict[str, Any]) -> str:
    """A spec of scalars, lists and tables (one level, inline tables below) as TOML text."""
    scalars = [f"{key} = {toml_value(v)}" for key, v in spec.items() if not isinstance(v, dict)]
    tables = [
        f"\n[{key}]\n" + "\n".join(f"{k} = {toml_value(v)}" for k, v in value.items())
        for key, value in spec.items()
        if isinstance(value, dict)
    ]
    return "\n".join(scalars) + "\n" + "\n".join(tables) + "\n"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def write_oracle_specs(specs: dict[str, dict], folder: Path) -> Path:
    """Each spec as folder/NAME.toml, each checked by loading it; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, spec in specs.items():
        files.write_text(to_toml(spec), folder / f"{name}.toml")
    return folder


# Measuring one run ---------------------------------------------------------------------------
def _status_kb(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in kB; NaN off Linux."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return float("nan")
    values = [float(line.split()[1]) for line in lines if line.startswith(f"{field}:")]
    return values[0] if values else float("nan")


def _reset_peak_memory() -> None:
    """Hand freed memory back to the system (glibc's malloc_trim), so that a run reusing what an
    earlier run freed is still charged for it, then reset the resident high-water mark VmHWM
    to the current resident size (Linux ≥ 4.0)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


@cache
def _oracle_and_context(
    name: str, oracle_dir: Path, seed: int
) -> tuple[Oracle, TruthContext, float]:
    start = time.perf_counter()
    oracle = load_oracle(name, (oracle_dir,))
    context = TruthContext.build(oracle.truth, oracle.real_data, seed=seed)
    return oracle, context, time.perf_counter() - start


#: Methods this process has warmed up.
_WARMED: set[str] = set()


def _warm_up(spec: RunSpec, oracle: Oracle, context: TruthContext) -> None:
    """Run a process's first spec of each method once, unmeasured: one-off start-up costs (lazy
    imports, torch's first calls; over 10 s on a busy machine) are not charged to it."""
    if spec.method not in _WARMED:
        execute(spec, oracle, context)
        _WARMED.add(spec.method)


def measure_and_store(spec: RunSpec, folder: Path, oracle_dir: Path) -> dict:
    """Run one spec in this process, measured (see the module docstring); store and return its
    row. `execute` applies the thread policy (one torch thread): parallelism is across runs."""
    oracle, context, context_time = _oracle_and_context(spec.oracle, oracle_dir, spec.seed)
    _warm_up(spec, oracle, context)
    _reset_peak_memory()
    before = _status_kb("VmRSS")
    start, cpu_start = time.perf_counter(), time.process_time()
    result = execute(spec, oracle, context)
    run_time, cpu_time = time.perf_counter() - start, time.process_time() - cpu_start
    result.row.update(
        family=spec.oracle.split("_d")[0],
        dim=oracle.dim,
        num_real=len(oracle.real_data),
        run_time=run_time,
        cpu_time=cpu_time,
        context_time=context_time,
        peak_memory_mb=max(_status_kb("VmHWM") - before, 0.0) / 1024,
    )
    store.write_run(result, store.run_folder(folder, oracle.name, spec.method, spec.run_id))
    store.write_row(result.row, folder)
    return result.row


def run_scaling(
    spec: ScalingSpec, folder: Path, n_jobs: int = -1, whole: ScalingSpec | None = None
) -> pd.DataFrame:
    """Run the study into `folder` (resuming what is there), then the figures and summary of
    every run stored there (so a study run in parts is reported whole; `whole`, the study it is
    a part of, lets the summary list what is not run yet); returns that table."""
    specs, _ = spec.oracle_specs()
    oracle_dir = write_oracle_specs(specs, folder / "oracles")
    # Every spec loads here, before any run: a bad one costs nothing.
    runs = spec.runs([load_oracle(name, (oracle_dir,)) for name in specs])
    done = store.finished_run_ids(folder)
    # Cheapest first, so that each worker's unmeasured warm-up run is a cheap one.
    todo = sorted(
        (run for run in runs if run.run_id not in done),
        key=lambda run: (run.oracle.startswith("vowel"), *_dim_and_num(run.oracle)),
    )
    bar = progress.runs_bar(len(runs), len(runs) - len(todo))
    with bar, progress.silenced():
        rows = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(measure_and_store)(run, folder, oracle_dir) for run in todo
        )
        for row in rows:
            bar.set_postfix_str(f"{row['oracle']} · {row['method']}")
            bar.update()
    # The report covers every run stored in the folder: parts run one at a time add up.
    table = store.read_rows(folder)
    names = sorted(set(table["oracle"]))
    ceiling = ceiling_rows(names, oracle_dir, spec.num_eval_samples)
    table = pd.concat([table, ceiling], ignore_index=True)
    store.write_table(table, folder, "runs")
    plot_cost(table, store.figure_path(folder / "figures", "cost"))
    plot_quality(table, store.figure_path(folder / "figures", "quality"))
    files.write_text(scaling_markdown(table, not_run(whole or spec, table)), folder / "summary.md")
    return table


def not_run(spec: ScalingSpec, table: pd.DataFrame) -> list[str]:
    """A line for each (family, N, method) of `spec` with dimensions not in `table`, and for
    each combination that does not exist."""
    specs, lines = spec.oracle_specs()
    done = set(zip(table["oracle"], table["method"], strict=True)) if len(table) else set()
    for family in spec.families:
        for num in spec.num_real:
            for method in spec.methods:
                dims = [
                    dim
                    for dim in spec.dims
                    if oracle_name(family, dim, num) in specs
                    and (oracle_name(family, dim, num), method) not in done
                ]
                if dims:
                    lines.append(f"{family}, N = {num}, {method}: d = {', '.join(map(str, dims))}")
    return lines


def ceiling_rows(names: Sequence[str], oracle_dir: Path, num_samples: int) -> pd.DataFrame:
    """For each oracle with an exact target, the scores of `num_samples` exact samples (as many
    as the runs score), as rows of method `exact target`: what the best method would score."""
    rows = []
    for name in names:
        oracle, context, _ = _oracle_and_context(name, oracle_dir, 0)
        if context.sampling_limit is not None:
            continue
        rng = named_generator(0, "scaling", "ceiling", name)
        samples = oracle.truth.sample(num_samples, rng)
        rows.append(
            {
                "oracle": name,
                "method": CEILING,
                "seed": 0,
                "status": "ok",
                "family": name.split("_d")[0],
                "dim": oracle.dim,
                "num_real": len(oracle.real_data),
                **evaluate(samples, context),
            }
        )
    return pd.DataFrame(rows)


def read_scaling(path: Path) -> ScalingSpec:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SpecError(f"{path}: cannot read the scaling study: {error}") from None
    data.setdefault("name", path.stem)
    return validate(ScalingSpec, data, str(path))


def main(argv: Sequence[str] | None = None) -> int:
    apply_thread_policy()  # numpy's OpenBLAS too, in the workers this process starts
    parser = argparse.ArgumentParser(prog="python -m hdbench.experiments.scaling")
    parser.add_argument("file", type=Path, help="a scaling study, e.g. benchmarks/scaling.toml")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    parser.add_argument("--jobs", type=int, default=-1, help="parallel runs (default: cores)")
    parser.add_argument("--dims", help="only these dimensions, e.g. 2,8")
    parser.add_argument("--num-real", help="only these N, e.g. 100,1000")
    parser.add_argument("--families", help="only these families, e.g. gauss,mixture")
    parser.add_argument("--methods", help="only these methods")
    args = parser.parse_args(argv)
    try:
        spec = read_scaling(args.file)
        subset = {
            "dims": [int(v) for v in args.dims.split(",")] if args.dims else None,
            "num_real": [int(v) for v in args.num_real.split(",")] if args.num_real else None,
            "families": args.families.split(",") if args.families else None,
            "methods": args.methods.split(",") if args.methods else None,
        }
        data = {**spec.model_dump(), **{k: v for k, v in subset.items() if v is not None}}
        whole, spec = spec, validate(ScalingSpec, data, "--dims/--num-real/--families/--methods")
        table = run_scaling(spec, args.out / spec.name, args.jobs, whole)
    except HdbenchError as error:
        print(f"hdbench: {error}")
        return 2
    num_runs = int((table["method"] != CEILING).sum())
    print(f"{num_runs} runs in {args.out / spec.name}; summary.md and figures/ beside them")
    return 0


if __name__ == "__main__":
    # Run the importable module's main, not this __main__ copy: worker processes unpickle the
    # measured function by its module's name.
    from hdbench.experiments.scaling import main as scaling_main

    raise SystemExit(scaling_main())
