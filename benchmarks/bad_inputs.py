"""150 bad inputs, tried as a new user would, each in its own process with a timeout.

Not part of the test suite: it measures how hdbench meets mistakes. Each case runs `hdbench`
(or, for the Python API, a user's script) in a fresh folder that is also its working directory,
so default outputs land there. For every case the table records the exit code, the number of
stderr lines, whether a traceback appeared, whether anything was spent or computed before the
error (ratings in a ledger, row files, samples), whether it timed out, and the wall time.

Two kinds of case:
- `refuse`: a bad input. Good when the exit code is non-zero, stderr is one line without a
  traceback that contains the expected words, nothing was spent, and it did not time out.
- `heal`: a damaged results folder under a sweep started again. Good when the sweep exits 0,
  names each damaged file in one line on stderr (no traceback) and redoes its run.

The Python API's cases run a short script under a wrapper that turns an hdbench error
(`hdbench.errors.HdbenchError`) into one line on stderr and exit 2; any other exception ends in
its traceback, and a script that raises nothing exits 0 (the bad value was accepted).

    .venv/bin/python benchmarks/bad_inputs.py              # all cases, into results/bad_inputs/
    .venv/bin/python benchmarks/bad_inputs.py --only api   # the cases of one class
"""

# ruff: noqa: E501  (the cases are a table, one per line)

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HDBENCH = [PYTHON, "-m", "hdbench.cli"]
TIMEOUT = 90.0

# Small runs, so that a bad input that slips through finishes instead of timing out.
TINY_HD = ["--set", "train_steps=20", "--set", "num_steps=20", "--set", "num_periphery=1"]
TINY_HD += ["--set", "R=2", "--eval-samples", "50"]
TINY_DD = ["--set", "train_steps=20", "--set", "num_steps=20", "--set", "num_copies=10"]
TINY_DD += ["--eval-samples", "50"]
RUN = ["run", "--oracle", "paper_like", "--method", "humandiffusion", "--out", "run"]
SWEEP = ["sweep", "--oracle", "paper_like", "--method", "data_diffusion", "--jobs", "1"]
SWEEP += ["--out", "out", "--name", "s", "--grid", "width=8,16", *TINY_DD]

Setup = Callable[[Path], None]


@dataclass
class Case:
    klass: str
    name: str
    argv: list[str] = field(default_factory=list)
    words: tuple[str, ...] = ()
    setup: Setup | None = None
    script: str = ""  # a Python API case: the user's script
    expect: str = "refuse"  # or "heal"
    timeout: float = TIMEOUT


CASES: list[Case] = []


def case(klass: str, name: str, argv=(), *words: str, **options) -> None:
    CASES.append(Case(klass, name, list(argv), tuple(words), **options))


def files(**contents: str | bytes) -> Setup:
    """A setup writing files (name → text or bytes; `__` in a name is a folder separator)."""

    def write(folder: Path) -> None:
        for name, content in contents.items():
            path = folder / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)

    return write


def chain(*setups: Setup) -> Setup:
    def run(folder: Path) -> None:
        for setup in setups:
            setup(folder)

    return run


# ---------------------------------------------------------------------------------------------
# Oracle specs: tried with `hdbench run --oracle o.toml`, as a user would right after writing one.

GAUSS = 'kind = "gaussian"\nmean = [0.0, 0.0]\ncov = [[4.0, 0.0], [0.0, 4.0]]\n'


def spec_text(acceptability: str = GAUSS, top: str = 'description = "mine"\n', **tables) -> str:
    return f"{top}[acceptability]\n{acceptability}" + "".join(
        f"[{name}]\n{body}" for name, body in tables.items()
    )


def spec_case(name: str, text: str | bytes, *words: str, filename: str = "o.toml") -> None:
    argv = ["run", "--oracle", filename, "--method", "humandiffusion", *TINY_HD, "--out", "run"]
    case("oracle spec", name, argv, *words, setup=files(**{filename: text}))


THREE = (
    'kind = "mixture"\nbumps = [\n  { mean = [-2.0, 0.0], sd = 0.6, peak = 0.9 },\n'
    "  { mean = [2.0, 0.0], sd = 0.6, peak = 0.6 },\n  { mean = [0.0, 2.0], sd = 0.6, peak = 0.35 },\n]\n"
)

