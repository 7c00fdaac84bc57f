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


def test_a_run_does_not_import_scipy_stats():
    """scipy.stats (over a second of `hdbench run` on a busy machine) is not needed to load the
    runner, an oracle and its truth context, nor to score samples."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from hdbench.experiments.run import execute\n"
        "from hdbench.metrics import TruthContext, evaluate\n"
        "from hdbench.oracles import load_oracle\n"
        "oracle = load_oracle('paper_like')\n"
        "context = TruthContext.build(oracle.truth, oracle.real_data, num_reference=100)\n"
        "evaluate(oracle.real_data, context)\n"
        "print('scipy.stats' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]
