"""Studies that wait: started, answered from another process, resumed; killed anywhere."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from hdbench.cli import main
from hdbench.experiments.run import RunSpec, execute
from hdbench.studies.ledger import Ledger

PARAMS = {"pretrain_steps": 10, "R": 2, "num_latent": 30}
SETS = [f"--set={key}={value}" for key, value in PARAMS.items()]
STUDY = [
    *("--oracle", "three_bumps", "--method", "humangan_truncated", "--seed", "2"),
    *("--eval-samples", "20", *SETS),
]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The same spec as a run with simulated panels: samples and every rating of its ledger."""
    folder = tmp_path_factory.mktemp("run")
    spec = RunSpec(
        oracle="three_bumps",
        method="humangan_truncated",
        params=PARAMS,
        seed=2,
        num_eval_samples=20,
    )
    result = execute(spec, folder=folder, raise_errors=True)
    with Ledger(folder / "ledger.sqlite") as ledger:
        return result.samples, ratings_of(ledger)


def ratings_of(ledger: Ledger) -> list[tuple]:
    """(trial, answer index, value) of every rating, in order."""
    return [(row[3], row[5], row[6]) for row in ledger.rows()]


def test_a_study_answered_by_another_process_ends_as_the_run_does(tmp_path, uninterrupted, capsys):
    folder = tmp_path / "study"
    assert main(["study", "start", str(folder), *STUDY]) == 0
    first = capsys.readouterr().out
    assert first.startswith("waiting for 60 ratings of batch m0; resume with hdbench study resume")
    for _ in range(10):
        assert main(["study", "answer", str(folder), "--oracle", "three_bumps"]) == 0
        assert main(["study", "resume", str(folder)]) == 0
        if (folder / "metrics.json").exists():
            break
    assert main(["study", "status", str(folder)]) == 0
    status = capsys.readouterr().out
    assert "m3" in status and "l0" in status and "finished" in status
    np.testing.assert_array_equal(np.load(folder / "samples.npy"), uninterrupted[0])
    for name in ("chain.png", "convergence.png", "metrics.csv", "trace.csv"):
        assert (folder / name).exists(), name


