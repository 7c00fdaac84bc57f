"""Wall time of the suites' make targets, process start to exit, each into a fresh folder:
`make bench` (the standard suite with its baselines), the same suite with the paper's fixed
chains, measured in the same session, and `make sweep`. They take minutes each, so `make perf`
leaves them out (marker `suites`); `make perf-suites` runs them into results/perf/suites.json,
and the speed table shows them beside `make perf`'s figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITES = {
    "bench": ["bench", "--suite", "standard"],
    "bench_fixed": ["bench", "--suite", "standard", "--set", "stop=fixed"],
    "sweep": ["sweep", str(ROOT / "benchmarks" / "sigma_r_lambda.toml")],
}


@pytest.mark.suites
@pytest.mark.parametrize("name", list(SUITES))
def test_suite_wall_time(benchmark, tmp_path, name):
    argv = [sys.executable, "-m", "hdbench.cli", *SUITES[name], "--out", str(tmp_path), "--quiet"]
    # One round: a second one into the same folder would find every run finished.
    benchmark.pedantic(subprocess.run, args=(argv,), kwargs={"check": True}, rounds=1)
