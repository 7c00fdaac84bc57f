"""The catalogue of bad inputs: each gets one line on stderr naming the field, a non-zero exit,
no traceback, and nothing computed before the error.

Every case goes through `hdbench.cli.main` as a user would type it. The `nothing_runs` fixture
replaces everything that computes (a run, the truth's metric context, a sweep's runs, an
oracle's brackets and figure) by a failure, so a case that got past validation fails the test.
Classes: oracle specs (types, non-finite numbers, unknown or duplicate keys, the custom slider,
encodings), Python oracles (probed at load), `run` arguments, sweeps from the command line and
from files, checks made before a run (output folders, jobs, the scheduler, memory), and the
other commands.
"""

from __future__ import annotations

import socket
import textwrap

import pytest

from hdbench.cli import main
from hdbench.metrics import TruthContext

GAUSSIAN = 'kind = "gaussian"\nmean = [0.0, 0.0]\ncov = [[4.0, 0.0], [0.0, 4.0]]\n'


def spec(acceptability: str = GAUSSIAN, top: str = 'description = "probe"\n', **tables) -> str:
    """A spec's text: the top-level keys, [acceptability], then the given tables."""
    text = f"{top}[acceptability]\n{acceptability}"
    return text + "".join(f"[{name}]\n{body}" for name, body in tables.items())


PYTHON_MODULE = textwrap.dedent(
    """
    import numpy as np

    def good(x):
        return 0.9 * np.exp(-0.5 * (x ** 2).sum(axis=1))

    def raises(x):
        raise RuntimeError("my oracle is broken")

    def column(x):
        return good(x)[:, None]

    def scalar(x):
        return 0.5

    def negative(x):
        return good(x) - 0.5

    def above_one(x):
        return good(x) + 0.5

    def with_nan(x):
        values = good(x)
        values[::7] = np.nan
        return values

    def text(x):
        return ["high"] * len(x)

    def nothing(x):
        return None

    def far_away(x):
        return 0.9 * np.exp(-0.5 * ((x - 100.0) ** 2).sum(axis=1))

    def complex_values(x):
        return good(x) + 0j

    def one_short(x):
        return good(x)[:-1]

    def forever(x):
        while True:
            pass

    not_a_function = 3
    """
)


def python_spec(function: str, extra: str = "", bounds: str = "[[-5.0, 5.0], [-5.0, 5.0]]") -> str:
    body = f'kind = "python"\nfunction = "{function}"\ndim = 2\nbounds = {bounds}\n{extra}'
    return spec(body)


SHOW = ["oracles", "show", "{tmp}/o.toml", "--out", "{tmp}/o.png"]

