"""Start-up: each command imports what it needs, so `hdbench --help` answers at once."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "pandas", "scipy", "matplotlib", "seaborn", "joblib", "pyarrow")


def _imported_after(argv: list[str]) -> set[str]:
    """Top-level packages of HEAVY imported by a new interpreter that runs `hdbench ARGV`."""
    code = (
        "import sys\n"
        "from hdbench.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split("\n")[-2].split()) if done.stdout.strip() else set()


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["sweep", "--help"]])
def test_help_imports_no_heavy_library(argv):
    assert _imported_after(argv) == set()


def test_listing_the_oracles_needs_neither_torch_nor_matplotlib():
    assert not _imported_after(["oracles"]) & {"torch", "matplotlib", "seaborn", "joblib"}
