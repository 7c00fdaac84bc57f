"""`hdbench oracles generate` and `hdbench families`, end to end at tiny settings."""

from __future__ import annotations

import json

import pandas as pd

from hdbench.cli import main
from hdbench.oracles import load_oracle
from hdbench.oracles.generated import generate_spec


def test_generate_writes_a_spec_that_loads_as_the_generated_oracle(tmp_path, capsys):
    assert main(["oracles", "generate", "curved", "--seed", "3", "--out", str(tmp_path)]) == 0
    path = tmp_path / "curved_s3.toml"
    assert f"wrote {path}" in capsys.readouterr().out
    oracle = load_oracle(path)
    assert oracle.spec.acceptability["kind"] == "twisted"
    assert oracle.spec.model_dump()["acceptability"] == generate_spec("curved", 3)["acceptability"]


def test_generate_refuses_an_unknown_family_in_one_line(tmp_path, capsys):
    assert main(["oracles", "generate", "spirals", "--seed", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "hdbench: error: family: expected one of bumps, curved, discovery, got 'spirals'"
    ]


def test_families_runs_resumes_and_reports_each_method_against_the_best_baseline(tmp_path, capsys):
    suite = tmp_path / "tiny.toml"
    suite.write_text(
        'name = "tiny"\nfamily = "bumps"\nfirst_seed = 0\nnum_oracles = 1\nseeds = 2\n'
        'methods = ["real_resampled", "real_kde", "tuned_blur"]\nnum_eval_samples = 50\n'
        'metrics = ["mmd2", "energy_distance"]\n'
    )
    args = ["families", str(suite), "--out", str(tmp_path), "--jobs", "1"]
    assert main(args) == 0
    folder = tmp_path / "tiny"
    report = (folder / "families.md").read_text()
    assert "## mmd2 ↓ against" in report and "## energy_distance ↓ against" in report
    assert "tuned_blur (reference) | 2 |" in report
    assert (folder / "figures" / "families.png").stat().st_size > 10_000
    paired = pd.read_parquet(folder / "paired.parquet")
    assert len(paired) == 2 * 2 * 2  # (method other than the baseline) × pairs × metrics
    rows = sorted((folder / "rows").glob("*.json"))
    stamps = [row.stat().st_mtime_ns for row in rows]
    assert main(args) == 0  # again: every run is skipped
    assert [row.stat().st_mtime_ns for row in rows] == stamps
    (folder / "families.md").unlink()
    capsys.readouterr()
    assert main([*args, "--report-only"]) == 0
    assert "report of the 6 of 6 runs finished" in capsys.readouterr().err
    assert (folder / "families.md").read_text() == report
    # A row stored before a metric existed gets it from the run's stored samples, as scored.
    first = json.loads(rows[0].read_text())
    rows[0].write_text(json.dumps({k: v for k, v in first.items() if k != "energy_distance"}))
    capsys.readouterr()
    assert main(args) == 0
    assert "1 rows scored by energy_distance from their stored samples" in capsys.readouterr().err
    assert json.loads(rows[0].read_text())["energy_distance"] == first["energy_distance"]


def test_a_families_file_naming_an_unknown_metric_is_one_line(tmp_path, capsys):
    suite = tmp_path / "bad.toml"
    suite.write_text('methods = ["real_kde"]\nmetrics = ["ksd"]\n')
    assert main(["families", str(suite), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"hdbench: error: {suite}: metrics: expected")
    assert err[0].endswith("got 'ksd'") and not (tmp_path / "bad").exists()
