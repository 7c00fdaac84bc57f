"""The ledger: every trial asked and every rating given in one study, in one SQLite file.

Tables (stdlib sqlite3, WAL mode, so a page server, an answering process and the study itself can
share the file):

- `study`: key → JSON (the study's spec, the slider);
- `batches`: one row per batch asked (`batch_id`, its `stream` — the method's trials or the
  listening test's — its position in that stream, kind, counts, and a digest of its stimuli);
- `trials`: one row per trial (`trial_id` = BATCH-POSITION, stimuli as float64 bytes, the order
  the stimuli were shown in when a person was asked);
- `ratings`: one row per answer (trial, answer index, value on the slider's own scale, who
  answered, when, and the source: simulated, replay, person);
- `answerers`: the state of a simulated answerer, written in the transaction of its ratings;
- people (`hdbench serve`, see `hdbench.studies.people`): `participants` (server-issued ids),
  `leases` (a trial lent to one participant's session until it expires), `responses` (every
  answer a person gave, with its client nonce: the raw record, never deleted; a method's batch
  takes its ratings from it once they pass screening), `screening_trials` (the role of each
  stimulus of a hidden-reference or anchor trial) and `flags` (post-screening, per participant).

Keys make every write idempotent: a batch asked again with the same stimuli, or an answer given
again, is a no-op, so a process killed at any point and started again neither loses nor
duplicates anything. A batch's answers are committed in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hdbench.errors import HdbenchError, WriteFailedError
from hdbench.protocol.trials import ANSWERS_PER_TRIAL, RatingBatch, TrialBatch
from hdbench.studies.ledger_people import PeopleRecords

#: The ledger's file name in a run or study folder.
LEDGER_NAME = "ledger.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    stream TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    num_trials INTEGER NOT NULL,
    num_answers INTEGER NOT NULL,
    dim INTEGER NOT NULL,
    digest TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (stream, position)
);
CREATE TABLE IF NOT EXISTS trials (
    trial_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL REFERENCES batches (batch_id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    stimuli BLOB NOT NULL,
    order_shown TEXT,
    UNIQUE (batch_id, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ratings (
    trial_id TEXT NOT NULL REFERENCES trials (trial_id),
    answer_index INTEGER NOT NULL,
    value REAL NOT NULL,
    rater TEXT NOT NULL,
    time REAL NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (trial_id, answer_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answerers (stream TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    participant_id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    user_agent TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    trial_id TEXT PRIMARY KEY REFERENCES trials (trial_id),
    participant_id TEXT NOT NULL REFERENCES participants (participant_id),
    session_id TEXT NOT NULL,
    slot INTEGER NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS leases_by_session ON leases (session_id, slot);
CREATE TABLE IF NOT EXISTS responses (
    trial_id TEXT NOT NULL REFERENCES trials (trial_id),
    answer_index INTEGER NOT NULL,
    participant_id TEXT NOT NULL REFERENCES participants (participant_id),
    value REAL NOT NULL,
    nonce TEXT NOT NULL,
    session_id TEXT NOT NULL,
    time REAL NOT NULL,
    PRIMARY KEY (trial_id, participant_id, answer_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS screening_trials (
    trial_id TEXT PRIMARY KEY REFERENCES trials (trial_id),
    roles TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flags (
    participant_id TEXT PRIMARY KEY REFERENCES participants (participant_id),
    flagged INTEGER NOT NULL,
    reason TEXT NOT NULL,
    time REAL NOT NULL
) WITHOUT ROWID;
"""