#: Oracle specs: id → (spec text, expected words of the one line).
SPECS = {
    "bool for a number": (spec(listener="noise_sd = true\n"), "listener.noise_sd", "true"),
    "string for a number": (spec(listener='noise_sd = "0.1"\n'), "listener.noise_sd"),
    "infinite noise": (spec(listener="noise_sd = inf\n"), "listener.noise_sd", "finite"),
    "NaN lapse rate": (spec(listener="lapse_rate = nan\n"), "listener.lapse_rate", "finite"),
    "bool lapse rate": (spec(listener="lapse_rate = false\n"), "listener.lapse_rate"),
    "infinite drift": (spec(listener="drift_sd = inf\n"), "listener.drift_sd"),
    "string for a boolean": (spec(listener='ideal = "yes"\n'), "listener.ideal", "boolean"),
    "number for a boolean": (spec(listener="ideal = 1\n"), "listener.ideal", "boolean"),
    "unknown scale name": (spec(listener='scale = "likert"\n'), "listener.scale", "slider"),
    "slider step not dividing": (
        spec(listener="scale = { low = 0.0, high = 10.0, step = 3.0 }\n"),
        "listener.scale.step",
        "divides high - low = 10",
    ),
    "slider step above range": (
        spec(listener="scale = { low = 0.0, high = 1.0, step = 2.0 }\n"),
        "listener.scale.step",
    ),
    "slider high below low": (
        spec(listener="scale = { low = 1.0, high = 0.0, step = 0.1 }\n"),
        "listener.scale.high",
        "high > low",
    ),
    "slider infinite range": (
        spec(listener="scale = { low = 0.0, high = inf, step = 1.0 }\n"),
        "listener.scale.high",
        "finite",
    ),
    "slider without step": (
        spec(listener="scale = { low = 0.0, high = 1.0 }\n"),
        "listener.scale.step",
        "required",
    ),
    "slider bool bound": (
        spec(listener="scale = { low = true, high = 1.0, step = 0.5 }\n"),
        "listener.scale.low",
    ),
    "differential step wider than half the range": (
        spec(listener="differential_step = 5.0\n"),
        "listener.differential_step",
    ),
    "unknown listener field": (spec(listener="noise = 0.1\n"), "listener.noise", "unknown"),
    "misspelt table": (spec(listner="noise_sd = 0.5\n"), "listner", "unknown"),
    "capitalised table": (spec(Listener="noise_sd = 0.5\n"), "Listener: unknown field"),
    "unknown top-level key": (spec(top='description = "x"\nfoo = 1\n'), "foo", "unknown"),
    "bool listeners": (spec(panel="num_listeners = true\n"), "panel.num_listeners"),
    "fractional listeners": (spec(panel="num_listeners = 1.5\n"), "panel.num_listeners"),
    "string budget": (spec(panel='budget = "12000"\n'), "panel.budget"),
    "infinite budget": (spec(panel="budget = inf\n"), "panel.budget", "finite"),
    "bool real-data count": (spec(real_data="num = true\n"), "real_data.num"),
    "real data beyond memory": (spec(real_data="num = 2000000000\n"), "real_data.num", "GiB"),
    "negative seed": (spec(real_data="seed = -1\n"), "real_data.seed"),
    "NaN in the real-data mean": (spec(real_data="mean = [nan, 0.0]\n"), "real_data.mean.0"),
    "real data of another dimension": (
        spec(real_data="mean = [0.0, 0.0, 0.0]\n"),
        "real_data",
        "length 2",
    ),
    "bool peak": (spec(GAUSSIAN + "peak = true\n"), "acceptability.peak"),
    "string peak": (spec(GAUSSIAN + 'peak = "0.8"\n'), "acceptability.peak"),
    "infinite mean": (
        spec('kind = "gaussian"\nmean = [inf, 0.0]\ncov = [[4.0, 0.0], [0.0, 4.0]]\n'),
        "acceptability.mean.0",
        "finite",
    ),
    "bool mean": (
        spec('kind = "gaussian"\nmean = [true, 0.0]\ncov = [[4.0, 0.0], [0.0, 4.0]]\n'),
        "acceptability.mean.0",
    ),
    "NaN covariance": (
        spec('kind = "gaussian"\nmean = [0.0, 0.0]\ncov = [[nan, 0.0], [0.0, 4.0]]\n'),
        "acceptability.cov.0.0",
    ),
    "ragged covariance": (
        spec('kind = "gaussian"\nmean = [0.0, 0.0]\ncov = [[4.0], [0.0, 4.0]]\n'),
        "acceptability.cov",
    ),
    "unknown kind": (spec(GAUSSIAN.replace("gaussian", "gausian")), "acceptability.kind"),
    "plateau centre NaN": (
        spec('kind = "plateau"\ncentre = [nan, 0.0]\n'),
        "acceptability.centre.0",
        "finite",
    ),
    "plateau bool edge": (
        spec('kind = "plateau"\ncentre = [0.0, 0.0]\nedge = true\n'),
        "acceptability.edge",
    ),
    "ring string width": (
        spec('kind = "ring"\ncentre = [0.0, 0.0]\nwidth = "0.6"\n'),
        "acceptability.width",
    ),
    "mixture bool bump count": (
        spec('kind = "mixture"\nring = { num_bumps = true }\n'),
        "acceptability.ring.num_bumps",
    ),
    "mixture infinite radius": (
        spec('kind = "mixture"\nring = { radius = inf }\n'),
        "acceptability.ring.radius",
    ),
    "mixture bump NaN mean": (
        spec('kind = "mixture"\nbumps = [{ mean = [nan, 0.0], sd = 1.0 }]\n'),
        "acceptability.bumps.0.mean.0",
    ),
    "mixture of a million bumps": (
        spec('kind = "mixture"\nring = { num_bumps = 1000000 }\n'),
        "acceptability.ring.num_bumps",
        "4096",
    ),
    "mixture without bumps": (spec('kind = "mixture"\nbumps = []\n'), "acceptability.bumps"),
    "vowel grid of hours": (spec('kind = "vowel"\ngrid_size = 10000\n'), "acceptability.grid_size"),
    "vowel infinite widening": (
        spec('kind = "vowel"\nwidening = inf\n'),
        "acceptability.widening",
        "finite",
    ),
    "bool name": (spec(top='name = 5\ndescription = "x"\n'), "name"),
    "missing description": (spec(top=""), "description", "required"),
    "duplicate key": (spec(listener="noise_sd = 0.1\nnoise_sd = 0.2\n"), "cannot read the spec"),
    "duplicate table": (spec(listener="noise_sd = 0.1\n") + "[listener]\n", "cannot read"),
    "not TOML": ("this is not toml\n", "cannot read the spec"),
}

