"""The ledger: idempotent writes, whole batches, a tidy export."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from hdbench.protocol.trials import RatingBatch, TrialBatch
from hdbench.studies.ledger import Ledger, LedgerError, ledger_table


def paired_batch(num: int = 4, seed: int = 0) -> TrialBatch:
    rng = np.random.default_rng(seed)
    return TrialBatch.paired(rng.standard_normal((num, 2)), rng.standard_normal((num, 2)))


def answers(batch_id: str, num: int = 4) -> RatingBatch:
    values = np.linspace(0, 1, 2 * num).reshape(num, 2)
    return RatingBatch(batch_id, "paired", values, np.arange(num), 0.0, 1.0)


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as opened:
        opened.set_meta("slider", [0.0, 1.0])
        yield opened


def test_the_ledger_is_in_wal_mode(ledger):
    db = sqlite3.connect(ledger.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_batch_asked_again_is_a_no_op_and_other_stimuli_are_refused(ledger):
    batch = paired_batch()
    assert ledger.add_batch("method", 0, batch) == "m0"
    assert ledger.add_batch("method", 0, batch) == "m0"
    assert len(ledger.progress()) == 1
    np.testing.assert_array_equal(ledger.batch("m0").stimuli, batch.stimuli)
    with pytest.raises(LedgerError, match="batch m0 holds other trials"):
        ledger.add_batch("method", 0, paired_batch(seed=1))


def test_ratings_come_back_only_when_the_whole_batch_is_answered(ledger):
    ledger.add_batch("method", 0, paired_batch())
    assert ledger.add_answers([("m0-0", 0, 0.5, "p1", "person")]) == 1
    assert ledger.ratings("m0", 0.0, 1.0) is None
    assert ledger.num_answered("m0") == 1
    assert ledger.pending_trials("m0") == [("m0-0", 0), ("m0-1", 1), ("m0-2", 2), ("m0-3", 3)]
    added = ledger.add_ratings("m0", answers("m0"), "simulated")
    assert added == 7  # the person's answer is kept, the other seven are new
    ratings = ledger.ratings("m0", 0.0, 1.0)
    expected = answers("m0").values.copy()
    expected[0, 0] = 0.5
    np.testing.assert_array_equal(ratings.values, expected)


def test_a_replayed_answer_is_a_no_op(ledger):
    ledger.add_batch("method", 0, paired_batch())
    assert ledger.add_ratings("m0", answers("m0"), "simulated") == 8
    assert ledger.add_ratings("m0", answers("m0"), "simulated") == 0
    assert ledger.num_ratings() == 8


def test_the_export_has_one_row_per_rating_with_the_rated_stimulus(ledger):
    batch = paired_batch()
    ledger.add_batch("method", 0, batch)
    ledger.add_ratings("m0", answers("m0"), "simulated")
    table = ledger_table(ledger)
    assert len(table) == 8
    assert table["trial_id"].nunique() == 4
    row = table[(table.trial_id == "m0-2") & (table.answer_index == 1)].iloc[0]
    assert (row.x_0, row.x_1) == tuple(batch.stimuli[2, 1])
    assert row.value == answers("m0").values[2, 1]


def other_database(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    return path


#: Files that are not ledgers: id → (make it, expected words). None of them is written to.
NOT_LEDGERS = {
    "text": (lambda p: p.write_text("notes\n" * 50) or p, "file is not a database"),
    "truncated SQLite": (
        lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50) or p,
        "not a readable ledger",
    ),
    "another database": (other_database, "it has no batches, trials and ratings tables"),
    "empty, not to be made": (lambda p: p.write_bytes(b"") or p, "no batches, trials"),
}


@pytest.mark.parametrize("case", sorted(NOT_LEDGERS))
def test_a_file_that_is_not_a_ledger_is_named_and_left_alone(tmp_path, case):
    make, expected = NOT_LEDGERS[case]
    path = tmp_path / "ledger.sqlite"
    make(path)
    before = path.read_bytes()
    with pytest.raises(LedgerError) as error:
        Ledger(path, create=False)
    message = str(error.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message
    assert path.read_bytes() == before


def test_a_batch_copied_in_by_hand_is_named_and_not_exported(tmp_path, capsys):
    """A batch duplicated under another id (1,200 ratings more in the export, before) disagrees
    with its own keys: the export names it and writes nothing."""
    from hdbench.cli import main

    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.set_meta("slider", [0.0, 1.0])
        batch = TrialBatch.absolute(np.arange(6.0).reshape(3, 2))
        batch_id = ledger.add_batch("method", 0, batch)
        ratings = RatingBatch(batch_id, "absolute", np.full((3, 1), 0.5), np.arange(3), 0.0, 1.0)
        ledger.add_ratings(batch_id, ratings, "simulated")
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO batches SELECT 'x' || batch_id, stream, position + 1, kind, num_trials, "
        "num_answers, dim, digest, created FROM batches"
    )
    db.commit()
    db.close()
    assert main(["ledger", "export", str(path), "--to", "csv"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        f"hdbench: error: {path}: batch xm0 (the method stream's position 1): expected batch m1 "
        "at position 1; the ledger was edited or damaged"
    )
    assert not path.with_suffix(".csv").exists()
