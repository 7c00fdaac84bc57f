"""The ledger's SQL for people answering a study (`hdbench.studies.people`, `hdbench serve`):
participants, leases, responses, screening roles and flags. Part of `Ledger`, which holds every
SQL statement of a study; kept in a file of its own for size."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

#: The streams people's answers go to (the method's and the listening test's trials).
ANSWERED_STREAMS = ("method", "listening")
SCREENING_STREAM = "screening"
PERSON_SOURCE = "person"
_ANSWERED = f"b.stream IN {ANSWERED_STREAMS}"
_SETTLED = (
    "(EXISTS (SELECT 1 FROM ratings r WHERE r.trial_id = t.trial_id) OR EXISTS "
    "(SELECT 1 FROM responses p WHERE p.trial_id = t.trial_id))"
)
_FLAGGED = "SELECT participant_id FROM flags WHERE flagged = 1"


class PeopleRecords:
    """People's tables of a `Ledger`; writes run inside the caller's `ledger.transaction()`."""

    _db: sqlite3.Connection

    # Participants ---------------------------------------------------------------------------

    def add_participant(self, participant_id: str, created: float, user_agent: str) -> None:
        self._db.execute(
            "INSERT INTO participants VALUES (?, ?, ?)", (participant_id, created, user_agent)
        )

    def has_participant(self, participant_id: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM participants WHERE participant_id = ?", (participant_id,)
        ).fetchone()
        return row is not None

    def participant_ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT participant_id FROM participants")]

    def set_flag(self, participant_id: str, flagged: bool, reason: str, when: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO flags VALUES (?, ?, ?, ?)",
            (participant_id, int(flagged), reason, when),
        )

    # Leases and sessions ----------------------------------------------------------------------

    def current_session(self, participant_id: str, now: float) -> tuple[str, float] | None:
        """(session id, expiry) of the participant's session with an unanswered trial whose
        lease still runs, the latest first."""
        return self._db.execute(
            "SELECT l.session_id, MAX(l.expires) FROM leases l WHERE l.participant_id = ? "
            "AND l.expires > ? AND NOT EXISTS (SELECT 1 FROM responses p WHERE "
            "p.trial_id = l.trial_id AND p.participant_id = l.participant_id) "
            "GROUP BY l.session_id ORDER BY MAX(l.expires) DESC LIMIT 1",
            (participant_id, now),
        ).fetchone()

    def free_trials(
        self, participant_id: str, now: float, limit: int, use_all: bool
    ) -> list[tuple[str, str]]:
        """(trial_id, kind) of open trials with no accepted answer, no running lease and no
        answer by this participant, oldest batch first. With `use_all` any answer settles a
        trial; else only an unflagged participant's (and nobody answers twice)."""
        if use_all:
            answered, args = "", (now, limit)
        else:
            answered = f" AND (p.participant_id = ? OR p.participant_id NOT IN ({_FLAGGED}))"
            args = (now, participant_id, limit)
        return self._db.execute(
            "SELECT t.trial_id, t.kind FROM trials t JOIN batches b ON b.batch_id = t.batch_id "
            f"WHERE {_ANSWERED} "
            "AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.trial_id = t.trial_id) "
            "AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.trial_id = t.trial_id "
            "  AND l.expires > ? AND NOT EXISTS (SELECT 1 FROM responses q "
            "  WHERE q.trial_id = l.trial_id AND q.participant_id = l.participant_id)) "
            f"AND NOT EXISTS (SELECT 1 FROM responses p WHERE p.trial_id = t.trial_id{answered}) "
            "ORDER BY b.created, b.batch_id, t.position LIMIT ?",
            args,
        ).fetchall()

    def add_leases(self, rows: Iterable[tuple[str, str, str, int, float]]) -> None:
        """(trial_id, participant_id, session_id, slot, expires) each; a trial's old lease goes."""
        self._db.executemany("INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?)", rows)

    def lease_of(self, trial_id: str) -> tuple[str, str] | None:
        """(participant_id, session_id) of the trial's lease."""
        return self._db.execute(
            "SELECT participant_id, session_id FROM leases WHERE trial_id = ?", (trial_id,)
        ).fetchone()

    def session_trials(self, session_id: str, participant_id: str) -> list[tuple]:
        """(trial_id, kind, slot, order_shown JSON, answered) of the session's trials, by slot."""
        return self._db.execute(
            "SELECT l.trial_id, t.kind, l.slot, t.order_shown, EXISTS (SELECT 1 FROM responses p "
            "WHERE p.trial_id = l.trial_id AND p.participant_id = l.participant_id) "
            "FROM leases l JOIN trials t ON t.trial_id = l.trial_id "
            "WHERE l.session_id = ? AND l.participant_id = ? ORDER BY l.slot",
            (session_id, participant_id),
        ).fetchall()

    # Trials as shown --------------------------------------------------------------------------

    def trial_kind(self, trial_id: str) -> str:
        (kind,) = self._db.execute(
            "SELECT kind FROM trials WHERE trial_id = ?", (trial_id,)
        ).fetchone()
        return kind

    def set_order_shown(self, trial_id: str, order: str) -> None:
        """Record the order (JSON) the trial's sounds are shown in, the first time only."""
        self._db.execute(
            "UPDATE trials SET order_shown = ? WHERE trial_id = ? AND order_shown IS NULL",
            (order, trial_id),
        )

    def trial_to_answer(self, trial_id: str) -> tuple[str, str | None, str] | None:
        """(kind, order_shown JSON, stream) of a trial, or None."""
        return self._db.execute(
            "SELECT t.kind, t.order_shown, b.stream FROM trials t JOIN batches b "
            "ON b.batch_id = t.batch_id WHERE t.trial_id = ?",
            (trial_id,),
        ).fetchone()

    def num_batches(self, stream: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM batches WHERE stream = ?", (stream,)
        ).fetchone()[0]

    def add_screening_roles(self, roles: Iterable[tuple[str, str]]) -> None:
        """(trial_id, roles) of screening trials; replays are no-ops."""
        self._db.executemany("INSERT OR IGNORE INTO screening_trials VALUES (?, ?)", roles)

    # Responses ----------------------------------------------------------------------------------

    def response_nonce(self, trial_id: str, participant_id: str) -> str | None:
        row = self._db.execute(
            "SELECT nonce FROM responses WHERE trial_id = ? AND participant_id = ? LIMIT 1",
            (trial_id, participant_id),
        ).fetchone()
        return None if row is None else row[0]

    def add_responses(self, rows: Iterable[tuple]) -> None:
        """(trial_id, answer_index, participant_id, value, nonce, session_id, time) each."""
        self._db.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def add_person_ratings(self, rows: Iterable[tuple[str, int, float, str, float]]) -> None:
        """(trial_id, answer_index, value, participant_id, time) each, as a person's ratings."""
        self._db.executemany(
            "INSERT OR IGNORE INTO ratings VALUES (?, ?, ?, ?, ?, ?)",
            [(*row, PERSON_SOURCE) for row in rows],
        )

    def screening_responses(self, participant_id: str | None = None) -> list[tuple]:
        """(participant_id, trial_id, kind, roles, answer_index, value) of screening answers."""
        query = (
            "SELECT p.participant_id, p.trial_id, t.kind, s.roles, p.answer_index, p.value "
            "FROM responses p "
            "JOIN screening_trials s ON s.trial_id = p.trial_id "
            "JOIN trials t ON t.trial_id = p.trial_id"
        )
        if participant_id is None:
            return self._db.execute(query).fetchall()
        return self._db.execute(f"{query} WHERE p.participant_id = ?", (participant_id,)).fetchall()

    def batch_responses(self, batch_id: str, use_all: bool) -> list[tuple]:
        """(position, answer_index, value, participant_id) of the batch's responses, oldest
        first; flagged participants' left out unless `use_all`."""
        excluded = "" if use_all else f" AND p.participant_id NOT IN ({_FLAGGED})"
        return self._db.execute(
            "SELECT t.position, p.answer_index, p.value, p.participant_id FROM responses p "
            f"JOIN trials t ON t.trial_id = p.trial_id WHERE t.batch_id = ?{excluded} "
            "ORDER BY p.time, p.participant_id",
            (batch_id,),
        ).fetchall()

    def batch_rating_rows(self, batch_id: str) -> list[tuple]:
        """(position, answer_index, value, rater) of the batch's ratings."""
        return self._db.execute(
            "SELECT t.position, r.answer_index, r.value, r.rater FROM ratings r "
            "JOIN trials t ON t.trial_id = r.trial_id WHERE t.batch_id = ?",
            (batch_id,),
        ).fetchall()

    def response_rows(self) -> list[tuple]:
        """Every response value: trial, batch, stream, kind, answer index, value, participant,
        nonce, session, time, flagged, and whether it is the rating the study used."""
        return self._db.execute(
            "SELECT p.trial_id, t.batch_id, b.stream, t.kind, p.answer_index, p.value, "
            "p.participant_id, p.nonce, p.session_id, p.time, COALESCE(f.flagged, 0), "
            "EXISTS (SELECT 1 FROM ratings r WHERE r.trial_id = p.trial_id AND "
            "r.answer_index = p.answer_index AND r.rater = p.participant_id) "
            "FROM responses p JOIN trials t ON t.trial_id = p.trial_id "
            "JOIN batches b ON b.batch_id = t.batch_id "
            "LEFT JOIN flags f ON f.participant_id = p.participant_id "
            "ORDER BY p.time, p.trial_id, p.answer_index"
        ).fetchall()

    def answered_by_people(self) -> bool:
        """Whether people answered any of the method's or the listening test's trials."""
        row = self._db.execute(
            "SELECT 1 FROM ratings r JOIN trials t ON t.trial_id = r.trial_id JOIN batches b "
            f"ON b.batch_id = t.batch_id WHERE {_ANSWERED} AND r.source = ? LIMIT 1",
            (PERSON_SOURCE,),
        ).fetchone()
        return row is not None

    def rated_stimuli(self, source: str) -> list[tuple]:
        """(stimuli blob, dim, answer_index, value, rater) of absolute and paired ratings whose
        source starts with `source`, flagged participants' left out."""
        return self._db.execute(
            "SELECT t.stimuli, b.dim, r.answer_index, r.value, r.rater FROM ratings r "
            "JOIN trials t ON t.trial_id = r.trial_id JOIN batches b ON b.batch_id = t.batch_id "
            "WHERE b.kind IN ('absolute', 'paired') AND r.source LIKE ? || '%' "
            f"AND r.rater NOT IN ({_FLAGGED})",
            (source,),
        ).fetchall()

    def people_counts(self, now: float) -> tuple[int, int, int, int, int, int]:
        """Participants, flagged, trials answered, pending and leased (method and listening),
        and responses (one per trial and participant)."""

        def count(query: str, args: Any = ()) -> int:
            return self._db.execute(query, args).fetchone()[0]

        trials = "SELECT COUNT(*) FROM trials t JOIN batches b ON b.batch_id = t.batch_id"
        return (
            count("SELECT COUNT(*) FROM participants"),
            count("SELECT COUNT(*) FROM flags WHERE flagged = 1"),
            count(f"{trials} WHERE {_ANSWERED} AND {_SETTLED}"),
            count(f"{trials} WHERE {_ANSWERED} AND NOT {_SETTLED}"),
            count(
                "SELECT COUNT(*) FROM leases l JOIN trials t ON t.trial_id = l.trial_id "
                f"JOIN batches b ON b.batch_id = t.batch_id WHERE {_ANSWERED} AND l.expires > ? "
                "AND NOT EXISTS (SELECT 1 FROM responses p WHERE p.trial_id = l.trial_id "
                "AND p.participant_id = l.participant_id)",
                (now,),
            ),
            count("SELECT COUNT(*) FROM (SELECT DISTINCT trial_id, participant_id FROM responses)"),
        )