#: Files that are not UTF-8 TOML at all: id → (bytes, expected words).
RAW_SPECS = {
    "latin-1 text": (spec(top='description = "caf\xe9"\n').encode("latin-1"), "UTF-8", "0xe9"),
    "UTF-16 text": (spec().encode("utf-16"), "UTF-8"),
    "binary": (bytes(range(256)), "UTF-8"),
}

#: Python oracles: id → (function, extra spec lines, expected words).
PYTHON = {
    "raises": ("probe_fns:raises", "", "RuntimeError: my oracle is broken"),
    "wrong shape": ("probe_fns:column", "", "shape (4096,)"),
    "scalar": ("probe_fns:scalar", "", "got shape ()"),
    "negative values": ("probe_fns:negative", "", "expected finite values in [0, 1]"),
    "values above one": ("probe_fns:above_one", "", "expected finite values in [0, 1]"),
    "NaN values": ("probe_fns:with_nan", "", "got nan"),
    "strings": ("probe_fns:text", "", "expected an array of 4096 numbers"),
    "None": ("probe_fns:nothing", "", "got shape ()"),
    "complex values": ("probe_fns:complex_values", "", "real values"),
    "one value short": ("probe_fns:one_short", "", "got shape (4095,)"),
    "never returns": ("probe_fns:forever", "", "did not return within 0.5 s"),
    "mass outside the bounds": ("probe_fns:far_away", "", "is 0 at all 4096 probe points"),
    "not a function": ("probe_fns:not_a_function", "", "no function 'not_a_function'"),
    "no such module": ("no_such_module_xyz:f", "", "cannot import module"),
    "module with a syntax error": ("probe_broken:f", "", "SyntaxError"),
    "no colon": ("probe_fns", "", "expected 'module:function'"),
    "mode of another dimension": (
        "probe_fns:good",
        "modes = [{ location = [0.0, 0.0, 0.0], sd = 1.0, mass = 1.0 }]\n",
        "expected a location of dimension 2",
    ),
    "mode masses above one": (
        "probe_fns:good",
        "modes = [{ location = [0.0, 0.0], sd = 1.0, mass = 0.8 },"
        " { location = [1.0, 0.0], sd = 1.0, mass = 0.8 }]\n",
        "sum to at most 1",
    ),
    "mode outside the bounds": (
        "probe_fns:good",
        "modes = [{ location = [9.0, 0.0], sd = 1.0, mass = 1.0 }]\n",
        "inside bounds",
    ),
}

RUN = ["run", "--oracle", "paper_like", "--method", "humandiffusion", "--out", "{tmp}/run"]

