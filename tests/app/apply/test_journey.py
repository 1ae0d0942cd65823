"""The whole applicant journey, page by page, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AnswerPage, Application, OutboxMessage, Round
from tests.app.apply.journey import (
    ELIGIBILITY_IDS,
    PAGE_ORDER,
    VALID,
    complete_application,
    pass_eligibility,
    send,
    sent_confirmations,
)
from tests.app.helpers import Client

REFERENCE = re.compile(r"^EOI-\d{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{6}$")


def statuses(client: Client) -> dict[str, str]:
    page = client.get_page("/application")
    return {
        item.select_one("a").get_text(strip=True): item.select_one(".tag").get_text(strip=True)
        for item in page.select(".task-list__item")
    }


def test_start_page_says_what_the_call_is(client: Client, open_round: Round) -> None:
    page = client.get_page("/")
    text = page.get_text(" ", strip=True)
    assert page.select_one("h1").get_text(strip=True) == open_round.title
    for expected in (
        "Who can apply",
        "What we offer",
        "What we ask in return",
        "co-production",
        "Carers' health and well-being",
        "(UK time)",
        "apply by phone",
        "To apply by post",
    ):
        assert expected in text
    assert page.select_one('a[href="/privacy"]')
    start = page.select_one("a.button--start")
    assert start["href"] == "/eligibility/uk_based"


def test_start_page_without_an_open_round(client: Client, app: Flask) -> None:
    page = client.get_page("/")
    assert page.select_one("h1").get_text(strip=True) == "No call is open at the moment"
    assert "What you can do" in page.get_text()
    assert not page.select("a.button--start")


def test_whole_journey_from_start_to_confirmation(client: Client, open_round: Round) -> None:
    # Eligibility: one question a page, each with a back link.
    for question_id in ELIGIBILITY_IDS:
        page = client.get_page(f"/eligibility/{question_id}")
        assert page.select_one(".back-link")
        client.submit(f"/eligibility/{question_id}", {"answer": "yes"})

    assert set(statuses(client).values()) == {"Not started"}

    # The first page saved creates the draft and shows the private link.
    client.submit("/application/organisation", VALID["organisation"])
    page = client.get_page("/application")
    link = page.select_one("#resume-link .resume-link a")
    assert link is not None and "/resume/" in link["href"]
    assert statuses(client)["Your organisation"] == "In progress"

    for page_id in PAGE_ORDER[1:]:
        page = client.get_page(f"/application/{page_id}")
        assert page.select_one(".back-link"), f"{page_id} has no back link"
        client.submit(f"/application/{page_id}", VALID[page_id])

    assert set(statuses(client).values()) == {"Completed"}

    # The link emailed to the contact address, opened and continued, confirms the address.
    emailed = db.session.scalars(select(OutboxMessage.body).filter_by(kind="resume-link")).one()
    link = re.search(r"http://localhost(/resume/\S+)", emailed).group(1)
    assert client.get_page(link).select_one("h1").get_text() == (
        "Continue to your expression of interest"
    )
    assert client.submit(link).headers["Location"] == "/application"

    check = client.get_page("/application/check-answers")
    values = check.get_text(" ", strip=True)
    assert "Cwm Taf Carers' Network – Rhwydwaith Gofalwyr" in values
    assert "CF37 1AA" in values  # normalised postcode
    assert "Mostly rural" in values  # labels, not codes
    assert "Carers' health and well-being" in values
    changes = check.select(".summary-list__actions a")
    assert changes and all("return=check" in a["href"] for a in changes)
    assert check.select_one("button").get_text(strip=True) == "Send expression of interest"

    confirmation_url = send(client)
    assert confirmation_url.endswith("/application/confirmation")
    page = client.get_page(confirmation_url)
    reference = page.select_one(".reference").get_text(strip=True)
    assert REFERENCE.match(reference), reference
    assert "What happens next" in page.get_text()
    assert "Siân O'Brien-Llewellyn" in page.get_text()  # the printable copy of the answers
    assert "with a copy of your answers to sian.obrien@example.org" in page.get_text()

    application = db.session.scalars(select(Application)).one()
    assert application.status == "submitted"
    assert application.reference == reference
    assert application.submitted_at is not None
    # The mix attributes are copied for staff filters and the selection engine.
    assert (application.nation, application.region, application.area_type) == (
        "wales",
        "wales",
        "rural",
    )
    assert (application.size_band, application.led_by, application.first_time) == (
        "1-9",
        "carer-led",
        True,
    )
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["resume-link", "confirmation"]
    confirmation = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "confirmation")
    ).one()
    assert confirmation.to_address == VALID["contact"]["email"]
    assert reference in confirmation.subject
    # Composed as it is sent: the reference and a copy of the answers.
    [body] = sent_confirmations()
    assert f"Your reference is {reference}" in body
    assert VALID["difference"]["difference"] in body


def test_change_link_returns_to_check_answers(client: Client, open_round: Round) -> None:
    complete_application(client)
    response = client.submit(
        "/application/leadership?return=check",
        {**VALID["leadership"], "staff_band": "10-49"},
    )
    assert response.headers["Location"].endswith("/application/check-answers")
    assert "10 to 49" in client.get_page("/application/check-answers").get_text()


def test_changing_nation_to_england_asks_for_the_region(client: Client, open_round: Round) -> None:
    complete_application(client)
    response = client.submit(
        "/application/location?return=check", {**VALID["location"], "nation": "england"}
    )
    assert "/application/region" in response.headers["Location"]
    assert statuses(client)["Where you work"] == "In progress"
    page = client.get_page("/application/check-answers")
    assert not page.select("form button")  # cannot be sent until the region is answered
    client.submit("/application/region?return=check", {"region": "north-west"})
    assert statuses(client)["Where you work"] == "Completed"
    assert "North West" in client.get_page("/application/check-answers").get_text()


def test_saving_one_page_keeps_every_other_page(client: Client, open_round: Round) -> None:
    complete_application(client)
    client.submit("/application/difference", {"difference": "A new answer."})
    application = db.session.scalars(select(Application)).one()
    answers = application.answers
    assert answers["difference"]["difference"] == "A new answer."
    assert answers["evidence"]["evidence"] == VALID["evidence"]["evidence"]
    assert db.session.scalar(select(func.count(AnswerPage.id))) == len(PAGE_ORDER)


def test_application_pages_need_the_eligibility_check_first(
    client: Client, open_round: Round
) -> None:
    response = client.get("/application/organisation")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/eligibility/uk_based")


def test_later_pages_before_the_first_save_go_to_the_first_page(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    response = client.get("/application/contact")
    assert response.headers["Location"].endswith("/application/organisation")
