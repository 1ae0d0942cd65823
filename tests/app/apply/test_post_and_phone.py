"""Contact by post or phone (issue 22 point 1): an organisation with no email address applies
online and gets its confirmation by letter, through the print queue and never the outbox; one
preferring phone must give a number; one with email is emailed as before."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Application, Letter, OutboxMessage, Round
from tests.app.apply.journey import TEXT, VALID, fill_pages, pass_eligibility, send
from tests.app.helpers import Client, deliver_emails, errors_of

BY_POST = {
    **VALID["contact"],
    "email": "",
    "phone": "",
    "preferred_contact": "post",
    "address_line_1": "Unit 4, Mill Lane",
    "address_line_2": "Trallwng",
    "address_town": "Pontypridd",
    "address_postcode": "cf37 1aa",
}


def test_no_email_preferring_post_reaches_a_reference_and_a_letter_not_an_email(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    fill_pages(client, contact=BY_POST)
    confirmation = client.get_page(send(client))
    reference = confirmation.select_one(".reference").get_text(strip=True)
    assert reference.startswith("EOI-")
    said = confirmation.select_one("main").get_text(" ", strip=True)
    assert "We will post a letter with your reference and a copy of your answers to" in said
    assert "Unit 4, Mill Lane, Trallwng, Pontypridd, CF37 1AA" in said

    application = db.session.scalars(select(Application)).one()
    assert application.status == "submitted" and application.reference == reference
    assert application.answers["contact"]["email"] is None
    # Nothing for the outbox: no resume link (no address to send it to), no confirmation.
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert deliver_emails() == []

    letter = db.session.scalars(select(Letter)).one()
    assert letter.kind == "confirmation" and letter.posted_at is None
    assert letter.application_id == application.id
    assert letter.to_name == "Siân O'Brien-Llewellyn"
    assert letter.address.splitlines() == [
        "Cwm Taf Carers' Network – Rhwydwaith Gofalwyr",
        "Unit 4, Mill Lane",
        "Trallwng",
        "Pontypridd",
        "CF37 1AA",
    ]
    assert reference in letter.subject
    # The letter carries the copy of the answers the email would.
    for answer in TEXT.values():
        assert answer in letter.body
    assert reference in letter.body


def test_post_preferred_with_an_email_address_still_gets_a_letter(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    fill_pages(client, contact={**BY_POST, "email": "sian.obrien@example.org"})
    send(client)
    assert db.session.scalars(select(Letter.kind)).all() == ["confirmation"]
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds == ["resume-link"]  # the link to come back, asked for by giving the address


def test_the_contact_page_asks_for_what_the_chosen_way_needs(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    fill_pages(client, pages=[p for p in VALID if p != "contact"])
    page = client.submit_page(
        "/application/contact",
        {**VALID["contact"], "preferred_contact": "phone", "phone": "", "email": ""},
    )
    assert page.select_one("title").get_text().startswith("Error:")
    errors = errors_of(page)
    assert "Enter a phone number, like 01632 960 001, so we can call you" in errors
    # No email either: letters must go by post, so the address is asked for.
    assert "Enter a UK postcode, like LS1 1AA" in errors
    assert page.select_one("#contact_name")["value"] == VALID["contact"]["contact_name"]
    assert db.session.scalars(select(Application)).first() is None or all(
        "contact" not in a.answers for a in db.session.scalars(select(Application))
    )

    client.submit(
        "/application/contact",
        {**BY_POST, "preferred_contact": "phone", "phone": "01632 960 001"},
    )
    send(client)
    application = db.session.scalars(select(Application)).one()
    assert application.status == "submitted"
    assert application.answers["contact"]["phone"] == "01632 960 001"
    assert db.session.scalars(select(Letter.kind)).all() == ["confirmation"]


def test_email_preferred_is_emailed_as_before(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    fill_pages(client)
    send(client)
    assert db.session.scalars(select(Letter)).all() == []
    subjects = [str(m["Subject"]) for m in deliver_emails()]
    assert any(s.startswith("Expression of interest received: EOI-") for s in subjects)


def test_phone_preferred_with_email_is_emailed(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    fill_pages(client, contact={"preferred_contact": "phone"})
    send(client)
    assert db.session.scalars(select(Letter)).all() == []
    confirmations = db.session.scalars(
        select(OutboxMessage.to_address).filter_by(kind="confirmation")
    ).all()
    assert confirmations == [VALID["contact"]["email"]]


def test_the_paper_form_asks_for_the_postal_address(client: Client, open_round: Any) -> None:
    page = client.get_page("/paper-form")
    text = page.get_text(" ", strip=True)
    assert "Postal address: line 1" in text
    assert "You do not need an email address to apply." in text
