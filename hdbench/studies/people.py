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
from hdbench.studies.screening import Screened, ScreeningRule, screen, screening_trials

SCREENING_STREAM = "screening"
ANSWERED_STREAMS = ("method", "listening")
PERSON_SOURCE = "person"


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
            self.ledger.db.execute(
                "INSERT INTO participants VALUES (?, ?, ?)",
                (participant_id, self.clock(), user_agent[:200]),
            )
        return participant_id

    def known(self, participant_id: str) -> bool:
        row = self.ledger.db.execute(
            "SELECT 1 FROM participants WHERE participant_id = ?", (participant_id,)
        ).fetchone()
        return row is not None

    # Sessions -------------------------------------------------------------------------------

    def current_session(self, participant_id: str) -> Session | None:
        """The participant's session with trials still to answer and its lease running."""
        row = self.ledger.db.execute(
            "SELECT l.session_id, MAX(l.expires) FROM leases l WHERE l.participant_id = ? "
            "AND l.expires > ? AND NOT EXISTS (SELECT 1 FROM responses p WHERE "
            "p.trial_id = l.trial_id AND p.participant_id = l.participant_id) "
            "GROUP BY l.session_id ORDER BY MAX(l.expires) DESC LIMIT 1",
            (participant_id, self.clock()),
        ).fetchone()
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
            self.ledger.db.executemany("INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?)", rows)
            for trial_id in order:
                self._record_order(trial_id)
        return self._session(session_id, participant_id, expires)

    def _free_trials(self, participant_id: str, limit: int) -> list[tuple[str, str]]:
        """(trial_id, kind) of open trials with no accepted answer, no running lease and no
        answer by this participant, oldest batch first."""
        if self.rule.use_all:  # any answer settles a trial
            answered, args = "", (self.clock(), limit)
        else:  # only an unflagged participant's answer settles it; nobody answers twice
            answered = (
                " AND (p.participant_id = ? OR p.participant_id NOT IN "
                "(SELECT participant_id FROM flags WHERE flagged = 1))"
            )
            args = (self.clock(), participant_id, limit)
        return self.ledger.db.execute(
            "SELECT t.trial_id, t.kind FROM trials t JOIN batches b ON b.batch_id = t.batch_id "
            f"WHERE b.stream IN {ANSWERED_STREAMS} "
            "AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.trial_id = t.trial_id) "
            "AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.trial_id = t.trial_id "
            "  AND l.expires > ? AND NOT EXISTS (SELECT 1 FROM responses q "
            "  WHERE q.trial_id = l.trial_id AND q.participant_id = l.participant_id)) "
            f"AND NOT EXISTS (SELECT 1 FROM responses p WHERE p.trial_id = t.trial_id{answered}) "
            "ORDER BY b.created, b.batch_id, t.position LIMIT ?",
            args,
        ).fetchall()

    def _screening_batch(self, kind: str, num: int) -> set[str]:
        if num <= 0:
            return set()
        batch, roles = screening_trials(kind, num, self.real_data, self.rule, self.rng)
        (position,) = self.ledger.db.execute(
            "SELECT COUNT(*) FROM batches WHERE stream = ?", (SCREENING_STREAM,)
        ).fetchone()
        batch_id = self.ledger.add_batch(SCREENING_STREAM, position, batch)
        trial_ids = [f"{batch_id}-{i}" for i in range(num)]
        with self.ledger.transaction():
            self.ledger.db.executemany(
                "INSERT OR IGNORE INTO screening_trials VALUES (?, ?)",
                zip(trial_ids, roles, strict=True),
            )
        return set(trial_ids)

    def _record_order(self, trial_id: str) -> None:
        """A random order of the trial's sounds, drawn the first time it is shown."""
        (kind,) = self.ledger.db.execute(
            "SELECT kind FROM trials WHERE trial_id = ?", (trial_id,)
        ).fetchone()
        num = 1 if kind == "absolute" else 2
        order = json.dumps(self.rng.permutation(num).tolist())
        self.ledger.db.execute(
            "UPDATE trials SET order_shown = ? WHERE trial_id = ? AND order_shown IS NULL",
            (order, trial_id),
        )

    def _session(self, session_id: str, participant_id: str, expires: float) -> Session:
        rows = self.ledger.db.execute(
            "SELECT l.trial_id, t.kind, l.slot, t.order_shown, EXISTS (SELECT 1 FROM responses p "
            "WHERE p.trial_id = l.trial_id AND p.participant_id = l.participant_id) "
            "FROM leases l JOIN trials t ON t.trial_id = l.trial_id "
            "WHERE l.session_id = ? AND l.participant_id = ? ORDER BY l.slot",
            (session_id, participant_id),
        ).fetchall()
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
        db = self.ledger.db
        with self.ledger.transaction():
            trial = db.execute(
                "SELECT t.kind, t.order_shown, b.stream FROM trials t JOIN batches b "
                "ON b.batch_id = t.batch_id WHERE t.trial_id = ?",
                (trial_id,),
            ).fetchone()
            if trial is None:
                raise AnswerError(404, f"trial_id: no trial {trial_id!r} in this study")
            kind, order_json, stream = trial
            given = db.execute(
                "SELECT nonce FROM responses WHERE trial_id = ? AND participant_id = ? LIMIT 1",
                (trial_id, participant_id),
            ).fetchone()
            if given is not None:
                if given[0] == nonce:
                    return False
                raise AnswerError(409, f"trial_id: trial {trial_id} is already answered")
            lease = db.execute(
                "SELECT participant_id, session_id FROM leases WHERE trial_id = ?", (trial_id,)
            ).fetchone()
            if lease is None or lease[0] != participant_id:
                raise AnswerError(403, f"trial_id: trial {trial_id} is not leased to you")
            values = self._check_values(kind, shown_values)
            order = json.loads(order_json) if order_json else list(range(len(values)))
            by_index = [0.0] * len(values)
            for shown, index in enumerate(order):
                by_index[index] = values[shown]
            now = self.clock()
            db.executemany(
                "INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (trial_id, i, participant_id, v, nonce, lease[1], now)
                    for i, v in enumerate(by_index)
                ],
            )
            if stream == SCREENING_STREAM:
                db.executemany(
                    "INSERT OR IGNORE INTO ratings VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (trial_id, i, v, participant_id, now, PERSON_SOURCE)
                        for i, v in enumerate(by_index)
                    ],
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
        self.ledger.db.execute(
            "INSERT OR REPLACE INTO flags VALUES (?, ?, ?, ?)",
            (participant_id, int(bool(reason)), reason, self.clock()),
        )

    # Status ---------------------------------------------------------------------------------

    def status(self) -> PeopleStatus:
        return people_status(self.ledger, self.clock())


