"""The render pool: bounded, asked-for sounds first, each file once, --no-prefetch honoured, and
no render started once the server is told to stop (SIGTERM). Every wait is on an event."""

from __future__ import annotations

import queue
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyworld", reason="the speech extra is not installed")
pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install '.[web]'")

from starlette.testclient import TestClient

from hdbench.serve.app import build_app
from hdbench.serve.render import AHEAD, ASKED, RenderPool, RenderStopped
from hdbench.serve.server import PageOptions, open_page, page_server
from tests.serve.conftest import qualify

WAIT = 60.0  # s: only a guard against a hang; every wait returns on its event


class GatedRenderer:
    """Writes a stub file once the gate is open; reports every start on a queue."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started: queue.Queue[str] = queue.Queue()

    def write(self, point: np.ndarray, path: Path) -> Path:
        self.started.put(path.stem)
        assert self.gate.wait(WAIT)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF")
        return path


def test_a_sound_asked_for_goes_before_the_sounds_rendered_ahead(tmp_path):
    renderer = GatedRenderer()
    pool = RenderPool(renderer, tmp_path, num_workers=1)
    ahead = [pool.submit(f"ahead-{i}", np.zeros(2), AHEAD) for i in range(20)]
    assert renderer.started.get(timeout=WAIT) == "ahead-0"  # the one worker is busy
    asked = pool.submit("asked", np.zeros(2), ASKED)
    again = pool.submit("ahead-7", np.zeros(2), ASKED)  # moved up, rendered once
    renderer.gate.set()
    assert asked.result(WAIT).name == "asked.wav"
    assert again.result(WAIT) == ahead[7].result(WAIT)
    for future in ahead:
        future.result(WAIT)
    starts = [renderer.started.get_nowait() for _ in range(renderer.started.qsize())]
    assert starts[:2] == ["asked", "ahead-7"] and len(starts) == 20  # each file once
    assert pool.submit("asked", np.zeros(2)).result(0).exists()  # cached: no render
    assert renderer.started.empty()
    pool.stop()


def test_stopping_the_pool_starts_no_render_and_tells_whoever_waits(tmp_path):
    renderer = GatedRenderer()
    pool = RenderPool(renderer, tmp_path, num_workers=2)
    futures = [pool.submit(f"s{i}", np.zeros(2), AHEAD) for i in range(30)]
    running = {renderer.started.get(timeout=WAIT), renderer.started.get(timeout=WAIT)}
    pool.stop()
    renderer.gate.set()
    pool.join(WAIT)
    assert renderer.started.empty()  # nothing started after the stop
    finished = {f.result().stem for f in futures if f.exception() is None}
    assert finished == running
    assert all(isinstance(f.exception(), RenderStopped) for f in futures if f.exception())
    with pytest.raises(RenderStopped):
        pool.submit("late", np.zeros(2)).result(0)


def make_page(study, **options):
    page = open_page(study.folder, PageOptions(**options), seed=0)
    page.renders.stop()  # the real renderer's pool, unused: a gated one instead
    renderer = GatedRenderer()
    page.renders = RenderPool(renderer, study.folder / "audio", 2)
    return page, renderer


def test_no_prefetch_renders_nothing_until_a_sound_is_asked_for(study):
    page, renderer = make_page(study, session_size=10, prefetch=False)
    client = TestClient(build_app(page))
    token = qualify(client, page)
    client.post("/api/session", json={"token": token})
    assert page.renders._queue == [] and page.renders._jobs == {}
    page.renders.stop()

    page, renderer = make_page(study, session_size=10, prefetch=True)
    client = TestClient(build_app(page))
    token = qualify(client, page)
    trials = client.post("/api/session", json={"token": token}).json()["trials"]
    assert len(page.renders._jobs) == sum(t["num_sounds"] for t in trials)  # 11 trials, 22
    renderer.gate.set()
    page.renders.stop()


def test_after_sigterm_the_server_starts_no_render(study):
    """A burst of sessions queues their sounds; SIGTERM (uvicorn's handle_exit) stops the pool
    at once: the renders running finish, none starts after, and the server exits."""
    page, renderer = make_page(study, session_size=20, prefetch=True)
    server = page_server(page, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    client = TestClient(build_app(page))
    for _ in range(3):
        token = qualify(client, page)
        assert client.post("/api/session", json={"token": token}).status_code == 200
    queued = len(page.renders._jobs)
    assert queued > 60
    running = {renderer.started.get(timeout=WAIT), renderer.started.get(timeout=WAIT)}
    server.handle_exit(signal.SIGTERM, None)
    renderer.gate.set()
    thread.join(WAIT)
    page.renders.join(WAIT)
    assert not thread.is_alive()
    assert renderer.started.empty(), "a render started after SIGTERM"
    assert len(list((study.folder / "audio").glob("*.wav"))) == len(running) < queued
