"""Every figure kind of a suite and a sweep, drawn at every shape of table a user can make (one
oracle with one method to every oracle with every method, mixed dimensions, metrics that are
not applicable or ≤ 0 on a log axis), with its legend inside the canvas and no tick labels or
panel titles running into each other."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
from matplotlib.ticker import LogLocator

from hdbench.methods import METHODS as REGISTERED
from hdbench.oracles import find_specs, load_oracle
from hdbench.report.oracle_figure import plot_oracle
from hdbench.report.run_figures import (
    MAX_SHOWN,
    plot_chain,
    plot_convergence,
    plot_final_samples,
    plot_gradient_fields,
    thinned_points,
)
from hdbench.report.speech_figures import plot_spectrograms
from hdbench.report.style import OneTwoFiveLocator, plt
from hdbench.report.suite_figures import FIGURE_METRICS, plot_listening, plot_metrics
from hdbench.report.sweep_figures import FRONTIER_METRICS, plot_frontier, plot_heatmaps

METHODS = list(REGISTERED)
ORACLES = list(find_specs())
PNG = b"\x89PNG\r\n\x1a\n"


def overlapping(boxes: list) -> bool:
    """Whether any two of the display-space boxes overlap by more than a pixel each way."""
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1:
                return True
    return False


def layout_faults(fig: matplotlib.figure.Figure) -> list[str]:
    """What a reader would see as broken in a drawn figure: a legend or an axis label that
    leaves the canvas, tick labels of one axis that overlap, panel titles that overlap."""
    fig.canvas.draw()  # as saved: a constrained layout places its parts when drawn
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    faults = []
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    for legend in legends:
        box = legend.get_window_extent(renderer)
        outside = box.x0 < -1 or box.y0 < -1 or box.x1 > canvas.x1 + 1 or box.y1 > canvas.y1 + 1
        if outside:
            faults.append(f"legend {box.bounds} leaves the canvas {canvas.bounds}")
    titles = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.label.get_visible() and axis.label.get_text():
                box = axis.label.get_window_extent(renderer)
                if box.x0 < -1 or box.y0 < -1 or box.x1 > canvas.x1 + 1 or box.y1 > canvas.y1 + 1:
                    faults.append(f"{name} label {axis.label.get_text()!r} leaves the canvas")
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            if overlapping([t.get_window_extent(renderer) for t in labels]):
                texts = [t.get_text() for t in labels]
                faults.append(f"{name} tick labels overlap in {ax.get_title()!r}: {texts}")
        shown = [t for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
        offset = ax.yaxis.get_offset_text()
        if offset.get_visible() and offset.get_text() and shown:
            # A multiplier ("1e−7") on the title's line reads as part of it, or runs into it.
            low, high = offset.get_window_extent(renderer), shown[0].get_window_extent(renderer)
            if min(low.y1, high.y1) - max(low.y0, high.y0) > 1:
                faults.append(f"the y axis's {offset.get_text()!r} is on the title's line")
        titles += shown
    if overlapping([t.get_window_extent(renderer) for t in titles]):
        faults.append(f"panel titles overlap: {[t.get_text() for t in titles]}")
    return faults


@pytest.fixture
def checked_saves(monkeypatch) -> dict[str, list[str]]:
    """Every figure saved while the test runs: its path and its layout faults once drawn. A
    figure is drawn into a temporary beside its path (`hdbench.files`): the path it ends at."""
    saves: dict[str, list[str]] = {}
    save = matplotlib.figure.Figure.savefig

    def checked(fig, path, *args, **kwargs):
        save(fig, path, *args, **kwargs)
        temporary = re.fullmatch(r"\.(.+)\.\d+-[0-9a-f]{8}(\.\w+)", Path(path).name)
        final = Path(path).with_name("".join(temporary.groups())) if temporary else path
        saves[str(final)] = layout_faults(fig)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", checked)
    return saves


def runs_table(oracles: list[str], methods: list[str], seeds: int = 2) -> pd.DataFrame:
    """Rows as a suite writes them, with metric values spread over four decades (a collapsed
    HumanGAN's variance ratio is 5·10⁻⁴)."""
    rng = np.random.default_rng(0)
    rows = [
        {
            "oracle": oracle,
            "method": method,
            "seed": seed,
            "status": "ok",
            "num_ratings": 0 if method in ("data_diffusion", "exact_score") else 1000,
            **{metric: 10 ** rng.uniform(-4, 0) for metric in FRONTIER_METRICS + FIGURE_METRICS},
        }
        for oracle in oracles
        for method in methods
        for seed in range(seeds)
    ]
    return pd.DataFrame(rows)


def brackets_table(oracles: list[str]) -> pd.DataFrame:
    rows = [
        {"oracle": oracle, "bracket": bracket, "metric": metric, "mean": level, "sd": 0.0}
        for oracle in oracles
        for bracket, level in (("floor", 0.9), ("ceiling", 0.02))
        for metric in FIGURE_METRICS
    ]
    return pd.DataFrame(rows)


def listening_table(runs: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    parts = [
        pd.DataFrame({**row, "set": which, "rating": rng.uniform(0, 1, 20)})
        for row in runs[["oracle", "method", "seed"]].to_dict("records")
        for which in ("real", "generated")
    ]
    return pd.concat(parts, ignore_index=True)


def assert_drawn_well(saves: dict[str, list[str]], paths: list[Path | None]) -> None:
    for path in paths:
        assert path is not None and path.read_bytes()[:8] == PNG
        assert saves[str(path)] == [], path.name


SHAPES = [
    pytest.param(ORACLES[:1], METHODS[:count], id=f"1x{count}")
    for count in range(1, len(METHODS) + 1)
] + [pytest.param(ORACLES, METHODS, id="all_x_all")]


@pytest.mark.parametrize(("oracles", "methods"), SHAPES)
def test_suite_figures_are_drawn_at_every_shape(oracles, methods, checked_saves, tmp_path):
    runs = runs_table(oracles, methods)
    paths = [
        plot_metrics(runs, brackets_table(oracles), tmp_path / "metrics.png"),
        plot_listening(listening_table(runs), tmp_path / "listening.png"),
    ]
    assert_drawn_well(checked_saves, paths)


def test_suite_metrics_with_one_seed_and_ratios_at_zero_or_missing(checked_saves, tmp_path):
    """A collapsed method's variance ratio is 0 and can't sit on a log axis; a metric that does
    not apply is NaN: the panels are drawn all the same."""
    runs = runs_table(ORACLES[:2], METHODS, seeds=1)
    runs.loc[runs["oracle"] == ORACLES[0], "var_ratio_target"] = 0.0
    runs.loc[runs["oracle"] == ORACLES[1], "collapse_ratio"] = np.nan
    path = plot_metrics(runs, brackets_table(ORACLES[:2]), tmp_path / "metrics.png")
    assert_drawn_well(checked_saves, [path])


def sweep_runs(oracles: list[str], methods: list[str]) -> pd.DataFrame:
    """A sweep over R × σ_NES for every method, on oracles of mixed dimension: the grid
    coverage is not defined in 4-D, and there particles that miss every bump have a mean D of
    about 10⁻⁷; a method that spends no ratings has no grid."""
    rng = np.random.default_rng(2)
    rows = []
    for oracle in oracles:
        for method in methods:
            spends = method not in ("data_diffusion", "exact_score")
            for R in (2, 5, 10) if spends else (None,):
                for sigma in (0.5, 1.0) if spends else (None,):
                    for seed in range(2):
                        rows.append(
                            {
                                "oracle": oracle,
                                "method": method,
                                "seed": seed,
                                "status": "ok",
                                "param_R": R,
                                "param_sigma_nes": sigma,
                                "num_ratings": 200 * R if spends else 0,
                                "reference": method == "exact_score",
                                **{m: 10 ** rng.uniform(-2, 0) for m in FRONTIER_METRICS},
                            }
                        )
    runs = pd.DataFrame(rows)
    runs.loc[runs["oracle"].str.endswith("4d"), "grid_coverage"] = np.nan
    runs.loc[runs["oracle"].str.endswith("4d"), "mean_true_d"] *= 1e-6
    return runs


@pytest.mark.parametrize(
    ("oracles", "methods"),
    [
        pytest.param(["paper_like"], ["humandiffusion"], id="1x1"),
        pytest.param(["paper_like", "gaussian_4d"], METHODS, id="mixed_dims_x_all"),
        pytest.param(["gaussian_4d"], METHODS, id="4d_only"),
    ],
)
def test_sweep_figures_are_drawn_over_mixed_dimensions(oracles, methods, checked_saves, tmp_path):
    runs = sweep_runs(oracles, methods)
    keys = ["R", "sigma_nes"]
    paths = [plot_frontier(runs, keys, tmp_path / "frontier.png")]
    paths += plot_heatmaps(runs, keys, tmp_path / "heatmaps")
    assert len(paths) > 1 or methods == ["humandiffusion"]
    assert_drawn_well(checked_saves, paths)


def test_the_checker_sees_a_clipped_legend_and_overlapping_labels(checked_saves, tmp_path):
    """The layout check itself: a legend pushed off the canvas and crowded tick labels fail."""
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1], label="a method with a long name")
    ax.set_xticks(np.linspace(0, 1, 30), [f"label {i}" for i in range(30)])
    fig.legend(loc="upper left", bbox_to_anchor=(0.8, 1.0))
    fig.savefig(tmp_path / "bad.png")
    plt.close(fig)
    faults = checked_saves[str(tmp_path / "bad.png")]
    assert any("legend" in f for f in faults) and any("x tick labels" in f for f in faults)


