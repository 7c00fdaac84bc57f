"""Sweeps: validation before any run, resuming, interruption, and a Dask cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hdbench.cli import main
from hdbench.errors import SpecError
from hdbench.experiments import store
from hdbench.experiments.executor import run_specs
from hdbench.experiments.plan import SweepSpec, parse_grid, read_sweep
from hdbench.validation import validate

TINY = {"train_steps": 30, "num_steps": 200}
#: Particles scored per run: few, for speed.
EVAL = 30
#: Timings differ between two runs of the same spec.
TIMES = ["wall_time", "metric_time"]


def tiny_sweep(**fields) -> SweepSpec:
    defaults = {"oracles": ["paper_like"], "params": TINY, "seeds": 2, "grid": {"R": [2, 3]}}
    return SweepSpec(**{**defaults, "num_eval_samples": EVAL, **fields})


def test_grid_strings_parse_to_typed_values():
    grid = parse_grid(["sigma_nes=0.25,1", "R=5,10", "rating_summary=mode,mean"])
    assert grid == {"sigma_nes": [0.25, 1], "R": [5, 10], "rating_summary": ["mode", "mean"]}


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        ({"nope": [1]}, "unknown parameter 'nope' of humandiffusion"),
        ({"R": []}, "R: expected a non-empty list"),
        ({"R": [5, 0]}, "humandiffusion.R: Input should be greater than or equal to 1"),
        ({"sigma_nes": [1, -0.5]}, "humandiffusion.sigma_nes: Input should be greater than 0"),
        ({"R": ["many"]}, "humandiffusion.R: Input should be a valid integer"),
    ],
)
def test_bad_grids_fail_in_one_line_before_any_run(tmp_path, grid, expected):
    with pytest.raises(SpecError) as error:
        validate(SweepSpec, {"oracles": ["paper_like"], "grid": grid}, "sweep").runs()
    assert expected in str(error.value) and "\n" not in str(error.value)
    args = ["sweep", "--oracle", "paper_like", "--out", str(tmp_path), "--grid"]
    args += [f"{k}={','.join(map(str, v))}" for k, v in grid.items()]
    assert main(args) == 2
    assert not (tmp_path / "sweep").exists()


def test_shipped_sweeps_are_valid():
    shipped = ["standard", "quick", "sigma_r_lambda", "discovery", "reference", "frontier"]
    shipped += ["humandiffusion_ms", "humandiffusion_ms_refine", "humandiffusion_iter"]
    shipped += ["discovery_ablation"]
    for name in shipped:
        assert read_sweep(name).runs()
    assert len(read_sweep("sigma_r_lambda").runs()) == 4 * 4 * 4 * 5


def test_a_method_grid_sweeps_its_own_keys_crossed_with_the_shared_grid():
    sweep = tiny_sweep(
        methods=["humandiffusion", "data_diffusion"],
        grid={"num_steps": [100, 200]},
        params={"train_steps": 30},
        method_grid={"humandiffusion": {"R": [2, 3, 4]}},
    )
    runs = sweep.runs()
    by_method = {m: [r for r in runs if r.method == m] for m in sweep.methods}
    assert len(by_method["humandiffusion"]) == 2 * 3 * 2  # num_steps × R × seeds
    assert len(by_method["data_diffusion"]) == 2 * 2  # num_steps × seeds
    points = {(r.params["num_steps"], r.params["R"]) for r in by_method["humandiffusion"]}
    assert points == {(n, r) for n in (100, 200) for r in (2, 3, 4)}
    assert all("R" not in r.params for r in by_method["data_diffusion"])
    assert sweep.grid_keys() == ["num_steps", "R"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"method_grid": {"humangan": {"R": [2]}}}, "method_grid.humangan: expected a table"),
        ({"method_grid": {"humandiffusion": {"R": [2]}}}, "method_grid.humandiffusion.R: is also"),
        ({"method_grid": {"humandiffusion": {"M": []}}}, "humandiffusion.M: expected a non-empty"),
        (
            {"grid": {}, "method_grid": {"humandiffusion": {"nope": [1]}}},
            "method_grid: unknown parameter 'nope' of humandiffusion",
        ),
        (
            {"grid": {}, "params": {"R": 2}, "method_grid": {"humandiffusion": {"R": [3]}}},
            "params.R: is also a grid key",
        ),
    ],
)
def test_bad_method_grids_fail_in_one_line(fields, expected):
    data = {"oracles": ["paper_like"], "grid": {"R": [2, 3]}, **fields}
    with pytest.raises(SpecError) as error:
        validate(SweepSpec, data, "sweep").runs()
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_a_rerun_skips_finished_runs_and_a_lost_row_is_redone(tmp_path):
    specs = tiny_sweep().runs()
    first = run_specs(specs, tmp_path, n_jobs=1)
    assert len(first) == 4 and set(first["status"]) == {"ok"}
    rows = sorted((tmp_path / "rows").glob("*.json"))
    stamps = {path: path.stat().st_mtime_ns for path in rows}
    rows[0].unlink()
    second = run_specs(specs, tmp_path, n_jobs=1)
    assert [p.stat().st_mtime_ns for p in rows[1:]] == [stamps[p] for p in rows[1:]]
    assert rows[0].exists()
    pd.testing.assert_frame_equal(
        first.drop(columns=TIMES), second.drop(columns=TIMES), check_like=True
    )


def test_a_killed_sweep_keeps_whole_rows_and_resumes(tmp_path):
    command = [
        sys.executable,
        "-m",
        "hdbench.cli",
        "sweep",
        "--oracle",
        "paper_like",
        "--grid",
        "R=2,3,4,5",
        "--seeds",
        "2",
        "--jobs",
        "1",
        "--out",
        str(tmp_path),
    ]
    command += [f"--set={k}={v}" for k, v in {**TINY, "num_steps": 3000}.items()]
    command += [f"--eval-samples={EVAL}"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    rows = tmp_path / "sweep" / "rows"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(rows.glob("*.json"))) < 2:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = list(rows.glob("*.json"))
    assert 2 <= len(finished) < 8
    for path in finished:
        assert json.loads(path.read_text())["status"] == "ok"
    assert main(command[3:]) == 0
    assert len(store.read_rows(tmp_path / "sweep")) == 8


def test_a_sweep_stopped_by_sigterm_stops_its_workers(tmp_path):
    """SIGTERM reaches the parent only (Ctrl-C reaches the whole process group): the sweep ends
    as on Ctrl-C, and its worker processes end with it instead of finishing their runs."""
    command = [sys.executable, "-m", "hdbench.cli", "sweep", "--oracle", "paper_like"]
    command += ["--grid", "R=2,3,4,5", "--seeds", "2", "--jobs", "2", "--out", str(tmp_path)]
    command += [f"--set={k}={v}" for k, v in {**TINY, "num_steps": 3000}.items()]
    command += [f"--eval-samples={EVAL}"]
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "PYTHONPATH": str(Path.cwd())},
        )
    rows = tmp_path / "sweep" / "rows"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(rows.glob("*.json")):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 130, log.read_text()
    finished = {path.name for path in rows.glob("*.json")}
    assert 1 <= len(finished) < 8
    # A worker left running would store the run it holds within one run's time.
    table = store.read_rows(rows.parent)
    time.sleep(2 * (table["wall_time"] + table["metric_time"]).max() + 1)
    assert {path.name for path in rows.glob("*.json")} == finished


def test_a_dask_cluster_gives_the_same_rows_as_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    specs = tiny_sweep(seeds=1).runs()
    local = run_specs(specs, tmp_path / "local", n_jobs=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        remote = run_specs(specs, tmp_path / "dask", scheduler=cluster.scheduler_address)
    columns = [c for c in local.columns if c not in TIMES]
    pd.testing.assert_frame_equal(local[columns], remote[columns])


def test_sweep_command_writes_table_summary_and_figures(tmp_path, capsys):
    args = [
        "sweep",
        "--oracle",
        "paper_like",
        "--grid",
        "R=2,3",
        "sigma_nes=0.5,1",
        "--seeds",
        "2",
        "--jobs",
        "1",
        "--out",
        str(tmp_path),
        "--name",
        "small",
    ]
    args += [f"--set={k}={v}" for k, v in TINY.items()] + [f"--eval-samples={EVAL}"]
    assert main(args) == 0
    folder = tmp_path / "small"
    assert len(store.read_table(folder, "runs")) == 8
    assert "## Sweep, best first by MMD²" in (folder / "summary.md").read_text()
    assert (folder / "figures" / "frontier.png").exists()
    assert (folder / "figures" / "heatmap_paper_like_humandiffusion_mmd2.png").exists()
    assert not (folder / "running").exists()  # the markers of runs under way
