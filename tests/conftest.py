"""Test-session set-up shared by every test module."""

from __future__ import annotations

import pytest

from hdbench.threads import thread_policy


@pytest.fixture(scope="session", autouse=True)
def _thread_policy():
    """Tests call models and samplers directly, not through the command line or `execute`:
    they run under the same thread policy."""
    with thread_policy():
        yield
