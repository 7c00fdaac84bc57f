"""The thread policy: one intra-op thread unless HDBENCH_THREADS says otherwise, whoever calls."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from hdbench.errors import SpecError
from hdbench.experiments.run import RunSpec, execute
from hdbench.methods import METHODS
from hdbench.threads import (
    RUNTIME_VARIABLES,
    THREADS_VARIABLE,
    apply_thread_policy,
    policy_threads,
    thread_policy,
)


def test_the_policy_is_one_thread_unless_asked(monkeypatch):
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    assert policy_threads() == 1
    monkeypatch.setenv(THREADS_VARIABLE, "3")
    assert policy_threads() == 3


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_thread_count_is_one_line_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(THREADS_VARIABLE, value)
    with pytest.raises(SpecError, match=f"^{THREADS_VARIABLE}: expected a whole number"):
        policy_threads()


def test_the_context_sets_then_restores_the_callers_threads(monkeypatch):
    monkeypatch.setenv(THREADS_VARIABLE, "1")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with thread_policy() as threads:
            assert threads == torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_entry_point_applies_the_policy_before_torch_is_imported():
    """In a new interpreter without thread variables, where torch would start on every core."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"OMP_NUM_THREADS", "MKL_NUM_THREADS", THREADS_VARIABLE}
    }
    code = (
        "from hdbench.threads import apply_thread_policy as apply; apply(); "
        "import torch; print(torch.get_num_threads())"
    )
    done = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "1"), done.stderr


@pytest.fixture
def two_threads(monkeypatch):
    """Torch on two threads, as a caller of the Python API might have left it."""
    for variable in (THREADS_VARIABLE, *RUNTIME_VARIABLES):  # restored after the test
        monkeypatch.delenv(variable, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_the_entry_point_applies_the_policy_after_torch_is_imported(two_threads):
    assert apply_thread_policy() == 1
    assert torch.get_num_threads() == 1


def test_execute_runs_the_method_on_one_thread_and_restores_the_callers(two_threads, monkeypatch):
    method = METHODS["humandiffusion"]
    seen = []
    original = type(method).finish

    def finish(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(method), "finish", finish)
    params = {"train_steps": 2, "num_steps": 2, "R": 1}
    spec = RunSpec(oracle="paper_like", method="humandiffusion", params=params, num_eval_samples=10)
    execute(spec, raise_errors=True)
    assert seen == [1]
    assert torch.get_num_threads() == 2
