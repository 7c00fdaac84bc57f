"""One look for every figure: a non-interactive backend and seaborn's "white" style at its
"notebook" scale.

The theme is written out below, so that figures drawn with matplotlib alone (those of one run,
of an oracle) do not import seaborn, which also imports scipy.stats: together more than the
rest of `hdbench run`'s figures. `sns` is imported on first use and sets the same theme: the
suite, sweep and scaling figures reach it as `style.sns` when they draw, since
`from hdbench.report.style import sns` would import it with theirs.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.ticker import LogLocator

#: seaborn.axes_style("white") and seaborn.plotting_context("notebook"), where they differ
#: from matplotlib's defaults (seaborn 0.13).
THEME = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".15",
    "axes.labelcolor": ".15",
    "axes.labelsize": 12,
    "axes.linewidth": 1.25,
    "axes.titlesize": 12,
    "font.size": 12,
    "grid.color": ".8",
    "grid.linewidth": 1,
    "legend.fontsize": 11,
    "legend.title_fontsize": 12,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.labelsize": 11,
    "xtick.major.size": 6,
    "xtick.major.width": 1.25,
    "xtick.minor.size": 4,
    "xtick.minor.width": 1,
    "ytick.color": ".15",
    "ytick.labelsize": 11,
    "ytick.left": False,
    "ytick.major.size": 6,
    "ytick.major.width": 1.25,
    "ytick.minor.size": 4,
    "ytick.minor.width": 1,
}
matplotlib.rcParams.update(THEME)

__all__ = ["THEME", "plt", "sns"]  # noqa: F822 (sns: module __getattr__)


def __getattr__(name: str) -> Any:
    """`sns`: seaborn, imported on first use, with the theme set."""
    if name == "sns":
        import seaborn

        seaborn.set_theme(context="notebook", style="white")
        globals()["sns"] = seaborn
        return seaborn
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def legend_above(fig, handles: list, labels: list[str], title: str | None = None) -> None:
    """A figure legend centred above the panels, in as many columns as fit the figure's width
    or its title's (the figure widened when even that does not fit), and the panels laid out
    below it."""
    renderer = fig.canvas.get_renderer()

    def place(columns: int, with_title: bool):
        return fig.legend(
            handles,
            labels,
            loc="upper center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=columns,
            title=title if with_title else None,
            frameon=False,
        )

    heading = place(1, True) if title else None
    room = max(0.97 * fig.bbox.width, heading.get_window_extent(renderer).width if title else 0)
    if heading is not None:
        heading.remove()
    for columns in range(len(labels), 0, -1):
        legend = place(columns, False)
        fits = legend.get_window_extent(renderer).width <= room
        legend.remove()
        if fits or columns == 1:
            break
    legend = place(columns, True)
    box = legend.get_window_extent(renderer)
    if box.width > 0.97 * fig.bbox.width:
        fig.set_figwidth(box.width / fig.dpi / 0.97)
    top = 1.0 - (box.height + 0.05 * fig.dpi) / fig.bbox.height
    lay_out_within(fig, rect=(0, 0, 1, top))


def lay_out_within(fig, rect: tuple[float, float, float, float], tries: int = 3) -> None:
    """tight_layout into `rect`, the figure widened until every label lies on the canvas: a
    narrow panel's axis label can be wider than the panel. Drawn first each time, since a log
    axis knows its tick labels only once drawn."""
    for _ in range(tries):
        fig.canvas.draw()
        fig.tight_layout(rect=rect)
        fig.canvas.draw()
        needed = fig.get_tightbbox(fig.canvas.get_renderer())
        overhang = max(-needed.x0, needed.x1 - fig.get_figwidth(), 0.0)
        if overhang < 0.01:
            return
        fig.set_figwidth(fig.get_figwidth() + 2 * overhang + 0.1)


def log_axis(ax, which: str = "y") -> None:
    """A log scale on `which` axis labelled as plain numbers (0.2, 0.5, 1, 2): ticks at 1, 2
    and 5 per decade over at most `ONE_TWO_FIVE_DECADES`, at powers of ten (as many as fit)
    over more. matplotlib's minor labels (3×10⁻¹, 4×10⁻¹, …) run into each other on an axis
    that spans less than a decade, and 1-2-5 ticks on one that spans four."""
    from matplotlib.ticker import NullFormatter, StrMethodFormatter

    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis.set_major_locator(OneTwoFiveLocator())
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(NullFormatter())


#: The widest span, in decades, labelled at 1, 2 and 5 per decade (`log_axis`).
ONE_TWO_FIVE_DECADES = 2.0


class OneTwoFiveLocator(LogLocator):
    """1-2-5 ticks on a log axis of at most ONE_TWO_FIVE_DECADES, powers of ten on a longer
    one (thinned by matplotlib to fit)."""

    def __init__(self) -> None:
        super().__init__(subs=(1.0, 2.0, 5.0))

    def tick_values(self, vmin: float, vmax: float):
        if vmin > 0 and vmax > 0:
            short = abs(math.log10(vmax) - math.log10(vmin)) <= ONE_TWO_FIVE_DECADES
            self.set_params(subs=(1.0, 2.0, 5.0) if short else (1.0,))
            ticks = super().tick_values(vmin, vmax)
            low, high = sorted((vmin, vmax))
            if short and ((ticks >= low) & (ticks <= high)).sum() < 2:
                # matplotlib drops 1-2-5 ticks when they do not fit: powers of ten then
                self.set_params(subs=(1.0,))
                return super().tick_values(vmin, vmax)
            return ticks
        return super().tick_values(vmin, vmax)