#: Command lines: id → (argv, expected words).
COMMANDS = {
    "--set R=true": ([*RUN, "--set", "R=true"], "humandiffusion.R", "true"),
    "--set R as a string": ([*RUN, "--set", 'R="5"'], "humandiffusion.R"),
    "--set R fractional": ([*RUN, "--set", "R=5.5"], "humandiffusion.R"),
    "--set lambda=NaN": ([*RUN, "--set", "lambda=NaN"], "lambda", "finite"),
    "--set lambda=1e400": ([*RUN, "--set", "lambda=1e400"], "lambda", "finite"),
    "--set rating_summary=modee": (
        [*RUN, "--set", "rating_summary=modee"],
        "humandiffusion.rating_summary",
        "'mode'",
    ),
    "--set nes_normalisation typo": ([*RUN, "--set", "nes_normalisation=papr"], "normalisation"),
    "--eval-samples=100000": ([*RUN, "--eval-samples", "100000"], "num_eval_samples", "GiB"),
    "--eval-samples=3": ([*RUN, "--eval-samples", "3"], "num_eval_samples", "6"),
    "--set given twice": ([*RUN, "--set", "R=1", "--set", "R=2"], "--set: R: given twice"),
    "--set without a key": ([*RUN, "--set", "=5"], "--set"),
    "--set without a value": ([*RUN, "--set", "R"], "--set", "key=value"),
    "--set unknown key": ([*RUN, "--set", "nope=1"], "humandiffusion.nope", "unknown"),
    "--set humangan architecture": (
        ["run", "--oracle", "paper_like", "--method", "humangan", "--set", "architecture=gan"],
        "humangan.architecture",
    ),
    "--seed negative": ([*RUN, "--seed", "-1"], "seed"),
    "--seed not a number": ([*RUN, "--seed", "x"], "--seed"),
    "--budget zero": ([*RUN, "--budget", "0"], "budget"),
    "--budget below the plan": (
        [*RUN, "--budget", "1000"],
        "budget: humandiffusion plans 12,000 ratings",
        "of 1,000",
    ),
    "--budget below humangan's plan": (
        ["run", "--oracle", "paper_like", "--method", "humangan", "--budget", "100"],
        "budget: humangan plans 50,000 ratings",
    ),
    "unknown method": ([*RUN[:3], "--method", "nope"], "unknown method 'nope'"),
    "unknown oracle": (["run", "--oracle", "nope", "--method", "humandiffusion"], "'nope'"),
    "--out unwritable": (
        ["run", "--oracle", "paper_like", "--method", "data_diffusion", "--out", "/proc/hd"],
        "--out",
        "cannot write",
    ),
    "--out is a file": (
        ["run", "--oracle", "paper_like", "--method", "data_diffusion", "--out", "{tmp}/f/run"],
        "--out",
    ),
    "--oracles not a folder": ([*RUN, "--oracles", "{tmp}/nowhere"], "expected a folder"),
    "unknown option": ([*RUN, "--sed", "1"], "unrecognized arguments"),
    "no command": ([], "required"),
}

