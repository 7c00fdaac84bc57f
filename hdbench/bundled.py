"""The project's own spec folders (`oracles/`, `benchmarks/`): those of the checkout, or their
copies under `hdbench/bundled/` in an installed wheel (`setup.py` puts them there)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def project_folder(name: str) -> Path:
    """The checkout's folder `name` beside the package, else the wheel's copy of it."""
    checkout = PACKAGE.parent / name
    return checkout if checkout.is_dir() else PACKAGE / "bundled" / name
