"""A run's identity is its oracle's full spec; everything in a run is inside its error boundary;
a run replays from a ledger."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hdbench.cli import main
from hdbench.errors import SpecError
from hdbench.experiments import store
from hdbench.experiments.executor import run_specs
from hdbench.experiments.plan import SweepSpec
from hdbench.experiments.run import RunSpec, execute
from hdbench.experiments.run_spec import RUN_SPEC_KEY
from hdbench.oracles.catalog import BUNDLED_DIR
from hdbench.studies.ledger import LedgerError

TINY = {"train_steps": 20, "num_steps": 30, "num_copies": 5}
HD_TINY = {"train_steps": 20, "num_steps": 30, "num_periphery": 1, "R": 2}


def test_an_edited_oracle_spec_makes_a_new_run_and_its_old_row_is_not_reused(tmp_path):
    oracles = tmp_path / "oracles"
    oracles.mkdir()
    shutil.copyfile(BUNDLED_DIR / "ring_of_8.toml", oracles / "my_ring.toml")
    sweep = SweepSpec(
        oracles=["my_ring"], methods=["data_diffusion"], params=TINY, num_eval_samples=20
    )
    before = run_specs(sweep.runs([oracles]), tmp_path / "out", [oracles], n_jobs=1)
    with open(oracles / "my_ring.toml", "a") as spec:
        spec.write("\n[listener]\nnoise_sd = 0.2\n")
    after = run_specs(sweep.runs([oracles]), tmp_path / "out", [oracles], n_jobs=1)
    assert before.run_id.tolist() != after.run_id.tolist()
    assert len(after) == 1 and after.spec_hash[0] != before.spec_hash[0]
    assert len(list((tmp_path / "out" / "rows").glob("*.json"))) == 2


def test_a_run_id_covers_the_spec_the_method_and_its_resolved_parameters():
    spec = RunSpec(oracle="paper_like", method="humandiffusion")
    assert (
        spec.run_id
        == RunSpec(oracle="paper_like", method="humandiffusion", params={"R": 20}).run_id
    )
    assert spec.run_id != RunSpec(oracle="paper_like_ideal", method="humandiffusion").run_id
    assert spec.run_id != spec.model_copy(update={"budget": 100}).run_id
    assert spec.run_id != spec.model_copy(update={"num_eval_samples": 100}).run_id
    assert spec.run_id != spec.model_copy(update={"oracle_spec_hash": "other"}).run_id


def test_a_failure_in_scoring_is_an_error_row_not_an_exception():
    spec = RunSpec(oracle="paper_like", method="data_diffusion", params=TINY)
    # Too few particles for the metrics: past the spec's own check, so that scoring fails.
    row = execute(spec.model_copy(update={"num_eval_samples": 3})).row
    assert row["status"] == "error"
    assert "samples: expected at least 6" in row["error"]


def test_wall_time_is_the_methods_own_and_metric_time_apart():
    spec = RunSpec(oracle="paper_like", method="data_diffusion", params=TINY, num_eval_samples=20)
    row = execute(spec).row
    assert row["status"] == "ok"
    assert row["wall_time"] > 0 and row["metric_time"] > 0


def test_a_replay_takes_the_run_from_its_ledger_and_a_disagreement_is_one_line(tmp_path, capsys):
    sets = [f"--set={k}={v}" for k, v in HD_TINY.items()]
    args = ["--oracle", "paper_like", "--method", "humandiffusion", "--eval-samples=20", *sets]
    assert main(["run", *args, "--seed", "3", "--out", str(tmp_path / "a")]) == 0
    ledger = str(tmp_path / "a" / "ledger.sqlite")
    # Nothing but the ledger: its oracle, method, parameters, seed and sizes are the run's.
    assert main(["run", "--replay", ledger, "--out", str(tmp_path / "b")]) == 0
    first, again = (np.load(tmp_path / d / "samples.npy") for d in ("a", "b"))
    np.testing.assert_array_equal(first, again)
    capsys.readouterr()
    disagreements = {
        "--seed": ["--seed", "1"],
        "--set R": ["--set", "R=3"],
        "--method": ["--method", "data_diffusion"],
        "--oracle": ["--oracle", "ring_of_8"],
    }
    for option, given in disagreements.items():
        out = tmp_path / option.replace(" ", "_")
        code = main(["run", "--replay", ledger, *given, "--out", str(out)])
        captured = capsys.readouterr()
        assert code == 2, option
        assert captured.out == "" and not out.exists(), option
        (line,) = captured.err.splitlines()
        assert line.startswith(f"hdbench: error: {option}: the replayed ledger's run has"), line
        assert f"leave {option} out" in line


def test_a_ledger_without_its_spec_is_replayed_from_the_spec_beside_it(tmp_path, capsys):
    """Ledgers written before runs recorded their spec: spec.json (or study.json) beside it
    names the run; a ledger alone is refused in one line."""
    spec = RunSpec(
        oracle="paper_like", method="data_diffusion", params=TINY, seed=2, num_eval_samples=20
    )
    first = execute(spec, folder=tmp_path / "a", raise_errors=True)
    store.write_run(first, tmp_path / "a")
    db = sqlite3.connect(tmp_path / "a" / "ledger.sqlite")  # as an older ledger
    db.execute("DELETE FROM study WHERE key = ?", (RUN_SPEC_KEY,))
    db.commit()
    db.close()  # the last connection: its write-ahead log goes into the file
    ledger = tmp_path / "a" / "ledger.sqlite"
    assert main(["run", "--replay", str(ledger), "--out", str(tmp_path / "b")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "b" / "samples.npy"), first.samples)
    (tmp_path / "alone").mkdir()
    shutil.copyfile(ledger, tmp_path / "alone" / "ledger.sqlite")
    capsys.readouterr()
    alone = ["run", "--replay", str(tmp_path / "alone" / "ledger.sqlite")]
    assert main([*alone, "--out", str(tmp_path / "c")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "does not record its run" in line


def test_a_run_without_oracle_or_method_and_no_replay_is_refused(capsys):
    assert main(["run", "--method", "humandiffusion"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "--oracle: required (or --replay LEDGER" in line


def test_a_replay_of_a_ledger_without_the_batch_names_the_trial(tmp_path):
    first = RunSpec(
        oracle="paper_like",
        method="humangan_truncated",
        params={"num_updates": 1, "pretrain_steps": 5, "R": 2},
    )
    execute(first, folder=tmp_path / "a")
    longer = first.model_copy(update={"params": {**first.params, "num_updates": 2}})
    row = execute(longer, replay=Path(tmp_path / "a" / "ledger.sqlite")).row
    assert row["status"] == "error"
    assert "the run asks for trial m1-0, which it lacks" in row["error"]


def test_a_run_folder_of_another_run_is_refused_before_anything_runs(tmp_path):
    first = RunSpec(oracle="paper_like", method="data_diffusion", params=TINY)
    execute(first, folder=tmp_path)
    other = first.model_copy(update={"seed": 1})
    with pytest.raises(SpecError, match="holds the ledger of another run"):
        execute(other, folder=tmp_path)


def test_a_replay_of_a_missing_ledger_says_so(tmp_path):
    spec = RunSpec(oracle="paper_like", method="data_diffusion", params=TINY)
    with pytest.raises(LedgerError, match="no ledger here"):
        execute(spec, replay=tmp_path / "missing.sqlite")


def test_a_parameter_that_is_a_table_is_stored_as_json_text(tmp_path):
    settings = {"num_steps": 20, "step_size": 0.01}
    sweep = SweepSpec(
        oracles=["paper_like"],
        methods=["exact_score"],
        params={"sampler_settings": settings},
        num_eval_samples=20,
    )
    runs = run_specs(sweep.runs(), tmp_path / "out", (), n_jobs=1)
    assert runs.status.tolist() == ["ok"]
    assert runs.param_sampler_settings[0] == '{"num_steps": 20, "step_size": 0.01}'
    assert (tmp_path / "out" / "runs.parquet").is_file()


def test_a_half_written_ledger_in_a_run_folder_is_moved_aside_and_the_run_redone(tmp_path, capsys):
    """A write that failed half-way (here: the ledger's first bytes only) no longer blocks the
    folder: the run starts again, and the damaged file is kept in damaged/."""
    spec = RunSpec(oracle="paper_like", method="data_diffusion", params=TINY, num_eval_samples=20)
    expected = execute(spec).samples
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "method.npz").write_bytes(b"PK\x03\x04")
    (tmp_path / "ledger.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(84))
    result = execute(spec, folder=tmp_path)
    assert result.row["status"] == "ok", result.row["error"]
    np.testing.assert_array_equal(result.samples, expected)
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"{tmp_path}/ledger.sqlite: not a readable ledger")
    assert line.endswith("with the method's state, the run starts again")
    moved = sorted(p.name.split(".")[0] for p in (tmp_path / "damaged").iterdir())
    assert moved == ["ledger", "state"]


def with_samples(monkeypatch, change) -> None:
    """Every method resolved by the run hands back `change(samples, problem)` as its samples."""
    from hdbench.experiments import run

    class Changed:
        def __init__(self, method):
            self.method, self.Params = method, method.Params
            self.description, self.reference = method.description, False

        def __getattr__(self, name):
            return getattr(self.method, name)

        def finish(self, params, problem, state):
            output = self.method.finish(params, problem, state)
            return dataclasses.replace(output, samples=change(output.samples, problem))

    resolve = run.resolve_method
    monkeypatch.setattr(run, "resolve_method", lambda name: Changed(resolve(name)))


def test_a_method_that_ignores_eval_samples_gets_an_error_row(monkeypatch):
    """Scored particles are as many as the run asks for: a method returning its own count
    (here the real data's 100 points, not the 20 asked for) is an error, not a score."""
    with_samples(monkeypatch, lambda samples, problem: problem.real_data)
    spec = RunSpec(oracle="paper_like", method="data_diffusion", params=TINY, num_eval_samples=20)
    row = execute(spec).row
    assert row["status"] == "error"
    assert "returned samples of shape (100, 2); expected (20, 2)" in row["error"]


def test_a_run_whose_particles_ran_off_is_diverged_and_keeps_its_scores(monkeypatch):
    """A fifth of the particles 30 units out (far beyond the box, nowhere near overflowing)."""

    def run_off(samples, problem):
        moved = samples.copy()
        moved[: len(moved) // 5] += 30.0
        return moved

    with_samples(monkeypatch, run_off)
    spec = RunSpec(oracle="paper_like", method="data_diffusion", params=TINY, num_eval_samples=20)
    row = execute(spec).row
    assert row["status"] == "diverged"
    assert row["error"].startswith("20% of the particles left the target's region")
    assert row["escaped_share"] == 0.2 and np.isfinite(row["mmd2_multiscale"])


def test_each_seed_is_scored_against_a_reference_drawn_for_it():
    """So that the spread over seeds includes the reference sample's own noise."""
    from hdbench.experiments.executor import _oracle_and_context
    from hdbench.oracles import load_oracle

    spec_hash = load_oracle("paper_like").spec_hash
    first, second = (_oracle_and_context("paper_like", (), spec_hash, s)[1] for s in (0, 1))
    assert (first.seed, second.seed) == (0, 1)
    assert not np.array_equal(first.reference, second.reference)
