"""A small vowel_a HumanDiffusion study waiting for people, and its page under a test client."""

from __future__ import annotations

import pytest

from hdbench.experiments.run import RunSpec
from hdbench.experiments.study import Study
from hdbench.oracles import load_oracle

#: One periphery point per real datum, R = 2: a first batch of 200 paired trials.
TINY = {"num_periphery": 1, "R": 2, "train_steps": 20, "num_steps": 50}


@pytest.fixture(scope="session")
def vowel():
    return load_oracle("vowel_a")


def waiting_study(folder, oracle, params=TINY) -> Study:
    spec = RunSpec(oracle=oracle.name, method="humandiffusion", params=params, num_eval_samples=20)
    study = Study.create(folder, spec, oracle)
    study.proceed()
    return study


@pytest.fixture
def study(tmp_path, vowel):
    return waiting_study(tmp_path / "study", vowel)


def qualify(client, page, body=None) -> str:
    """A participant through consent, the headphone check (the right answers, from the server's
    seeded key) and training: their token, ready for a session."""
    from hdbench.serve import headphones

    response = client.post("/api/participants", json=body or {"consent": True})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    if response.json()["stage"] == "consented" and page.options.headphone_trials:
        key = headphones.answer_key(
            page.signer.secret, token.split(".")[0], page.options.headphone_trials
        )
        passed = client.post("/api/headphones", json={"token": token, "answers": key})
        assert passed.json()["passed"], passed.text
    assert client.post("/api/trained", json={"token": token}).json()["stage"] == "trained"
    return token


def trial_of(page, token: str, handle: str) -> str:
    """The ledger's id of the trial shown to a participant as `handle`."""
    return page.ledger.trial_of_handle(token.split(".")[0], handle)


def careful_values(page, token: str, trial: dict, method_values=None) -> list[float]:
    """What a careful listener answers to a trial the page shows (values in the order shown):
    the reference high and the anchor low, one sound twice alike; `method_values` (or the
    scale's middle) for a method's trial."""
    participant_id = token.split(".")[0]
    leased = {
        page.signer.handle(participant_id, trial_id): (kind, order, roles)
        for trial_id, kind, _, order, roles in page.ledger.leased_trials(participant_id)
    }
    assert trial["trial_id"] in leased, f"{trial['trial_id']} is not leased to {participant_id}"
    kind, order, roles = leased[trial["trial_id"]]
    if not roles:
        return method_values or [0.5] * trial["num_sounds"]
    first, *rest = roles.split(",")
    if kind == "differential":  # b against a: the reference preferred, or the same
        return [0.0 if rest[0] == first else (0.8 if rest[0] == "reference" else -0.8)]
    by_index = [{"reference": 0.9, "anchor": 0.05, "same": 0.5}[r] for r in roles.split(",")]
    return [by_index[i] for i in order]