spec_case(
    "covariance not positive definite",
    spec_text(GAUSS.replace("[[4.0, 0.0], [0.0, 4.0]]", "[[1.0, 2.0], [2.0, 1.0]]")),
    "acceptability.cov",
)
spec_case(
    "covariance not symmetric",
    spec_text(GAUSS.replace("[[4.0, 0.0], [0.0, 4.0]]", "[[4.0, 1.0], [0.0, 4.0]]")),
    "acceptability.cov",
)
spec_case("empty mean", spec_text('kind = "gaussian"\nmean = []\n'), "acceptability.mean")
spec_case("peak above one", spec_text(GAUSS + "peak = 1.5\n"), "acceptability.peak")
spec_case(
    "negative sd",
    spec_text('kind = "gaussian"\nmean = [0.0, 0.0]\nsd = -1.0\n'),
    "acceptability.sd",
)
spec_case(
    "lapse rate as a percentage", spec_text(listener="lapse_rate = 5\n"), "listener.lapse_rate"
)
spec_case("negative budget", spec_text(panel="budget = -100\n"), "panel.budget")
spec_case("scale in capitals", spec_text(listener='scale = "MUSHRA"\n'), "listener.scale")
spec_case(
    "slider step zero",
    spec_text(listener="scale = { low = 0, high = 100, step = 0 }\n"),
    "listener.scale.step",
)
spec_case("ideal as a quoted false", spec_text(listener='ideal = "false"\n'), "listener.ideal")
spec_case("acceptability without kind", spec_text("mean = [0.0, 0.0]\n"), "acceptability", "kind")
spec_case(
    "acceptability as an array of tables",
    'description = "x"\n[[acceptability]]\nkind = "gaussian"\nmean = [0.0, 0.0]\n',
    "acceptability",
)
spec_case(
    "grid of zero bumps per axis",
    spec_text('kind = "mixture"\ngrid = { num_per_axis = 0 }\n'),
    "acceptability.grid.num_per_axis",
)
spec_case(
    "bump of sd zero",
    spec_text('kind = "mixture"\nbumps = [{ mean = [0.0, 0.0], sd = 0.0 }]\n'),
    "acceptability.bumps.0.sd",
)
spec_case(
    "bumps of two dimensions",
    spec_text(
        'kind = "mixture"\nbumps = [{ mean = [0.0, 0.0], sd = 1.0 }, { mean = [1.0, 0.0, 0.0], sd = 1.0 }]\n'
    ),
    "acceptability: bumps",
)
spec_case(
    "ring of negative radius",
    spec_text('kind = "ring"\ncentre = [0.0, 0.0]\nradius = -3.0\n'),
    "acceptability.radius",
)
spec_case("empty file", "", "description")
spec_case("description as a number", spec_text(top="description = 5\n"), "description")
spec_case("file name with capitals and a dash", spec_text(), "name", filename="My-Oracle.toml")
spec_case(
    "listener given twice in two spellings",
    spec_text(listener="noise_sd = 0.1\n", Listener="noise_sd = 0.2\n"),
    "Listener",
)

# Real-data tables of the discovery oracles' kinds.
spec_case(
    "real_data modes as a string",
    spec_text(THREE, real_data='kind = "modes"\nmodes = "0"\n'),
    "real_data.modes",
)
spec_case(
    "real_data modes as floats",
    spec_text(THREE, real_data='kind = "modes"\nmodes = [0.5]\n'),
    "real_data.modes",
)
spec_case(
    "real_data kind in capitals",
    spec_text(THREE, real_data='kind = "Modes"\nmodes = [0]\n'),
    "real_data.kind",
)
spec_case(
    "real_data threshold of one",
    spec_text(THREE, real_data='kind = "acceptable"\nthreshold = 1.0\n'),
    "real_data.threshold",
)
spec_case(
    "real_data infinite power",
    spec_text(THREE, real_data='kind = "acceptable"\npower = inf\n'),
    "real_data.power",
)
spec_case(
    "real_data modes kind with a threshold",
    spec_text(THREE, real_data='kind = "modes"\nmodes = [0]\nthreshold = 0.3\n'),
    "real_data.threshold",
)
spec_case(
    "real_data threshold near the peak",
    spec_text(THREE, real_data='kind = "acceptable"\nthreshold = 0.8999999\nnum = 100\n'),
    "real_data",
)
spec_case(
    "real_data on a far mode of a python D",
    spec_text(
        'kind = "python"\nfunction = "hdbench.oracles.examples:banana"\ndim = 2\nbounds = [[-11.0, 11.0], [-4.0, 27.0]]\nmodes = [{ location = [10.5, 26.0], sd = 0.1, mass = 0.01 }]\n',
        real_data='kind = "modes"\nmodes = [0]\n',
    ),
    "o.toml",
    "real_data",
)

# ---------------------------------------------------------------------------------------------
# Python oracles: the user's own D.

USER_D = textwrap.dedent(
    """
    import numpy as np

    def good(x):
        return 0.9 * np.exp(-0.5 * (x ** 2).sum(axis=1))

    def per_point(x):
        return 0.9 * np.exp(-0.5 * (x[0] ** 2 + x[1] ** 2))

    def needs_scale(x, *, scale):
        return good(x / scale)

    def third_axis(x):
        return 0.9 * np.exp(-0.5 * x[:, 2] ** 2)

    def two_args(x, y):
        return good(x)

    def one_point(x):
        return float(good(x[:1])[0])

    def as_dict(x):
        return {"d": good(x)}

    def forever(x):
        while True:
            pass

    def fails_far(x):
        if np.abs(x).max() > 4:
            raise ValueError("outside my data")
        return good(x)

    def percent(x):
        return 100 * good(x)

    def one_dim(x):
        return 0.9 * np.exp(-0.5 * (x[:, 0] / 2) ** 2)

    def transposed(x):
        return good(x)[None, :]


    class Density:
        def __call__(self, x):
            return good(x)
    """
)


def user_d(function: str, extra: str = "", dim: int = 2, bounds: str = "") -> Setup:
    bounds = bounds or str([[-5.0, 5.0]] * dim)
    body = f'kind = "python"\nfunction = "{function}"\ndim = {dim}\nbounds = {bounds}\n{extra}'
    return files(**{"user_d.py": USER_D, "o.toml": spec_text(body)})


def python_case(name: str, setup: Setup, *words: str, method: str = "humandiffusion") -> None:
    tiny = TINY_HD if method == "humandiffusion" else TINY_DD
    argv = ["run", "--oracle", "o.toml", "--method", method, *tiny, "--out", "run"]
    case("python oracle", name, argv, *words, setup=setup, timeout=60)


