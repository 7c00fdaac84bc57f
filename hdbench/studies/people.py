"""People answering a study's queue: participants, sessions of leased trials, responses.

What a listening page (`hdbench serve`) does with the ledger, kept apart from the web layer so it
can be tested and reasoned about alone:

- a participant gets a server-made id (`register`); nothing a participant types is an id;
- a session (`open_session`) leases up to `session_size` pending trials of the method's and the
  listening test's open batches to one participant until `lease_seconds` pass, mixed with
  screening trials made for that session (`hdbench.studies.screening`); a lease that runs out
  puts its trials back in the queue; a paired or differential trial gets a random order of its
  sounds, recorded in `trials.order_shown` the first time it is shown;
- an answer (`submit`) is checked (the participant's own lease, in range, not answered before)
  and committed in one transaction with its nonce before it is acknowledged; the same nonce again
  is a no-op;
- a method's batch takes its ratings from these responses (`PeopleAnswerer`, in the study's
  loop): per trial, the first complete answer of an unflagged participant (of anyone with
  `use_all`). So the trials a flagged participant answered go back to the queue for others and
  their answers stay in `responses`, unused. A participant flagged after their answers went to
  the method is reported, not undone (the method was told).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hdbench.errors import HdbenchError
from hdbench.protocol import Slider
from hdbench.protocol.trials import ANSWERS_PER_TRIAL, RatingBatch, TrialBatch
from hdbench.studies.ledger import Ledger
from hdbench.studies.ledger_people import PERSON_SOURCE, SCREENING_STREAM
from hdbench.studies.screening import Screened, ScreeningRule, screen, screening_trials


class AnswerError(HdbenchError):
    """An answer the ledger refuses; `status` is the HTTP status a page server gives it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class LeasedTrial:
    trial_id: str
    kind: str
    slot: int
    order_shown: list[int]
    answered: bool


@dataclass(frozen=True)
class Session:
    session_id: str
    participant_id: str
    expires: float
    trials: list[LeasedTrial] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "expires": self.expires,
            "trials": [t.__dict__ for t in self.trials],
        }


@dataclass(frozen=True)
class PeopleStatus:
    participants: int
    flagged: int
    answered: int
    pending: int
    leased: int
    responses: int


