"""Stimuli as sound: the oracle's renderer, a WAV per trial's stimulus, made on demand and cached.

Only an oracle whose space can be rendered to audio can be served: today the speech space of
`vowel` oracles (`hdbench.speech`: a point → WORLD synthesis of /a/). Any other is refused.

Rendering runs in a `RenderPool`: a fixed number of workers, one queue in which a sound a page
asks for goes before the sounds rendered ahead of a session, one job per file however many ask
for it, and a stop that cancels every job not yet started (the server stops it on SIGTERM).
WORLD synthesis holds Python's GIL, so the server renders in worker processes (each thread of
the pool hands its job to one), which leaves the event loop free and uses every core.
"""

from __future__ import annotations

import heapq
import itertools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hdbench.errors import SpecError
from hdbench.oracles import Oracle

ASKED, AHEAD = 0, 1  # priorities: a sound a page waits for, a sound rendered ahead


@dataclass(frozen=True)
class SpeechRenderer:
    """Renders points (dim,) of a speech space to 16-bit WAV files."""

    space: object

    def write(self, point: np.ndarray, path: Path) -> Path:
        from hdbench.speech.audio import write_wav

        return write_wav(self.space.render(point), self.space.config.sample_rate, path)


def renderer_for(oracle: Oracle) -> SpeechRenderer:
    """The oracle's renderer; SpecError when its stimuli cannot be played."""
    space = getattr(oracle.truth, "space", None)
    if space is None:
        raise SpecError(
            f"oracle {oracle.name!r} has no renderer: its stimuli cannot be played to people "
            "(serve a study on an oracle whose space renders audio, e.g. vowel_a)"
        )
    return SpeechRenderer(space)


_process_renderer: SpeechRenderer | None = None  # in a worker process: its renderer


def _start_worker(renderer: SpeechRenderer, server_pid: int) -> None:
    global _process_renderer
    _process_renderer = renderer
    threading.Thread(target=_exit_with, args=(server_pid,), daemon=True).start()


def _exit_with(server_pid: int) -> None:
    """End this worker when the server is gone (killed with SIGKILL: nobody told it)."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            os._exit(0)


def _render_in_worker(point: np.ndarray, path: Path) -> Path:
    return _process_renderer.write(point, path)


class RenderStopped(RuntimeError):
    """The pool was stopped before this sound was rendered."""


class RenderPool:
    """`num_workers` threads rendering WAV files into `folder`, each file once (cached on disk).

    `on_start(name)`, when given, is called as a render begins (a test's probe); with
    `processes`, each render runs in one of `num_workers` worker processes."""

    def __init__(
        self,
        renderer: SpeechRenderer,
        folder: Path,
        num_workers: int = 2,
        on_start: Callable[[str], None] | None = None,
        processes: bool = False,
    ) -> None:
        self.renderer, self.folder, self.on_start = renderer, folder, on_start
        self._processes = (
            ProcessPoolExecutor(
                num_workers,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_start_worker,
                initargs=(renderer, os.getpid()),
            )
            if processes
            else None
        )
        self._lock = threading.Condition()
        self._queue: list[tuple[int, int, str, np.ndarray]] = []
        self._jobs: dict[str, Future] = {}
        self._order = itertools.count()
        self._stopped = False
        self._workers = [
            threading.Thread(target=self._work, name=f"render-{i}", daemon=True)
            for i in range(num_workers)
        ]
        for worker in self._workers:
            worker.start()

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.wav"

    def submit(self, name: str, point: np.ndarray, priority: int = ASKED) -> Future:
        """A future of folder/name.wav: done at once when the file exists; a sound asked for
        again at a higher priority moves up the queue."""
        future: Future = Future()
        path = self.path(name)
        if path.exists():
            future.set_result(path)
            return future
        with self._lock:
            if self._stopped:
                future.set_exception(RenderStopped("the server is stopping"))
                return future
            if name in self._jobs:
                if priority == ASKED:
                    heapq.heappush(self._queue, (priority, next(self._order), name, point))
                return self._jobs[name]
            self._jobs[name] = future
            heapq.heappush(self._queue, (priority, next(self._order), name, point))
            self._lock.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopped:
                    self._lock.wait()
                if self._stopped:
                    return
                _, _, name, point = heapq.heappop(self._queue)
                future = self._jobs.get(name)
                if future is None or future.running() or future.done():
                    continue  # a duplicate entry (moved up the queue), started already
                future.set_running_or_notify_cancel()
            try:
                if self.on_start is not None:
                    self.on_start(name)
                path = self.path(name)
                if path.exists():
                    pass
                elif self._processes is not None:
                    self._processes.submit(_render_in_worker, point, path).result()
                else:
                    self.renderer.write(point, path)
                future.set_result(path)
            except BaseException as error:
                future.set_exception(error)
            finally:
                with self._lock:
                    self._jobs.pop(name, None)

    def stop(self) -> None:
        """Start no render from now on; whoever waits for a sound not started gets
        RenderStopped. Renders already running finish."""
        with self._lock:
            self._stopped = True
            waiting = {
                name: self._jobs[name] for _, _, name, _ in self._queue if name in self._jobs
            }
            self._queue.clear()
            self._lock.notify_all()
            for future in waiting.values():
                if not (future.running() or future.done()):
                    future.set_running_or_notify_cancel()
                    future.set_exception(RenderStopped("the server is stopping"))
        if self._processes is not None:  # the renders running finish; the workers then exit
            self._processes.shutdown(wait=False)

    def join(self, timeout: float | None = None) -> None:
        for worker in self._workers:
            worker.join(timeout)
        if self._processes is not None:
            self._processes.shutdown(wait=False, cancel_futures=True)