python_case("written for one point at a time", user_d("user_d:per_point"), "o.toml", "shape")
python_case("a required keyword argument", user_d("user_d:needs_scale"), "o.toml", "scale")
python_case("reads a third axis in 2-D", user_d("user_d:third_axis"), "o.toml", "IndexError")
python_case("takes two arguments", user_d("user_d:two_args"), "o.toml", "TypeError")
python_case("never returns", user_d("user_d:forever"), "o.toml")
python_case("raises outside the data", user_d("user_d:fails_far"), "o.toml", "ValueError")
python_case("ratings in percent", user_d("user_d:percent"), "o.toml", "[0, 1]")
python_case("returns a row, not a column", user_d("user_d:transposed"), "o.toml", "shape")
python_case("a class, not a function", user_d("user_d:Density"), "o.toml")
python_case(
    "bounds low above high",
    user_d("user_d:good", bounds="[[5.0, -5.0], [-5.0, 5.0]]"),
    "acceptability.bounds",
)
python_case(
    "bounds of another dimension",
    user_d("user_d:good", bounds="[[-5.0, 5.0]]"),
    "acceptability.bounds",
)
python_case("dim zero", user_d("user_d:good", dim=0, bounds="[]"), "acceptability.dim")
python_case(
    "dim as a string",
    files(
        **{
            "user_d.py": USER_D,
            "o.toml": spec_text(
                'kind = "python"\nfunction = "user_d:good"\ndim = "2"\nbounds = [[-5.0, 5.0], [-5.0, 5.0]]\n'
            ),
        }
    ),
    "acceptability.dim",
)
python_case(
    "modes as bare locations",
    user_d("user_d:good", "modes = [[0.0, 0.0]]\n"),
    "acceptability.modes.0",
)

# ---------------------------------------------------------------------------------------------
# `hdbench run` arguments.

RUN_TINY = [*RUN, *TINY_HD]
case("run", "budget below what HumanDiffusion asks", [*RUN, "--budget", "1000"], "budget", "12,000")
case(
    "run",
    "budget below what HumanGAN asks",
    ["run", "--oracle", "paper_like", "--method", "humangan", "--out", "run", "--budget", "500"],
    "budget",
)
case(
    "run",
    "budget below humandiffusion_iter's rounds",
    [
        "run",
        "--oracle",
        "paper_like",
        "--method",
        "humandiffusion_iter",
        "--out",
        "run",
        "--budget",
        "1000",
    ],
    "budget",
)
case("run", "budget fractional", [*RUN, "--budget", "1.5e4"], "--budget")
case("run", "eval samples zero", [*RUN, "--eval-samples", "0"], "num_eval_samples")
case("run", "--set with a colon", [*RUN, "--set", "R:5"], "--set", "key=value")
case("run", "--set a list to a number", [*RUN, "--set", "R=5,6"], "R")
case("run", "--set sigma_nes zero", [*RUN, "--set", "sigma_nes=0"], "sigma_nes")
case("run", "--set infinite step size", [*RUN, "--set", "step_size=inf"], "step_size")
case("run", "--set noise typo", [*RUN, "--set", "noise=dataa"], "noise")
case("run", "--set parameter of another method", [*RUN, "--set", "num_updates=4"], "num_updates")
case(
    "run",
    "method in capitals",
    ["run", "--oracle", "paper_like", "--method", "HumanDiffusion", "--out", "run"],
    "HumanDiffusion",
)
case(
    "run",
    "method import path to a function",
    [
        "run",
        "--oracle",
        "paper_like",
        "--method",
        "hdbench.methods.base:starting_points",
        "--out",
        "run",
    ],
    "method",
)
case(
    "run",
    "oracle given as a missing file",
    ["run", "--oracle", "oracles/mine.toml", "--method", "humandiffusion", "--out", "run"],
    "mine",
)
case("run", "out is an existing file", [*RUN[:-1], "taken"], "--out", setup=files(taken="x"))
case(
    "run",
    "out holds another run",
    [*RUN_TINY[:-2], "--out", "run", "--seed", "1"],
    "run",
    setup=lambda f: _copy(FIXTURES["run_done"], f / "run"),
)
case(
    "run",
    "data_diffusion with a budget it cannot use",
    ["run", "--oracle", "paper_like", "--method", "data_diffusion", "--out", "run", "--set", "R=3"],
    "R",
)
case(
    "run",
    "humandiffusion_ms one noise level",
    [
        "run",
        "--oracle",
        "paper_like",
        "--method",
        "humandiffusion_ms",
        "--set",
        "num_levels=1",
        "--out",
        "run",
    ],
    "num_levels",
)
case(
    "run",
    "exact_score with an unknown sampler",
    [
        "run",
        "--oracle",
        "paper_like",
        "--method",
        "exact_score",
        "--set",
        "sampler=langevn",
        "--out",
        "run",
    ],
    "sampler",
)
case(
    "run",
    "--oracles given a spec file",
    [*RUN_TINY, "--oracles", "o.toml"],
    "--oracles",
    setup=files(**{"o.toml": spec_text()}),
)

# `run --replay`.
case("replay", "replay of a missing ledger", [*RUN_TINY, "--replay", "nowhere.sqlite"], "--replay")
case(
    "replay",
    "replay of a text file",
    [*RUN_TINY, "--replay", "notes.txt"],
    "notes.txt",
    setup=files(**{"notes.txt": "hello\n"}),
)
case(
    "replay",
    "replay of another method's ledger",
    [
        "run",
        "--oracle",
        "paper_like",
        "--method",
        "humandiffusion_iter",
        "--set",
        "num_rounds=1",
        "--set",
        "num_steps=20",
        "--set",
        "train_steps=20",
        "--eval-samples",
        "50",
        "--out",
        "run",
        "--replay",
        "done/ledger.sqlite",
    ],
    "trial",
    setup=lambda f: _copy(FIXTURES["run_done"], f / "done"),
)
case(
    "replay",
    "replay with other parameters",
    [
        *RUN[:-2],
        *TINY_HD[:-2],
        "--eval-samples",
        "50",
        "--set",
        "sigma_nes=0.5",
        "--out",
        "run",
        "--replay",
        "done/ledger.sqlite",
    ],
    "trial",
    setup=lambda f: _copy(FIXTURES["run_done"], f / "done"),
)
case(
    "replay",
    "replay of a study that waits",
    [*RUN_TINY, "--replay", "study/ledger.sqlite"],
    "ledger",
    setup=lambda f: _copy(FIXTURES["study_waiting"], f / "study"),
)

