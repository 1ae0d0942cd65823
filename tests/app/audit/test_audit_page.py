"""The audit log page for admins: access, newest first, filters, pages, CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from app.audit import record
from app.extensions import db
from app.models import AuditEvent, Round, User, utcnow
from app.rounds import LONDON
from tests.app.audit.conftest import last_id, new_events, one_event
from tests.app.helpers import Client, download, errors_of

URL = "/admin/audit"
EXPORT_COLUMNS = [
    "Event id",
    "When (UTC)",
    "Actor id",
    "Actor",
    "Actor role at the time",
    "Action code",
    "Action",
    "Record type",
    "Record id",
    "Round id",
    "Detail",
]


def event(
    actor: User | None, action: str, record_type: str, record_id: int | None, at: datetime, **d: Any
) -> AuditEvent:
    row = record(db.session, actor, action, record_type, record_id, **d)
    row.occurred_at = at
    db.session.commit()
    return row


def actions(page: Any) -> list[str]:
    return [tr["data-action"] for tr in page.select("#audit-events tbody tr")]


def cells(page: Any, column: int) -> list[str]:
    return [
        tr.select("td")[column].get_text(" ", strip=True)
        for tr in page.select("#audit-events tbody tr")
    ]


@pytest.fixture
def history(round_: Round, staff: User, admin: User, panel_member: User) -> dict[str, AuditEvent]:
    """Four events on three days in March 2027 (UK time), by staff, an admin, a reviewer and the
    command line."""
    return {
        "screened": event(
            staff,
            "application.screened",
            "application",
            41,
            datetime(2027, 3, 1, 10, tzinfo=UTC),
            screening="eligible",
        ),
        "review": event(
            panel_member,
            "review.submitted",
            "application",
            41,
            datetime(2027, 3, 2, 9, tzinfo=UTC),
            review_id=5,
        ),
        # 11:30pm UTC on 2 March is still 2 March in the UK (GMT).
        "invited": event(
            admin,
            "user.invited",
            "user",
            panel_member.id,
            datetime(2027, 3, 2, 23, 30, tzinfo=UTC),
            role="reviewer",
        ),
        "created": event(
            None,
            "round.created",
            "round",
            round_.id,
            datetime(2027, 3, 3, 8, tzinfo=UTC),
            round_id=round_.id,
        ),
    }


def test_only_admins_may_see_or_download_the_log(
    client: Client,
    staff: User,
    admin: User,
    panel_member: User,
    browser_for: Callable[[User], Client],
) -> None:
    for url, fetch in ((URL, Client.get), (f"{URL}.csv", download), (f"{URL}.xlsx", download)):
        response = fetch(client, url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in?next=")
        for user in (panel_member, staff):
            assert fetch(browser_for(user), url).status_code == 403
        assert fetch(browser_for(admin), url).status_code == 200


def test_the_log_lists_events_newest_first_with_links_to_the_records(
    history: dict[str, AuditEvent],
    admin: User,
    staff: User,
    round_: Round,
    browser_for: Callable[[User], Client],
) -> None:
    browser = browser_for(admin)
    page = browser.get_page(URL)
    assert page.select_one("#audit-events caption").get_text(strip=True).startswith("Audit events")
    assert actions(page) == [
        "round.created",
        "user.invited",
        "review.submitted",
        "application.screened",
    ]
    assert cells(page, 1) == [
        "Command line or system",
        "Ada Admin (admin)",
        "Rhys Reviewer (reviewer)",
        "Sam Staff (staff)",
    ]
    assert cells(page, 2)[0] == "Created a round (command line)"
    assert cells(page, 4)[0] == round_.title  # round_id names the round
    assert cells(page, 5)[3] == "Screening: eligible"
    links = [
        tr.select("td")[3].select_one("a")["href"] for tr in page.select("#audit-events tr")[1:]
    ]
    assert links == [
        f"/staff/rounds/{round_.id}/settings",
        f"/users/{history['invited'].record_id}",
        "/staff/applications/41",
        "/staff/applications/41",
    ]
    assert cells(page, 0)[-1] == "10am on Monday 1 March 2027"
    # Reached from the header and from the users page.
    assert page.select_one('header a[href="/admin/audit"]') is not None
    assert browser.get_page("/users").select_one('main a[href="/admin/audit"]') is not None
    assert browser_for(staff).get_page("/staff/").select_one('a[href="/admin/audit"]') is None


def test_filters_by_action_actor_record_type_and_uk_dates(
    history: dict[str, AuditEvent],
    admin: User,
    staff: User,
    panel_member: User,
    browser_for: Callable[[User], Client],
) -> None:
    browser = browser_for(admin)

    def shown(query: str) -> list[str]:
        return actions(browser.get_page(f"{URL}?{query}"))

    assert shown("action=review.submitted") == ["review.submitted"]
    assert shown(f"actor={staff.id}") == ["application.screened"]
    assert shown("actor=system") == ["round.created"]
    assert shown("record_type=application") == ["review.submitted", "application.screened"]
    assert shown("date_from=2/3/2027&date_to=2/3/2027") == ["user.invited", "review.submitted"]
    assert shown("date_from=2027-03-03") == ["round.created"]
    assert shown("date_to=01/03/2027") == ["application.screened"]
    assert shown(f"record_type=application&actor={panel_member.id}") == ["review.submitted"]
    assert shown("action=user.invited&actor=system") == []
    # Values not on the lists are ignored, as on the applications list.
    assert len(shown("action=drop.tables&actor=x&record_type=nope&page=abc")) == 4

    page = browser.get_page(f"{URL}?action=user.invited")
    assert page.select_one("#filter-action option[selected]")["value"] == "user.invited"
    assert "1 event found" in page.select_one("#results-heading").get_text()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=31/2/2027", "date_from", "Enter the start date as day/month/year"),
        ("date_to=tomorrow", "date_to", "Enter the end date as day/month/year"),
        ("date_from=1/1/1900", "date_from", "Enter the start date as day/month/year"),
        (
            "date_from=3/3/2027&date_to=1/3/2027",
            "date_to",
            "The end date must be the same as or after the start date",
        ),
    ],
)
def test_a_wrong_date_is_explained_not_a_500(
    history: dict[str, AuditEvent],
    admin: User,
    browser_for: Callable[[User], Client],
    query: str,
    field: str,
    message: str,
) -> None:
    browser = browser_for(admin)
    page = browser.get_page(f"{URL}?{query}", status=400)
    assert page.select_one("title").get_text().startswith("Error:")
    assert message in errors_of(page)
    assert page.select_one(".error-summary a")["href"] == f"#{field}"
    assert (
        page.select_one(f"#{field}")["value"]
        == dict(pair.split("=") for pair in query.split("&"))[field]
    )
    assert page.select_one("#audit-events") is None
    # A hand-made export link with the same mistake goes back to the form; nothing is logged.
    since = last_id()
    response = download(browser, f"{URL}.csv?{query}")
    assert response.status_code == 302 and response.headers["Location"].startswith(URL)
    assert new_events(since) == []


def test_the_log_is_split_into_pages_of_fifty(
    admin: User, round_: Round, browser_for: Callable[[User], Client]
) -> None:
    for n in range(60):
        record(db.session, admin, "round.settings_changed", "round", round_.id, fields=[f"f{n}"])
    db.session.commit()
    browser = browser_for(admin)
    first = browser.get_page(URL)
    assert len(actions(first)) == 50
    assert "page 1 of 2" in first.select_one("#audit-events caption").get_text()
    next_page = first.select_one(".pagination a[rel=next]")["href"]
    second = browser.get_page(next_page)
    assert len(actions(second)) == 10
    assert cells(second, 5)[-1] == "Fields: f0"  # the oldest last
    assert second.select_one(".pagination a[rel=prev]") is not None
    # The page number is kept with the filters.
    page = browser.get_page(f"{URL}?action=round.settings_changed&page=2")
    href = page.select_one(".pagination a[rel=prev]")["href"]
    assert "action=round.settings_changed" in href and "page=1" in href


def test_the_csv_export_is_the_filtered_log_streamed_with_inert_cells(
    history: dict[str, AuditEvent],
    make_user: Any,
    admin: User,
    staff: User,
    browser_for: Callable[[User], Client],
) -> None:
    prankster = make_user("staff", name='=HYPERLINK("http://evil.example","x")')
    event(
        prankster,
        "application.withdrawn",
        "application",
        42,
        datetime(2027, 3, 4, 12, tzinfo=UTC),
        previous_status="submitted",
    )
    browser = browser_for(admin)

    since = last_id()
    response = download(browser, f"{URL}.csv?record_type=application")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"].startswith("text/csv")
    today = utcnow().astimezone(LONDON).strftime("%Y-%m-%d")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="audit-log-{today}.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert list(rows[0]) == EXPORT_COLUMNS
    assert [r["Action code"] for r in rows] == [
        "application.withdrawn",
        "review.submitted",
        "application.screened",
    ]
    withdrawn, _review, screened = rows
    assert withdrawn["Actor"] == "'" + prankster.name  # a formula, made inert
    assert screened["Actor id"] == str(staff.id) and screened["Actor"] == "Sam Staff"
    assert screened["Actor role at the time"] == "staff"
    assert screened["When (UTC)"] == "2027-03-01T10:00:00+00:00"
    assert (screened["Record type"], screened["Record id"], screened["Round id"]) == (
        "application",
        "41",
        "",
    )
    assert screened["Action"] == "Screened an application"
    assert json.loads(screened["Detail"]) == {"screening": "eligible"}

    # The download is itself on the log, with its filters as codes.
    logged = one_event(since, "export.downloaded")
    assert (logged.actor_id, logged.record_type, logged.record_id) == (admin.id, "audit_log", None)
    assert logged.detail == {
        "export": "audit_log",
        "format": "csv",
        "filter_record_type": "application",
    }


def test_the_csv_export_of_a_long_log_is_sent_in_chunks_with_one_header(
    admin: User, round_: Round, browser_for: Callable[[User], Client]
) -> None:
    # More rows than one chunk (500), all at the same moment: the chunks must neither skip nor
    # repeat a row where they join.
    at = datetime(2027, 3, 5, 12, tzinfo=UTC)
    for n in range(1203):
        record(db.session, None, "round.created", "round", round_.id, rows=n).occurred_at = at
    db.session.commit()
    browser = browser_for(admin)
    response = download(browser, f"{URL}.csv?action=round.created")
    # A download left unread holds nothing open: other requests go on, and it reads later.
    browser.get_page(URL)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert rows[0] == EXPORT_COLUMNS
    assert len(rows) == 1 + 1203
    assert [json.loads(r[-1])["rows"] for r in rows[1:]] == list(reversed(range(1203)))


def test_an_unread_download_leaves_no_context_behind(
    history: dict[str, AuditEvent], admin: User, browser_for: Callable[[User], Client]
) -> None:
    """As a browser that stops a download: the app fixture's teardown would fail on a context
    left pushed."""
    response = download(browser_for(admin), f"{URL}.csv")
    assert response.status_code == 200
    response.close()


def test_an_empty_export_still_has_its_header(
    admin: User, browser_for: Callable[[User], Client]
) -> None:
    response = download(browser_for(admin), f"{URL}.csv?action=run.confirmed")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert rows == [EXPORT_COLUMNS]


def test_the_xlsx_export_is_the_filtered_log(
    history: dict[str, AuditEvent], admin: User, browser_for: Callable[[User], Client]
) -> None:
    since = last_id()
    response = download(browser_for(admin), f"{URL}.xlsx?date_from=2/3/2027&date_to=2/3/2027")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert ".xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data))["Audit log"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == EXPORT_COLUMNS
    records = [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in values[1:]]
    assert [r["Action code"] for r in records] == ["user.invited", "review.submitted"]
    assert records[0]["Actor id"] == admin.id  # a number, not text
    assert records[0]["Round id"] is None
    assert json.loads(records[0]["Detail"]) == {"role": "reviewer"}
    assert one_event(since, "export.downloaded").detail == {
        "export": "audit_log",
        "format": "xlsx",
        "filter_date_from": "2027-03-02",
        "filter_date_to": "2027-03-02",
    }
