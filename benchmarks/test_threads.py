"""The thread policy beside a busy process (`make perf`; see hdbench/threads.py).

For the whole module a busy single-threaded process spins on another core, as a browser or a
second run would. The default run is timed as a user starts it, in a new process without any
thread variables, from the command line and from the Python API, and then with
OMP_NUM_THREADS=1; the report divides the first two by the third (goal ≤ 1.1). The score
network's forward pass is timed on one and on two threads at the sizes hdbench runs, the
measurement behind the policy's one thread.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from torch.nn import functional as F

from hdbench.threads import RUNTIME_VARIABLES, THREADS_VARIABLE

RUN = ["--oracle", "paper_like", "--method", "humandiffusion", "--seed", "0"]
PYTHON_API = (
    "from hdbench.experiments.run import RunSpec, execute; "
    "execute(RunSpec(oracle='paper_like', method='humandiffusion', seed=0), raise_errors=True)"
)


@pytest.fixture(scope="module")
def busy_core():
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield
    process.kill()
    process.wait()


@pytest.mark.parametrize("caller", ["cli", "python", "one_thread"])
def test_default_run_beside_a_busy_process(benchmark, busy_core, tmp_path, caller):
    """Process start to exit: `hdbench run` (figures included), `execute` from Python, and
    `hdbench run` with OMP_NUM_THREADS=1."""
    env = {k: v for k, v in os.environ.items() if k not in {*RUNTIME_VARIABLES, THREADS_VARIABLE}}
    if caller == "one_thread":
        env["OMP_NUM_THREADS"] = "1"
    cli = [sys.executable, "-m", "hdbench.cli", "run", *RUN, "--out", str(tmp_path)]
    command = [sys.executable, "-c", PYTHON_API] if caller == "python" else cli

    def run() -> None:
        subprocess.run(command, env=env, check=True, capture_output=True)

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("num_rows", [200, 10_000, 100_000])
def test_forward_pass_beside_a_busy_process(benchmark, busy_core, num_rows, num_threads):
    """The score network 2 → 128 → 128 → 3 on `num_rows` points, on one or two threads."""
    generator = torch.Generator().manual_seed(0)
    sizes = [(128, 2), (128, 128), (3, 128)]
    layers = [(torch.randn(size, generator=generator), torch.zeros(size[0])) for size in sizes]
    x = torch.randn(num_rows, 2, generator=generator)

    @torch.inference_mode()
    def forward() -> torch.Tensor:
        h = x
        for weight, bias in layers[:-1]:
            h = F.softplus(F.linear(h, weight, bias))
        return F.linear(h, *layers[-1])

    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        benchmark.pedantic(forward, rounds=max(5, 200_000 // num_rows), warmup_rounds=2)
    finally:
        torch.set_num_threads(before)