# ---------------------------------------------------------------------------------------------
# `hdbench study`.

START = ["study", "start", "st", "--oracle", "paper_like", "--method", "humandiffusion"]
case(
    "study",
    "start in a folder that is a file",
    [*START[:2], "taken", *START[3:]],
    "taken",
    setup=files(taken="x"),
)
case("study", "start with a budget too small", [*START, "--budget", "100"], "budget")
case("study", "start with a misspelt parameter", [*START, "--set", "sigma_ne=1"], "sigma_ne")
case(
    "study",
    "start with a python oracle that raises",
    [*START[:4], "o.toml", *START[5:]],
    "o.toml",
    setup=user_d("user_d:fails_far"),
)
case("study", "status of a missing folder", ["study", "status", "nowhere"], "nowhere")
case(
    "study",
    "status with study.json not JSON",
    ["study", "status", "st"],
    "study.json",
    setup=files(**{"st__study.json": "{not json"}),
)
case(
    "study",
    "resume with study.json lacking its run",
    ["study", "resume", "st"],
    "study.json",
    setup=files(**{"st__study.json": '{"oracle_source": "x"}'}),
)
case(
    "study",
    "resume with a hand-edited seed",
    ["study", "resume", "st"],
    "seed",
    setup=lambda f: _edit_study(f, lambda s: s["run"].update(seed="zero")),
)
case(
    "study",
    "resume with a hand-edited method",
    ["study", "resume", "st"],
    "method",
    setup=lambda f: _edit_study(f, lambda s: s["run"].update(method="humandifusion")),
)
case(
    "study",
    "resume with an unknown parameter",
    ["study", "resume", "st"],
    "params",
    setup=lambda f: _edit_study(f, lambda s: s["run"]["params"].update(Rr=3)),
)
case(
    "study",
    "answer with an unknown oracle",
    ["study", "answer", "st", "--oracle", "paper_lik"],
    "paper_lik",
    setup=lambda f: _copy(FIXTURES["study_waiting"], f / "st"),
)
case(
    "study",
    "answer with a 3-D oracle",
    ["study", "answer", "st", "--oracle", "o.toml"],
    "dimension",
    setup=chain(
        lambda f: _copy(FIXTURES["study_waiting"], f / "st"),
        files(**{"o.toml": spec_text('kind = "gaussian"\nmean = [0.0, 0.0, 0.0]\nsd = 2.0\n')}),
    ),
)

# Damaged study folders and ledgers.
case(
    "study folder",
    "ledger truncated",
    ["study", "status", "st"],
    "ledger",
    setup=lambda f: _damage_study(f, "ledger.sqlite", b"SQLite format 3\x00" + b"\x00" * 50),
)
case(
    "study folder",
    "ledger empty",
    ["study", "resume", "st"],
    "ledger",
    setup=lambda f: _damage_study(f, "ledger.sqlite", b"", "study_told"),
)
case(
    "study folder",
    "ledger is text",
    ["study", "answer", "st", "--oracle", "paper_like"],
    "ledger",
    setup=lambda f: _damage_study(f, "ledger.sqlite", b"not a database\n" * 100),
)
case(
    "study folder",
    "method state damaged",
    ["study", "resume", "st"],
    "state",
    setup=lambda f: _damage_study(f, "state/method.npz", b"PK\x03\x04garbage"),
)
case(
    "study folder",
    "state folder is a file",
    ["study", "resume", "st"],
    "state",
    setup=lambda f: _damage_study(f, "state", b"x"),
)
case(
    "study folder",
    "oracle of the study deleted",
    ["study", "resume", "st"],
    "oracle",
    setup=lambda f: _study_with_lost_oracle(f),
)

# ---------------------------------------------------------------------------------------------
# `hdbench serve` (a serve that starts would block: its timeout shows it as a hang).

SERVE = ["serve", "st"]
# A server that starts blocks: 45 s tells it from a refusal even on a loaded machine.
WAITING = {"setup": lambda f: _copy(FIXTURES["study_waiting"], f / "st"), "timeout": 45}
case("serve", "port negative", [*SERVE, "--port", "-1"], "--port", **WAITING)
case("serve", "port above 65535", [*SERVE, "--port", "70000"], "--port", **WAITING)
case(
    "serve",
    "lease of NaN minutes",
    [*SERVE, "--lease-minutes", "nan"],
    "--lease-minutes",
    **WAITING,
)
case("serve", "screening rate above one", [*SERVE, "--screening-rate", "1.5"], "rate", **WAITING)
case(
    "serve",
    "host that does not resolve",
    [*SERVE, "--host", "no-such-host.invalid", "--port", "0"],
    "--host",
    **WAITING,
)
case("serve", "a folder without a study", ["serve", "nowhere"], "nowhere", timeout=45)
case("serve", "a port already taken", [*SERVE, "--port", "{busy_port}"], "port", **WAITING)

# ---------------------------------------------------------------------------------------------
# `hdbench ledger`.

