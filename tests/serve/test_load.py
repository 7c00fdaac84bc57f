"""Load, hoarding and kill -9 on `hdbench serve` at a small scale (the figures at 200
participants are the load benchmark's, in `make perf`): 10 participants fetching their sounds
as a browser does, a hoarder with one invitation registering 300 times, the server killed with
SIGKILL twice and stopped with SIGTERM. What is asserted is what is lost and who is refused,
never how long anything took."""

from __future__ import annotations

import importlib.util
import stat
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyworld", reason="the speech extra is not installed")
pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install '.[web]'")

LOAD = Path(__file__).resolve().parents[2] / "benchmarks" / "serve_load.py"
spec = importlib.util.spec_from_file_location("serve_load", LOAD)
serve_load = sys.modules.setdefault("serve_load", importlib.util.module_from_spec(spec))
spec.loader.exec_module(serve_load)


def test_every_acknowledged_answer_survives_two_kills_and_the_hoarder_gets_one_session(study):
    """The study's 200 paired trials, 10 participants, sessions of 10 (screening off)."""
    result = serve_load.run_load(
        study.folder, 10, (0.0, 0.0), True, kills_at=(60, 130), hoarder=True, session_size=10
    )
    assert result["errors"] == []
    assert result["server_kills"] == 2
    assert result["acknowledged"] == 200  # every trial answered, through both kills
    assert result["acknowledged_found"] == 200
    assert result["answers_stored_twice"] == 0 and result["trials_answered_by_two"] == 0
    assert result["participants_answered"] == 10  # real participants kept being answered
    assert result["sounds_fetched"] >= 400
    assert result["hoarder"] == {
        "participants": 1,  # 300 registrations, one participant
        "refused_without_invitation": 20,
        "trials": 0,  # it never passed the headphone check: nothing leased
    }
    assert result["exit_status_on_sigterm"] == 130  # stopped, as Ctrl-C stops a command
    output = result["server_output"]
    assert "invitation links" in output and "token is in" in output
    from hdbench.serve.tokens import Signer, load_secret

    assert Signer(load_secret(study.folder)).admin_token not in output
    for path in [study.folder, study.folder / "ledger.sqlite", study.folder / "audio"]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
