"""What `hdbench serve` prints and leaves on disk: a warning beyond loopback, the admin token
only on a terminal, invitation links, and a study folder readable by its owner only."""

from __future__ import annotations

import io
import signal
import stat
import subprocess
import sys
import urllib.request

import pytest

pytest.importorskip("pyworld", reason="the speech extra is not installed")
pytest.importorskip("starlette", reason="the web extra is not installed: pip install '.[web]'")

from hdbench.serve.server import PageOptions, announce, open_page, owner_only

#: Seconds before a server that never answers fails the test instead of hanging it.
WAIT = 60


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_beyond_loopback_serve_warns_in_one_line_and_keeps_the_token_out_of_a_log(study):
    page = open_page(study.folder, PageOptions(), seed=0)
    log = io.StringIO()
    announce(page, study.folder, "0.0.0.0", 8000, out=log)
    lines = log.getvalue().splitlines()
    assert lines[0] == (
        "warning: --host 0.0.0.0: serving plain HTTP beyond this machine; use a TLS proxy"
    )
    assert page.signer.admin_token not in log.getvalue()
    token_file = study.folder / "admin-token"
    assert token_file.read_text().strip() == page.signer.admin_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    terminal = Terminal()
    announce(page, study.folder, "127.0.0.1", 8000, out=terminal)
    assert "warning" not in terminal.getvalue()
    assert f"/admin?token={page.signer.admin_token}" in terminal.getvalue()


def test_invitation_links_are_written_for_the_owner_only(study):
    page = open_page(study.folder, PageOptions(invitations=3), seed=0)
    out = Terminal()
    announce(page, study.folder, "127.0.0.1", 8000, out=out)
    path = study.folder / "invitations.txt"
    links = path.read_text().splitlines()
    assert links == [
        f"http://127.0.0.1:8000/?invitation={page.signer.invitation(str(i))}" for i in range(3)
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"3 invitation links in {path}" in out.getvalue()


def test_the_study_folder_becomes_readable_by_its_owner_only(study):
    (study.folder / "ledger.sqlite").chmod(0o644)
    study.folder.chmod(0o755)
    owner_only(study.folder)
    for path in [study.folder, *study.folder.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_serve_on_port_0_announces_the_port_it_listens_on_and_serves_the_page(study):
    """`hdbench serve --port 0` end to end: the system picks the port, the printed link names
    it (not 0) and answers; SIGTERM ends the server with the command line's 130."""
    command = [sys.executable, "-m", "hdbench.cli", "serve", str(study.folder), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            lines = iter(server.stdout.readline, "")
            link = next(line for line in lines if "participants:" in line).split()[1]
            port = int(link.rstrip("/").rsplit(":", 1)[1])
            assert port != 0
            with urllib.request.urlopen(link, timeout=WAIT) as response:
                assert response.status == 200
                assert "<html" in response.read().decode().lower()
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=WAIT) == 130