DONE = {"setup": lambda f: _copy(FIXTURES["run_done"], f / "done")}
case(
    "ledger",
    "export a text file",
    ["ledger", "export", "notes.txt"],
    "notes.txt",
    setup=files(**{"notes.txt": "hello\n"}),
)
case(
    "ledger",
    "export an empty file",
    ["ledger", "export", "empty.sqlite"],
    "empty.sqlite",
    setup=files(**{"empty.sqlite": b""}),
)
case(
    "ledger",
    "export an SQLite file of something else",
    ["ledger", "export", "other.sqlite"],
    "other.sqlite",
    setup=lambda f: _other_sqlite(f / "other.sqlite"),
)
case(
    "ledger",
    "export to xlsx",
    ["ledger", "export", "done/ledger.sqlite", "--to", "xlsx"],
    "--to",
    **DONE,
)
case(
    "ledger",
    "export --out unwritable",
    ["ledger", "export", "done/ledger.sqlite", "--out", "/proc/x.parquet"],
    "--out",
    **DONE,
)
case(
    "ledger",
    "export --out a folder",
    ["ledger", "export", "done/ledger.sqlite", "--out", "done"],
    "--out",
    **DONE,
)
case(
    "ledger",
    "fit-listener without people's ratings",
    ["ledger", "fit-listener", "done/ledger.sqlite", "--out", "fit.toml"],
    "person",
    **DONE,
)
case(
    "ledger",
    "fit-listener --out a folder",
    ["ledger", "fit-listener", "done/ledger.sqlite", "--out", "done", "--source", "simulated"],
    "--out",
    **DONE,
)

# ---------------------------------------------------------------------------------------------
# `hdbench sweep`.

SW = ["sweep", "--oracle", "paper_like", "--out", "out", "--jobs", "1"]
case("sweep", "--seeds negative", [*SW, "--grid", "R=2", "--seeds", "-1"], "seeds")
case("sweep", "--grid with a space after the comma", [*SW, "--grid", "R=2,", "3"], "--grid")
case("sweep", "--grid in brackets", [*SW, "--grid", "R=[2,3]"], "R")
case("sweep", "--grid repeated values", [*SW, "--grid", "R=2,2"], "R")
case(
    "sweep",
    "--grid key of another method",
    [*SW, "--method", "data_diffusion", "--grid", "R=2,3"],
    "R",
)
case("sweep", "--name with a slash", [*SW, "--grid", "R=2", "--name", "../x"], "name")
case(
    "sweep",
    "--eval-samples below the minimum",
    [*SW, "--grid", "R=2", "--eval-samples", "5"],
    "num_eval_samples",
)
case(
    "sweep",
    "--method twice",
    [*SW, "--method", "humandiffusion", "--method", "humandiffusion", "--grid", "R=2"],
    "humandiffusion",
)
case(
    "sweep",
    "budget too small in the grid",
    [*SW, "--grid", "R=2,20", "--set", "num_periphery=1", "--set", "budget=1000"],
    "budget",
)
case("sweep", "no grid at all", ["sweep", "--out", "out"], "--oracle")
case("sweep", "--grid fractional count", [*SW, "--grid", "num_periphery=1.5,2"], "num_periphery")

SWEEP_TOML = 'oracles = ["paper_like"]\nmethods = ["humandiffusion"]\nseeds = 1\n'
case("sweep file", "missing file", ["sweep", "nowhere.toml", "--out", "out"], "nowhere.toml")
case(
    "sweep file",
    "oracles as a string",
    ["sweep", "s.toml", "--out", "out"],
    "oracles",
    setup=files(**{"s.toml": SWEEP_TOML.replace('["paper_like"]', '"paper_like"')}),
)
case(
    "sweep file",
    "no methods",
    ["sweep", "s.toml", "--out", "out"],
    "methods",
    setup=files(**{"s.toml": SWEEP_TOML.replace('["humandiffusion"]', "[]")}),
)
case(
    "sweep file",
    "a budget below the method's",
    ["sweep", "s.toml", "--out", "out"],
    "budget",
    setup=files(**{"s.toml": SWEEP_TOML.replace("seeds = 1", "seeds = 1\nbudget = 5000")}),
)
case(
    "sweep file",
    "an oracle spec given as a sweep",
    ["sweep", "o.toml", "--out", "out"],
    "o.toml",
    setup=files(**{"o.toml": spec_text()}),
)
case(
    "sweep file",
    "grid of an unknown oracle",
    ["sweep", "s.toml", "--out", "out"],
    "paper_likee",
    setup=files(**{"s.toml": SWEEP_TOML.replace("paper_like", "paper_likee")}),
)
case(
    "sweep file",
    "method_params with a typo'd key",
    ["sweep", "s.toml", "--out", "out"],
    "sigma_ne",
    setup=files(**{"s.toml": SWEEP_TOML + "[method_params.humandiffusion]\nsigma_ne = 1.0\n"}),
)

# ---------------------------------------------------------------------------------------------
# `hdbench bench`.

case(
    "bench",
    "suite file empty",
    ["bench", "--suite", "s.toml", "--out", "out"],
    "s.toml",
    setup=files(**{"s.toml": ""}),
)
case(
    "bench",
    "--scheduler over http",
    ["bench", "--suite", "quick", "--scheduler", "http://127.0.0.1:8786", "--out", "out"],
    "--scheduler",
)
case(
    "bench",
    "--out is a file",
    ["bench", "--suite", "quick", "--out", "taken"],
    "--out",
    setup=files(taken="x"),
)
case(
    "bench",
    "suite with a misspelt oracle",
    ["bench", "--suite", "s.toml", "--out", "out"],
    "paper_lik",
    setup=files(**{"s.toml": SWEEP_TOML.replace("paper_like", "paper_lik")}),
)
case(
    "bench",
    "suite name with a suffix",
    ["bench", "--suite", "quick.toml", "--out", "out"],
    "quick.toml",
)
case(
    "bench",
    "suite with a budget too small",
    ["bench", "--suite", "s.toml", "--out", "out"],
    "budget",
    setup=files(**{"s.toml": SWEEP_TOML.replace("humandiffusion", "humangan") + "budget = 100\n"}),
)