def test_a_study_resumed_with_nothing_answered_waits_again(tmp_path, capsys):
    folder = tmp_path / "study"
    main(["study", "start", str(folder), *STUDY])
    main(["study", "resume", str(folder)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == lines[1]
    with Ledger(folder / "ledger.sqlite") as ledger:
        assert [b.batch_id for b in ledger.progress()] == ["m0"]


def test_another_spec_in_a_study_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "study"
    main(["study", "start", str(folder), *STUDY])
    other = [f"--set={key}={value}" for key, value in {**PARAMS, "R": 3}.items()]
    assert main(["study", "start", str(folder), *STUDY[: -len(SETS)], *other]) != 0
    assert "holds another study" in capsys.readouterr().err


def hdbench(*args: str, kill_at: str | None = None) -> bool:
    """Run the command line in a forked process, killed by SIGKILL at the crash point `kill_at`
    when it reaches it; returns whether it was killed."""
    pid = os.fork()
    if pid == 0:  # the child: run, and leave without pytest's clean-up
        if kill_at:
            os.environ["HDBENCH_KILL_AT"] = kill_at
        code = 1
        try:
            code = main(list(args))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, f"hdbench {' '.join(args)} failed"
    return False


#: (command, crash point, killed?): each crash point of start, answer and resume, at a moment
#: when the study reaches it; then answers and resumes without kills until the study ends.
SCHEDULE = [
    ("start", "after-batch", True),  # m0 recorded, not answered
    ("start", None, False),  # starting again: the same m0, waiting
    ("answer", "after-answer", True),  # m0's ratings committed
    ("answer", None, False),  # nothing left to answer
    ("resume", "before-tell", True),  # m0's ratings read, not told
    ("resume", "after-save", True),  # told, state saved
    ("resume", "after-batch", True),  # m1 recorded
    ("resume", None, False),  # waiting for m1
]


def command(name: str, folder: str) -> list[str]:
    return {
        "start": ["study", "start", folder, *STUDY],
        "answer": ["study", "answer", folder, "--oracle", "three_bumps"],
        "resume": ["study", "resume", folder],
    }[name]


@pytest.mark.slow
def test_killed_at_every_write_a_study_loses_and_duplicates_no_rating(tmp_path, uninterrupted):
    folder = tmp_path / "study"
    kills = 0
    for name, kill_at, killed in SCHEDULE:
        assert hdbench(*command(name, str(folder)), kill_at=kill_at) == killed, (name, kill_at)
        kills += killed
    for _ in range(8):
        hdbench(*command("answer", str(folder)))
        hdbench(*command("resume", str(folder)))
        if (folder / "metrics.json").exists():
            break
    assert kills == 5
    samples, expected = uninterrupted
    np.testing.assert_array_equal(np.load(folder / "samples.npy"), samples)
    with Ledger(folder / "ledger.sqlite") as ledger:
        found = ratings_of(ledger)
        assert all(batch.num_answered == batch.num_answers for batch in ledger.progress())
    assert len(found) == len({(t, i) for t, i, _ in found})  # no rating twice
    assert found == expected  # none lost, every value the uninterrupted run's


@pytest.mark.parametrize("kill_at", ["after-ratings", "after-save", "after-ratings:3"])
def test_a_run_killed_and_started_again_goes_on_to_the_same_samples(
    tmp_path, uninterrupted, kill_at
):
    folder = str(tmp_path / "run")
    run = ["run", *STUDY, "--out", folder]
    assert hdbench(*run, kill_at=kill_at)
    assert not hdbench(*run)
    np.testing.assert_array_equal(np.load(tmp_path / "run" / "samples.npy"), uninterrupted[0])
    with Ledger(tmp_path / "run" / "ledger.sqlite") as ledger:
        assert ratings_of(ledger) == uninterrupted[1]


@pytest.fixture(scope="module")
def told(tmp_path_factory):
    """A study told its first batch, waiting for the next: copied and damaged by each case."""
    folder = tmp_path_factory.mktemp("told") / "study"
    assert main(["study", "start", str(folder), *STUDY]) == 0
    assert main(["study", "answer", str(folder), "--oracle", "three_bumps"]) == 0
    assert main(["study", "resume", str(folder)]) == 0
    return folder


def edited_run(**changes):
    def edit(folder):
        path = folder / "study.json"
        stored = json.loads(path.read_text())
        stored["run"].update(changes)
        path.write_text(json.dumps(stored))

    return edit


def replaced(name: str, data: bytes | None):
    def damage(folder):
        path = folder / name
        for leftover in folder.glob(f"{name}-*"):  # SQLite's -wal and -shm files
            leftover.unlink()
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        path.write_bytes(data) if data is not None else path.mkdir()

    return damage


#: A damaged study folder: id → (damage, expected words of the one line).
DAMAGED_STUDIES = {
    "study.json not JSON": (replaced("study.json", b"{not json"), "study.json: cannot read"),
    "study.json a list": (replaced("study.json", b"[1, 2]"), "study.json: not a study"),
    "seed edited to text": (edited_run(seed="zero"), "study.json: run.seed"),
    "method misspelt": (edited_run(method="humangan_truncatd"), "unknown method"),
    "ledger emptied": (replaced("ledger.sqlite", b""), "holds 0 batches of the method stream"),
    "ledger not SQLite": (replaced("ledger.sqlite", b"x" * 200), "not a readable ledger"),
    "ledger a folder": (replaced("ledger.sqlite", None), "cannot open the ledger"),
    "state damaged": (replaced("state/method.npz", b"PK\x03\x04x"), "cannot read the method's"),
    "state a file": (replaced("state", b"x"), "cannot write the method's state"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED_STUDIES))
def test_a_damaged_study_folder_is_one_line(told, tmp_path, capsys, case):
    damage, expected = DAMAGED_STUDIES[case]
    folder = tmp_path / "study"
    shutil.copytree(told, folder)
    damage(folder)
    capsys.readouterr()
    assert main(["study", "resume", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1 and expected in err, err


def test_answers_from_an_oracle_other_than_the_studys_are_refused(tmp_path, capsys):
    folder = tmp_path / "study"
    assert main(["study", "start", str(folder), *STUDY]) == 0
    capsys.readouterr()
    assert main(["study", "answer", str(folder), "--oracle", "ring_of_8"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(
        "hdbench: error: --oracle: expected the study's oracle three_bumps (spec hash "
    )
    assert "got ring_of_8 (spec hash" in error
    with Ledger(folder / "ledger.sqlite") as ledger:
        assert ratings_of(ledger) == []


def test_a_write_that_fails_while_answering_is_one_line_and_loses_nothing(tmp_path, capsys):
    """A file-size limit (a full disk's stand-in) in the answering process: one line naming the
    ledger, no traceback; answered again without it, the study goes on."""
    folder = tmp_path / "study"
    assert main(["study", "start", str(folder), *STUDY]) == 0
    limited = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))\n"
        "from hdbench.cli import main\n"
        f"sys.exit(main(['study', 'answer', {str(folder)!r}, '--oracle', 'three_bumps']))\n"
    )
    failed = subprocess.run([sys.executable, "-c", limited], capture_output=True, text=True)
    assert failed.returncode == 2
    assert failed.stderr.startswith(f"hdbench: error: {folder}/ledger.sqlite: cannot ")
    assert len(failed.stderr.splitlines()) == 1
    assert main(["study", "answer", str(folder), "--oracle", "three_bumps"]) == 0
    assert "answered 60 ratings" in capsys.readouterr().out


def test_another_studys_state_is_refused_naming_the_state(tmp_path, capsys):
    """The state of another study copied into a folder is named as such, not blamed on the
    ledger, and nothing is told or answered from it."""
    first, second = tmp_path / "first", tmp_path / "second"
    other_seed = [*STUDY[:5], "3", *STUDY[6:]]
    assert main(["study", "start", str(first), *STUDY]) == 0
    assert main(["study", "start", str(second), *other_seed]) == 0
    shutil.rmtree(first / "state")
    shutil.copytree(second / "state", first / "state")
    capsys.readouterr()
    assert main(["study", "resume", str(first)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"hdbench: error: {first}/state/method.npz: the method's state of")
    assert "another run" in error and error.count("\n") == 0
    with Ledger(first / "ledger.sqlite") as ledger:
        assert ratings_of(ledger) == []
