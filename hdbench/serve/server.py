"""`hdbench serve STUDY_DIR`: checks the study can be served, prints its addresses, runs uvicorn."""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdbench.errors import SpecError
from hdbench.experiments.run import LEDGER_NAME
from hdbench.experiments.study import Study
from hdbench.oracles.spec import validate
from hdbench.studies.ledger import Ledger
from hdbench.studies.people import people_status
from hdbench.studies.screening import ScreeningRule


@dataclass(frozen=True)
class PageOptions:
    """A session's length, how long its lease runs, the screening rule, and whether a
    session's sounds are rendered ahead."""

    session_size: int = 30
    lease_seconds: float = 1800.0
    rule: ScreeningRule = field(default_factory=ScreeningRule)
    prefetch: bool = True  # render a session's sounds as soon as it is leased


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


def open_page(folder: Path, options, oracle_dirs=(), seed: int | None = None):
    """The page of the study in `folder`; SpecError in one line when it cannot be served."""
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
    return ListeningPage(study, renderer, options, secrets.randbits(63) if seed is None else seed)


def check_address(host: str, port: int) -> None:
    """SpecError unless `host` resolves and `port` can be listened on there now, so that a
    taken port or a mistyped host is one line before the study is opened, not a server error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError) as error:
        raise SpecError(f"--host: cannot resolve {host!r}: {error}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise SpecError(f"--port: cannot listen on {host}:{port}: {reason}") from None


def serve(folder: Path, host: str, port: int, options, oracle_dirs=()) -> None:
    import uvicorn

    from hdbench.serve.app import build_app

    page = open_page(folder, options, oracle_dirs)
    status = people_status(page.ledger)
    print(f"serving {folder}: {status.pending:,} trials pending, {status.answered:,} answered")
    print(f"  participants: http://{host}:{port}/")
    print(f"  admin:        http://{host}:{port}/admin?token={page.signer.admin_token}")
    print(f"  export:       http://{host}:{port}/admin/export.csv?token={page.signer.admin_token}")
    print(f"  screening:    {options.rule.describe()}", flush=True)
    uvicorn.run(build_app(page), host=host, port=port, log_level="warning")