# ---------------------------------------------------------------------------------------------
# The Python API: a user's script.


def api(name: str, script: str, *words: str, setup: Setup | None = None) -> None:
    case("python api", name, [], *words, script=textwrap.dedent(script), setup=setup)


api("load_oracle of a number", "import hdbench\nhdbench.load_oracle(3)\n", "3")
api(
    "load_oracle of a missing path",
    "from pathlib import Path\nimport hdbench\nhdbench.load_oracle(Path('mine.toml'))\n",
    "mine",
)
api(
    "load_oracle with a string for the folders",
    "import hdbench\nhdbench.load_oracle('paper_like', 'oracles')\n",
    "oracles",
)
api(
    "RunSpec seed as a boolean",
    "from hdbench.experiments.run import RunSpec\nRunSpec(oracle='paper_like', method='humandiffusion', seed=True)\n",
    "seed",
)
api(
    "execute an unknown method",
    "from hdbench.experiments.run import RunSpec, execute\nexecute(RunSpec(oracle='paper_like', method='humandifusion'))\n",
    "humandifusion",
)
api(
    "execute with a budget too small",
    "from hdbench.experiments.run import RunSpec, execute\nr = execute(RunSpec(oracle='paper_like', method='humandiffusion', budget=100))\nprint(r.row['status'], r.row['num_ratings'])\n",
    "budget",
)
api(
    "execute with a parameter as text",
    "from hdbench.experiments.run import RunSpec, execute\nexecute(RunSpec(oracle='paper_like', method='humandiffusion', params={'R': '5'}))\n",
    "R",
)
api(
    "panel with a negative seed",
    "import hdbench\nhdbench.load_oracle('paper_like').panel(seed=-1)\n",
    "seed",
)
api(
    "submit points of the wrong dimension",
    "import numpy as np, hdbench\nfrom hdbench.oracles import TrialBatch\np = hdbench.load_oracle('paper_like').panel(seed=0)\np.submit(TrialBatch.absolute(np.zeros((4, 3))))\n",
    "dimension",
)
api(
    "paired trials of unequal counts",
    "import numpy as np\nfrom hdbench.oracles import TrialBatch\nTrialBatch.paired(np.zeros((4, 2)), np.zeros((3, 2)))\n",
    "one shape",
)
api(
    "collect an unknown batch",
    "import hdbench\nfrom hdbench.oracles import collect\np = hdbench.load_oracle('paper_like').panel(seed=0)\ncollect(p, 'b99')\n",
    "b99",
)
api(
    "truth of the wrong dimension",
    "import numpy as np, hdbench\nhdbench.load_oracle('paper_like').truth(np.zeros((5, 3)))\n",
    "shape (n, 2)",
)
api(
    "truth.sample of a negative count",
    "import numpy as np, hdbench\nhdbench.load_oracle('paper_like').truth.sample(-5, np.random.default_rng(0))\n",
    "-5",
)
api(
    "truth.sample with a seed, not a generator",
    "import hdbench\nhdbench.load_oracle('paper_like').truth.sample(10, 0)\n",
    "generator",
)
api(
    "evaluate NaN samples",
    "import numpy as np, hdbench\nfrom hdbench.metrics import TruthContext, evaluate\no = hdbench.load_oracle('paper_like')\nprint(evaluate(np.full((100, 2), np.nan), TruthContext.build(o.truth, o.real_data)))\n",
    "finite",
)
api(
    "evaluate samples of another dimension",
    "import numpy as np, hdbench\nfrom hdbench.metrics import TruthContext, evaluate\no = hdbench.load_oracle('paper_like')\nevaluate(np.zeros((100, 3)), TruthContext.build(o.truth, o.real_data))\n",
    "shape (n, 2)",
)

# ---------------------------------------------------------------------------------------------
# Damaged results folders: the sweep is started again over a folder it filled before.


def sweep_folder(damage: Callable[[Path], None]) -> Setup:
    def setup(folder: Path) -> None:
        _copy(FIXTURES["sweep_done"], folder / "out")
        damage(folder / "out" / "s")

    return setup


def first_row(folder: Path) -> Path:
    return sorted((folder / "rows").glob("*.json"))[0]


def _write(path_of: Callable[[Path], Path], data: bytes | None) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = path_of(folder)
        if data is None:
            path.unlink()
            path.mkdir()
        else:
            path.write_bytes(data)

    return damage


def _truncate_half(folder: Path) -> None:
    path = first_row(folder)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _row_as_list(folder: Path) -> None:
    path = first_row(folder)
    path.write_text("[" + path.read_text() + "]")


def _row_missing_status(folder: Path) -> None:
    import json

    path = first_row(folder)
    row = json.loads(path.read_text())
    del row["status"]
    path.write_text(json.dumps(row))


def _row_nul_bytes(folder: Path) -> None:
    path = first_row(folder)
    path.write_bytes(b"\x00" * len(path.read_bytes()))


def _row_renamed(folder: Path) -> None:
    path = first_row(folder)
    path.rename(path.with_name("0000000000.json"))


def _sweep_json(data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / "sweep.json").write_bytes(data)


def _rows_dir_a_file(folder: Path) -> None:
    shutil.rmtree(folder / "rows")
    (folder / "rows").write_text("x")


