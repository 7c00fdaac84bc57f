"""The listening page's web app (Starlette), after ITU-T P.808's crowdsourcing flow: consent, a
volume set-up, a headphone check, training with feedback, sessions with hidden gold and trap
trials, a completion code.

    GET  /                          the page (static files shipped in the package, no CDN)
    GET  /api/study                 the scale, the session's true length, the steps of the flow
    POST /api/participants          {consent, invitation?, platform?} → {token, stage}
    GET  /api/progress?token=…      the participant's stage (and their completion code)
    GET  /api/calibration.wav       the volume set-up sound (a real token of the study)
    GET  /api/headphones/K.wav?token=…   trial K of the participant's headphone check
    POST /api/headphones            {token, answers} → passed or not (once)
    GET  /api/training/K.wav        training sound K (real tokens and anchors)
    POST /api/trained               {token}: training done
    GET  /api/session?token=…       the participant's running session (404 when none)
    POST /api/session               {token} → the running session or a new one of leased trials
    GET  /api/audio/ID/K?token=…    the K-th sound of the trial shown as ID (WAV)
    POST /api/answer                {token, trial_id, nonce, values} → committed, acknowledged
    GET  /api/completion?token=…    {code, redirect} once the participant's session is done
    /admin…                         see `hdbench.serve.admin`

Every request that touches the ledger runs on the event loop's one thread, one after another, so
each answer is one SQLite transaction committed before its acknowledgement; rendering runs in a
bounded pool (`hdbench.serve.render`). Refusals are 4xx with one line: {"error": "..."}.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hdbench.experiments.run import LEDGER_NAME
from hdbench.experiments.study import Study
from hdbench.rng import named_generator
from hdbench.serve import headphones
from hdbench.serve.admin import admin_routes
from hdbench.serve.guards import Guard, RateLimit
from hdbench.serve.render import AHEAD, ASKED, RenderPool, RenderStopped, SpeechRenderer
from hdbench.serve.server import PageOptions
from hdbench.serve.tokens import Signer, load_secret
from hdbench.studies.ledger import Ledger
from hdbench.studies.people import AnswerError, PeopleQueue, Session
from hdbench.studies.screening import anchor_points

STATIC = Path(__file__).parent / "static"
AUDIO_DIR = "audio"
PLATFORM_KEYS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId", "hitId")
PLATFORM_VALUE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
HANDLE = re.compile(r"[0-9a-f]{16}")
SOUND_INDEX = re.compile(r"[0-9]{1,2}")
WAV_CACHE = {"cache-control": "private, max-age=86400"}

# A participant's stages, in order.
CONSENTED, QUALIFIED, FAILED, TRAINED, COMPLETED = (
    "consented", "qualified", "headphones_failed", "trained", "completed",
)  # fmt: skip


class ListeningPage:
    """The app's state: the study, its ledger, the queue, the signer and the render pool."""

    def __init__(
        self,
        study: Study,
        renderer: SpeechRenderer,
        options: PageOptions,
        seed: int,
        on_render_start=None,
    ) -> None:
        self.study, self.options = study, options
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
        self.renders = RenderPool(
            renderer,
            study.folder / AUDIO_DIR,
            options.render_workers,
            on_render_start,
            processes=options.render_processes,
        )
        self.entries = RateLimit(options.entries_per_address, options.entries_per_minute)
        self.training = training_sounds(study.oracle.real_data, options, self.signer.secret)

    def participant(self, token: object) -> str:
        participant_id = self.signer.participant_of(token)
        if participant_id is None or self.ledger.entrant(participant_id) is None:
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

    def stage(self, participant_id: str) -> str:
        return self.ledger.entrant(participant_id)[0]

    def session_length(self) -> int:
        """Trials in a full session: the method's and the screening trials mixed in."""
        size, rate = self.options.session_size, self.options.rule.rate
        return size + round(rate * size / (1 - rate))

    def shown(self, session: Session) -> dict[str, Any]:
        """A session as the page sees it: each trial under its opaque handle."""
        handles = [self.signer.handle(session.participant_id, t.trial_id) for t in session.trials]
        self.ledger.add_handles(
            (h, session.participant_id, t.trial_id)
            for h, t in zip(handles, session.trials, strict=True)
        )
        trials = [
            {
                "trial_id": h,
                "kind": t.kind,
                "num_sounds": len(t.order_shown),
                "answered": t.answered,
            }
            for h, t in zip(handles, session.trials, strict=True)
        ]
        return {"expires": session.expires, "trials": trials}

    def trial_of(self, participant_id: str, handle: object) -> str:
        if not isinstance(handle, str) or not HANDLE.fullmatch(handle):
            raise AnswerError(422, "trial_id: expected the id of a trial the page was given")
        trial_id = self.ledger.trial_of_handle(participant_id, handle)
        if trial_id is None:
            raise AnswerError(404, f"trial_id: no trial {handle!r} was shown to you")
        return trial_id

    def renew(self, participant_id: str, lease: tuple | None) -> None:
        """Keep the participant's session leased while they are active."""
        if lease is not None and lease[0] == participant_id:
            expires = self.queue.clock() + self.options.lease_seconds
            self.ledger.renew_leases(participant_id, lease[1], expires)

    def completion(self, participant_id: str) -> dict[str, str | None] | None:
        """The code and redirect once the participant answered every trial still theirs."""
        stage = self.stage(participant_id)
        if stage == COMPLETED:
            return {"code": self.options.completion_code, "redirect": self.options.redirect_url}
        if stage != TRAINED or self.options.completion_code is None:
            return None
        if self.ledger.open_lease_session(participant_id) is not None:
            return None
        if self.ledger.num_responses(participant_id) == 0:
            return None
        self.ledger.set_stage(participant_id, COMPLETED)
        return {"code": self.options.completion_code, "redirect": self.options.redirect_url}

    def stop(self) -> None:
        """Start no render from now on (the server is stopping)."""
        self.renders.stop()


