"""How many intra-op threads torch's kernels use: one, whoever runs hdbench.

hdbench's kernels are tiny and many: a training step multiplies 300 × 128 by 128 × 128, a
Langevin step 200 × 128 by 128 × 128, tens of thousands of times a run. With two intra-op
threads every kernel ends in a barrier where each thread waits for the other, and when another
process is busy on the second core the waiting thread loses a scheduler slice per kernel: a
default `hdbench run` took 524 s with torch's two threads beside one busy process and 13.8 s
with one. Measured on the same 2-core machine beside busy processes (`make perf`,
benchmarks/test_threads.py), a second thread makes the score network's forward pass 12 times
slower at 200 rows (a Langevin step of the default chains) and 2.4 times slower at 10⁴ rows; only
at 10⁵ rows, beyond any default, did it come out ahead once (0.83 of one thread's time, and 1.08
in another session). So the policy is one thread at every size hdbench runs.
`HDBENCH_THREADS=N` asks for N threads, for a machine with idle cores and larger workloads.

Nothing happens at import (STYLE §13). The command line applies the policy once, before torch
is imported (`apply_thread_policy`); `execute` and the sweep workers run under
`thread_policy()`, which restores the caller's setting afterwards, so the Python API, the
tests and sweeps get what the command line gets.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from hdbench.errors import SpecError

#: Environment variable that overrides the policy's one thread.
THREADS_VARIABLE = "HDBENCH_THREADS"
#: Variables read by the OpenMP and MKL runtimes when torch loads them, and by numpy's
#: OpenBLAS when numpy loads it (whose threads lose beside a busy process too).
RUNTIME_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def policy_threads() -> int:
    """Intra-op threads for hdbench's torch kernels: `HDBENCH_THREADS` if set, else 1."""
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise SpecError(f"{THREADS_VARIABLE}: expected a whole number ≥ 1, got {value!r}")
    return int(value)


def apply_thread_policy() -> int:
    """Set the policy's thread count for the rest of the process; returns it.

    It sets the variables that the OpenMP, MKL and OpenBLAS runtimes read when torch and
    numpy load them (the command line calls this before either is imported), and torch's
    count if torch is loaded already; numpy's OpenBLAS, once loaded, keeps its threads.
    """
    threads = policy_threads()
    os.environ.update(dict.fromkeys(RUNTIME_VARIABLES, str(threads)))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return threads


@contextmanager
def thread_policy() -> Iterator[int]:
    """Run the block with the policy's thread count, then restore the caller's; yields it."""
    import torch

    threads, previous = policy_threads(), torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(previous)
