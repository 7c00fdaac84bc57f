"""Every method the contract tests cover: the registered ones and the examples folder's."""

from __future__ import annotations

from pathlib import Path

import pytest

from hdbench.methods.plugins import use_method_dirs

EXAMPLE_METHODS = Path(__file__).resolve().parents[2] / "examples" / "methods"


@pytest.fixture(scope="session", autouse=True)
def example_methods():
    """The README's example method, found as a user's folder of methods would be."""
    use_method_dirs([EXAMPLE_METHODS])
