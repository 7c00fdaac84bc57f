"""The listening page over HTTP: every endpoint, every bad request, leases, replays, screening."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pyworld", reason="the speech extra is not installed")
pytest.importorskip("starlette", reason="the web extra is not installed: pip install '.[web]'")

from starlette.testclient import TestClient

from hdbench.errors import SpecError
from hdbench.serve.app import build_app
from hdbench.serve.server import PageOptions, open_page
from hdbench.studies.ledger import Ledger
from hdbench.studies.screening import ScreeningRule
from tests.serve.conftest import waiting_study


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_client(study, **options):
    page = open_page(study.folder, PageOptions(**options), seed=0)
    page.queue.clock = Clock()
    return TestClient(build_app(page)), page


def join(client) -> str:
    response = client.post("/api/participants", json={"consent": True})
    assert response.status_code == 200
    return response.json()["token"]


def values_for(trial, value=0.5):
    return [value] * (1 if trial["kind"] in ("absolute", "differential") else 2)


def answer(client, token, trial, values=None, nonce="nonce-0001"):
    body = {"token": token, "trial_id": trial["trial_id"], "nonce": nonce}
    body["values"] = values_for(trial) if values is None else values
    return client.post("/api/answer", json=body)


def test_a_participant_joins_gets_a_session_hears_and_answers(study):
    client, _ = make_client(study, session_size=9)
    assert client.get("/").status_code == 200
    assert "app.js" in client.get("/").text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/api/study").json()["scale"] == {
        "low": 0.0,
        "high": 1.0,
        "step": 0.01,
        "differential_step": 0.01,
    }
    token = join(client)
    session = client.post("/api/session", json={"token": token}).json()
    trials = session["trials"]
    # 9 of the method's trials and 1 screening trial (10 % of the session) in among them.
    assert len(trials) == 10
    assert sum(t["trial_id"].startswith("s") for t in trials) == 1
    assert all(sorted(t["order_shown"]) == [0, 1] for t in trials)
    assert client.get("/api/session", params={"token": token}).json() == session

    trial = next(t for t in trials if t["trial_id"].startswith("m"))
    wav = client.get(f"/api/audio/{trial['trial_id']}/1", params={"token": token})
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    assert wav.headers["content-type"] == "audio/wav"

    # Values come in the order shown; the ledger keeps them in the trial's stimulus order.
    response = answer(client, token, trial, [0.25, 0.75])
    assert response.json() == {"ok": True, "trial_id": trial["trial_id"], "replay": False}
    again = answer(client, token, trial, [0.25, 0.75])
    assert again.status_code == 200 and again.json()["replay"] is True
    with Ledger(study.folder / "ledger.sqlite") as ledger:
        rows = ledger._db.execute(
            "SELECT answer_index, value, participant_id, nonce FROM responses "
            "WHERE trial_id = ? ORDER BY answer_index",
            (trial["trial_id"],),
        ).fetchall()
        (order,) = ledger._db.execute(
            "SELECT order_shown FROM trials WHERE trial_id = ?", (trial["trial_id"],)
        ).fetchone()
    participant_id = token.split(".")[0]
    expected = [0.0, 0.0]
    for shown, index in enumerate(json.loads(order)):
        expected[index] = [0.25, 0.75][shown]
    assert [(i, v) for i, v, _, _ in rows] == [(0, expected[0]), (1, expected[1])]
    assert {(p, n) for _, _, p, n in rows} == {(participant_id, "nonce-0001")}

    left = client.get("/api/session", params={"token": token}).json()["trials"]
    assert [t["answered"] for t in left].count(True) == 1


def test_every_bad_request_gets_a_4xx_with_one_line(study):
    client, _ = make_client(study, session_size=4)
    token, other = join(client), join(client)
    trials = client.post("/api/session", json={"token": token}).json()["trials"]
    theirs = client.post("/api/session", json={"token": other}).json()["trials"]
    mine = trials[0]
    cases = [
        (client.post("/api/participants", json={}), 422, "consent: expected true"),
        (client.post("/api/participants", content=b"{nope"), 400, "body: expected a JSON"),
        (client.post("/api/participants", json=[1]), 400, "body: expected a JSON object"),
        (client.post("/api/session", json={"token": "p1.forged"}), 401, "token: not a"),
        (client.post("/api/session", json={}), 401, "token: not a"),
        (client.get("/api/session", params={"token": token + "x"}), 401, "token: not a"),
        (answer(client, token, {**mine, "trial_id": "m9-999"}), 404, "no trial 'm9-999'"),
        (answer(client, token, theirs[0]), 403, "is not leased to you"),
        (answer(client, token, mine, [0.5, 1.5]), 422, "expected values in [0, 1]"),
        (answer(client, token, mine, [0.5]), 422, "expected 2 number(s) for a paired"),
        (answer(client, token, mine, ["a", 0.5]), 422, "expected numbers"),
        (
            client.post(
                "/api/answer",
                content=json.dumps(
                    {
                        "token": token,
                        "trial_id": mine["trial_id"],
                        "nonce": "n" * 10,
                        "values": [float("nan"), 0.5],
                    }
                ),
            ),
            422,
            "expected values in",
        ),
        (answer(client, token, mine, None, nonce="short"), 422, "nonce: expected a string"),
        (client.post("/api/answer", json={"token": token, "nonce": "n" * 10}), 422, "trial_id"),
        (client.get(f"/api/audio/{theirs[0]['trial_id']}/0", params={"token": token}), 403, ""),
        (client.get(f"/api/audio/{mine['trial_id']}/2", params={"token": token}), 404, "has 2"),
        (client.get("/api/audio/zz-1/0", params={"token": token}), 404, "no trial"),
        (client.get("/admin"), 403, "admin token"),
        (client.get("/admin/export.csv", params={"token": token}), 403, "admin token"),
    ]
    for response, status, message in cases:
        assert response.status_code == status, (response.request.url, response.text)
        error = response.json()["error"]
        assert message in error and "\n" not in error
    assert answer(client, token, mine).status_code == 200
    refused = answer(client, token, mine, nonce="another-nonce")
    assert refused.status_code == 409 and "already answered" in refused.json()["error"]
    newcomer = join(client)
    none = client.get("/api/session", params={"token": newcomer})
    assert none.status_code == 404 and "none running" in none.json()["error"]


def test_the_admin_pages_need_the_printed_token(study):
    client, page = make_client(study, session_size=3)
    token = join(client)
    trial = client.post("/api/session", json={"token": token}).json()["trials"][0]
    answer(client, token, trial)
    status = client.get("/admin", params={"token": page.signer.admin_token})
    assert status.status_code == 200
    assert "1 participants, 0 flagged" in status.text and "2 leased" in status.text
    export = client.get("/admin/export.csv", params={"token": page.signer.admin_token})
    assert export.status_code == 200
    assert export.text.strip() == ""  # no rating yet: the batch has not taken the answer
    responses = client.get("/admin/responses.csv", params={"token": page.signer.admin_token})
    lines = responses.text.strip().splitlines()
    assert lines[0].startswith("trial_id,batch_id,stream") and len(lines) == 3  # two values
    assert client.get("/admin/responses.csv").status_code == 403


def test_an_abandoned_lease_returns_its_trials_to_the_queue(study):
    client, page = make_client(study, session_size=5, lease_seconds=600)
    first, second = join(client), join(client)
    abandoned = client.post("/api/session", json={"token": first}).json()["trials"]
    kept = {t["trial_id"] for t in abandoned if t["trial_id"].startswith("m")}
    before = client.post("/api/session", json={"token": second}).json()["trials"]
    assert kept.isdisjoint(t["trial_id"] for t in before)
    for trial in before:  # the second participant finishes their session
        assert answer(client, second, trial).status_code == 200

    page.queue.clock.now += 601
    assert client.get("/api/session", params={"token": first}).status_code == 404
    after = client.post("/api/session", json={"token": second}).json()["trials"]
    assert kept <= {t["trial_id"] for t in after}
    late = answer(client, first, next(t for t in abandoned if t["trial_id"] in kept))
    assert late.status_code == 403
    # A late answer to an expired lease nobody else took is still welcome.
    unclaimed = next(t for t in abandoned if t["trial_id"].startswith("s"))
    assert answer(client, first, unclaimed).status_code == 200


def test_people_finish_a_batch_and_the_study_goes_on(tmp_path, vowel):
    """Two participants answer the 200 trials of m0 through the page; resume tells the method
    their answers (source person, rater = participant) and asks the next batch."""
    study = waiting_study(tmp_path / "study", vowel)
    client, _ = make_client(study, session_size=30)
    tokens = [join(client), join(client)]
    rng = np.random.default_rng(0)
    while True:
        sessions = [client.post("/api/session", json={"token": t}) for t in tokens]
        if all(s.status_code == 409 for s in sessions):
            break
        for token, session in zip(tokens, sessions, strict=True):
            for trial in session.json().get("trials", []):
                if trial["trial_id"].startswith("s"):  # screening: reference high, anchor low
                    with Ledger(study.folder / "ledger.sqlite") as ledger:
                        (roles,) = ledger._db.execute(
                            "SELECT roles FROM screening_trials WHERE trial_id = ?",
                            (trial["trial_id"],),
                        ).fetchone()
                    by_index = [1.0 if r == "reference" else 0.0 for r in roles.split(",")]
                    value = [by_index[i] for i in trial["order_shown"]]
                else:
                    value = rng.uniform(0, 1, len(trial["order_shown"])).round(2).tolist()
                assert answer(client, token, trial, value).status_code == 200
    refused = client.post("/api/session", json={"token": tokens[0]}).json()["error"]
    assert refused == "no trial is waiting for an answer now: come back later"
    outcome = study.proceed()
    assert outcome.batch_id == "l0"  # m0 was told; the tiny study's listening test waits
    with Ledger(study.folder / "ledger.sqlite") as ledger:
        rows = ledger._db.execute(
            "SELECT DISTINCT r.source, r.rater FROM ratings r JOIN trials t ON "
            "t.trial_id = r.trial_id WHERE t.batch_id = 'm0'"
        ).fetchall()
    assert {source for source, _ in rows} == {"person"}
    assert {rater for _, rater in rows} == {t.split(".")[0] for t in tokens}
    assert "2 participants (0 flagged)" in "\n".join(study.status())


def test_a_flagged_participants_trials_go_to_others_and_their_answers_stay_unused(study):
    """The careless participant rates every sound 0: the hidden references fail, they are
    flagged, the trials they answered are leased again, and the batch takes the others'."""
    client, page = make_client(study, session_size=20)
    careless, careful = join(client), join(client)
    session = client.post("/api/session", json={"token": careless}).json()["trials"]
    for trial in session:
        assert answer(client, careless, trial, values_for(trial, 0.0)).status_code == 200
    with Ledger(study.folder / "ledger.sqlite") as ledger:
        (flagged, reason) = ledger._db.execute("SELECT flagged, reason FROM flags").fetchone()
    assert flagged == 1 and "hidden reference below 90%" in reason
    answered = {t["trial_id"] for t in session if t["trial_id"].startswith("m")}
    again = client.post("/api/session", json={"token": careful}).json()["trials"]
    assert answered <= {t["trial_id"] for t in again}
    assert "1 flagged" in client.get("/admin", params={"token": page.signer.admin_token}).text


