"""What `hdbench --version` prints: the release, and the git revision when run from a checkout."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hdbench import __version__

CHECKOUT = Path(__file__).resolve().parents[1]


def git_revision(root: Path = CHECKOUT) -> str | None:
    """`git describe` of the checkout `root` (e.g. `v0.2.0-3-gabc1234-dirty`), or None outside a
    checkout or without git."""
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "describe", "--tags", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def version_line() -> str:
    revision = git_revision()
    return f"hdbench {__version__}" + (f" (git {revision})" if revision else "")
