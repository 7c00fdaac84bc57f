"""The scaling study: its oracles in d dimensions, a small study run end to end, and resuming."""

from __future__ import annotations

import numpy as np
import pytest

from hdbench.errors import SpecError
from hdbench.experiments.scaling import ScalingSpec, main, read_scaling, run_scaling
from hdbench.oracles import load_oracle
from hdbench.report.scaling_figures import _spread, loglog_slope
from hdbench.validation import validate

TINY = {"train_steps": 20, "num_steps": 100}


def test_families_in_dim_2_are_the_shipped_oracles(tmp_path) -> None:
    spec = ScalingSpec(families=["gauss", "mixture"], dims=[2, 8], num_real=[100], methods=["x"])
    specs, skipped = spec.oracle_specs()
    assert sorted(specs) == ["gauss_d2_n100", "gauss_d8_n100", "mixture_d2_n100", "mixture_d8_n100"]
    assert skipped == []
    from hdbench.experiments.scaling import write_oracle_specs

    folder = write_oracle_specs(specs, tmp_path)
    for family, shipped in (("gauss", "paper_like"), ("mixture", "ring_of_8")):
        ours, theirs = load_oracle(f"{family}_d2_n100", (folder,)), load_oracle(shipped)
        x = np.random.default_rng(0).uniform(-4, 4, (100, 2))
        np.testing.assert_allclose(ours.truth(x), theirs.truth(x))
        np.testing.assert_array_equal(ours.real_data, theirs.real_data)
    wide = load_oracle("gauss_d8_n100", (folder,))
    assert wide.dim == 8 and wide.real_data.shape == (100, 8)
    # Wider than the real data N(0, I) on every axis.
    assert np.all(np.diag(wide.truth.cov) > 1)


def test_vowel_beyond_its_corpus_is_skipped_with_a_reason() -> None:
    spec = ScalingSpec(families=["vowel"], dims=[2], num_real=[100, 1000], methods=["x"])
    specs, skipped = spec.oracle_specs()
    assert list(specs) == ["vowel_d2_n100"]
    assert skipped == ["vowel d=2 N=1000: the corpus has 360 tokens"]


def test_a_small_study_runs_measures_and_resumes(tmp_path) -> None:
    spec = ScalingSpec(
        families=["gauss"],
        dims=[2, 3],
        num_real=[50],
        methods=["data_diffusion"],
        method_params={"data_diffusion": TINY},
        num_eval_samples=30,
    )
    runs = run_scaling(spec, tmp_path, n_jobs=1)
    methods = runs[runs["method"] == "data_diffusion"]
    assert len(methods) == 2 and set(methods["status"]) == {"ok"}
    assert set(methods["num_eval_samples"]) == {30}
    assert (methods["peak_memory_mb"] >= 0).all() and (methods["cpu_time"] > 0).all()
    assert sorted(methods["dim"]) == [2, 3] and set(methods["num_real"]) == {50}
    ceiling = runs[runs["method"] == "exact target"]
    assert len(ceiling) == 2 and np.isnan(ceiling["grid_coverage"]).sum() == 1
    summary = (tmp_path / "summary.md").read_text()
    assert "## gauss" in summary and "cpu_time ∝ d^" in summary
    for figure in ("cost", "quality"):
        assert (tmp_path / "figures" / f"{figure}.png").stat().st_size > 10_000
    # A wider study in the same folder runs only what is new, and says what it has not run.
    wider = spec.model_copy(update={"dims": [2, 3, 4]})
    again = run_scaling(wider.model_copy(update={"dims": [3]}), tmp_path, n_jobs=1, whole=wider)
    assert sorted(again["run_id"].dropna()) == sorted(runs["run_id"].dropna())
    assert "gauss, N = 50, data_diffusion: d = 4" in (tmp_path / "summary.md").read_text()


def test_the_shipped_study_and_bad_input(tmp_path, capsys) -> None:
    from hdbench.experiments.plan import BENCHMARKS_DIR

    spec = read_scaling(BENCHMARKS_DIR / "scaling.toml")
    assert spec.dims == [2, 4, 8, 16, 32] and spec.num_real == [100, 1000, 10000]
    assert spec.num_eval_samples == 200
    with pytest.raises(SpecError, match=r"dims\.0: Input should be greater than or equal to 2"):
        validate(ScalingSpec, {**spec.model_dump(), "dims": [1]}, "scaling.toml")
    assert main([str(tmp_path / "missing.toml")]) == 2
    assert "cannot read the scaling study" in capsys.readouterr().out


def test_loglog_slope_recovers_a_power_law() -> None:
    x = np.array([2.0, 4.0, 8.0, 16.0])
    assert loglog_slope(x, 3 * x**1.5) == pytest.approx(1.5)
    assert np.isnan(loglog_slope(np.array([2.0, 2.0]), np.array([1.0, 2.0])))


def test_slope_labels_at_one_line_end_are_spread_apart_around_their_mean():
    heights = np.array([0.50, 0.52, 0.53, 1.40])
    moved = _spread(heights, 0.09)
    assert np.all(np.diff(moved) >= 0.09 - 1e-12)
    assert moved.mean() == pytest.approx(heights.mean())
    np.testing.assert_array_equal(_spread(np.array([0.0, 1.0]), 0.09), [0.0, 1.0])
