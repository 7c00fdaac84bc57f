"""A real-time limit on a block of Python code, by an alarm signal.

Only the main thread takes signals: elsewhere (a Dask worker's thread) the block runs without a
limit. The alarm interrupts Python code, a loop included; a single long call into C (one torch
operation) ends first, then the error is raised.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def can_limit_time() -> bool:
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


@contextmanager
def time_limit(seconds: float | None, error_fn: Callable[[], Exception]) -> Iterator[None]:
    """Raise `error_fn()` in the body after `seconds` (None: no limit); the previous alarm
    handler comes back after it."""
    if seconds is None or not can_limit_time():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise error_fn()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