def _folder_a_file(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("x")


def _runs_csv_garbage(folder: Path) -> None:
    (folder / "runs.csv").write_bytes(b"\xff\xfe garbage")


HEAL = {"expect": "heal"}
case(
    "results folder",
    "row file truncated by half",
    SWEEP,
    "damaged",
    setup=sweep_folder(_truncate_half),
    **HEAL,
)
case(
    "results folder",
    "row file wrapped in a list",
    SWEEP,
    "damaged",
    setup=sweep_folder(_row_as_list),
    **HEAL,
)
case(
    "results folder",
    "row file without its status",
    SWEEP,
    "damaged",
    setup=sweep_folder(_row_missing_status),
    **HEAL,
)
case(
    "results folder",
    "row file renamed by hand",
    SWEEP,
    "damaged",
    setup=sweep_folder(_row_renamed),
    **HEAL,
)
case(
    "results folder",
    "row file replaced by a folder",
    SWEEP,
    "damaged",
    setup=sweep_folder(_write(first_row, None)),
    **HEAL,
)
case("results folder", "runs.csv garbled", SWEEP, "", setup=sweep_folder(_runs_csv_garbage), **HEAL)
case(
    "results folder",
    "sweep.json truncated",
    SWEEP,
    "sweep.json",
    setup=sweep_folder(_sweep_json(b'{"grid": {')),
    **HEAL,
)
case("results folder", "rows folder is a file", SWEEP, "rows", setup=sweep_folder(_rows_dir_a_file))
case(
    "results folder",
    "results folder is a file",
    SWEEP,
    "--out",
    "out/s",
    setup=sweep_folder(_folder_a_file),
)
case(
    "results folder",
    "another grid under the name",
    [*SWEEP[: SWEEP.index("--grid")], "--grid", "width=8,32", *TINY_DD],
    "--name",
    setup=sweep_folder(lambda f: None),
)


# ---------------------------------------------------------------------------------------------
# Fixtures: made once with hdbench itself, copied into the cases that need them.

FIXTURES: dict[str, Path] = {}


def _copy(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def _edit_study(folder: Path, edit: Callable[[dict], None]) -> None:
    """The waiting study, with its study.json edited by hand."""
    import json

    _copy(FIXTURES["study_waiting"], folder / "st")
    path = folder / "st" / "study.json"
    stored = json.loads(path.read_text())
    edit(stored)
    path.write_text(json.dumps(stored, indent=2))


def _damage_study(
    folder: Path, name: str, data: bytes | None, fixture: str = "study_waiting"
) -> None:
    _copy(FIXTURES[fixture], folder / "st")
    path = folder / "st" / name
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if data is None:
        path.mkdir()
    else:
        path.write_bytes(data)


def _study_with_lost_oracle(folder: Path) -> None:
    (folder / "mine.toml").write_text(spec_text())
    subprocess.run(
        [
            *HDBENCH,
            "study",
            "start",
            "st",
            "--oracle",
            "mine.toml",
            "--method",
            "humandiffusion",
            *TINY_HD,
        ],
        cwd=folder,
        capture_output=True,
        check=True,
        env=_env(folder),
    )
    (folder / "mine.toml").unlink()


def _other_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
        db.execute("INSERT INTO songs VALUES ('a')")


def _env(folder: Path) -> dict[str, str]:
    # The user's modules (Python oracles) sit in the case's folder; a PYTHONPATH given to this
    # script comes first, so that another checkout of hdbench can be measured with this venv.
    paths = [p for p in (os.environ.get("PYTHONPATH", ""), str(folder)) if p]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(paths))
    env.pop("HDBENCH_ORACLES", None)
    env.pop("HDBENCH_METHODS", None)
    return env


def build_fixtures(scratch: Path) -> None:
    where = scratch / "_fixtures"
    where.mkdir(parents=True)
    told = [
        [*START[:2], "study_told", *START[3:], *TINY_HD],
        ["study", "answer", "study_told", "--oracle", "paper_like"],
        ["study", "resume", "study_told"],  # told its first batch; waits for the listening test
    ]
    steps = {
        "run_done": [[*RUN_TINY[:-2], "--out", "run_done"]],
        "study_waiting": [[*START[:2], "study_waiting", *START[3:], *TINY_HD]],
        "study_told": told,
        "sweep_done": [SWEEP],
    }
    for name, commands in steps.items():
        for argv in commands:
            subprocess.run(
                [*HDBENCH, *argv], cwd=where, capture_output=True, check=True, env=_env(where)
            )
        FIXTURES[name] = where / ("out" if name == "sweep_done" else name)
    (where / "out").rename(where / "sweep_out")
    FIXTURES["sweep_done"] = where / "sweep_out"


# ---------------------------------------------------------------------------------------------
# Running a case and what it spent.

API_WRAPPER = (
    "import sys\n"
    "from hdbench.errors import HdbenchError\n"
    "source = open(sys.argv[1]).read()\n"
    "try:\n"
    "    exec(compile(source, sys.argv[1], 'exec'), {'__name__': '__main__'})\n"
    "except HdbenchError as error:\n"
    "    print(f'{type(error).__name__}: {error}', file=sys.stderr)\n"
    "    sys.exit(2)\n"
)


def spent(folder: Path) -> tuple[int, int, int]:
    """(ratings in every ledger, row files, sample files) under `folder`."""
    ratings = rows = samples = 0
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name.endswith(".sqlite"):
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                    ratings += db.execute("SELECT count(*) FROM ratings").fetchone()[0]
            except sqlite3.Error:
                pass
        elif path.parent.name == "rows" and path.suffix == ".json":
            rows += 1
        elif path.name == "samples.npy":
            samples += 1
    return ratings, rows, samples


def busy_port() -> tuple[int, object]:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener.getsockname()[1], listener


def run_case(case: Case, scratch: Path, port: int) -> dict:
    folder = scratch / f"{CASES.index(case):03d}"
    folder.mkdir()
    if case.setup is not None:
        case.setup(folder)
    before = spent(folder)
    if case.script:
        (folder / "user.py").write_text(case.script)
        command = [PYTHON, "-c", API_WRAPPER, "user.py"]
    else:
        command = [*HDBENCH, *(a.replace("{busy_port}", str(port)) for a in case.argv)]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=case.timeout,
            env=_env(folder),
            errors="replace",
        )
        code, stderr, timed_out = done.returncode, done.stderr, False
    except subprocess.TimeoutExpired as expired:
        err = expired.stderr or b""
        code, timed_out = None, True
        stderr = err.decode(errors="replace") if isinstance(err, bytes) else err
    wall = time.perf_counter() - started
    os.chmod(folder, 0o755)
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, 0o755)
    after = spent(folder)
    lines = [line for line in stderr.splitlines() if line.strip()]
    increased = [b > a for a, b in zip(before, after, strict=True)]
    text = " ".join(lines).lower()
    words = all(word.lower() in text for word in case.words)
    row = {
        "class": case.klass,
        "case": case.name,
        "expect": case.expect,
        "exit_code": "timeout" if timed_out else code,
        "stderr_lines": len(lines),
        "traceback": "Traceback" in stderr,
        "ratings_spent": after[0] - before[0],
        "rows_written": after[1] - before[1],
        "samples_written": after[2] - before[2],
        "timed_out": timed_out,
        "wall_time": round(wall, 2),
        "words_found": words,
        "first_line": lines[0][:300] if lines else "",
    }
    row["verdict"] = verdict(case, row, any(increased))
    return row


