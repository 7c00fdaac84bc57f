"""Every file is written whole or not at all; a failure is one line naming the file; the
temporaries of killed writers are cleaned."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hdbench.errors import WriteFailedError
from hdbench.files import clean_temporaries, write_atomic, write_text


def test_a_write_that_fails_names_the_file_and_leaves_nothing(tmp_path):
    (tmp_path / "results").write_text("a file where a folder should be")
    target = tmp_path / "results" / "summary.md"
    with pytest.raises(WriteFailedError, match=rf"^{target}: cannot write: \w"):
        write_text("x", target)

    def half_then_fail(path):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(
        WriteFailedError, match=r"summary\.md: cannot write: No space left on device \(the disk"
    ):
        write_atomic(tmp_path / "summary.md", half_then_fail)
    assert list(tmp_path.iterdir()) == [tmp_path / "results"]


def test_the_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    dead = tmp_path / f".metrics.{dead_pid}-0123abcd.csv"
    live = tmp_path / f".metrics.{os.getpid()}-89abcdef.csv"
    other = tmp_path / ".hidden.csv"
    for path in (dead, live, other):
        path.write_text("x")
    assert clean_temporaries(tmp_path) == [dead]
    assert sorted(tmp_path.iterdir()) == sorted([live, other])
