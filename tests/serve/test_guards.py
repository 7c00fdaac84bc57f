"""What one participant must not be able to do to the page: lock the study, crash a request,
send a body that fills the server, game the screening, or plant a formula in an export."""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest

pytest.importorskip("pyworld", reason="the speech extra is not installed")
pytest.importorskip("starlette", reason="the web extra is not installed: pip install '.[web]'")

from starlette.testclient import TestClient

from hdbench.serve.admin import neutralised
from hdbench.serve.app import build_app
from hdbench.serve.guards import Guard, RateLimit
from hdbench.serve.server import PageOptions, open_page
from hdbench.studies.screening import ScreeningRule
from tests.serve.conftest import careful_values, qualify, trial_of


def make_client(study, **options):
    page = open_page(study.folder, PageOptions(**options), seed=0)
    return TestClient(build_app(page)), page


def test_a_shared_link_lets_one_address_register_only_a_few_times_a_minute(study):
    client, _page = make_client(study, entries_per_address=10)
    statuses = [
        client.post("/api/participants", json={"consent": True}).status_code for _ in range(25)
    ]
    assert statuses == [200] * 10 + [429] * 15
    refused = client.post("/api/participants", json={"consent": True}).json()["error"]
    assert refused == "too many new participants just now: try again in a minute"


def test_the_rate_limit_counts_per_address_and_in_all_over_a_sliding_minute():
    now = [0.0]
    limit = RateLimit(per_key=2, total=3, window=60, clock=lambda: now[0])
    assert [limit.allow("a"), limit.allow("a"), limit.allow("a")] == [True, True, False]
    assert [limit.allow("b"), limit.allow("c")] == [True, False]  # 3 in all
    now[0] = 60.5
    assert limit.allow("a") and limit.allow("c")


def test_with_invitations_one_link_is_one_participant_however_often_it_registers(study):
    """The hoarder of the load finding: 300 registrations with one invitation are one
    participant holding one session; without a valid invitation nobody enters."""
    client, page = make_client(study, invitations=5, session_size=10)
    invitation = page.signer.invitation("3")
    tokens = {
        client.post("/api/participants", json={"consent": True, "invitation": invitation}).json()[
            "token"
        ]
        for _ in range(300)
    }
    assert len(tokens) == 1
    for forged in (None, "3.0000", page.signer.invitation("3")[:-1] + "x", "²." + "a" * 32, 7):
        body = {"consent": True} if forged is None else {"consent": True, "invitation": forged}
        response = client.post("/api/participants", json=body)
        assert response.status_code == 403, forged
        assert response.json()["error"] == "invitation: expected the study link you were given"
    other = qualify(client, page, {"consent": True, "invitation": page.signer.invitation("0")})
    hoarder = qualify(client, page, {"consent": True, "invitation": invitation})
    sessions = [client.post("/api/session", json={"token": hoarder}).json() for _ in range(20)]
    assert all(s["trials"] == sessions[0]["trials"] for s in sessions)
    assert len(sessions[0]["trials"]) == 11
    assert client.post("/api/session", json={"token": other}).status_code == 200


def test_a_session_must_follow_the_headphone_check_and_training(study):
    client, _page = make_client(study)
    token = client.post("/api/participants", json={"consent": True}).json()["token"]
    refused = client.post("/api/session", json={"token": token})
    assert refused.status_code == 403 and "(consented)" in refused.json()["error"]


def test_a_body_over_the_limit_is_refused_before_it_is_read():
    """413 from the Content-Length alone: the app is never called, the body never received."""
    called, received = [], []

    async def app(scope, receive, send):
        called.append(scope)

    async def receive():
        received.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "headers": [(b"content-length", b"419430400")], "method": "POST"}
    asyncio.run(Guard(app, max_body=16_384)(scope, receive, send))
    assert not called and not received
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"]) == {"error": "body: over 16,384 bytes"}


def test_a_chunked_body_over_the_limit_is_cut_off(study):
    client, _page = make_client(study)

    def chunks():
        for _ in range(100):
            yield b" " * 1024

    response = client.post("/api/participants", content=chunks())
    assert response.status_code == 413
    big = client.post("/api/participants", content=b"[" + b" " * 20_000 + b"]")
    assert big.status_code == 413 and big.json()["error"] == "body: over 16,384 bytes"


