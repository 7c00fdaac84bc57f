"""hdbench: benchmark of human-in-the-loop generative models against simulated listening panels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hdbench.oracles import load_oracle

__version__ = "0.2.0"
__all__ = ["__version__", "load_oracle"]


def __getattr__(name: str) -> Any:
    """`load_oracle` on first use (PEP 562): `hdbench --help` and commands that need no oracle
    do not pay for importing every oracle kind."""
    if name == "load_oracle":
        from hdbench.oracles import load_oracle

        return load_oracle
    raise AttributeError(f"module 'hdbench' has no attribute {name!r}")