def verdict(case: Case, row: dict, anything_spent: bool) -> str:
    if row["timed_out"]:  # a hang, or a bad input accepted and still running
        return "timed out"
    if row["traceback"]:
        return "traceback"
    if case.expect == "heal":
        if row["exit_code"] != 0:
            return "not healed"
        if case.words and not (row["stderr_lines"] >= 1 and row["words_found"]):
            return "healed silently"
        return "good"
    if row["exit_code"] == 0:
        return "accepted"
    if anything_spent:
        return "spent before error"
    if row["stderr_lines"] != 1:
        return "not one line"
    if not row["words_found"]:
        return "line misses the problem"
    return "good"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the cases of classes containing this text")
    parser.add_argument(
        "--case", help="run the cases whose names contain one of these texts (separated by |)"
    )
    parser.add_argument(
        "--rescore",
        type=Path,
        metavar="CSV",
        help="print the summary of a stored table with today's expectations, running nothing",
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bad_inputs")
    args = parser.parse_args()
    if args.rescore:
        return rescore(args.rescore)
    names = args.case.split("|") if args.case else []
    chosen = [
        c
        for c in CASES
        if (not args.only or args.only in c.klass)
        and (not names or any(n in c.name for n in names))
    ]
    scratch = Path(tempfile.mkdtemp(prefix="hdbench-bad-inputs-"))
    print(f"{len(chosen)} of {len(CASES)} cases in {scratch}", flush=True)
    build_fixtures(scratch)
    port, listener = busy_port()
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda c: run_case(c, scratch, port), chosen))
    listener.close()
    for row in rows:
        mark = "ok " if row["verdict"] == "good" else "BAD"
        print(
            f"{mark} {row['class']:<15} {row['case']:<45} {row['verdict']:<22} "
            f"{row['first_line'][:110]}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("bad_inputs.csv" if not (args.only or args.case) else "bad_inputs_part.csv")
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary(rows)
    print(f"wrote {path}")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


def rescore(path: Path) -> int:
    """Today's verdicts of the rows stored in `path` (the expected words or kind of a case may
    have been corrected since), for the cases still in the set; rewrites its verdict column."""
    with path.open(newline="") as handle:
        stored = {row["case"]: row for row in csv.DictReader(handle)}
    rows = []
    for case in CASES:
        if case.name not in stored:
            print(f"not in {path}: {case.klass} · {case.name}")
            continue
        row = dict(stored[case.name])
        for key in ("traceback", "timed_out"):
            row[key] = row[key] == "True"
        row["exit_code"] = row["exit_code"] if row["timed_out"] else int(row["exit_code"])
        row["stderr_lines"] = int(row["stderr_lines"])
        if case.expect == "heal":  # its words were looked for in every line, as stored
            row["words_found"] = row["words_found"] == "True"
        else:  # a refusal is one line: the stored first line is all of it
            text = row["first_line"].lower() if row["stderr_lines"] == 1 else ""
            row["words_found"] = bool(text) and all(w.lower() in text for w in case.words)
        spent = any(int(row[k]) > 0 for k in ("ratings_spent", "rows_written", "samples_written"))
        row["expect"] = case.expect
        row["verdict"] = verdict(case, row, spent)
        rows.append(row)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    summary(rows)
    return 0


def summary(rows: list[dict]) -> None:
    by_class: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        by_class[row["class"]][row["verdict"]] += 1
    verdicts = sorted({row["verdict"] for row in rows}, key=lambda v: (v != "good", v))
    print(f"\n{'class':<16}{'cases':>6}  " + "  ".join(f"{v:>12}" for v in verdicts))
    for klass, counts in by_class.items():
        total = sum(counts.values())
        print(f"{klass:<16}{total:>6}  " + "  ".join(f"{counts[v]:>12}" for v in verdicts))
    totals = Counter(row["verdict"] for row in rows)
    print(f"{'all':<16}{len(rows):>6}  " + "  ".join(f"{totals[v]:>12}" for v in verdicts))


if __name__ == "__main__":
    sys.exit(main())
