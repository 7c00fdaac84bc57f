"""A results folder heals: damaged rows are named, moved aside and redone; temporaries are never
rows; another sweep under the same name is refused; failed runs can be retried; a killed worker
costs only its own run; exit codes say when runs failed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from hdbench.cli import main
from hdbench.errors import SpecError
from hdbench.experiments import store
from hdbench.experiments.executor import run_specs
from hdbench.experiments.plan import SweepSpec

TINY = {"train_steps": 30, "num_steps": 200}
#: Particles scored per run: few, for speed.
EVAL = 30
TINY_ARGS = [f"--set={key}={value}" for key, value in TINY.items()] + [f"--eval-samples={EVAL}"]


#: HumanGAN initialised by restarts that never reach a mean rating of 1 (D peaks at 0.85): it
#: plans one try of 100 ratings, fits a budget of 150, and spends past it on its second try. A
#: run that fails as it goes, after the checks made before it passed.
#: A method that asks for ratings until the budget refuses it.
OVERSPENDER = "tests.experiments.hostile_methods:NeverStops"
OVERSPENDING_BUDGET = 150


def tiny_sweep(**fields) -> SweepSpec:
    defaults = {"oracles": ["paper_like"], "params": TINY, "grid": {"R": [2, 3]}}
    return SweepSpec(**{**defaults, "num_eval_samples": EVAL, **fields})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A folder with the two rows of `tiny_sweep`, to be copied by each test."""
    folder = tmp_path_factory.mktemp("finished")
    sweep = tiny_sweep()
    run_specs(sweep.runs(), folder, n_jobs=1, definition=sweep.definition())
    return folder


def copy_of(finished, tmp_path):
    folder = tmp_path / "sweep"
    shutil.copytree(finished, folder)
    return folder


