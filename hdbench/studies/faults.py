"""Crash points for testing: a process dies here, at once, when told to.

`HDBENCH_KILL_AT=NAME` (or `NAME:K`, the K-th time it is reached) makes `checkpoint(NAME)` kill
the process with SIGKILL, as an out-of-memory killer or a pulled plug would. The tests of the
study loop use it to stop a study between any two of its writes; without the variable a
checkpoint does nothing.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "HDBENCH_KILL_AT"
_reached: dict[str, int] = {}


def checkpoint(name: str) -> None:
    target = os.environ.get(ENV_VAR)
    if not target:
        return
    wanted, _, count = target.partition(":")
    if wanted != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
