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
from tests.serve.conftest import careful_values, qualify, trial_of, waiting_study


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_client(study, **options):
    page = open_page(study.folder, PageOptions(**options), seed=0)
    page.queue.clock = Clock()
    return TestClient(build_app(page)), page


def values_for(trial, value=0.5):
    return [value] * (1 if trial["kind"] in ("absolute", "differential") else 2)


def answer(client, token, trial, values=None, nonce="nonce-0001"):
    body = {"token": token, "trial_id": trial["trial_id"], "nonce": nonce}
    body["values"] = values_for(trial) if values is None else values
    return client.post("/api/answer", json=body)


def test_a_participant_joins_gets_a_session_hears_and_answers(study):
    client, page = make_client(study, session_size=9)
    assert client.get("/").status_code == 200
    assert "app.js" in client.get("/").text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/api/study").json()["scale"] == {
        "low": 0.0,
        "high": 1.0,
        "step": 0.01,
        "differential_step": 0.01,
    }
    token = qualify(client, page)
    session = client.post("/api/session", json={"token": token}).json()
    trials = session["trials"]
    # 9 of the method's trials and 1 screening trial (10 % of the session) in among them,
    # as many as the study announces.
    assert len(trials) == 10 == client.get("/api/study").json()["session_length"]
    ids = [trial_of(page, token, t["trial_id"]) for t in trials]
    assert sum(i.startswith("s") for i in ids) == 1
    assert all(t["num_sounds"] == 2 for t in trials)
    assert client.get("/api/session", params={"token": token}).json() == session

    trial = next(t for t, i in zip(trials, ids, strict=True) if i.startswith("m"))
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
            (trial_of(page, token, trial["trial_id"]),),
        ).fetchall()
        (order,) = ledger._db.execute(
            "SELECT order_shown FROM trials WHERE trial_id = ?",
            (trial_of(page, token, trial["trial_id"]),),
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
    client, page = make_client(study, session_size=4)
    token, other = qualify(client, page), qualify(client, page)
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
        (answer(client, token, {**mine, "trial_id": "m9-999"}), 422, "trial_id: expected the id"),
        (answer(client, token, {**mine, "trial_id": "0" * 16}), 404, "no trial '0000"),
        (answer(client, token, theirs[0]), 404, "was shown to you"),
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
        (answer(client, token, mine, None, nonce="short"), 422, "nonce: expected 8 to 64"),
        (client.post("/api/answer", json={"token": token, "nonce": "n" * 10}), 422, "trial_id"),
        (client.get(f"/api/audio/{theirs[0]['trial_id']}/0", params={"token": token}), 404, ""),
        (client.get(f"/api/audio/{mine['trial_id']}/2", params={"token": token}), 404, "has 2"),
        (client.get("/api/audio/zz-1/0", params={"token": token}), 422, "trial_id"),
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
    newcomer = qualify(client, page)
    none = client.get("/api/session", params={"token": newcomer})
    assert none.status_code == 404 and "none running" in none.json()["error"]


def test_the_admin_pages_need_the_printed_token(study):
    client, page = make_client(study, session_size=3)
    token = qualify(client, page)
    trial = client.post("/api/session", json={"token": token}).json()["trials"][0]
    assert answer(client, token, trial, careful_values(page, token, trial)).status_code == 200
    status = client.get("/admin", params={"token": page.signer.admin_token})
    assert status.status_code == 200
    assert "1 participants, 0 flagged" in status.text and " leased" in status.text
    export = client.get("/admin/export.csv", params={"token": page.signer.admin_token})
    assert export.status_code == 200
    assert export.text.strip() == ""  # no rating yet: the batch has not taken the answer
    responses = client.get("/admin/responses.csv", params={"token": page.signer.admin_token})
    lines = responses.text.strip().splitlines()
    assert lines[0].startswith("trial_id,batch_id,stream") and len(lines) == 3  # two values
    assert client.get("/admin/responses.csv").status_code == 403


def test_an_abandoned_lease_returns_its_trials_to_the_queue(study):
    client, page = make_client(study, session_size=5, lease_seconds=600)
    first, second = qualify(client, page), qualify(client, page)
    abandoned = client.post("/api/session", json={"token": first}).json()["trials"]
    kept = {trial_of(page, first, t["trial_id"]) for t in abandoned} - {None}
    kept = {t for t in kept if t.startswith("m")}
    before = client.post("/api/session", json={"token": second}).json()["trials"]
    assert kept.isdisjoint(trial_of(page, second, t["trial_id"]) for t in before)
    for trial in before:  # the second participant finishes their session
        values = careful_values(page, second, trial)
        assert answer(client, second, trial, values).status_code == 200

    page.queue.clock.now += 601
    assert client.get("/api/session", params={"token": first}).status_code == 404
    after = client.post("/api/session", json={"token": second}).json()["trials"]
    assert kept <= {trial_of(page, second, t["trial_id"]) for t in after}
    taken = next(t for t in abandoned if trial_of(page, first, t["trial_id"]) in kept)
    late = answer(client, first, taken)
    assert late.status_code == 410 and "went to another listener" in late.json()["error"]
    gone = client.get(f"/api/audio/{taken['trial_id']}/0", params={"token": first})
    assert gone.status_code == 410
    # A late answer to an expired lease nobody else took is still welcome.
    unclaimed = next(t for t in abandoned if trial_of(page, first, t["trial_id"]).startswith("s"))
    assert answer(client, first, unclaimed).status_code == 200


def test_people_finish_a_batch_and_the_study_goes_on(tmp_path, vowel):
    """Two participants answer the 200 trials of m0 through the page; resume tells the method
    their answers (source person, rater = participant) and asks the next batch."""
    study = waiting_study(tmp_path / "study", vowel)
    client, page = make_client(study, session_size=30)
    tokens = [qualify(client, page), qualify(client, page)]
    rng = np.random.default_rng(0)
    while True:
        sessions = [client.post("/api/session", json={"token": t}) for t in tokens]
        if all(s.status_code == 409 for s in sessions):
            break
        for token, session in zip(tokens, sessions, strict=True):
            for trial in session.json().get("trials", []):
                method = rng.uniform(0, 1, trial["num_sounds"]).round(2).tolist()
                value = careful_values(page, token, trial, method)
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
    careless, careful = qualify(client, page), qualify(client, page)
    session = client.post("/api/session", json={"token": careless}).json()["trials"]
    for trial in session:
        assert answer(client, careless, trial, values_for(trial, 0.0)).status_code == 200
    with Ledger(study.folder / "ledger.sqlite") as ledger:
        (flagged, reason) = ledger._db.execute("SELECT flagged, reason FROM flags").fetchone()
    assert flagged == 1 and "hidden reference below 90%" in reason
    answered = {trial_of(page, careless, t["trial_id"]) for t in session}
    answered = {t for t in answered if t.startswith("m")}
    again = client.post("/api/session", json={"token": careful}).json()["trials"]
    assert answered <= {trial_of(page, careful, t["trial_id"]) for t in again}
    assert "1 flagged" in client.get("/admin", params={"token": page.signer.admin_token}).text


def test_with_use_all_a_flagged_participants_answers_count(study):
    rule = ScreeningRule(use_all=True)
    client, page = make_client(study, session_size=20, rule=rule)
    careless, other = qualify(client, page), qualify(client, page)
    session = client.post("/api/session", json={"token": careless}).json()["trials"]
    for trial in session:
        answer(client, careless, trial, values_for(trial, 0.0))
    answered = {trial_of(page, careless, t["trial_id"]) for t in session}
    again = client.post("/api/session", json={"token": other}).json()["trials"]
    assert answered.isdisjoint(trial_of(page, other, t["trial_id"]) for t in again)


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