def test_run_figures_keep_d_visible_under_many_particles(checked_saves, tmp_path):
    """A run's figures at a suite's particle count: at most MAX_SHOWN particles drawn, D's level
    lines above them, the gradient colours explained by a colour bar."""
    oracle = load_oracle("paper_like")
    rng = np.random.default_rng(0)
    cloud = oracle.truth.sample(3000, rng)
    arrays = {
        "periphery": cloud[:200],
        "nes_grad": -cloud[:200],
        "regularised_grad": -cloud[:200],
        "field_points": cloud[:100],
        "learned_score": -cloud[:100],
    }
    trace = pd.DataFrame({"step": [0, 500, 1000], "mmd2": [0.1, 0.02, 0.01]})
    trace["var_ratio_target"] = [0.2, 0.8, 1.0]
    paths = [
        plot_chain(oracle, {0: cloud, 500: cloud, 1000: cloud}, tmp_path / "chain.png"),
        plot_gradient_fields(oracle, arrays, tmp_path / "gradient_fields.png"),
        plot_convergence(trace, {"mmd2": 0.005}, tmp_path / "convergence.png"),
        plot_convergence(
            trace.merge(CHECKS, on="step", how="outer"),
            {"mmd2": 0.005},
            tmp_path / "convergence_stopped.png",
            1000,
        ),
        plot_final_samples([oracle], METHODS, {}, tmp_path / "samples_one.png"),
        plot_oracle(oracle, tmp_path / "oracle.png", num_target=300),
    ]
    assert_drawn_well(checked_saves, paths)
    assert len(thinned_points(cloud)) <= MAX_SHOWN < len(cloud)


