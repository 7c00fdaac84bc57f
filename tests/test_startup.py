"""Start-up: each command imports what it needs, so `hdbench --help` answers at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


#: What a light command (a listing, a status, a refusal before a run) must not import.
NOT_LIGHT = {"torch", "pandas", "matplotlib", "seaborn", "joblib"}


def _light_run(argv: list[str]) -> tuple[int, set[str], str]:
    """Exit code, the NOT_LIGHT packages imported, and stderr of `hdbench ARGV` run by a new
    interpreter."""
    code = (
        "import sys\n"
        "from hdbench.cli import main\n"
        f"code = main({argv!r})\n"
        f"print(code, *(m for m in {sorted(NOT_LIGHT)!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    exit_code, *heavy = done.stdout.splitlines()[-1].split()
    return int(exit_code), set(heavy), done.stderr


@pytest.fixture(scope="module")
def waiting_study(tmp_path_factory) -> Path:
    from hdbench.experiments.run import RunSpec
    from hdbench.experiments.study import Study
    from hdbench.oracles import load_oracle

    oracle = load_oracle("paper_like")
    folder = tmp_path_factory.mktemp("study")
    spec = RunSpec(oracle="paper_like", method="humandiffusion", params={"R": 2})
    Study.create(folder, spec.for_oracle(oracle), oracle)
    (folder / "not_a_ledger.txt").write_text("text\n")
    return folder


LIGHT_COMMANDS = {
    "oracles": (["oracles"], 0, ""),
    "study status": (["study", "status", "{study}"], 0, ""),
    "run: unknown oracle": (
        ["run", "--oracle", "nope", "--method", "humandiffusion"],
        2,
        "unknown name 'nope'",
    ),
    "run: negative seed": (
        ["run", "--oracle", "paper_like", "--method", "humandiffusion", "--seed", "-1"],
        2,
        "seed",
    ),
    "run: a bad --set": (
        ["run", "--oracle", "paper_like", "--method", "humandiffusion", "--set", "R"],
        2,
        "--set",
    ),
    "run: --replay of a text file": (
        ["run", "--replay", "{study}/not_a_ledger.txt"],
        2,
        "not a readable ledger",
    ),
    "study start: unknown oracle": (
        ["study", "start", "{study}/new", "--oracle", "nope", "--method", "humandiffusion"],
        2,
        "unknown name 'nope'",
    ),
}


@pytest.mark.parametrize("case", list(LIGHT_COMMANDS))
def test_light_commands_import_no_torch_pandas_or_matplotlib(case, waiting_study):
    """Their CPU time is measured in `make perf` (benchmarks/test_startup_speed.py)."""
    argv, expected_code, expected_words = LIGHT_COMMANDS[case]
    argv = [arg.format(study=waiting_study) for arg in argv]
    exit_code, heavy, stderr = _light_run(argv)
    assert exit_code == expected_code, stderr
    assert expected_words in stderr and len(stderr.splitlines()) == (exit_code != 0)
    assert heavy == set(), f"{case}: imported {sorted(heavy)}"


def test_a_run_does_not_import_scipy_stats_or_seaborn():
    """scipy.stats and seaborn (over a second of `hdbench run` on a busy machine) are not
    needed to load the command line's recipes, an oracle and its truth context, nor to score
    samples."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from hdbench.experiments import pipelines\n"
        "from hdbench.metrics import TruthContext, evaluate\n"
        "from hdbench.oracles import load_oracle\n"
        "oracle = load_oracle('paper_like')\n"
        "context = TruthContext.build(oracle.truth, oracle.real_data, num_reference=100)\n"
        "evaluate(oracle.real_data, context)\n"
        "print('scipy.stats' in sys.modules, 'seaborn' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
