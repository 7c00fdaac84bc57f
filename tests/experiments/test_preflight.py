"""Checks made before a run: output folders, jobs, the scheduler, memory."""

from __future__ import annotations

import socket
import tracemalloc

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.experiments import preflight
from hdbench.experiments.run import RunSpec
from hdbench.metrics import TruthContext, evaluate
from hdbench.oracles import load_oracle


def test_an_output_folder_is_made_and_written_to(tmp_path):
    preflight.check_output(tmp_path / "a" / "b", "--out")
    assert (tmp_path / "a" / "b").is_dir() and not list((tmp_path / "a" / "b").iterdir())


@pytest.mark.parametrize("where", ["file", "under a file", "/proc/hdbench"])
def test_an_output_folder_that_cannot_be_written_is_refused(tmp_path, where):
    (tmp_path / "file").write_text("x")
    folder = {"file": tmp_path / "file", "under a file": tmp_path / "file" / "run"}.get(where)
    with pytest.raises(SpecError, match=r"^--out: cannot write to "):
        preflight.check_output(folder or tmp_path.joinpath(where), "--out")


@pytest.mark.parametrize("jobs", [0, -2, 1.5, True, "2"])
def test_jobs_must_be_a_count_or_minus_one(jobs):
    with pytest.raises(SpecError, match="--jobs: expected a count ≥ 1, or -1"):
        preflight.check_jobs(jobs)
    assert preflight.check_jobs(-1) == -1 and preflight.check_jobs(3) == 3


def test_an_unreachable_scheduler_is_refused_within_its_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    # Nothing listens on the port once the socket is closed: refused at once.
    with pytest.raises(SpecError, match=f"cannot reach tcp://127.0.0.1:{port} within 3 s"):
        preflight.check_scheduler(f"tcp://127.0.0.1:{port}")


def test_a_listening_scheduler_address_passes():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        preflight.check_scheduler(f"tcp://127.0.0.1:{listener.getsockname()[1]}")


@pytest.mark.parametrize("address", ["nonsense", "http://host:1", "tcp://host", "tcp://:80"])
def test_a_scheduler_address_of_the_wrong_form_is_refused(address):
    with pytest.raises(SpecError, match="expected tcp://HOST:PORT"):
        preflight.check_scheduler(address)


def test_the_memory_estimate_bounds_what_scoring_takes():
    """tracemalloc's peak while scoring 3,000 samples lies under the estimate (less the fixed
    per-process part, which tracemalloc does not see), and within a factor 1.5 of it: the
    estimate is an upper bound, not a blind guess."""
    oracle = load_oracle("paper_like")
    context = TruthContext.build(oracle.truth, oracle.real_data)
    samples = oracle.truth.sample(3000, np.random.default_rng(0))
    tracemalloc.start()
    evaluate(samples, context)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    estimate = preflight.scoring_bytes(3000) - preflight.BYTES_PER_PROCESS
    assert peak <= estimate <= 1.5 * peak


def spec(num_eval_samples: int, **params) -> RunSpec:
    return RunSpec(
        oracle="paper_like",
        method="humandiffusion",
        params=params,
        num_eval_samples=num_eval_samples,
    )


def test_a_run_beyond_memory_is_refused_naming_num_eval_samples_and_what_fits():
    with pytest.raises(SpecError) as error:
        preflight.check_memory([spec(num_eval_samples=100_000)], available=24 * 2**30)
    message = str(error.value)
    assert message.startswith("num_eval_samples: 100,000 samples need about")
    fits = preflight.largest_fitting(24 * 2**30)
    assert f"at most about {fits:,}" in message
    assert preflight.scoring_bytes(fits) <= 24 * 2**30 < preflight.scoring_bytes(fits + 1)
    preflight.check_memory([spec(num_eval_samples=fits)], available=24 * 2**30)


def test_runs_at_once_must_fit_together():
    specs = [spec(num_eval_samples=30_000, R=r) for r in (2, 3, 4)]
    one = preflight.scoring_bytes(30_000)
    preflight.check_memory(specs, n_jobs=1, available=int(1.5 * one))
    with pytest.raises(SpecError, match=r"^--jobs: 3 runs at once need .* expected --jobs 1 or"):
        preflight.check_memory(specs, n_jobs=3, available=int(1.5 * one))