def capture(captured: list):
    """A savefig that keeps the figure and writes an empty file where it was asked to."""

    def save(fig, path, *args, **kwargs):
        captured.append(fig)
        Path(path).touch()

    return save


#: The convergence diagnostic's checks of a chain stopped at step 1,000, as trace.csv holds them.
CHECKS = pd.DataFrame(
    {
        "step": [200, 300, 500, 800, 1000],
        "lag_step": [100, 100, 200, 400, 500],
        "movement": [0.3, 0.25, 0.1, 0.06, 0.05],
        "noise_floor": [0.06] * 5,
    }
)


def test_gradient_fields_have_a_colour_bar(tmp_path):
    oracle = load_oracle("paper_like")
    points = np.random.default_rng(0).standard_normal((50, 2))
    arrays = dict.fromkeys(("periphery", "field_points"), points)
    arrays |= dict.fromkeys(("nes_grad", "regularised_grad", "learned_score"), -points)
    captured = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matplotlib.figure.Figure, "savefig", capture(captured))
        plot_gradient_fields(oracle, arrays, tmp_path / "fields.png")
    labels = [ax.get_ylabel() for ax in captured[0].axes]
    assert labels.count("log₁₀ |gradient|") == 3


def test_the_spectrogram_sheet_shows_every_sample(checked_saves, tmp_path):
    rng = np.random.default_rng(0)
    waveforms = [rng.standard_normal(4000) for _ in range(10)]
    path = plot_spectrograms(waveforms, 16000, rng.standard_normal((10, 2)), tmp_path / "s.png")
    assert_drawn_well(checked_saves, [path])
    assert path.stat().st_size > 0
    with pytest.MonkeyPatch.context() as patch:
        captured = []
        patch.setattr(matplotlib.figure.Figure, "savefig", capture(captured))
        plot_spectrograms(waveforms, 16000, np.zeros((10, 2)), tmp_path / "t.png")
    assert sum(ax.get_visible() for ax in captured[0].axes) == 10


@pytest.mark.parametrize("numticks", [2, 9])
@pytest.mark.parametrize("span", [(0.05, 2.0), (0.01, 1.0), (1e-4, 10.0), (1e-7, 1.0)])
def test_a_log_axis_is_labelled_however_short_or_long(span, numticks):
    """At least two ticks on a log axis spanning a factor of 40 or more, on a panel with room
    for two (a row of 14 oracles) or nine; 1-2-5 over at most two decades, powers of ten over
    more."""
    low, high = span
    locator = OneTwoFiveLocator()
    locator.set_params(numticks=numticks)
    ticks = locator.tick_values(low, high)
    inside = ticks[(ticks >= low) & (ticks <= high)]
    assert len(inside) >= 2
    if np.log10(high / low) > 2:
        assert np.allclose(np.log10(inside), np.round(np.log10(inside)))


def test_matplotlibs_own_one_two_five_locator_leaves_a_long_short_axis_bare():
    """Why OneTwoFiveLocator: what the metrics of a 14-oracle suite showed on its ratio rows."""
    bare = LogLocator(subs=(1.0, 2.0, 5.0), numticks=2).tick_values(1e-4, 10.0)
    assert len(bare[(bare >= 1e-4) & (bare <= 10.0)]) == 0