class PeopleQueue:
    """The queue of one study's ledger, as people see it. Not thread-safe: one per thread."""

    def __init__(
        self,
        ledger: Ledger,
        rule: ScreeningRule,
        slider: Slider,
        differential_step: float,
        real_data: np.ndarray,
        rng: np.random.Generator,
        session_size: int = 30,
        lease_seconds: float = 1800.0,
        clock=time.time,
    ) -> None:
        self.ledger, self.rule, self.slider = ledger, rule, slider
        self.differential_step = differential_step
        self.real_data, self.rng = real_data, rng
        self.session_size, self.lease_seconds, self.clock = session_size, lease_seconds, clock
        ledger.set_meta("screening", rule.model_dump())

    # Participants ---------------------------------------------------------------------------

    def register(self, user_agent: str = "") -> str:
        participant_id = f"p{secrets.token_hex(6)}"
        with self.ledger.transaction():
            self.ledger.add_participant(participant_id, self.clock(), user_agent[:200])
        return participant_id

    def known(self, participant_id: str) -> bool:
        return self.ledger.has_participant(participant_id)

    # Sessions -------------------------------------------------------------------------------

    def current_session(self, participant_id: str) -> Session | None:
        """The participant's session with trials still to answer and its lease running."""
        row = self.ledger.current_session(participant_id, self.clock())
        return None if row is None else self._session(row[0], participant_id, row[1])

    def open_session(self, participant_id: str) -> Session:
        """The participant's current session, or a new one; AnswerError 409 when no trial is
        free (nothing pending, or all of it leased to others)."""
        current = self.current_session(participant_id)
        if current is not None:
            return current
        candidates = self._free_trials(participant_id, self.session_size)
        if not candidates:
            raise AnswerError(409, "no trial is waiting for an answer now: come back later")
        kinds = [kind for _, kind in candidates]
        num_screening = round(self.rule.rate * len(candidates) / (1 - self.rule.rate))
        screening = self._screening_batch(max(kinds, key=kinds.count), num_screening)
        session_id = f"s{secrets.token_hex(6)}"
        expires = self.clock() + self.lease_seconds
        with self.ledger.transaction():
            # Chosen again under the write lock, so that no trial is ever leased twice.
            order = [t for t, _ in self._free_trials(participant_id, self.session_size)]
            for trial_id in screening:
                order.insert(int(self.rng.integers(len(order) + 1)), trial_id)
            rows = [
                (trial_id, participant_id, session_id, slot, expires)
                for slot, trial_id in enumerate(order)
            ]
            self.ledger.add_leases(rows)
            for trial_id in order:
                self._record_order(trial_id)
        return self._session(session_id, participant_id, expires)

    def _free_trials(self, participant_id: str, limit: int) -> list[tuple[str, str]]:
        return self.ledger.free_trials(participant_id, self.clock(), limit, self.rule.use_all)

    def _screening_batch(self, kind: str, num: int) -> set[str]:
        if num <= 0:
            return set()
        batch, roles = screening_trials(kind, num, self.real_data, self.rule, self.rng)
        position = self.ledger.num_batches(SCREENING_STREAM)
        batch_id = self.ledger.add_batch(SCREENING_STREAM, position, batch)
        trial_ids = [f"{batch_id}-{i}" for i in range(num)]
        with self.ledger.transaction():
            self.ledger.add_screening_roles(zip(trial_ids, roles, strict=True))
        return set(trial_ids)

    def _record_order(self, trial_id: str) -> None:
        """A random order of the trial's sounds, drawn the first time it is shown."""
        num = 1 if self.ledger.trial_kind(trial_id) == "absolute" else 2
        self.ledger.set_order_shown(trial_id, json.dumps(self.rng.permutation(num).tolist()))

    def _session(self, session_id: str, participant_id: str, expires: float) -> Session:
        rows = self.ledger.session_trials(session_id, participant_id)
        trials = [
            LeasedTrial(trial_id, kind, slot, json.loads(order), bool(answered))
            for trial_id, kind, slot, order, answered in rows
        ]
        return Session(session_id, participant_id, expires, trials)

    # Answers --------------------------------------------------------------------------------

    def submit(
        self, participant_id: str, trial_id: str, nonce: str, shown_values: list[float]
    ) -> bool:
        """Record the participant's answer to `trial_id` (values in the order the sounds were
        shown) in one transaction; returns False for a replay of an answer already recorded.
        Raises AnswerError (4xx) for anything else the ledger cannot take."""
        ledger = self.ledger
        with ledger.transaction():
            trial = ledger.trial_to_answer(trial_id)
            if trial is None:
                raise AnswerError(404, f"trial_id: no trial {trial_id!r} in this study")
            kind, order_json, stream = trial
            given = ledger.response_nonce(trial_id, participant_id)
            if given is not None:
                if given == nonce:
                    return False
                raise AnswerError(409, f"trial_id: trial {trial_id} is already answered")
            lease = ledger.lease_of(trial_id)
            if lease is None or lease[0] != participant_id:
                raise AnswerError(403, f"trial_id: trial {trial_id} is not leased to you")
            values = self._check_values(kind, shown_values)
            order = json.loads(order_json) if order_json else list(range(len(values)))
            by_index = [0.0] * len(values)
            for shown, index in enumerate(order):
                by_index[index] = values[shown]
            now = self.clock()
            ledger.add_responses(
                (trial_id, i, participant_id, v, nonce, lease[1], now)
                for i, v in enumerate(by_index)
            )
            if stream == SCREENING_STREAM:
                ledger.add_person_ratings(
                    (trial_id, i, v, participant_id, now) for i, v in enumerate(by_index)
                )
                self._flag(participant_id)
        return True

    def _check_values(self, kind: str, values: list[float]) -> list[float]:
        expected = ANSWERS_PER_TRIAL[kind]
        low, high = (-1.0, 1.0) if kind == "differential" else (self.slider.low, self.slider.high)
        if not isinstance(values, list) or len(values) != expected:
            raise AnswerError(422, f"values: expected {expected} number(s) for a {kind} trial")
        checked = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise AnswerError(422, f"values: expected numbers, got {value!r}")
            if not np.isfinite(value) or not low <= value <= high:
                raise AnswerError(
                    422, f"values: expected values in [{low:g}, {high:g}], got {value}"
                )
            checked.append(float(value))
        return checked

    def _flag(self, participant_id: str) -> None:
        """Post-screening of one participant on all their screening answers (in the caller's
        transaction)."""
        screened = screen_rows(self.ledger, self.rule, self.slider, participant_id)
        result = screened.get(participant_id, Screened(participant_id))
        reason = result.reason(self.rule)
        self.ledger.set_flag(participant_id, bool(reason), reason, self.clock())

    # Status ---------------------------------------------------------------------------------

    def status(self) -> PeopleStatus:
        return people_status(self.ledger, self.clock())


