"""Progress of long work, on stderr: a bar per phase on a terminal, one line per phase when
stderr is not a terminal (a log, a pipe, CI), nothing when quiet.

The command line chooses the mode for a command (`shown`); library code opens phases (`phase`) and
advances the current one (`advance`), and prints nothing until a mode is chosen, so that Python
callers, tests and worker processes stay silent. A phase opened inside another (training
inside asking) is shown beneath it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

Mode = Literal["quiet", "lines", "bars"]
T = TypeVar("T")

_mode: ContextVar[Mode] = ContextVar("progress_mode", default="quiet")
#: The innermost open phase's bar (None in the quiet and lines modes, or outside a phase).
_bar: ContextVar[Any] = ContextVar("progress_bar", default=None)


@contextmanager
def shown(quiet: bool) -> Iterator[Mode]:
    """Progress in the body: none when `quiet`, bars when stderr is a terminal, else lines;
    the mode before it afterwards."""
    mode: Mode = "quiet" if quiet else "bars" if sys.stderr.isatty() else "lines"
    token = _mode.set(mode)
    try:
        yield mode
    finally:
        _mode.reset(token)


@contextmanager
def silenced() -> Iterator[None]:
    """No progress in the body (the runs of a sweep, which has a bar of its own)."""
    token = _mode.set("quiet")
    try:
        yield
    finally:
        _mode.reset(token)


@contextmanager
def phase(name: str, total: int | None = None, unit: str = "step") -> Iterator[None]:
    """A phase called `name` of `total` units (None: unknown): one line as it starts, or a bar
    that `advance` moves."""
    current = _mode.get()
    if current == "quiet":
        yield
        return
    if current == "lines":
        size = f" ({total:,} {unit}s)" if total else ""
        print(f"hdbench: {name}{size}", file=sys.stderr, flush=True)
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=name, unit=unit, leave=_bar.get() is None, file=sys.stderr)
    token = _bar.set(bar)
    try:
        yield
    finally:
        _bar.reset(token)
        bar.close()


def steps(
    name: str, items: Iterable[T], unit: str = "step", total: int | None = None
) -> Iterator[T]:
    """`items`, one by one, as the phase `name` with a unit per item; `total` counts them
    when `items` has no length (a generator)."""
    with phase(name, len(items) if total is None else total, unit):
        for item in items:
            yield item
            advance()


def advance(num: int = 1) -> None:
    """Move the current phase's bar by `num` units (nothing without a bar)."""
    bar = _bar.get()
    if bar is not None:
        bar.update(num)


def runs_bar(total: int, initial: int, desc: str = "runs") -> Any:
    """The bar of a sweep's runs (tqdm, disabled unless the mode is bars); in the lines mode,
    one line saying how many runs are to do."""
    from tqdm import tqdm

    if _mode.get() == "lines":
        print(f"hdbench: {desc}: {total - initial:,} of {total:,} to do", file=sys.stderr)
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="run",
        disable=_mode.get() != "bars",
        file=sys.stderr,
    )
