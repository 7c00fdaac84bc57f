"""Benchmark-session set-up: the same thread policy as the command line."""

from __future__ import annotations

import pytest

from hdbench.threads import thread_policy


@pytest.fixture(scope="session", autouse=True)
def _thread_policy():
    """Benchmarks call models and samplers directly, not through the command line or
    `execute`: they run under the same thread policy."""
    with thread_policy():
        yield
