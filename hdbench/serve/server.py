"""`hdbench serve STUDY_DIR`: checks the study can be served, prints its addresses, runs uvicorn.

The study folder is made readable by its owner only (the ledger holds people's answers and
platform ids; the secret signs every id). The admin token goes to the terminal, or, when the
output is not one (a log file, a pipe), to `admin-token` in the study folder, never into the
log. An address other than loopback is served with a one-line warning: the page speaks plain
HTTP; put it behind a TLS proxy.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import stat
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hdbench.errors import SpecError
from hdbench.experiments.run import LEDGER_NAME
from hdbench.experiments.study import Study
from hdbench.oracles.spec import validate
from hdbench.studies.ledger import Ledger
from hdbench.studies.people import people_status
from hdbench.studies.screening import ScreeningRule

ADMIN_TOKEN_FILE = "admin-token"
INVITATIONS_FILE = "invitations.txt"


@dataclass(frozen=True)
class PageOptions:
    """How the page runs a study: sessions and their leases, screening, the qualification
    steps, the completion code, entry, and the server's limits."""

    session_size: int = 30
    lease_seconds: float = 600.0  # renewed by every answer and sound fetched
    rule: ScreeningRule = field(default_factory=ScreeningRule)
    prefetch: bool = True  # render a session's sounds as soon as it is leased
    headphone_trials: int = 6  # 0: no headphone check
    headphone_pass: int = 5
    num_training: int = 4
    completion_code: str | None = None  # shown (and one session a participant) when set
    redirect_url: str | None = None
    invitations: int = 0  # > 0: entry only by one of that many signed links
    entries_per_address: int = 10  # new participants a minute from one address (shared link)
    entries_per_minute: int = 120  # and from everywhere
    max_body: int = 16 * 1024  # bytes
    render_workers: int = 2
    render_processes: bool = False  # render in worker processes (serve does: WORLD holds the GIL)


def require_web() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise SpecError(
            "serve needs the web extra: pip install 'hdbench[web]' (starlette, uvicorn)"
        ) from None


def screening_rule(folder: Path, given: dict[str, Any]) -> ScreeningRule:
    """The study's rule: the one stored when it was first served, with `given` options on top
    (a change is refused by the ledger), or the defaults."""
    with Ledger(folder / LEDGER_NAME, create=False) as ledger:
        stored = ledger.meta("screening", {})
    return validate(ScreeningRule, {**stored, **given}, "screening")


def open_page(folder: Path, options, oracle_dirs=(), seed: int | None = None, on_render_start=None):
    """The page of the study in `folder`; SpecError in one line when it cannot be served.
    `on_render_start(name)`: called as each sound's rendering begins (a test's probe)."""
    require_web()
    from hdbench.serve.app import ListeningPage
    from hdbench.serve.render import renderer_for

    study = Study.open(folder, oracle_dirs)
    renderer = renderer_for(study.oracle)
    with Ledger(folder / LEDGER_NAME) as ledger:
        pending = people_status(ledger).pending
    if pending == 0:
        raise SpecError(
            f"{folder}: nothing is waiting for an answer (the study is finished, or run "
            f"hdbench study resume {folder} to ask its next batch)"
        )
    seed = secrets.randbits(63) if seed is None else seed
    return ListeningPage(study, renderer, options, seed, on_render_start)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on `host`:`port` (port 0: one the system picks), or a SpecError naming
    --host or --port, so that a taken port or a mistyped host is one line, not a server error.
    It listens at once: a visitor who follows the link before the server has started waits in
    the backlog instead of being refused."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError) as error:
        raise SpecError(f"--host: cannot resolve {host!r}: {error}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
        sock.listen()
    except OSError as error:
        sock.close()
        reason = error.strerror or type(error).__name__
        raise SpecError(f"--port: cannot listen on {host}:{port}: {reason}") from None
    return sock


def check_address(host: str, port: int) -> None:
    """SpecError unless `port` can be listened on at `host` now (before the study is opened)."""
    listening_socket(host, port).close()


def owner_only(folder: Path) -> None:
    """The study folder and everything in it readable and writable by its owner only."""
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if not path.is_symlink():
            path.chmod(mode & 0o700)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def write_invitations(page, folder: Path, base: str) -> Path:
    """invitations.txt: one study link a line, each with its own signed invitation."""
    path = folder / INVITATIONS_FILE
    links = [
        f"{base}/?invitation={page.signer.invitation(str(slot))}"
        for slot in range(page.options.invitations)
    ]
    path.write_text("\n".join(links) + "\n")
    path.chmod(0o600)
    return path


def announce(page, folder: Path, host: str, port: int, out=None) -> None:
    """What serve prints: addresses, entry, screening; the admin token only to a terminal."""
    out = out or sys.stdout
    base = f"http://{host}:{port}"
    status = people_status(page.ledger)
    say = lambda line: print(line, file=out)  # noqa: E731
    if not is_loopback(host):
        say(f"warning: --host {host}: serving plain HTTP beyond this machine; use a TLS proxy")
    say(f"serving {folder}: {status.pending:,} trials pending, {status.answered:,} answered")
    if page.options.invitations:
        path = write_invitations(page, folder, base)
        say(f"  participants: {page.options.invitations:,} invitation links in {path}")
    else:
        say(f"  participants: {base}/ (rate-limited shared link)")
    token = page.signer.admin_token
    if out.isatty():
        say(f"  admin:        {base}/admin?token={token}")
    else:
        path = folder / ADMIN_TOKEN_FILE
        path.write_text(token + "\n")
        path.chmod(0o600)
        say(f"  admin:        {base}/admin?token=… (the token is in {path})")
    say(f"  screening:    {options_line(page.options)}")
    out.flush()


def options_line(options: PageOptions) -> str:
    code = f"completion code {options.completion_code}" if options.completion_code else "no code"
    return f"{options.rule.describe()}; {code}"


def serve(folder: Path, host: str, port: int, options, oracle_dirs=()) -> None:
    os.umask(0o077)  # every file the server writes (sounds, the ledger's journal): owner only
    owner_only(folder)
    page = open_page(folder, replace(options, render_processes=True), oracle_dirs)
    sock = listening_socket(host, port)
    bound = sock.getsockname()[1]  # the port the system picked, for --port 0
    announce(page, folder, host, bound)
    page_server(page, host, bound).run(sockets=[sock])


def page_server(page, host: str, port: int):
    """A uvicorn server of the page (what serve runs; tests run it in a thread). On SIGTERM or
    Ctrl-C the page's rendering stops at once, before uvicorn waits for open requests (one
    waiting for a sound not yet rendered is told to try again)."""
    import uvicorn

    from hdbench.serve.app import build_app

    class PageServer(uvicorn.Server):
        ready = threading.Event()  # set once it listens

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            self.ready.set()

        def handle_exit(self, sig, frame) -> None:
            page.stop()
            super().handle_exit(sig, frame)

    return PageServer(uvicorn.Config(build_app(page), host=host, port=port, log_level="warning"))
