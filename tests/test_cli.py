"""The command line: one-line errors, listings, figures."""

from __future__ import annotations

import signal
from pathlib import Path

import pandas as pd
import pytest

import hdbench
import hdbench.bundled
import hdbench.cli
from hdbench.bundled import project_folder
from hdbench.cli import list_oracles, main
from hdbench.experiments import pipelines
from hdbench.oracles import find_specs


def test_oracles_lists_every_oracle_with_a_description(capsys):
    assert main(["oracles"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(find_specs())
    assert any(line.startswith("paper_like ") and "Gaussian" in line for line in lines)


def test_show_writes_a_png_and_prints_the_variance_ratio(tmp_path, capsys):
    out = tmp_path / "paper.png"
    assert main(["oracles", "show", "paper_like", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "variance of the target / of the real data: 5.4" in capsys.readouterr().out


def test_unknown_oracle_is_one_line_on_stderr(capsys):
    assert main(["oracles", "show", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown name 'nope'" in err


def test_oracles_marks_a_spec_it_cannot_load_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    (tmp_path / "zz_broken.toml").write_text(
        'description = "x"\n[acceptability]\nkind = "plateau"\ncentre = [0.0, 0.0]\n'
        "[listener]\nnoise_sd = true\n"
    )
    monkeypatch.setenv("HDBENCH_ORACLES", str(tmp_path))
    assert main(["oracles"]) == 2
    captured = capsys.readouterr()
    broken = [line for line in captured.out.splitlines() if line.startswith("zz_broken ")]
    assert len(broken) == 1 and "✗ cannot load:" in broken[0] and "listener.noise_sd" in broken[0]
    assert any(line.startswith("paper_like ") for line in captured.out.splitlines())
    assert captured.err.splitlines() == [
        "hdbench: error: 1 oracle spec(s) cannot be loaded: zz_broken"
    ]


def test_sigterm_is_an_interrupt_only_while_a_command_runs(monkeypatch, capsys):
    """A command takes SIGTERM as Ctrl-C, and leaves the caller's handler as it found it."""
    before = signal.getsignal(signal.SIGTERM)
    during = []

    def listing(args):
        during.append(signal.getsignal(signal.SIGTERM))
        return list_oracles(args)

    monkeypatch.setattr(hdbench.cli, "list_oracles", listing)
    assert main(["oracles"]) == 0
    assert len(during) == 1 and during[0] is not before
    with pytest.raises(KeyboardInterrupt):
        during[0](signal.SIGTERM, None)
    assert signal.getsignal(signal.SIGTERM) is before


TINY_COMPARISON = [
    "--set", "train_steps=20", "--set", "num_steps=30", "--set", "R=2",
    "--set", "humangan.num_updates=2", "--set", "pretrain_steps=10",
    "--set", "humandiffusion_iter.num_rounds=2",
    "--eval-samples", "30", "--jobs", "1",
]  # fmt: skip


def test_compare_writes_its_summary_and_figures(tmp_path, capsys):
    """The papers' comparison end to end through the command line, at tiny settings."""
    out = tmp_path / "compare"
    code = main(["compare", "--oracle", "paper_like", "--out", str(out), *TINY_COMPARISON])
    assert code == 0, capsys.readouterr().err
    summary = (out / "summary.md").read_text()
    for method in pipelines.COMPARED_METHODS:
        assert method in summary
    for figure in ("metrics", "listening", "samples"):
        assert (out / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}" in capsys.readouterr().out


TINY_SUITE = """
oracles = ["paper_like"]
methods = ["data_diffusion", "humangan_truncated"]
seeds = 1
num_eval_samples = 50

[method_params.data_diffusion]
train_steps = 20
num_steps = 1200
"""


def test_bench_runs_a_suite_with_parameters_set_over_its_own(tmp_path, capsys):
    """`bench --set` reaches every method of the suite that has the key, keeping the suite's
    other parameters: the paper's fixed chain runs all its steps."""
    suite = tmp_path / "tiny.toml"
    suite.write_text(TINY_SUITE)
    out = tmp_path / "results"
    args = ["bench", "--suite", str(suite), "--out", str(out), "--jobs", "1", "--quiet"]
    assert main([*args, "--set", "stop=fixed"]) == 0, capsys.readouterr().err
    runs = pd.read_csv(out / "tiny" / "runs.csv").set_index("method")
    assert runs.loc["data_diffusion", "param_stop"] == "fixed"
    assert runs.loc["data_diffusion", "param_train_steps"] == 20
    assert runs.loc["data_diffusion", "chain_steps"] == 1200
    assert (out / "tiny" / "summary.md").exists()
    assert f"wrote {out / 'tiny'}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        (
            "no_such_key=1",
            "--set: no_such_key: not a parameter of any of humangan_truncated, humangan",
        ),
        ("humangan.train_steps=1", "--set: humangan.train_steps: not a parameter of humangan"),
        ("nope.R=2", "--set: nope.R: expected one of humangan_truncated, humangan"),
    ],
)
def test_compare_refuses_a_parameter_in_one_line(assignment, expected, capsys):
    assert main(["compare", "--oracle", "paper_like", "--set", assignment]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


def test_version_names_the_release_and_the_checkout(capsys):
    assert main(["--version"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"hdbench {hdbench.__version__} (git ")


def test_an_installed_package_finds_its_bundled_specs(tmp_path, monkeypatch):
    """Outside a checkout (a wheel in site-packages) the spec folders are the wheel's copies."""
    monkeypatch.setattr(hdbench.bundled, "PACKAGE", tmp_path / "site-packages" / "hdbench")
    assert (
        project_folder("oracles") == tmp_path / "site-packages" / "hdbench" / "bundled" / "oracles"
    )
    monkeypatch.undo()
    assert project_folder("oracles") == Path(hdbench.__file__).resolve().parents[1] / "oracles"