SWEEP = ["sweep", "--oracle", "paper_like", "--out", "{tmp}", "--jobs", "1"]
SWEEPS = {
    "--grid key twice": ([*SWEEP, "--grid", "R=2,3", "R=4"], "--grid: R: given twice"),
    "--grid twice with a key twice": (
        [*SWEEP, "--grid", "R=2,3", "--grid", "R=4"],
        "--grid: R: given twice",
    ),
    "--grid empty value": ([*SWEEP, "--grid", "R=1,,2"], "--grid: R"),
    "--grid empty list": ([*SWEEP, "--grid", "R="], "R: expected a non-empty list"),
    "--grid without a key": ([*SWEEP, "--grid", "=1,2"], "--grid"),
    "--grid value twice": ([*SWEEP, "--grid", "R=2,2"], "grid: R: 2 is given twice"),
    "--method twice": (
        [*SWEEP, "--grid", "R=2", "--method", "humandiffusion", "--method", "humandiffusion"],
        "methods: 'humandiffusion' is given twice",
    ),
    "--oracle twice": ([*SWEEP, "--oracle", "paper_like", "--grid", "R=2"], "oracles:", "twice"),
    "--grid bool": ([*SWEEP, "--grid", "R=true,2"], "humandiffusion.R"),
    "--grid nan": ([*SWEEP, "--grid", "lambda=nan,1"], "humandiffusion.lambda", "number"),
    "--grid NaN": ([*SWEEP, "--grid", "lambda=NaN,1"], "lambda", "finite"),
    "--grid unknown key": ([*SWEEP, "--grid", "nope=1,2"], "unknown parameter 'nope'"),
    "--grid rating_summary typo": (
        [*SWEEP, "--grid", "rating_summary=mode,modee"],
        "rating_summary",
    ),
    "--set and --grid on one key": (
        [*SWEEP, "--grid", "R=2,3", "--set", "R=5"],
        "params.R",
        "also a grid key",
    ),
    "--set R=true in a sweep": ([*SWEEP, "--grid", "sigma_nes=1", "--set", "R=true"], ".R"),
    "--seeds zero": ([*SWEEP, "--grid", "R=2", "--seeds", "0"], "seeds"),
    "--name with capitals": ([*SWEEP, "--grid", "R=2", "--name", "Bad-Name"], "name"),
    "--method unknown": ([*SWEEP, "--grid", "R=2", "--method", "nope"], "methods", "'nope'"),
    "--oracle unknown": (
        ["sweep", "--oracle", "nope", "--grid", "R=2", "--out", "{tmp}"],
        "unknown oracle 'nope'",
    ),
    "no --oracle": (["sweep", "--grid", "R=2", "--out", "{tmp}"], "--oracle"),
    "--jobs 0": ([*SWEEP, "--grid", "R=2", "--jobs", "0"], "--jobs", "-1 for every core"),
    "--jobs -2": ([*SWEEP, "--grid", "R=2", "--jobs", "-2"], "--jobs"),
    "--scheduler unreachable": (
        [*SWEEP, "--grid", "R=2", "--scheduler", "tcp://127.0.0.1:9"],
        "--scheduler: cannot reach",
    ),
    "--scheduler not an address": (
        [*SWEEP, "--grid", "R=2", "--scheduler", "nonsense"],
        "--scheduler",
        "tcp://HOST:PORT",
    ),
    "--out unwritable": (
        ["sweep", "--oracle", "paper_like", "--grid", "R=2", "--out", "/proc/hd"],
        "cannot write",
    ),
    "num_eval_samples beyond memory": (
        [*SWEEP, "--grid", "R=2", "--eval-samples", "100000"],
        "num_eval_samples",
        "GiB",
    ),
    "sweep file and --grid": (["sweep", "{tmp}/s.toml", "--grid", "R=2,3"], "--grid"),
    "sweep file and --eval-samples": (
        ["sweep", "{tmp}/s.toml", "--eval-samples", "100"],
        "--eval-samples",
        "put it in the file",
    ),
    "sweep file and --seeds": (["sweep", "{tmp}/s.toml", "--seeds", "3"], "--seeds"),
    "sweep file and --name": (["sweep", "{tmp}/s.toml", "--name", "other"], "--name"),
}

SWEEP_FILE = (
    'oracles = ["paper_like"]\nmethods = ["humandiffusion"]\nseeds = 1\n'
    "[params]\ntrain_steps = 30\n"
)
SWEEP_FILES = {
    "misspelt method_params table": (
        SWEEP_FILE + "[method_params.humandifussion]\nR = 3\n",
        "method_params.humandifussion",
    ),
    "method_params of a method not run": (
        SWEEP_FILE + "[method_params.humangan]\nR = 3\n",
        "method_params.humangan",
    ),
    "bool in method_params": (
        SWEEP_FILE + "[method_params.humandiffusion]\nR = true\n",
        "humandiffusion.R",
    ),
    "unknown key": (SWEEP_FILE.replace("seeds = 1", "seeds = 1\nrepeats = 3"), "repeats"),
    "grid value not a list": (SWEEP_FILE + "[grid]\nR = 5\n", "grid.R"),
    "bool seeds": (SWEEP_FILE.replace("seeds = 1", "seeds = true"), "seeds"),
    "bool budget": (SWEEP_FILE.replace("seeds = 1", "seeds = 1\nbudget = true"), "budget"),
    "budget below the plan": (
        SWEEP_FILE.replace("seeds = 1", "seeds = 1\nbudget = 5000"),
        "budget: humandiffusion plans 12,000 ratings",
    ),
    "NaN in a grid": (SWEEP_FILE + "[grid]\nlambda = [nan, 1.0]\n", "grid.lambda.0", "finite"),
    "string parameter": (SWEEP_FILE.replace("= 30", '= "30"'), "train_steps"),
    "duplicate key": (SWEEP_FILE.replace("seeds = 1", "seeds = 1\nseeds = 2"), "cannot read"),
    "not TOML": ("oracles = [\n", "cannot read the sweep"),
}

