"""What can be checked before a run is checked before it, so that nothing is spent first.

- output folders: made (if needed) and written to, so a bad `--out` fails now, not after the run;
- `--jobs`: a count ≥ 1, or -1 for every core;
- a Dask scheduler: `tcp://HOST:PORT` (or `tls://`), reachable within a few seconds;
- budgets: a method that states its planned ratings (`planned_ratings`) is held to the run's
  budget now, not after it has spent part of it;
- memory: scoring n samples holds either all their pairwise distances (MMD², energy distance)
  or all their distances to the metrics' 2,000 reference points, each with one temporary of the
  same size, never both at once: the peak is the larger of 8 n² and 32,000 n bytes, plus a fixed
  part (tracemalloc: 96 MB for n = 3,000, 128 MB for n = 4,000). The runs that may go at once
  must fit in the memory this machine has available, or the run is refused naming
  `num_eval_samples` and what would fit.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from hdbench.errors import SpecError
from hdbench.experiments.run import RunPlan, RunSpec
from hdbench.memory import GIB, available_bytes
from hdbench.oracles.oracle import Oracle

#: Seconds to wait for a Dask scheduler to accept a connection.
SCHEDULER_TIMEOUT = 3.0
#: Peak bytes per sample pair when scoring: the condensed distance matrix (n²/2 doubles) and
#: one temporary of the same size (measured: 8.0 n² bytes for n = 2000 and 4000).
BYTES_PER_PAIR = 16
#: Peak bytes per sample against the reference sample: n × 2,000 distances and a temporary.
BYTES_PER_SAMPLE = 16 * 2000
#: What scoring holds whatever n (the reference's own distances, projections): ~24 MB measured.
BYTES_FIXED = 32 * 2**20
#: What a worker process holds before it scores anything (torch, numpy, the truth's context).
BYTES_PER_PROCESS = 512 * 2**20


def check_output(folder: Path, option: str) -> None:
    """Make `folder` if needed and write a file in it; SpecError naming `option` otherwise."""
    probe = folder / f".hdbench-probe-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SpecError(f"{option}: cannot write to {folder}: {reason}") from None


def check_output_file(path: Path, option: str) -> None:
    """`path` can be written as a file: not a folder, and its folder made and writable;
    SpecError naming `option` otherwise."""
    if path.is_dir():
        raise SpecError(f"{option}: expected a file name, got the folder {path}")
    check_output(path.parent, option)


def check_jobs(n_jobs: int, option: str = "--jobs") -> int:
    """`n_jobs` if it is a count ≥ 1 or -1 (every core); SpecError otherwise."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or not (n_jobs >= 1 or n_jobs == -1):
        raise SpecError(f"{option}: expected a count ≥ 1, or -1 for every core; got {n_jobs!r}")
    return n_jobs


def check_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT) -> None:
    """SpecError unless `address` is tcp://HOST:PORT (or tls://) and accepts a connection."""
    expected = "expected tcp://HOST:PORT (a Dask scheduler's address)"
    try:
        parts = urlsplit(address)
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
        parts = None
    if parts is None or parts.scheme not in ("tcp", "tls") or not host or port is None:
        raise SpecError(f"--scheduler: {expected}, got {address!r}")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SpecError(
            f"--scheduler: cannot reach {address} within {timeout:g} s: {reason}"
        ) from None


def scoring_bytes(num_samples: int) -> int:
    """Peak bytes a run with `num_samples` final samples needs, scoring included."""
    pairs = num_samples * (num_samples - 1) // 2
    largest = max(BYTES_PER_PAIR * pairs, BYTES_PER_SAMPLE * num_samples)
    return largest + BYTES_FIXED + BYTES_PER_PROCESS


def largest_fitting(available: int) -> int:
    """Most final samples whose scoring fits in `available` bytes (0 if none does)."""
    low, high = 0, 10**9
    while low < high:  # bisection: scoring_bytes grows with n
        middle = (low + high + 1) // 2
        if scoring_bytes(middle) <= available:
            low = middle
        else:
            high = middle - 1
    return low


def check_memory(specs: Sequence[RunSpec], n_jobs: int = 1, available: int | None = None) -> None:
    """SpecError when one run, or the runs that go at once, need more memory than is free."""
    available = available_bytes() if available is None else available
    if available is None or not specs:
        return
    needs = sorted(
        ((scoring_bytes(spec.num_eval_samples), spec) for spec in specs),
        key=lambda pair: pair[0],
        reverse=True,
    )
    largest, spec = needs[0]
    if largest > available:
        raise SpecError(
            f"num_eval_samples: {spec.num_eval_samples:,} samples need about "
            f"{largest / GIB:.1f} GiB to score (their pairwise distances), more than the "
            f"{available / GIB:.1f} GiB available; expected at most about "
            f"{largest_fitting(available):,}"
        )
    at_once = min(len(specs), (os.cpu_count() or 1) if n_jobs == -1 else n_jobs)
    together = sum(need for need, _ in needs[:at_once])
    if together > available:
        raise SpecError(
            f"--jobs: {at_once} runs at once need about {together / GIB:.1f} GiB, more than the "
            f"{available / GIB:.1f} GiB available; expected --jobs "
            f"{max(1, int(available // largest))} or fewer"
        )


def check_budgets(specs: Sequence[RunSpec], oracle_dirs: Sequence[Path] = ()) -> None:
    """SpecError when a run's method plans more ratings than its budget allows (the run's own,
    or its oracle's panel's). Oracles are loaded only for runs that have a budget."""
    from hdbench.oracles import load_oracle
    from hdbench.oracles.catalog import find_specs
    from hdbench.oracles.spec import read_spec

    known = find_specs(oracle_dirs)
    panel_budgets: dict[str, int | None] = {}
    oracles: dict[str, Oracle] = {}
    for spec in specs:
        if spec.oracle not in panel_budgets:
            path = known.get(spec.oracle, Path(spec.oracle))
            panel_budgets[spec.oracle] = read_spec(path).panel.budget if path.is_file() else None
        if spec.budget is None and panel_budgets[spec.oracle] is None:
            continue
        if spec.oracle not in oracles:
            oracles[spec.oracle] = load_oracle(spec.oracle, oracle_dirs)
        RunPlan.build(spec, oracles[spec.oracle])


def check_runs(
    specs: Sequence[RunSpec],
    folder: Path,
    n_jobs: int = -1,
    scheduler: str | None = None,
    option: str = "--out",
) -> None:
    """Everything checkable before `specs` run into `folder`: jobs, scheduler, memory (for
    local processes; a cluster's workers have their own), and the folder last, since it is
    made."""
    check_jobs(n_jobs)
    if scheduler is not None:
        check_scheduler(scheduler)
    else:
        check_memory(specs, n_jobs)
    check_output(folder, option)