def screen_rows(
    ledger: Ledger, rule: ScreeningRule, slider: Slider, participant_id: str | None = None
) -> dict[str, Screened]:
    """Post-screening of every participant (or one) from the ledger's screening answers."""
    query = (
        "SELECT p.participant_id, t.kind, s.roles, p.answer_index, p.value FROM responses p "
        "JOIN screening_trials s ON s.trial_id = p.trial_id "
        "JOIN trials t ON t.trial_id = p.trial_id"
    )
    args: tuple = ()
    if participant_id is not None:
        query += " WHERE p.participant_id = ?"
        args = (participant_id,)
    return screen(ledger.db.execute(query, args).fetchall(), rule, slider.low, slider.high)


def people_status(ledger: Ledger, now: float | None = None) -> PeopleStatus:
    """Participants, flagged, trials answered, pending and leased (method and listening)."""
    now = time.time() if now is None else now
    db = ledger.db
    streams = f"b.stream IN {ANSWERED_STREAMS}"
    (participants,) = db.execute("SELECT COUNT(*) FROM participants").fetchone()
    (flagged,) = db.execute("SELECT COUNT(*) FROM flags WHERE flagged = 1").fetchone()
    (responses,) = db.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT trial_id, participant_id FROM responses)"
    ).fetchone()
    answered_clause = (
        "(EXISTS (SELECT 1 FROM ratings r WHERE r.trial_id = t.trial_id) OR EXISTS "
        "(SELECT 1 FROM responses p WHERE p.trial_id = t.trial_id))"
    )
    (answered,) = db.execute(
        "SELECT COUNT(*) FROM trials t JOIN batches b ON b.batch_id = t.batch_id "
        f"WHERE {streams} AND {answered_clause}"
    ).fetchone()
    (pending,) = db.execute(
        "SELECT COUNT(*) FROM trials t JOIN batches b ON b.batch_id = t.batch_id "
        f"WHERE {streams} AND NOT {answered_clause}"
    ).fetchone()
    (leased,) = db.execute(
        "SELECT COUNT(*) FROM leases l JOIN trials t ON t.trial_id = l.trial_id "
        f"JOIN batches b ON b.batch_id = t.batch_id WHERE {streams} AND l.expires > ? AND NOT "
        "EXISTS (SELECT 1 FROM responses p WHERE p.trial_id = l.trial_id "
        "AND p.participant_id = l.participant_id)",
        (now,),
    ).fetchone()
    return PeopleStatus(participants, flagged, answered, pending, leased, responses)


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
        for position, index, value, rater in self.ledger.db.execute(
            "SELECT t.position, r.answer_index, r.value, r.rater FROM ratings r "
            "JOIN trials t ON t.trial_id = r.trial_id WHERE t.batch_id = ?",
            (batch_id,),
        ):
            values[position, index], raters[position] = value, rater
        excluded = (
            ""
            if rule.use_all
            else (
                " AND p.participant_id NOT IN (SELECT participant_id FROM flags WHERE flagged = 1)"
            )
        )
        for position, index, value, rater in self.ledger.db.execute(
            "SELECT t.position, p.answer_index, p.value, p.participant_id FROM responses p "
            f"JOIN trials t ON t.trial_id = p.trial_id WHERE t.batch_id = ?{excluded} "
            "ORDER BY p.time, p.participant_id",
            (batch_id,),
        ):
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

    rows = ledger.db.execute(
        "SELECT p.trial_id, t.batch_id, b.stream, t.kind, p.answer_index, p.value, "
        "p.participant_id, p.nonce, p.session_id, p.time, COALESCE(f.flagged, 0), "
        "EXISTS (SELECT 1 FROM ratings r WHERE r.trial_id = p.trial_id AND "
        "r.answer_index = p.answer_index AND r.rater = p.participant_id) "
        "FROM responses p JOIN trials t ON t.trial_id = p.trial_id "
        "JOIN batches b ON b.batch_id = t.batch_id "
        "LEFT JOIN flags f ON f.participant_id = p.participant_id "
        "ORDER BY p.time, p.trial_id, p.answer_index"
    ).fetchall()
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
    for (participant_id,) in ledger.db.execute("SELECT participant_id FROM participants"):
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
