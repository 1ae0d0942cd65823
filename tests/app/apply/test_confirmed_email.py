"""The service does not mail what someone typed to any address they typed: the confirmation's
copy of the answers goes only to an address the applicant has shown is theirs (by opening the
link emailed to it and continuing); any other address gets a summary without the free text.
Emails to one address are limited per day, whatever the IP address asking."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import TEXT, VALID, complete_application, send, sent_confirmations
from tests.app.helpers import Client, check_hygiene, errors_of

CONTACT = VALID["contact"]
# What the applicant typed that a summary must not repeat (the organisation's name it may).
FREE_TEXT = [*TEXT.values(), CONTACT["contact_name"], CONTACT["phone"], "CF37 1AA"]


def emailed_links(address: str) -> list[str]:
    bodies = db.session.scalars(
        select(OutboxMessage.body)
        .filter_by(kind="resume-link", to_address=address)
        .order_by(OutboxMessage.id)
    )
    return [re.search(r"http://localhost(/resume/\S+)", body).group(1) for body in bodies]


def email_link(client: Client, address: str, status: int = 302) -> BeautifulSoup:
    """Ask for the link by email from the task list's form."""
    body = {**client.hidden_fields("/application"), "email": address}
    response = client.client.post("/application/email-link", data=body)
    assert response.status_code == status
    page = BeautifulSoup(response.data, "html.parser")
    if status == 200:
        check_hygiene(page)
    return page


def confirmed() -> str | None:
    db.session.expire_all()
    return db.session.scalars(select(Application.confirmed_email_hash)).one()


def test_an_address_never_confirmed_gets_a_summary_without_the_answers(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    send(client)
    page = client.get_page("/application/confirmation")
    assert "It does not include your answers" in page.get_text()
    reference = page.select_one(".reference").get_text(strip=True)

    [body] = sent_confirmations()
    assert f"Your reference is {reference}" in body
    assert VALID["organisation"]["organisation_name"] in body
    assert "What happens next" in body and "How to get a copy of your answers" in body
    for typed in FREE_TEXT:
        assert typed not in body, typed


def test_opening_the_emailed_link_and_continuing_confirms_the_address(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    [link] = emailed_links(CONTACT["email"])

    # The link on the page is not the emailed one, and confirms nothing.
    shown = client.get_page("/application").select_one("#resume-link .resume-link a")["href"]
    assert client.get(shown.removeprefix("http://localhost")).status_code == 302
    # Opening the emailed link (as a mail scanner would) writes nothing: Continue does.
    page = client.get_page(link)
    assert page.select_one("main form")["action"] == link
    assert confirmed() is None
    client.submit(link)
    assert confirmed() is not None
    # Opened again, it goes straight to the application.
    assert client.get(link).headers["Location"] == "/application"

    send(client)
    page = client.get_page("/application/confirmation")
    assert "with a copy of your answers to sian.obrien@example.org" in page.get_text()
    [body] = sent_confirmations()
    for typed in FREE_TEXT:
        assert typed in body, typed


def test_confirming_another_address_or_a_forged_link_does_not_confirm_the_contact_email(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    email_link(client, "someone.else@example.org")
    [other] = emailed_links("someone.else@example.org")
    client.submit(other)  # confirms someone.else@, not the contact email
    [mine] = emailed_links(CONTACT["email"])
    token, proof = mine.split("/")[2:4]
    forged = f"/resume/{token}/{proof[:-4]}AAAA"
    assert client.get(forged).headers["Location"] == "/application"  # the plain resume link

    send(client)
    [body] = sent_confirmations()
    assert TEXT["difference"] not in body


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "APPLY_EMAILS_PER_ADDRESS_PER_DAY": 3}


def test_an_address_gets_a_limited_number_of_emails_a_day(app: Any, open_round: Round) -> None:
    """Three drafts (each from its own browser, as from many IP addresses) ask for links to one
    address: the contact page's own email and two asked for fill its day; the next is refused
    with a message, the address kept, and another address still gets one."""
    target = "target@example.org"
    clients = [Client(app.test_client()) for _ in range(2)]
    for each in clients:
        complete_application(each)  # the contact page emails sian.obrien@: not the target
    email_link(clients[0], target)
    email_link(clients[1], target)
    email_link(clients[0], target.upper())

    page = email_link(clients[1], target, status=200)
    assert "as many emails to this address as we can today" in errors_of(page)
    assert page.select_one("#email")["value"] == target
    assert len(emailed_links(target)) + len(emailed_links(target.upper())) == 3

    email_link(clients[1], "other@example.org")
    assert len(emailed_links("other@example.org")) == 1
