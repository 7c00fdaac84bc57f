"""The `vowel` oracle: a listener that judges the rendered audio."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyworld", reason="the speech extra is not installed")

from hdbench.errors import SpecError, StimulusError
from hdbench.oracles import TrialBatch, load_oracle


@pytest.fixture(scope="module")
def oracle():
    return load_oracle("vowel_a")


def test_real_data_are_corpus_tokens_rated_high(oracle):
    truth = oracle.truth
    assert oracle.real_data.shape == (100, 2)
    np.testing.assert_allclose(truth.space.real_data(2).std(axis=0), 1.0)
    assert truth(oracle.real_data).mean() > 0.5


def test_far_from_the_corpus_d_is_low(oracle):
    truth = oracle.truth
    corners = np.array([[-7.5, -7.5], [7.5, 7.5], [7.5, -7.5], [-7.5, 7.5]])
    assert truth.rendered(corners).max() < 0.05
    assert truth(np.array([[40.0, 0.0]]))[0] == 0.0


def test_the_acceptable_region_is_wider_than_the_corpus(oracle):
    target = oracle.truth.sample(20_000, np.random.default_rng(0))
    assert np.trace(np.cov(target.T)) > 3 * np.trace(np.cov(oracle.real_data.T))


def test_d_is_deterministic_and_the_grid_follows_the_audio(oracle):
    """The grid is D rendered at its nodes; between them bilinear interpolation. At the real
    data the two agree to within 0.1 for nine in ten points (measured: median 1e-4; D jumps
    where LPC loses a formant, so a few points differ more)."""
    truth = oracle.truth
    points = oracle.real_data[:30]
    rendered = truth.rendered(points)
    np.testing.assert_array_equal(rendered, truth.rendered(points))
    assert np.quantile(np.abs(truth(points) - rendered), 0.9) < 0.1


def test_a_nan_point_gets_a_clear_error(oracle):
    with pytest.raises(SpecError, match="point: expected finite coordinates"):
        oracle.truth.rendered(np.array([[np.nan, 0.0]]))
    with pytest.raises(StimulusError, match="expected finite values"):
        oracle.panel(seed=0).submit(TrialBatch.absolute(np.array([[np.nan, 0.0]])))


def test_suite_keeps_wavs_and_render_command_writes_them(tmp_path, capsys):
    from scipy.io import wavfile

    from hdbench.cli import main
    from hdbench.experiments.plan import SweepSpec
    from hdbench.experiments.suite import run_suite

    tiny = {"train_steps": 20, "num_steps": 100}
    sweep = SweepSpec(
        oracles=["vowel_a", "paper_like"],
        methods=["data_diffusion"],
        params=tiny,
        num_eval_samples=20,
    )
    runs = run_suite(sweep, tmp_path, n_jobs=1)
    wavs = sorted((tmp_path / "speech" / "vowel_a" / "data_diffusion").glob("*.wav"))
    assert len(wavs) == 3 and not (tmp_path / "speech" / "paper_like").exists()
    rate, pcm = wavfile.read(wavs[0])
    assert rate == 16_000 and len(pcm) == 16_000 and pcm.dtype == np.int16

    row = runs[runs["oracle"] == "vowel_a"].iloc[0]
    run_dir = tmp_path / "runs" / f"vowel_a-data_diffusion-{row.run_id}"
    assert main(["speech", "render", str(run_dir), "--first", "2"]) == 0
    assert len(list((run_dir / "audio").glob("*.wav"))) == 2
    assert (run_dir / "audio" / "spectrograms.png").exists()
    other = runs[runs["oracle"] == "paper_like"].iloc[0]
    other_dir = tmp_path / "runs" / f"paper_like-data_diffusion-{other.run_id}"
    assert main(["speech", "render", str(other_dir)]) == 2
    assert "is not a speech oracle" in capsys.readouterr().err


def test_a_vowel_spec_with_a_real_data_distribution_is_refused(tmp_path):
    from hdbench.oracles.catalog import BUNDLED_DIR

    text = (
        (BUNDLED_DIR / "vowel_a.toml")
        .read_text()
        .replace("num = 100", "num = 100\nmean = [0.0, 0.0]")
    )
    path = tmp_path / "vowel_b.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match="real_data: expected only num and seed"):
        load_oracle(path)
