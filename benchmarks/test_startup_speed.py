"""CPU time of the light commands, process start to exit: a listing, a study's status and the
one-line refusals of bad input before a run (goal ≤ 0.3 s each). The time is the child's user
plus system CPU (`resource.RUSAGE_CHILDREN`), which a busy machine inflates less than wall time;
extra_info holds its mean over the rounds."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from hdbench.experiments.run import RunSpec
from hdbench.experiments.study import Study
from hdbench.oracles import load_oracle

ROUNDS = 5
LIGHT = {
    "oracles": ["oracles"],
    "study_status": ["study", "status", "{study}"],
    "unknown_oracle": ["run", "--oracle", "nope", "--method", "humandiffusion"],
    "negative_seed": [
        "run",
        "--oracle",
        "paper_like",
        "--method",
        "humandiffusion",
        "--seed",
        "-1",
    ],
}


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    oracle = load_oracle("paper_like")
    folder = tmp_path_factory.mktemp("study")
    spec = RunSpec(oracle="paper_like", method="humandiffusion").for_oracle(oracle)
    Study.create(folder, spec, oracle)
    return folder


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.parametrize("case", list(LIGHT))
def test_light_command(benchmark, study, case):
    argv = [arg.format(study=study) for arg in LIGHT[case]]
    cpu: list[float] = []

    def call() -> None:
        before = child_cpu_seconds()
        subprocess.run([sys.executable, "-m", "hdbench.cli", *argv], capture_output=True)
        cpu.append(child_cpu_seconds() - before)

    benchmark.pedantic(call, rounds=ROUNDS, warmup_rounds=1)
    benchmark.extra_info["cpu_seconds"] = sum(cpu[-ROUNDS:]) / ROUNDS