STUDY_START = ["study", "start", "{tmp}/st", "--oracle", "paper_like", "--method", "humandiffusion"]
OTHERS = {
    "bench: unknown suite": (["bench", "--suite", "nope", "--out", "{tmp}"], "cannot read"),
    "bench: --jobs 0": (["bench", "--suite", "quick", "--jobs", "0", "--out", "{tmp}"], "--jobs"),
    "bench: --out unwritable": (["bench", "--suite", "quick", "--out", "/proc/hd"], "--out"),
    "compare: unknown oracle": (["compare", "--oracle", "nope"], "'nope'"),
    "compare: negative seed": (
        ["compare", "--oracle", "paper_like", "--seed", "-1", "--out", "{tmp}/c"],
        "seeds",
    ),
    "compare: --out unwritable": (
        ["compare", "--oracle", "paper_like", "--out", "/proc/hd"],
        "--out",
    ),
    "reference: --jobs 0": (["reference", "--jobs", "0", "--out", "{tmp}/r"], "--jobs"),
    "oracles show: unknown": (["oracles", "show", "nope"], "unknown name 'nope'"),
    "oracles show: --out unwritable": (
        ["oracles", "show", "paper_like", "--out", "/proc/hd/x.png"],
        "--out",
    ),
    "oracles: folder missing": (["oracles", "--oracles", "{tmp}/nowhere"], "expected a folder"),
    "speech render: no run folder": (["speech", "render", "{tmp}/nope"], "run_dir"),
    "speech render: --first 0": (["speech", "render", "{tmp}", "--first", "0"], "--first"),
    "serve: negative port": (["serve", "{tmp}/st", "--port", "-1"], "--port", "0 to 65535"),
    "serve: port past 65535": (["serve", "{tmp}/st", "--port", "70000"], "--port"),
    "serve: lease of NaN minutes": (["serve", "{tmp}/st", "--lease-minutes", "nan"], "finite"),
    "serve: no session": (["serve", "{tmp}/st", "--session-size", "0"], "--session-size"),
    "serve: host that does not resolve": (
        ["serve", "{tmp}/st", "--host", "no-such-host.invalid", "--port", "0"],
        "--host: cannot resolve 'no-such-host.invalid'",
    ),
    "serve: a folder without a study": (["serve", "{tmp}/st", "--port", "0"], "no study here"),
    "serve: a completion code with spaces": (
        ["serve", "{tmp}/st", "--completion-code", "=A B"],
        "--completion-code",
        "letters, digits",
    ),
    "serve: a redirect that is not http": (
        ["serve", "{tmp}/st", "--redirect-url", "javascript:alert(1)"],
        "--redirect-url",
        "http:// or https://",
    ),
    "ledger export: not a ledger": (["ledger", "export", "{tmp}/f"], "not a readable ledger"),
    "ledger export: --out a folder": (
        ["ledger", "export", "{tmp}/f", "--out", "{tmp}"],
        "--out: expected a file name",
    ),
    "ledger export: --out of the other format": (
        ["ledger", "export", "{tmp}/f", "--to", "csv", "--out", "{tmp}/x.parquet"],
        "expected a .csv file",
    ),
    "ledger fit-listener: not a ledger": (
        ["ledger", "fit-listener", "{tmp}/f", "--out", "{tmp}/fit.toml"],
        "not a readable ledger",
    ),
    "run: --replay of a text file": (
        [*RUN[:-1], "{tmp}/st", "--replay", "{tmp}/f"],
        "not a readable ledger",
    ),
    "study start: budget below the plan": (
        [*STUDY_START, "--budget", "100"],
        "budget: humandiffusion plans 12,000 ratings",
    ),
}


@pytest.fixture
def nothing_runs(monkeypatch):
    """Make every computation fail the test: the cases must be refused before any."""

    def computed(*args, **kwargs):
        raise AssertionError("computed before the bad input was refused")

    monkeypatch.setattr("hdbench.experiments.run.execute", computed)
    monkeypatch.setattr(TruthContext, "build", computed)
    monkeypatch.setattr("hdbench.experiments.executor._run_resiliently", computed)
    monkeypatch.setattr("hdbench.experiments.suite.run_oracle_suite", computed)
    monkeypatch.setattr("hdbench.report.oracle_figure.plot_oracle", computed)