def test_with_use_all_a_flagged_participants_answers_count(study):
    rule = ScreeningRule(use_all=True)
    client, _ = make_client(study, session_size=20, rule=rule)
    careless, other = join(client), join(client)
    session = client.post("/api/session", json={"token": careless}).json()["trials"]
    for trial in session:
        answer(client, careless, trial, values_for(trial, 0.0))
    answered = {t["trial_id"] for t in session}
    again = client.post("/api/session", json={"token": other}).json()["trials"]
    assert answered.isdisjoint(t["trial_id"] for t in again)


def test_a_study_that_cannot_be_served_is_refused_in_one_line(tmp_path, vowel):
    from hdbench.experiments.run import RunSpec
    from hdbench.experiments.study import Study, answer
    from hdbench.oracles import load_oracle

    toy = Study.create(
        tmp_path / "toy",
        RunSpec(oracle="paper_like", method="humandiffusion", params={"num_periphery": 1}),
        load_oracle("paper_like"),
    )
    toy.proceed()
    with pytest.raises(SpecError, match="oracle 'paper_like' has no renderer"):
        open_page(toy.folder, PageOptions())
    done = waiting_study(tmp_path / "done", vowel)
    answer(done, vowel)  # simulated listeners answer everything pending
    with pytest.raises(SpecError, match="nothing is waiting for an answer"):
        open_page(done.folder, PageOptions())
