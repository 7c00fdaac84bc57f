"""The listening page's web app (Starlette): participants, sessions, sounds, answers, admin.

    GET  /                        the page (static files shipped in the package, no CDN)
    GET  /api/study               the scale and the session's length
    POST /api/participants        {consent: true} → {token}: a signed, server-made id
    GET  /api/session?token=…     the participant's running session (404 when none)
    POST /api/session             {token} → the running session or a new one of leased trials
    GET  /api/audio/ID/K?token=…  the K-th sound of trial ID as shown to its participant (WAV)
    POST /api/answer              {token, trial_id, nonce, values} → committed, then acknowledged
    GET  /admin?token=…           status; /admin/export.csv: every rating the study holds (the
                                  ledger export); /admin/responses.csv: every answer people gave

Every request that touches the ledger runs on the event loop's one thread, one after another, so
each answer is one SQLite transaction committed before its acknowledgement; only rendering a WAV
runs in a worker thread. Refusals are 4xx with one line: {"error": "..."}.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hdbench.experiments.run import LEDGER_NAME
from hdbench.experiments.study import Study
from hdbench.rng import named_generator
from hdbench.serve.render import SpeechRenderer, cached_wav
from hdbench.serve.server import PageOptions
from hdbench.serve.tokens import Signer, load_secret
from hdbench.studies.ledger import Ledger, ledger_table
from hdbench.studies.people import AnswerError, PeopleQueue, responses_table, screen_rows

STATIC = Path(__file__).parent / "static"
AUDIO_DIR = "audio"


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class ListeningPage:
    """The app's state: the study, its ledger, the queue and the signer."""

    def __init__(
        self, study: Study, renderer: SpeechRenderer, options: PageOptions, seed: int
    ) -> None:
        self.study, self.renderer, self.options = study, renderer, options
        self.ledger = Ledger(study.folder / LEDGER_NAME, any_thread=True)
        listener = study.oracle.listener
        self.slider = listener.slider
        self.queue = PeopleQueue(
            self.ledger,
            options.rule,
            listener.slider,
            listener.differential_step,
            study.oracle.real_data,
            named_generator(seed, "listening page"),
            options.session_size,
            options.lease_seconds,
        )
        self.signer = Signer(load_secret(study.folder))

    def participant(self, token: object) -> str:
        participant_id = self.signer.participant_of(token)
        if participant_id is None or not self.queue.known(participant_id):
            raise AnswerError(401, "token: not a participant of this study (start again)")
        return participant_id

    def scale(self) -> dict[str, Any]:
        s = self.slider
        return {
            "low": s.low,
            "high": s.high,
            "step": s.step or "any",
            "differential_step": self.queue.differential_step or "any",
        }