def refused(argv: list[str], tmp_path, capsys, expected: tuple[str, ...]) -> None:
    code = main([arg.replace("{tmp}", str(tmp_path)) for arg in argv])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    for word in expected:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("case", sorted(SPECS))
def test_bad_spec(case, tmp_path, capsys, nothing_runs):
    text, *expected = SPECS[case]
    (tmp_path / "o.toml").write_text(text)
    refused(SHOW, tmp_path, capsys, (f"{tmp_path}/o.toml: ", *expected))


@pytest.mark.parametrize("case", sorted(RAW_SPECS))
def test_spec_that_is_not_utf8_text(case, tmp_path, capsys, nothing_runs):
    data, *expected = RAW_SPECS[case]
    (tmp_path / "o.toml").write_bytes(data)
    refused(SHOW, tmp_path, capsys, (f"{tmp_path}/o.toml: ", *expected))


@pytest.mark.parametrize("case", sorted(PYTHON))
def test_bad_python_oracle(case, tmp_path, capsys, monkeypatch, nothing_runs):
    function, extra, expected = PYTHON[case]
    (tmp_path / "probe_fns.py").write_text(PYTHON_MODULE)
    (tmp_path / "probe_broken.py").write_text("def f(x) return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # A short limit, so that the D that never returns costs half a second; the others return
    # in milliseconds.
    monkeypatch.setattr("hdbench.oracles.kinds.python_callable.PROBE_SECONDS", 0.5)
    (tmp_path / "o.toml").write_text(python_spec(function, extra))
    refused(SHOW, tmp_path, capsys, (f"{tmp_path}/o.toml: acceptability", expected))


@pytest.mark.parametrize("case", sorted(COMMANDS))
def test_bad_run_argument(case, tmp_path, capsys, nothing_runs):
    argv, *expected = COMMANDS[case]
    (tmp_path / "f").write_text("a file, not a folder")
    refused(argv, tmp_path, capsys, tuple(expected))


@pytest.mark.parametrize("case", sorted(SWEEPS))
def test_bad_sweep_argument(case, tmp_path, capsys, nothing_runs):
    argv, *expected = SWEEPS[case]
    (tmp_path / "s.toml").write_text(SWEEP_FILE)
    refused(argv, tmp_path, capsys, tuple(expected))
    assert not (tmp_path / "sweep" / "rows").exists()


@pytest.mark.parametrize("case", sorted(SWEEP_FILES))
def test_bad_sweep_file(case, tmp_path, capsys, nothing_runs):
    text, *expected = SWEEP_FILES[case]
    (tmp_path / "s.toml").write_text(text)
    refused(["sweep", "{tmp}/s.toml", "--out", "{tmp}"], tmp_path, capsys, tuple(expected))


@pytest.mark.parametrize("case", sorted(OTHERS))
def test_bad_argument_of_other_commands(case, tmp_path, capsys, nothing_runs):
    argv, *expected = OTHERS[case]
    (tmp_path / "f").write_text("notes, not a ledger\n")
    refused(argv, tmp_path, capsys, tuple(expected))
    assert (tmp_path / "f").read_text() == "notes, not a ledger\n"
    assert not (tmp_path / "st").exists()


def test_serving_on_a_port_already_taken_is_refused(tmp_path, capsys, nothing_runs):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        refused(["serve", "{tmp}/st", "--port", port], tmp_path, capsys, ("--port", port))


def test_a_panel_budget_below_the_plan_is_refused_naming_the_spec(tmp_path, capsys, nothing_runs):
    (tmp_path / "o.toml").write_text(spec(panel="budget = 600\n"))
    argv = ["run", "--oracle", "{tmp}/o.toml", "--method", "humangan_truncated", "--out", "{tmp}/r"]
    expected = (f"{tmp_path}/o.toml: panel.budget: humangan_truncated plans 2,000 ratings",)
    refused(argv, tmp_path, capsys, expected)