# The listening page's entry and qualification (`hdbench serve`): who came in by which
# invitation and with which platform ids, how far they got (consented, failed the headphone
# check, qualified, completed), and the opaque handle under which each trial was shown to them.
PAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS entrants (
    participant_id TEXT PRIMARY KEY REFERENCES participants (participant_id),
    invitation TEXT UNIQUE,
    platform TEXT NOT NULL,
    stage TEXT NOT NULL,
    headphone_correct INTEGER,
    headphone_trials INTEGER,
    updated REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS handles (
    handle TEXT PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants (participant_id),
    trial_id TEXT NOT NULL REFERENCES trials (trial_id)
) WITHOUT ROWID;
"""


class LedgerError(HdbenchError):
    """The ledger disagrees with what is asked of it (other stimuli, a missing trial)."""


class DamagedLedgerError(LedgerError):
    """The file is there but is not a whole ledger (a write that failed half-way, a damaged
    or foreign file)."""


@dataclass(frozen=True)
class BatchProgress:
    batch_id: str
    stream: str
    num_answers: int
    num_answered: int

    @property
    def complete(self) -> bool:
        return self.num_answered >= self.num_answers


def batch_id_of(stream: str, position: int) -> str:
    """`b3` for the method's fourth batch, `l0` for the listening test's first."""
    return f"{stream[0]}{position}"


def trial_id_of(batch_id: str, position: int) -> str:
    return f"{batch_id}-{position}"


def digest(batch: TrialBatch) -> str:
    """A hash of a batch's kind and stimuli (float64 bytes)."""
    data = np.ascontiguousarray(batch.stimuli, dtype=np.float64)
    return hashlib.sha256(
        batch.kind.encode() + repr(data.shape).encode() + data.tobytes()
    ).hexdigest()


class Ledger(PeopleRecords):
    """One study's SQLite file. Open it with `Ledger(path)`; close it with `close()` or `with`."""

    def __init__(self, path: Path, create: bool = True, any_thread: bool = False) -> None:
        """`create`: make the file when missing (else LedgerError); `any_thread`: the connection
        may be used from a thread other than its maker's (the caller keeps its uses one at a
        time, as the page server's event loop does)."""
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise LedgerError(f"{self.path}: no ledger here (expected a study's ledger.sqlite)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=not any_thread
            )
        except (OSError, sqlite3.Error) as error:
            raise LedgerError(f"{self.path}: cannot open the ledger: {error}") from None
        try:
            self._open(create)
        except sqlite3.OperationalError as error:
            self._db.close()
            raise WriteFailedError(f"{self.path}: cannot set up the ledger: {error}") from None
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise DamagedLedgerError(
                f"{self.path}: not a readable ledger ({error}); expected a study's ledger.sqlite, "
                "whole"
            ) from None

    def _open(self, create: bool) -> None:
        """Check the file is a whole ledger (SQLite's quick check, the ledger's tables unless it
        may be made) and set it up; sqlite3.DatabaseError when it is not."""
        if self._db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("SQLite's quick check failed")
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        if not {"batches", "trials", "ratings"} <= tables and (tables or not create):
            raise sqlite3.DatabaseError("it has no batches, trials and ratings tables")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._db.executescript(PAGE_SCHEMA)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def transaction(self) -> _Transaction:
        """`with ledger.transaction():` BEGIN IMMEDIATE … COMMIT (ROLLBACK on an exception); a
        write SQLite refuses (disk full, file-size limit) is one WriteFailedError naming the
        file."""
        return _Transaction(self._db, self.path)

    # The study's description -------------------------------------------------------------

    def set_meta(self, key: str, value: Any) -> None:
        """Store `value` (JSON) under `key`, once: a different value later is refused."""
        text = json.dumps(value, sort_keys=True)
        with self._transaction():
            self._db.execute("INSERT OR IGNORE INTO study VALUES (?, ?)", (key, text))
            (stored,) = self._db.execute("SELECT value FROM study WHERE key = ?", (key,)).fetchone()
        if stored != text:
            raise LedgerError(f"{self.path}: study {key} is already {stored}, not {text}")

    def meta(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM study WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # Batches and trials -------------------------------------------------------------------

    def add_batch(self, stream: str, position: int, batch: TrialBatch) -> str:
        """Record a batch asked (idempotent); returns its id. The same position with other
        stimuli raises LedgerError: the study has changed under the ledger."""
        batch_id = batch_id_of(stream, position)
        batch_digest = digest(batch)
        stored = self._db.execute(
            "SELECT digest FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        if stored is not None:
            if stored[0] != batch_digest:
                raise LedgerError(
                    f"{self.path}: batch {batch_id} holds other trials than the study asks for "
                    "(was the study's spec or code changed?)"
                )
            return batch_id
        num_trials, _, dim = batch.stimuli.shape
        stimuli = np.ascontiguousarray(batch.stimuli, dtype=np.float64)
        rows = [
            (trial_id_of(batch_id, i), batch_id, i, batch.kind, stimuli[i].tobytes())
            for i in range(num_trials)
        ]
        with self._transaction():
            self._db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    batch_id,
                    stream,
                    position,
                    batch.kind,
                    num_trials,
                    batch.num_ratings,
                    dim,
                    batch_digest,
                    time.time(),
                ),
            )
            self._db.executemany(
                "INSERT INTO trials (trial_id, batch_id, position, kind, stimuli) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        return batch_id

    def batch(self, batch_id: str) -> TrialBatch | None:
        """The trials of a recorded batch, or None."""
        row = self._db.execute(
            "SELECT kind, dim FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        if row is None:
            return None
        kind, dim = row
        blobs = self._db.execute(
            "SELECT stimuli FROM trials WHERE batch_id = ? ORDER BY position", (batch_id,)
        ).fetchall()
        stimuli = np.stack([np.frombuffer(b, dtype=np.float64) for (b,) in blobs])
        return TrialBatch.build(kind, stimuli.reshape(len(blobs), -1, dim))

    def check_keys(self) -> None:
        """LedgerError naming the first batch that disagrees with its own keys (a ledger edited
        by hand, or damaged): its id is not its stream's letter and position, its stream's
        positions skip or repeat, its trials are not BATCH-0, BATCH-1, …, or its stimuli are
        not those its digest was made of."""
        positions: dict[str, int] = {}
        for batch_id, stream, position, num_trials, stored in self._db.execute(
            "SELECT batch_id, stream, position, num_trials, digest FROM batches "
            "ORDER BY stream, position"
        ).fetchall():
            where = f"{self.path}: batch {batch_id} (the {stream} stream's position {position})"
            expected = positions.get(stream, 0)
            if batch_id != batch_id_of(stream, position) or position != expected:
                raise LedgerError(
                    f"{where}: expected batch {batch_id_of(stream, expected)} at position "
                    f"{expected}; the ledger was edited or damaged"
                )
            positions[stream] = position + 1
            trial_ids = [
                row[0]
                for row in self._db.execute(
                    "SELECT trial_id FROM trials WHERE batch_id = ? ORDER BY position", (batch_id,)
                )
            ]
            if trial_ids != [trial_id_of(batch_id, i) for i in range(num_trials)]:
                raise LedgerError(
                    f"{where}: expected trials {batch_id}-0 to {batch_id}-"
                    f"{num_trials - 1}; the ledger was edited or damaged"
                )
            if digest(self.batch(batch_id)) != stored:
                raise LedgerError(
                    f"{where}: its stimuli are not those it was asked with; the "
                    "ledger was edited or damaged"
                )

    def batch_digest(self, batch_id: str) -> str | None:
        row = self._db.execute(
            "SELECT digest FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        return None if row is None else row[0]

    # Ratings ------------------------------------------------------------------------------

    def add_ratings(
        self,
        batch_id: str,
        ratings: RatingBatch,
        source: str,
        answerer: tuple[str, dict] | None = None,
    ) -> int:
        """Record a whole batch's answers in one transaction (with an answerer's state, as
        (stream, state)); answers already there are kept. Returns the number of new rows."""
        values = np.asarray(ratings.values, dtype=float).tolist()
        raters = np.asarray(ratings.listener_ids).astype(str).tolist()
        now = time.time()
        rows = [
            (f"{batch_id}-{i}", j, value, raters[i], now, source)
            for i, answers in enumerate(values)
            for j, value in enumerate(answers)
        ]
        with self._transaction():
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO ratings VALUES (?, ?, ?, ?, ?, ?)", rows)
            added = self._db.total_changes - before
            if answerer is not None:
                stream, state = answerer
                self._db.execute(
                    "INSERT OR REPLACE INTO answerers VALUES (?, ?)",
                    (stream, json.dumps(state)),
                )
        return added

    def add_answers(self, answers: Iterable[tuple[str, int, float, str, str]]) -> int:
        """Record single answers (trial_id, answer_index, value, rater, source) in one
        transaction; replays are no-ops. Returns the number of new rows."""
        now = time.time()
        rows = [(t, j, float(v), r, now, s) for t, j, v, r, s in answers]
        with self._transaction():
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO ratings VALUES (?, ?, ?, ?, ?, ?)", rows)
            return self._db.total_changes - before

    def answerer_state(self, stream: str) -> dict | None:
        row = self._db.execute("SELECT state FROM answerers WHERE stream = ?", (stream,)).fetchone()
        return None if row is None else json.loads(row[0])

    def ratings(self, batch_id: str, low: float, high: float) -> RatingBatch | None:
        """The batch's answers when every one is in, else None. `low`, `high`: the slider."""
        row = self._db.execute(
            "SELECT kind, num_trials, num_answers FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        if row is None:
            return None
        kind, num_trials, num_answers = row
        found = self._db.execute(
            "SELECT t.position, r.answer_index, r.value, r.rater FROM ratings r "
            "JOIN trials t ON t.trial_id = r.trial_id WHERE t.batch_id = ?",
            (batch_id,),
        ).fetchall()
        if len(found) < num_answers:
            return None
        per_trial = ANSWERS_PER_TRIAL[kind]
        values = np.empty((num_trials, per_trial))
        raters = np.empty(num_trials, dtype=object)
        for position, answer_index, value, rater in found:
            values[position, answer_index] = value
            raters[position] = rater
        return RatingBatch(batch_id, kind, values, raters.astype(str), low, high)

    def progress(self) -> list[BatchProgress]:
        """Every batch with its number of answers expected and given, in the order asked."""
        rows = self._db.execute(
            "SELECT b.batch_id, b.stream, b.num_answers, COUNT(r.value) FROM batches b "
            "LEFT JOIN trials t ON t.batch_id = b.batch_id "
            "LEFT JOIN ratings r ON r.trial_id = t.trial_id "
            "GROUP BY b.batch_id ORDER BY b.created, b.batch_id"
        ).fetchall()
        return [BatchProgress(*row) for row in rows]

    def pending_trials(self, batch_id: str) -> list[tuple[str, int]]:
        """(trial_id, position) of the batch's trials with an answer missing."""
        per_trial = self._db.execute(
            "SELECT num_answers / num_trials FROM batches WHERE batch_id = ?", (batch_id,)
        ).fetchone()
        if per_trial is None:
            return []
        return self._db.execute(
            "SELECT t.trial_id, t.position FROM trials t LEFT JOIN ratings r "
            "ON r.trial_id = t.trial_id WHERE t.batch_id = ? GROUP BY t.trial_id "
            "HAVING COUNT(r.value) < ? ORDER BY t.position",
            (batch_id, per_trial[0]),
        ).fetchall()

    def num_answered(self, batch_id: str) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM ratings r JOIN trials t ON t.trial_id = r.trial_id "
            "WHERE t.batch_id = ?",
            (batch_id,),
        ).fetchone()[0]

    def num_ratings(self, stream: str | None = None) -> int:
        """Answers recorded, in one stream or in all."""
        if stream is None:
            return self._db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
        return self._db.execute(
            "SELECT COUNT(*) FROM ratings r JOIN trials t ON t.trial_id = r.trial_id "
            "JOIN batches b ON b.batch_id = t.batch_id WHERE b.stream = ?",
            (stream,),
        ).fetchone()[0]

    def rows(self) -> list[tuple]:
        """One tuple per rating: batch, stream, kind, trial, trial position, answer index, value,
        rater, time, source, stimuli (bytes), dim."""
        return self._db.execute(
            "SELECT b.batch_id, b.stream, b.kind, t.trial_id, t.position, r.answer_index, "
            "r.value, r.rater, r.time, r.source, t.stimuli, b.dim FROM ratings r "
            "JOIN trials t ON t.trial_id = r.trial_id JOIN batches b ON b.batch_id = t.batch_id "
            "ORDER BY b.created, b.batch_id, t.position, r.answer_index"
        ).fetchall()

    # The listening page (hdbench serve): entry, qualification, handles, sounds, leases -----

    def add_entrant(
        self, participant_id: str, invitation: str | None, platform: dict, user_agent: str
    ) -> str:
        """Register a participant who came in by `invitation` (None: a shared link) with their
        platform ids, in one transaction; an invitation already used gives its participant."""
        now = time.time()
        with self._transaction():
            if invitation is not None:
                row = self._db.execute(
                    "SELECT participant_id FROM entrants WHERE invitation = ?", (invitation,)
                ).fetchone()
                if row is not None:
                    return row[0]
            self._db.execute(
                "INSERT INTO participants VALUES (?, ?, ?)",
                (participant_id, now, user_agent[:200]),
            )
            self._db.execute(
                "INSERT INTO entrants VALUES (?, ?, ?, 'consented', NULL, NULL, ?)",
                (participant_id, invitation, json.dumps(platform, sort_keys=True), now),
            )
        return participant_id

    def entrant(self, participant_id: str) -> tuple[str, int | None, int | None] | None:
        """(stage, headphone answers correct, headphone trials) of a participant, or None."""
        return self._db.execute(
            "SELECT stage, headphone_correct, headphone_trials FROM entrants "
            "WHERE participant_id = ?",
            (participant_id,),
        ).fetchone()

    def set_stage(self, participant_id: str, stage: str, headphones: tuple[int, int] | None = None):
        """Move a participant to `stage`, with their headphone score (correct, trials)."""
        with self._transaction():
            if headphones is not None:
                self._db.execute(
                    "UPDATE entrants SET headphone_correct = ?, headphone_trials = ? "
                    "WHERE participant_id = ?",
                    (*headphones, participant_id),
                )
            self._db.execute(
                "UPDATE entrants SET stage = ?, updated = ? WHERE participant_id = ?",
                (stage, time.time(), participant_id),
            )

    def entrants(self) -> list[tuple[str, str, str, int | None, int | None]]:
        """(participant, invitation, platform ids as JSON, stage, headphone correct, trials)."""
        return self._db.execute(
            "SELECT participant_id, invitation, platform, stage, headphone_correct, "
            "headphone_trials FROM entrants ORDER BY updated"
        ).fetchall()

    def add_handles(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Record (handle, participant, trial): the opaque id a trial is shown under."""
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO handles VALUES (?, ?, ?)", rows)

    def trial_of_handle(self, participant_id: str, handle: str) -> str | None:
        row = self._db.execute(
            "SELECT trial_id FROM handles WHERE handle = ? AND participant_id = ?",
            (handle, participant_id),
        ).fetchone()
        return None if row is None else row[0]

    def trial_sound(self, trial_id: str) -> tuple[np.ndarray, list[int] | None, tuple | None]:
        """A trial's stimuli (num_stimuli, dim), the order they are shown in (None before it is
        first shown) and its lease (participant, session, expires) or None."""
        blob, dim, order = self._db.execute(
            "SELECT t.stimuli, b.dim, t.order_shown FROM trials t "
            "JOIN batches b ON b.batch_id = t.batch_id WHERE t.trial_id = ?",
            (trial_id,),
        ).fetchone()
        lease = self._db.execute(
            "SELECT participant_id, session_id, expires FROM leases WHERE trial_id = ?",
            (trial_id,),
        ).fetchone()
        stimuli = np.frombuffer(blob, dtype=np.float64).reshape(-1, dim)
        return stimuli, (json.loads(order) if order else None), lease

    def renew_leases(self, participant_id: str, session_id: str, expires: float) -> None:
        """Extend the participant's leases of `session_id` (those still theirs) to `expires`."""
        with self._transaction():
            self._db.execute(
                "UPDATE leases SET expires = MAX(expires, ?) "
                "WHERE participant_id = ? AND session_id = ?",
                (expires, participant_id, session_id),
            )

    def leased_trials(self, participant_id: str) -> list[tuple[str, str, np.ndarray, list, str]]:
        """(trial, kind, stimuli (num_stimuli, dim), order shown, screening roles or "") of every
        trial leased to the participant, in their sessions' order."""
        rows = self._db.execute(
            "SELECT t.trial_id, t.kind, t.stimuli, b.dim, t.order_shown, "
            "COALESCE(s.roles, '') FROM leases l JOIN trials t ON t.trial_id = l.trial_id "
            "JOIN batches b ON b.batch_id = t.batch_id "
            "LEFT JOIN screening_trials s ON s.trial_id = t.trial_id "
            "WHERE l.participant_id = ? ORDER BY l.session_id, l.slot",
            (participant_id,),
        ).fetchall()
        return [
            (trial_id, kind, np.frombuffer(blob, np.float64).reshape(-1, dim), json.loads(order), r)
            for trial_id, kind, blob, dim, order, r in rows
        ]

    def open_lease_session(self, participant_id: str) -> str | None:
        """The participant's latest session holding a trial they have not answered, running or
        lapsed (a lapsed lease nobody else took is still theirs), or None."""
        row = self._db.execute(
            "SELECT l.session_id FROM leases l WHERE l.participant_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM responses p WHERE p.trial_id = l.trial_id AND "
            "p.participant_id = l.participant_id) ORDER BY l.expires DESC LIMIT 1",
            (participant_id,),
        ).fetchone()
        return None if row is None else row[0]

    def num_responses(self, participant_id: str) -> int:
        """Trials the participant answered."""
        return self._db.execute(
            "SELECT COUNT(DISTINCT trial_id) FROM responses WHERE participant_id = ?",
            (participant_id,),
        ).fetchone()[0]

    def _transaction(self):
        return _Transaction(self._db, self.path)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on an exception; SQLite's OperationalError (disk
    full, file-size limit, locked past the timeout) becomes one line naming the file."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db, self._path = db, path

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise self._failed(error) from None

    def __exit__(self, exc_type, exc, traceback) -> bool:
        try:
            self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.OperationalError as error:
            if exc_type is None:
                raise self._failed(error) from None
        if isinstance(exc, sqlite3.OperationalError):
            raise self._failed(exc) from None
        return False

    def _failed(self, error: sqlite3.OperationalError) -> WriteFailedError:
        return WriteFailedError(f"{self._path}: cannot write the ledger: {error}")


def ledger_table(ledger: Ledger):
    """A ledger that disagrees with its own keys is refused (`Ledger.check_keys`). Else every
    rating as a tidy table (pandas), one row per rating: batch, stream, kind, trial,
    answer index, value (slider scale) and `value_normalised` ([0, 1], or [−1, 1] for
    differential answers), rater, time, source, and the stimuli: `x_0…` the stimulus rated
    (absolute, paired), `a_0…`, `b_0…` the pair compared (differential)."""
    import pandas as pd

    ledger.check_keys()
    low, high = ledger.meta("slider", [0.0, 1.0])
    records = []
    for (
        batch_id,
        stream,
        kind,
        trial_id,
        position,
        index,
        value,
        rater,
        when,
        source,
        blob,
        dim,
    ) in ledger.rows():
        stimuli = np.frombuffer(blob, dtype=np.float64).reshape(-1, dim)
        record = {
            "batch_id": batch_id,
            "stream": stream,
            "kind": kind,
            "trial_id": trial_id,
            "trial_position": position,
            "answer_index": index,
            "value": value,
            "value_normalised": value if kind == "differential" else (value - low) / (high - low),
            "rater": rater,
            "time": pd.Timestamp(when, unit="s", tz="UTC"),
            "source": source,
        }
        if kind == "differential":
            record.update({f"a_{i}": v for i, v in enumerate(stimuli[0])})
            record.update({f"b_{i}": v for i, v in enumerate(stimuli[1])})
        else:
            record.update({f"x_{i}": v for i, v in enumerate(stimuli[index])})
        records.append(record)
    return pd.DataFrame.from_records(records)
