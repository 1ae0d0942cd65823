"""The print queue: letters to applicants with no email address or who prefer post, entered
by staff or sent online; printed one A4 page each and marked posted (audited)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Application, ApplicationEvent, AuditEvent, Letter, OutboxMessage, Round
from tests.app.apply.journey import VALID
from tests.app.factories import submitted_application
from tests.app.helpers import Client, deliver_emails, press

BY_POST = {
    **VALID["contact"],
    "email": "",
    "phone": "",
    "preferred_contact": "post",
    "address_line_1": "Unit 4, Mill Lane",
    "address_line_2": "",
    "address_town": "Pontypridd",
    "address_postcode": "CF37 1AA",
}


def test_staff_enter_a_postal_application_with_no_email_and_its_letter_is_queued(
    staff_client: Client, round_: Round
) -> None:
    response = staff_client.submit(f"/staff/rounds/{round_.id}/assisted", {"channel": "post"})
    enter = str(response.headers["Location"])
    for page_id in VALID:
        staff_client.submit(
            f"{enter}/{page_id}", BY_POST if page_id == "contact" else VALID[page_id]
        )
    response = press(staff_client, enter, "/staff/applications/")
    assert response.status_code == 302
    page = staff_client.get_page(response.headers["Location"])
    flashed = page.select_one(".notice--success").get_text(" ", strip=True)
    assert "a confirmation letter with a copy of the answers is in Letters to post" in flashed

    application = db.session.scalars(select(Application)).one()
    assert application.status == "submitted" and application.reference
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert deliver_emails() == []
    letter = db.session.scalars(select(Letter)).one()
    assert letter.address.splitlines()[-2:] == ["Pontypridd", "CF37 1AA"]

    queue = staff_client.get_page("/staff/letters")
    rows = queue.select("#to-post tbody tr")
    assert len(rows) == 1
    row = rows[0].get_text(" ", strip=True)
    assert "Siân O'Brien-Llewellyn" in row and application.reference in row
    assert "Confirmation with a copy of the answers" in row


def test_a_letter_prints_with_both_addresses_and_is_marked_posted_once(
    staff_client: Client, round_: Round, staff: Any, app: Any
) -> None:
    app.config["CENTRE_POSTAL_ADDRESS"] = "Care Centre, PO Box 99, York, YO1 7HH"
    application = submitted_application(round_, contact=BY_POST)
    other = submitted_application(round_, contact={**BY_POST, "contact_name": "Rhys Morgan"})
    emailed = submitted_application(round_)  # email preferred: no letter
    letters = db.session.scalars(select(Letter).order_by(Letter.id)).all()
    assert [letter.application_id for letter in letters] == [application.id, other.id]
    assert emailed.id not in [letter.application_id for letter in letters]
    first = letters[0]

    page = staff_client.get_page(f"/staff/letters/{first.id}")
    (sheet,) = page.select("article.letter")
    to = sheet.select_one(".letter__to").get_text("\n", strip=True).splitlines()
    assert to == [
        "Siân O'Brien-Llewellyn",
        "Cwm Taf Carers' Network – Rhwydwaith Gofalwyr",
        "Unit 4, Mill Lane",
        "Pontypridd",
        "CF37 1AA",
    ]
    sender = sheet.select_one(".letter__from").get_text("\n", strip=True).splitlines()
    assert sender[:4] == ["Care Centre", "PO Box 99", "York", "YO1 7HH"]
    assert application.reference in sheet.select_one(".letter__subject").get_text()
    assert VALID["difference"]["difference"] in sheet.select_one(".letter__body").get_text()

    every = staff_client.get_page("/staff/letters/print")
    assert len(every.select("article.letter")) == 2

    # Mark the first as posted: audited, in the application's history, listed as posted.
    response = press(staff_client, "/staff/letters", f"/staff/letters/{first.id}/posted")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Letter, first.id).posted_at is not None
    assert db.session.get(Letter, first.id).posted_by_id == staff.id
    event = db.session.scalars(select(AuditEvent).filter_by(action="letter.posted")).one()
    assert event.actor_id == staff.id and event.record_id == application.id
    assert event.detail == {"letter": first.id, "letter_kind": "confirmation"}
    history = db.session.scalars(
        select(ApplicationEvent.detail).filter_by(application_id=application.id, kind="letter")
    ).all()
    assert history == ["Letter posted: confirmation with a copy of the answers"]

    queue = staff_client.get_page("/staff/letters")
    assert [tr["data-letter"] for tr in queue.select("#to-post tbody tr")] == [str(letters[1].id)]
    assert [tr["data-letter"] for tr in queue.select("#posted tbody tr")] == [str(first.id)]
    assert len(staff_client.get_page("/staff/letters/print").select("article.letter")) == 1

    # Marking it again (another tab) changes nothing and says so.
    token = staff_client.hidden_fields("/staff/letters")["csrf_token"]
    again = staff_client.client.post(
        f"/staff/letters/{first.id}/posted", data={"csrf_token": token}, follow_redirects=True
    )
    assert "This letter was already marked as posted." in again.get_data(as_text=True)
    assert len(db.session.scalars(select(AuditEvent).filter_by(action="letter.posted")).all()) == 1


def test_the_outbox_never_sends_a_letter(staff_client: Client, round_: Round) -> None:
    submitted_application(round_, contact=BY_POST)
    assert deliver_emails() == []
    assert db.session.scalars(select(Letter)).one().posted_at is None


def test_staff_see_the_print_queue_in_the_header(staff_client: Client, round_: Round) -> None:
    page = staff_client.get_page("/staff/")
    links = [a["href"] for a in page.select(".header__links a")]
    assert "/staff/letters" in links
    empty = staff_client.get_page("/staff/letters")
    assert empty.select_one("#nothing-to-post") is not None
    assert staff_client.get("/staff/letters/999").status_code == 404