def screen_rows(
    ledger: Ledger, rule: ScreeningRule, slider: Slider, participant_id: str | None = None
) -> dict[str, Screened]:
    """Post-screening of every participant (or one) from the ledger's screening answers."""
    rows = ledger.screening_responses(participant_id)
    return screen(rows, rule, slider.low, slider.high)


def people_status(ledger: Ledger, now: float | None = None) -> PeopleStatus:
    """Participants, flagged, trials answered, pending and leased (method and listening)."""
    return PeopleStatus(*ledger.people_counts(time.time() if now is None else now))


def stored_rule(ledger: Ledger) -> ScreeningRule:
    """The study's screening rule (the defaults when no page has served it yet)."""
    return ScreeningRule(**ledger.meta("screening", {}))


class PeopleAnswerer:
    """Answers a batch of the loop from people's responses: per trial the first complete answer
    of an unflagged participant (anyone's with `use_all`); None until every trial has one."""

    source = PERSON_SOURCE

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def answer(self, batch_id: str, batch: TrialBatch) -> RatingBatch | None:
        rule = stored_rule(self.ledger)
        per_trial = ANSWERS_PER_TRIAL[batch.kind]
        low, high = self.ledger.meta("slider")
        values = np.full((batch.num_trials, per_trial), np.nan)
        raters = np.full(batch.num_trials, "", dtype=object)
        for position, index, value, rater in self.ledger.batch_rating_rows(batch_id):
            values[position, index], raters[position] = value, rater
        for position, index, value, rater in self.ledger.batch_responses(batch_id, rule.use_all):
            if raters[position] in ("", rater) and np.isnan(values[position, index]):
                values[position, index], raters[position] = value, rater
        if np.isnan(values).any():
            return None
        return RatingBatch(batch_id, batch.kind, values, raters.astype(str), low, high)

    def state(self) -> dict | None:
        return None


def responses_table(ledger: Ledger):
    """Every answer people gave, one row per value (pandas): trial, batch, stream, kind, answer
    index, value (slider scale; [−1, 1] for differential), participant, nonce, session, time,
    whether the participant is flagged, and whether the value is the rating the study used."""
    import pandas as pd

    rows = ledger.response_rows()
    columns = [
        "trial_id", "batch_id", "stream", "kind", "answer_index", "value", "participant_id",
        "nonce", "session_id", "time", "flagged", "used",
    ]  # fmt: skip
    table = pd.DataFrame.from_records(rows, columns=columns)
    table["time"] = pd.to_datetime(table["time"], unit="s", utc=True)
    return table.astype({"flagged": bool, "used": bool})


def participants_table(ledger: Ledger, rule: ScreeningRule, slider: Slider):
    """One row per participant: responses given, screening counts, flag and its reason, and
    how many of their values the study used."""
    import pandas as pd

    screened = screen_rows(ledger, rule, slider)
    responses = responses_table(ledger)
    records = []
    for participant_id in ledger.participant_ids():
        mine = responses[responses["participant_id"] == participant_id]
        s = screened.get(participant_id, Screened(participant_id))
        records.append(
            {
                "participant_id": participant_id,
                "num_values": len(mine),
                "num_used": int(mine["used"].sum()),
                "reference_trials": s.num_reference,
                "reference_failures": s.reference_failures,
                "anchor_trials": s.num_anchor,
                "anchor_failures": s.anchor_failures,
                "flagged": s.flagged(rule),
                "reason": s.reason(rule),
            }
        )
    return pd.DataFrame.from_records(records)
