"""Progress on stderr: a line per phase when stderr is not a terminal (as under capsys), nothing
under --quiet, and nothing from library code unless a command chose to show it."""

from __future__ import annotations

import pytest

from hdbench import progress
from hdbench.cli import main

TINY = ["--set=train_steps=20", "--set=num_steps=30", "--set=num_periphery=1", "--set=R=2"]
RUN = ["run", "--oracle", "paper_like", "--method", "humandiffusion", "--eval-samples=20", *TINY]
RUN_PHASES = [
    "hdbench: asking for ratings",
    "hdbench: training (20 steps)",
    "hdbench: Langevin sampling (30 steps)",
    "hdbench: listening test",
    "hdbench: scoring",
    "hdbench: figures",
]


def test_a_run_prints_one_line_per_phase_when_stderr_is_not_a_terminal(tmp_path, capsys):
    assert main([*RUN, "--out", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().err.splitlines() == RUN_PHASES


def test_a_quiet_run_prints_nothing_on_stderr(tmp_path, capsys):
    assert main([*RUN, "--out", str(tmp_path / "run"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "wrote" in captured.out


def test_a_study_shows_its_phases_when_started_and_resumed(tmp_path, capsys):
    folder = str(tmp_path / "study")
    start = ["study", "start", folder, *RUN[1:]]
    assert main(start) == 0
    assert capsys.readouterr().err.splitlines() == ["hdbench: asking for ratings"]
    answer = ["study", "answer", folder, "--oracle", "paper_like"]
    assert main(answer) == 0
    assert main(["study", "resume", folder]) == 0  # as far as the listening test's answers
    assert capsys.readouterr().err.splitlines() == RUN_PHASES[:4]
    assert main(answer) == 0
    assert main(["study", "resume", folder, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "wrote" in captured.out


def test_library_code_shows_nothing_unless_a_command_chose_to(capsys):
    with progress.phase("training", 3):
        for _ in progress.steps("inner", range(3)):
            pass
    assert capsys.readouterr().err == ""
    with progress.shown(quiet=False) as mode:
        assert mode == "lines"
        with progress.phase("training", 3):
            progress.advance()
    assert capsys.readouterr().err == "hdbench: training (3 steps)\n"


@pytest.mark.parametrize("quiet", [False, True])
def test_a_sweeps_runs_show_no_phases_of_their_own(tmp_path, capsys, quiet):
    args = ["sweep", "--oracle", "paper_like", "--method", "data_diffusion", "--jobs", "1"]
    args += ["--set=train_steps=20", "--set=num_steps=20", "--set=num_copies=5"]
    args += ["--eval-samples=20", "--out", str(tmp_path), *(["--quiet"] if quiet else [])]
    assert main(args) == 0
    expected = [] if quiet else ["hdbench: runs: 1 of 1 to do", "hdbench: figures and summary"]
    assert capsys.readouterr().err.splitlines() == expected