def training_sounds(real_data: np.ndarray, options: PageOptions, secret: bytes) -> list[tuple]:
    """The training block: (point (dim,), expected "high" or "low"), real tokens and anchors
    in a random order fixed by the study's secret."""
    num = options.num_training
    rng = np.random.default_rng(int.from_bytes(secret[:8], "big"))
    real = real_data[rng.choice(len(real_data), size=num - num // 2, replace=False)]
    anchors = anchor_points(real_data, num // 2, options.rule.anchor_distance, rng)
    sounds = [(p, "high") for p in real] + [(p, "low") for p in anchors]
    return [sounds[i] for i in rng.permutation(len(sounds))]


def checked_values(values: object) -> list[float]:
    """The answer's values as floats; AnswerError 422 for anything but 1 or 2 finite numbers."""
    if not isinstance(values, list) or not 1 <= len(values) <= 2:
        raise AnswerError(422, "values: expected a list of 1 or 2 numbers")
    checked = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AnswerError(422, f"values: expected numbers, got {str(value)[:40]!r}")
        try:
            checked.append(float(value))
        except OverflowError:
            raise AnswerError(
                422, "values: expected values on the slider, got a huge number"
            ) from None
    return checked


def build_app(page: ListeningPage):
    async def body(request: Request) -> dict:
        try:
            data = json.loads(await request.body())
        except ClientDisconnect:  # the guard refused the body (413) or the client left
            raise AnswerError(413, "body: too large") from None
        except (ValueError, RecursionError):  # not JSON, not UTF-8, too deep, too many digits
            raise AnswerError(400, "body: expected a JSON object") from None
        if not isinstance(data, dict):
            raise AnswerError(400, "body: expected a JSON object")
        return data

    def token_of(request: Request) -> str:
        return page.participant(request.query_params.get("token"))

    async def study(request: Request) -> Response:
        o = page.options
        return JSONResponse(
            {
                "scale": page.scale(),
                "session_length": page.session_length(),
                "headphone_trials": o.headphone_trials,
                "headphone_pass": o.headphone_pass,
                "training": [expected for _, expected in page.training],
                "completion": o.completion_code is not None,
                "invitations": o.invitations,
            }
        )

    async def participants(request: Request) -> Response:
        data = await body(request)
        if data.get("consent") is not True:
            raise AnswerError(422, "consent: expected true (agree to take part first)")
        platform = data.get("platform", {})
        if not isinstance(platform, dict) or not all(
            k in PLATFORM_KEYS and isinstance(v, str) and PLATFORM_VALUE.fullmatch(v)
            for k, v in platform.items()
        ):
            raise AnswerError(
                422, f"platform: expected ids ({', '.join(PLATFORM_KEYS)}) of letters and digits"
            )
        slot = None
        if page.options.invitations:
            slot = page.signer.slot_of(data.get("invitation"))
            if slot is None:
                raise AnswerError(403, "invitation: expected the study link you were given")
        elif not page.entries.allow(request.client.host if request.client else "?"):
            raise AnswerError(429, "too many new participants just now: try again in a minute")
        new_id = f"p{secrets.token_hex(6)}"
        participant_id = page.ledger.add_entrant(
            new_id, slot, platform, request.headers.get("user-agent", "")
        )
        if participant_id == new_id and page.options.headphone_trials == 0:
            page.ledger.set_stage(participant_id, QUALIFIED)
        token = page.signer.participant_token(participant_id)
        return JSONResponse({"token": token, "stage": page.stage(participant_id)})

    async def progress(request: Request) -> Response:
        participant_id = token_of(request)
        entrant = page.ledger.entrant(participant_id)
        return JSONResponse(
            {
                "stage": entrant[0],
                "headphones": None if entrant[2] is None else [entrant[1], entrant[2]],
                "completion": page.completion(participant_id),
            }
        )

    async def rendered(name: str, point: np.ndarray, priority: int = ASKED) -> Response:
        try:
            path = await asyncio.wrap_future(page.renders.submit(name, point, priority))
        except RenderStopped:
            raise AnswerError(503, "sound: the server is stopping; try again in a moment") from None
        return FileResponse(path, media_type="audio/wav", headers=WAV_CACHE)

    async def calibration(request: Request) -> Response:
        return await rendered("calibration", page.study.oracle.real_data[0])

    async def headphone_sound(request: Request) -> Response:
        participant_id = token_of(request)
        index = request.path_params["index"]
        if not SOUND_INDEX.fullmatch(index) or int(index) >= page.options.headphone_trials:
            raise AnswerError(404, f"sound: the check has {page.options.headphone_trials} trials")
        if page.stage(participant_id) != CONSENTED:
            raise AnswerError(409, "headphones: your check is already done")
        order = headphones.trial_orders(
            page.signer.secret, participant_id, page.options.headphone_trials
        )[int(index)]
        return Response(headphones.trial_wav(order), media_type="audio/wav", headers=WAV_CACHE)

    async def headphone_answers(request: Request) -> Response:
        data = await body(request)
        participant_id = page.participant(data.get("token"))
        key = headphones.answer_key(
            page.signer.secret, participant_id, page.options.headphone_trials
        )
        if page.stage(participant_id) != CONSENTED:
            raise AnswerError(409, "headphones: your check is already done")
        correct = headphones.num_correct(key, data.get("answers"))
        if correct is None:
            raise AnswerError(422, f"answers: expected {len(key)} choices, each 0, 1 or 2")
        passed = correct >= page.options.headphone_pass
        page.ledger.set_stage(participant_id, QUALIFIED if passed else FAILED, (correct, len(key)))
        return JSONResponse({"passed": passed, "correct": correct, "trials": len(key)})

    async def training_sound(request: Request) -> Response:
        index = request.path_params["index"]
        if not SOUND_INDEX.fullmatch(index) or int(index) >= len(page.training):
            raise AnswerError(404, f"sound: training has {len(page.training)} sounds")
        return await rendered(f"training-{index}", page.training[int(index)][0])

    async def trained(request: Request) -> Response:
        participant_id = page.participant((await body(request)).get("token"))
        if page.stage(participant_id) == QUALIFIED:
            page.ledger.set_stage(participant_id, TRAINED)
        return JSONResponse({"stage": page.stage(participant_id)})

    def may_listen(participant_id: str) -> None:
        stage = page.stage(participant_id)
        if stage == COMPLETED:
            raise AnswerError(409, "session: you have finished this study, thank you")
        if stage != TRAINED:
            raise AnswerError(403, f"session: not before the steps before it ({stage})")

    async def session(request: Request) -> Response:
        if request.method == "GET":
            participant_id = token_of(request)
            current = page.queue.current_session(participant_id)
            if current is None:
                raise AnswerError(404, "session: none running (POST /api/session to start one)")
            return JSONResponse(page.shown(current))
        participant_id = page.participant((await body(request)).get("token"))
        may_listen(participant_id)
        lapsed = page.ledger.open_lease_session(participant_id)
        if lapsed is not None:  # their trials nobody else took: theirs again
            expires = page.queue.clock() + page.options.lease_seconds
            page.ledger.renew_leases(participant_id, lapsed, expires)
        opened = page.queue.open_session(participant_id)
        if page.options.prefetch:  # rendered while the participant listens to the first ones
            for trial in opened.trials:
                stimuli, _, _ = page.ledger.trial_sound(trial.trial_id)
                for index in range(len(stimuli)):
                    page.renders.submit(f"{trial.trial_id}-{index}", stimuli[index], AHEAD)
        return JSONResponse(page.shown(opened))

    def own_lease(participant_id: str, trial_id: str, lease: tuple | None) -> None:
        if lease is None or lease[0] != participant_id:
            raise AnswerError(
                410,
                "trial_id: your time for this trial ran out and it went to another listener "
                "(nothing to answer)",
            )

    async def audio(request: Request) -> Response:
        participant_id = token_of(request)
        trial_id = page.trial_of(participant_id, request.path_params["trial_id"])
        stimuli, order, lease = page.ledger.trial_sound(trial_id)
        own_lease(participant_id, trial_id, lease)
        shown = request.path_params["shown"]
        if not SOUND_INDEX.fullmatch(shown) or int(shown) >= len(stimuli):
            raise AnswerError(404, f"sound: this trial has {len(stimuli)} sound(s)")
        index = (order or list(range(len(stimuli))))[int(shown)]
        page.renew(participant_id, lease)
        return await rendered(f"{trial_id}-{index}", stimuli[index])

    async def answer(request: Request) -> Response:
        data = await body(request)
        participant_id = page.participant(data.get("token"))
        handle, nonce = data.get("trial_id"), data.get("nonce")
        trial_id = page.trial_of(participant_id, handle)
        if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
            raise AnswerError(422, "nonce: expected 8 to 64 letters, digits, - or _")
        values = checked_values(data.get("values"))
        _, _, lease = page.ledger.trial_sound(trial_id)
        if lease is not None and lease[0] != participant_id:
            own_lease(participant_id, trial_id, lease)
        new = page.queue.submit(participant_id, trial_id, nonce, values)
        page.renew(participant_id, lease)
        return JSONResponse({"ok": True, "trial_id": handle, "replay": not new})

    async def completion(request: Request) -> Response:
        done = page.completion(token_of(request))
        if done is None:
            raise AnswerError(409, "completion: not yet (answer every trial of your session)")
        return JSONResponse(done)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def favicon(request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    async def refused(request: Request, exc: AnswerError) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    routes = [
        Route("/", index),
        Route("/favicon.ico", favicon),
        Route("/api/study", study),
        Route("/api/participants", participants, methods=["POST"]),
        Route("/api/progress", progress),
        Route("/api/calibration.wav", calibration),
        Route("/api/headphones/{index}.wav", headphone_sound),
        Route("/api/headphones", headphone_answers, methods=["POST"]),
        Route("/api/training/{index}.wav", training_sound),
        Route("/api/trained", trained, methods=["POST"]),
        Route("/api/session", session, methods=["GET", "POST"]),
        Route("/api/audio/{trial_id}/{shown}", audio),
        Route("/api/answer", answer, methods=["POST"]),
        Route("/api/completion", completion),
        *admin_routes(page),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app):
        yield
        page.stop()

    app = Starlette(routes=routes, exception_handlers={AnswerError: refused}, lifespan=lifespan)
    app.state.page = page
    return Guard(app, page.options.max_body)