DAMAGE = {
    "truncated": lambda text: text[:40],
    "empty": lambda text: "",
    "not an object": lambda text: "[]",
    "another run's row": lambda text: text.replace('"run_id": "', '"run_id": "x'),
    "without a status": lambda text: json.dumps(
        {k: v for k, v in json.loads(text).items() if k != "status"}
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_row_is_named_moved_aside_and_its_run_redone(finished, tmp_path, capsys, damage):
    folder = copy_of(finished, tmp_path)
    damaged, intact = sorted((folder / "rows").glob("*.json"))
    damaged.write_text(DAMAGE[damage](damaged.read_text()))
    before = intact.stat().st_mtime_ns
    sweep = tiny_sweep()
    table = run_specs(sweep.runs(), folder, n_jobs=1, definition=sweep.definition())
    lines = [line for line in capsys.readouterr().err.splitlines() if "damaged row" in line]
    assert len(lines) == 1 and str(damaged) in lines[0]
    assert next(iter((folder / "damaged").iterdir())).name.startswith(damaged.stem)
    assert store.read_row(damaged)["status"] == "ok"
    assert intact.stat().st_mtime_ns == before
    assert len(table) == 2 and set(table["status"]) == {"ok"}


def test_a_row_that_is_not_utf8_is_moved_aside(finished, tmp_path):
    folder = copy_of(finished, tmp_path)
    damaged = sorted((folder / "rows").glob("*.json"))[0]
    damaged.write_bytes(b"\xff\xfe not text")
    assert len(store.heal(folder)) == 1
    assert damaged.stem not in store.finished_run_ids(folder)


def test_a_folder_in_place_of_a_row_is_moved_aside(finished, tmp_path):
    folder = copy_of(finished, tmp_path)
    damaged = sorted((folder / "rows").glob("*.json"))[0]
    damaged.unlink()
    damaged.mkdir()
    (line,) = store.heal(folder)
    assert str(damaged) in line and "unreadable" in line and not damaged.exists()
    assert damaged.stem not in store.finished_run_ids(folder)


@pytest.mark.parametrize("record", [b'{"grid": {', b"", b"[1, 2]", b"\xff\xfe"])
def test_a_damaged_sweep_record_is_moved_aside_when_every_row_is_this_sweeps(
    finished, tmp_path, record
):
    folder = copy_of(finished, tmp_path)
    (folder / "sweep.json").write_bytes(record)
    sweep = tiny_sweep()
    specs = sweep.runs()
    (line,) = store.claim(folder, sweep.definition(), (spec.run_id for spec in specs))
    assert line.startswith(f"{folder / 'sweep.json'}: damaged") and "\n" not in line
    assert json.loads((folder / "sweep.json").read_text()) == sweep.definition()
    assert len(list((folder / "damaged").iterdir())) == 1
    # Rows of runs that are not this sweep's: it may be another sweep, so the folder is refused.
    (folder / "sweep.json").write_bytes(record)
    with pytest.raises(SpecError, match=r"sweep.json: damaged .* 2 runs that are not"):
        store.claim(folder, tiny_sweep(grid={"R": [4]}).definition(), [])


def test_temporary_files_are_never_read_as_rows_and_a_dead_writers_are_removed(finished, tmp_path):
    folder = copy_of(finished, tmp_path)
    row = sorted((folder / "rows").glob("*.json"))[0]
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )  # a writer that is no more
    left_over = row.with_name(f".{row.stem}.{int(gone.stdout)}-0badcafe.json")
    left_over.write_text(row.read_text().replace('"seed": 0', '"seed": 7'))
    assert len(store.read_rows(folder)) == 2
    assert 7 not in set(store.read_rows(folder)["seed"])
    assert store.heal(folder) == [f"{left_over}: removed, the temporary of a write that was killed"]
    assert not left_over.exists()


def test_temporary_names_are_unique_per_writer(tmp_path, monkeypatch):
    names = []
    monkeypatch.setattr(os, "replace", lambda source, target: names.append(source.name))
    for _ in range(2):
        store.write_text("x", tmp_path / "a.json")
    assert len(set(names)) == 2 and all(name.startswith(".a.") for name in names)


def test_another_grid_under_the_same_name_is_refused_and_more_seeds_are_not(finished, tmp_path):
    folder = copy_of(finished, tmp_path)
    other = tiny_sweep(grid={"sigma_nes": [0.5, 1.0]})
    with pytest.raises(SpecError, match="holds another sweep") as error:
        run_specs(other.runs(), folder, n_jobs=1, definition=other.definition())
    assert "\n" not in str(error.value) and "grid" in str(error.value)
    assert len(store.read_rows(folder)) == 2
    more = tiny_sweep(seeds=2)
    assert len(run_specs(more.runs(), folder, n_jobs=1, definition=more.definition())) == 4


def test_the_command_refuses_another_grid_under_an_existing_name(finished, tmp_path, capsys):
    copy_of(finished, tmp_path)
    args = ["sweep", "--oracle", "paper_like", "--grid", "lambda=0,1", "--out", str(tmp_path)]
    assert main([*args, "--jobs", "1", *TINY_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds another sweep" in err


def test_retry_errors_redoes_the_runs_that_failed_and_only_those(finished, tmp_path):
    folder = copy_of(finished, tmp_path)
    failed, intact = sorted((folder / "rows").glob("*.json"))
    row = json.loads(failed.read_text())
    failed.write_text(json.dumps({**row, "status": "error", "error": "OSError: disk full"}))
    stamp = intact.stat().st_mtime_ns
    sweep = tiny_sweep()
    kept = run_specs(sweep.runs(), folder, n_jobs=1, definition=sweep.definition())
    assert sorted(kept["status"]) == ["error", "ok"]
    retried = run_specs(
        sweep.runs(), folder, n_jobs=1, retry_errors=True, definition=sweep.definition()
    )
    assert set(retried["status"]) == {"ok"}
    assert intact.stat().st_mtime_ns == stamp


KILLER = textwrap.dedent(
    """
    import os
    import signal

    import numpy as np

    def killer(x):
        # Kills any process but the one that loaded the spec first: a worker dies as if the
        # kernel had killed it for its memory.
        if os.getpid() != int(os.environ["HDBENCH_TEST_PARENT"]):
            os.kill(os.getpid(), signal.SIGKILL)
        return 0.9 * np.exp(-0.5 * (x ** 2).sum(axis=1) / 4.0)
    """
)


@pytest.mark.slow
def test_a_killed_worker_costs_its_own_run_not_the_sweep(tmp_path, monkeypatch):
    (tmp_path / "killer_oracle.py").write_text(KILLER)
    oracles = tmp_path / "oracles"
    oracles.mkdir()
    (oracles / "doomed.toml").write_text(
        'description = "D kills its worker"\n[acceptability]\nkind = "python"\n'
        'function = "killer_oracle:killer"\ndim = 2\nbounds = [[-12.0, 12.0], [-12.0, 12.0]]\n'
    )
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.setenv("HDBENCH_TEST_PARENT", str(os.getpid()))
    monkeypatch.syspath_prepend(str(tmp_path))
    sweep = tiny_sweep(oracles=["paper_like", "doomed"], grid={"R": [2]})
    table = run_specs(sweep.runs([oracles]), tmp_path / "out", [oracles], n_jobs=2)
    status = dict(zip(table["oracle"], table["status"], strict=True))
    assert status == {"paper_like": "ok", "doomed": "error"}
    error = table.set_index("oracle").loc["doomed", "error"]
    assert error.startswith("WorkerDied") and "\n" not in error


def test_a_run_that_errors_exits_non_zero_with_one_line(tmp_path, capsys):
    args = ["run", "--oracle", "paper_like", "--method", OVERSPENDER]
    args += ["--budget", str(OVERSPENDING_BUDGET), f"--eval-samples={EVAL}"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 1
    *phases, error = capsys.readouterr().err.splitlines()
    assert "the run error: BudgetExceededError" in error
    assert not any("error" in line for line in phases)  # the run's phases, a line each
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "error"


def test_a_run_that_diverges_exits_non_zero_with_one_line(tmp_path, capsys):
    args = ["run", "--oracle", "paper_like", "--method", "data_diffusion"]
    args += ["--set", "step_size=1000000", "--out", str(tmp_path / "run"), *TINY_ARGS]
    assert main(args) == 1
    *phases, error = capsys.readouterr().err.splitlines()
    assert "the run diverged" in error and not any("error" in line for line in phases)


def test_a_sweep_whose_runs_all_fail_reports_them_and_exits_non_zero(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(
        f'oracles = ["paper_like"]\nmethods = ["{OVERSPENDER}"]\nseeds = 2\n'
        f"budget = {OVERSPENDING_BUDGET}\nnum_eval_samples = {EVAL}\n"
    )
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path), "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    last = captured.err.splitlines()[-1]
    assert "Traceback" not in captured.err
    assert last.startswith("hdbench: error: 2 of 2 runs failed") and "--retry-errors" in last
    summary = (tmp_path / "s" / "summary.md").read_text()
    assert "## Failed runs (2 of 2)" in summary
    assert summary.count("error: BudgetExceededError") == 2
