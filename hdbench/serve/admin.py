"""The admin pages of the listening page, behind the token `hdbench serve` prints.

    GET /admin?token=…                  status, each participant's stage, headphone check,
                                        platform ids and screening
    GET /admin/export.csv?token=…       every rating the study holds (the ledger export)
    GET /admin/responses.csv?token=…    every answer people gave
    GET /admin/participants.csv?token=… every participant: entry, stage, screening, exclusion

CSV cells a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage
return) are written with a leading apostrophe (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import html
import io

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hdbench.studies.entries import entries_table
from hdbench.studies.ledger import ledger_table
from hdbench.studies.people import AnswerError, responses_table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(table):
    """A copy of `table` (pandas) whose text cells cannot start a spreadsheet formula."""
    return table.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v)


def csv_response(table) -> Response:
    buffer = io.StringIO()
    neutralised(table).to_csv(buffer, index=False)
    return Response(buffer.getvalue(), media_type="text/csv")


def admin_routes(page) -> list[Route]:
    def admin_only(request: Request) -> None:
        if not page.signer.is_admin(request.query_params.get("token")):
            raise AnswerError(403, "token: expected the admin token that serve printed")

    async def admin(request: Request) -> Response:
        admin_only(request)
        return Response(admin_html(page), media_type="text/html")

    async def export(request: Request) -> Response:
        admin_only(request)
        return csv_response(ledger_table(page.ledger))

    async def responses(request: Request) -> Response:
        admin_only(request)
        return csv_response(responses_table(page.ledger))

    async def participants(request: Request) -> Response:
        admin_only(request)
        return csv_response(entries_table(page.ledger, page.options.rule, page.slider))

    return [
        Route("/admin", admin),
        Route("/admin/export.csv", export),
        Route("/admin/responses.csv", responses),
        Route("/admin/participants.csv", participants),
    ]


def admin_html(page) -> str:
    """The admin page: the study's status and each participant's entry and screening."""
    lines = page.study.status()
    table = entries_table(page.ledger, page.options.rule, page.slider)
    columns = [
        c
        for c in (
            "participant_id", "stage", "headphone_correct", "PROLIFIC_PID", "workerId",
            "reference_failures", "anchor_failures", "flagged", "reason",
        )
        if c in table.columns
    ]  # fmt: skip
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row[c]))}</td>" for c in columns) + "</tr>"
        for _, row in table.iterrows()
    )
    status = page.queue.status()
    return (
        "<!doctype html><meta charset=utf-8><title>hdbench study</title>"
        "<link rel=stylesheet href=/static/style.css><main class=admin>"
        f"<h1>Study {html.escape(str(page.study.folder))}</h1>"
        f"<pre>{html.escape(chr(10).join(lines))}</pre>"
        f"<p>{status.participants} participants, {status.flagged} flagged · "
        f"{status.answered} trials answered, {status.pending} pending, {status.leased} leased</p>"
        f"<p>{html.escape(page.options.rule.describe())}</p>"
        f"<table><tr>{head}</tr>{rows}</table></main>"
    )