def build_app(page: ListeningPage) -> Starlette:
    async def body(request: Request) -> dict:
        try:
            data = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise AnswerError(400, "body: expected a JSON object") from None
        if not isinstance(data, dict):
            raise AnswerError(400, "body: expected a JSON object")
        return data

    async def study(request: Request) -> Response:
        return JSONResponse({"scale": page.scale(), "session_size": page.options.session_size})

    async def participants(request: Request) -> Response:
        data = await body(request)
        if data.get("consent") is not True:
            raise AnswerError(422, "consent: expected true (agree to take part first)")
        participant_id = page.queue.register(request.headers.get("user-agent", ""))
        return JSONResponse({"token": page.signer.participant_token(participant_id)})

    async def session(request: Request) -> Response:
        if request.method == "GET":
            participant_id = page.participant(request.query_params.get("token"))
            current = page.queue.current_session(participant_id)
            if current is None:
                raise AnswerError(404, "session: none running (POST /api/session to start one)")
            return JSONResponse(current.as_dict())
        participant_id = page.participant((await body(request)).get("token"))
        opened = page.queue.open_session(participant_id)
        # The session's sounds are rendered while the participant listens to the first ones.
        sounds = [
            sound_file(t.trial_id, i) for t in opened.trials for i in range(len(t.order_shown))
        ]
        return JSONResponse(opened.as_dict(), background=BackgroundTask(render_all, sounds))

    def sound_file(trial_id: str, index: int) -> tuple[np.ndarray, Path, str]:
        blob, dim = page.ledger.trial_stimuli(trial_id)
        stimuli = np.frombuffer(blob, dtype=np.float64).reshape(-1, dim)
        return stimuli[index], page.study.folder / AUDIO_DIR, f"{trial_id}-{index}"

    def render_all(sounds: list[tuple[np.ndarray, Path, str]]) -> None:
        for point, folder, name in sounds:
            cached_wav(page.renderer, point, folder, name)

    async def audio(request: Request) -> Response:
        participant_id = page.participant(request.query_params.get("token"))
        trial_id, shown = request.path_params["trial_id"], request.path_params["shown"]
        row = page.ledger.trial_to_play(trial_id)
        if row is None:
            raise AnswerError(404, f"trial_id: no trial {trial_id!r} in this study")
        order_json, num_sounds, lessee = row
        if lessee != participant_id:
            raise AnswerError(403, f"trial_id: trial {trial_id} is not leased to you")
        order = json.loads(order_json) if order_json else list(range(num_sounds))
        if not shown.isdigit() or int(shown) >= len(order):
            raise AnswerError(404, f"sound: trial {trial_id} has {len(order)} sound(s)")
        point, folder, name = sound_file(trial_id, order[int(shown)])
        path = await run_in_threadpool(cached_wav, page.renderer, point, folder, name)
        return FileResponse(path, media_type="audio/wav")

    async def answer(request: Request) -> Response:
        data = await body(request)
        participant_id = page.participant(data.get("token"))
        trial_id, nonce = data.get("trial_id"), data.get("nonce")
        if not isinstance(trial_id, str) or not trial_id:
            raise AnswerError(422, "trial_id: expected the id of a trial")
        if not isinstance(nonce, str) or not 8 <= len(nonce) <= 64:
            raise AnswerError(422, "nonce: expected a string of 8 to 64 characters")
        new = page.queue.submit(participant_id, trial_id, nonce, data.get("values"))
        return JSONResponse({"ok": True, "trial_id": trial_id, "replay": not new})

    def admin_only(request: Request) -> None:
        if not page.signer.is_admin(request.query_params.get("token")):
            raise AnswerError(403, "token: expected the admin token that serve printed")

    async def admin(request: Request) -> Response:
        admin_only(request)
        return Response(admin_html(page), media_type="text/html")

    async def export(request: Request) -> Response:
        admin_only(request)
        buffer = io.StringIO()
        ledger_table(page.ledger).to_csv(buffer, index=False)
        return Response(buffer.getvalue(), media_type="text/csv")

    async def responses(request: Request) -> Response:
        admin_only(request)
        buffer = io.StringIO()
        responses_table(page.ledger).to_csv(buffer, index=False)
        return Response(buffer.getvalue(), media_type="text/csv")

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def refused(request: Request, exc: AnswerError) -> Response:
        return error(exc.status, str(exc))

    routes = [
        Route("/", index),
        Route("/api/study", study),
        Route("/api/participants", participants, methods=["POST"]),
        Route("/api/session", session, methods=["GET", "POST"]),
        Route("/api/audio/{trial_id}/{shown}", audio),
        Route("/api/answer", answer, methods=["POST"]),
        Route("/admin", admin),
        Route("/admin/export.csv", export),
        Route("/admin/responses.csv", responses),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={AnswerError: refused})
    app.state.page = page
    return app


def admin_html(page: ListeningPage) -> str:
    """The admin page: the study's status and each participant's screening."""
    lines = page.study.status()
    screened = screen_rows(page.ledger, page.options.rule, page.slider)
    rows = "".join(
        f"<tr><td>{html.escape(p)}</td><td>{s.reference_failures}/{s.num_reference}</td>"
        f"<td>{s.anchor_failures}/{s.num_anchor}</td>"
        f"<td>{html.escape(s.reason(page.options.rule)) or 'ok'}</td></tr>"
        for p, s in sorted(screened.items())
    )
    status = page.queue.status()
    return (
        "<!doctype html><meta charset=utf-8><title>hdbench study</title>"
        "<link rel=stylesheet href=/static/style.css><main class=admin>"
        f"<h1>Study {html.escape(str(page.study.folder))}</h1>"
        f"<pre>{html.escape(chr(10).join(lines))}</pre>"
        f"<p>{status.participants} participants, {status.flagged} flagged · "
        f"{status.answered} trials answered, {status.pending} pending, {status.leased} leased</p>"
        f"<p>{html.escape(page.options.rule.describe())}</p>"
        "<table><tr><th>participant</th><th>reference fails</th><th>anchor fails</th>"
        f"<th>flag</th></tr>{rows}</table></main>"
    )