def test_every_malformed_input_is_a_4xx_with_one_line(study):
    client, page = make_client(study, session_size=4)
    token = qualify(client, page)
    trial = client.post("/api/session", json={"token": token}).json()["trials"][0]
    body = {"token": token, "trial_id": trial["trial_id"], "nonce": "n" * 10}
    cases = [
        client.post("/api/answer", content=json.dumps({**body, "values": [0.5]})[:-1]),
        client.post("/api/answer", content='{"values": [' + "9" * 400 + "]}"),
        client.post(
            "/api/answer",
            content=json.dumps(body)[:-1] + ', "values": [1' + "0" * 400 + ", 0.5]}",
        ),
        client.post("/api/answer", content="[" * 5000 + "]" * 5000),
        client.post("/api/answer", content='{"a":' * 3000 + "1" + "}" * 3000),
        client.post("/api/answer", content=b"\xff\xfe"),
        client.post("/api/answer", json={**body, "values": "0.5"}),
        client.post("/api/answer", json={**body, "values": [[0.5], 0.5]}),
        client.post("/api/answer", json={**body, "nonce": "=HYPERLINK(1)"}),
        client.post("/api/session", json={"token": "p²." + "a" * 32}),
        client.post("/api/session", content=r'{"token": "\ud800"}'),
        client.post("/api/participants", json={"consent": True, "platform": {"PROLIFIC_PID": 5}}),
        client.post("/api/participants", json={"consent": True, "platform": {"x": "y"}}),
        client.post("/api/participants", json={"consent": True, "platform": []}),
        client.post("/api/headphones", json={"token": token, "answers": [0] * 6}),
        client.get(f"/api/audio/{trial['trial_id']}/²", params={"token": token}),
        client.get(f"/api/audio/{trial['trial_id']}/1²", params={"token": token}),
        client.get(f"/api/audio/{trial['trial_id']}/99999999999999999999", params={"token": token}),
        client.get(f"/api/audio/{trial['trial_id']}/-1", params={"token": token}),
        client.get("/api/audio/%C2%B2/0", params={"token": token}),
        client.get("/api/headphones/²﻿.wav", params={"token": token}),
        client.get("/api/training/99.wav"),
        client.get("/api/session", params={"token": "x" * 5000}),
        client.get("/api/progress"),
        client.get("/admin", params={"token": "²"}),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, (response.request.url, response.text)
        error = response.json()["error"]
        assert error and "\n" not in error and "Traceback" not in error


def test_trial_ids_and_order_do_not_tell_screening_trials_apart(study):
    client, page = make_client(study, session_size=18, rule=ScreeningRule(rate=0.1))
    token = qualify(client, page)
    trials = client.post("/api/session", json={"token": token}).json()["trials"]
    ids = [trial_of(page, token, t["trial_id"]) for t in trials]
    assert sum(i.startswith("s") for i in ids) == 2
    assert {tuple(sorted(t)) for t in trials} == {("answered", "kind", "num_sounds", "trial_id")}
    assert all(len(t["trial_id"]) == 16 and int(t["trial_id"], 16) >= 0 for t in trials)
    kinds = {(t["kind"], t["num_sounds"]) for t in trials}
    assert kinds == {("paired", 2)}


def test_rating_every_sound_alike_is_flagged_at_the_readmes_low_threshold(study):
    """At --reference-threshold 0.1, rating everything 0.3 passed every check."""
    rule = ScreeningRule(reference_threshold=0.1, rate=0.3)
    client, page = make_client(study, session_size=14, rule=rule)
    flat = qualify(client, page)
    for trial in client.post("/api/session", json={"token": flat}).json()["trials"]:
        body = {"token": flat, "trial_id": trial["trial_id"], "nonce": f"n{trial['trial_id']}"}
        response = client.post("/api/answer", json={**body, "values": [0.3] * 2})
        assert response.status_code == 200
    table = client.get("/admin/participants.csv", params={"token": page.signer.admin_token})
    row = pd.read_csv(pd.io.common.StringIO(table.text)).iloc[0]
    assert row["flagged"] and "above anchors" in row["reason"]


def test_an_active_participant_keeps_their_lease_and_a_lapsed_one_gets_back_what_is_theirs(study):
    client, page = make_client(study, session_size=4, lease_seconds=600)
    clock = [1_000_000.0]
    page.queue.clock = lambda: clock[0]
    token = qualify(client, page)
    trials = client.post("/api/session", json={"token": token}).json()["trials"]
    for trial in trials[:2]:  # an answer every 5 minutes for 10 minutes: still leased
        clock[0] += 300
        body = {"token": token, "trial_id": trial["trial_id"], "nonce": "n" + trial["trial_id"]}
        body["values"] = careful_values(page, token, trial)
        assert client.post("/api/answer", json=body).status_code == 200
    clock[0] += 300
    assert client.get("/api/session", params={"token": token}).status_code == 200
    clock[0] += 601  # away for 10 minutes: the lease lapses, nobody took the trials
    assert client.get("/api/session", params={"token": token}).status_code == 404
    again = client.post("/api/session", json={"token": token}).json()["trials"]
    assert [t["trial_id"] for t in again] == [t["trial_id"] for t in trials]
    assert [t["answered"] for t in again] == [True, True, False, False]


def test_exports_neutralise_what_a_spreadsheet_would_run():
    table = pd.DataFrame(
        {"text": ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "ok"], "n": range(6)}
    )
    out = neutralised(table)
    assert out["text"].tolist() == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "ok",
    ]  # fmt: skip
    assert out["n"].tolist() == list(range(6))


def test_every_response_carries_the_security_headers(study):
    client, _page = make_client(study)
    for response in (
        client.get("/"),
        client.get("/static/app.js"),
        client.get("/api/study"),
        client.get("/nowhere"),
        client.post("/api/participants", content=b"x" * 20_000),
    ):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert client.get("/favicon.ico").headers["content-type"] == "image/svg+xml"
