"""After the deadline drafts cannot be sent or changed: the applicant is told plainly and the draft
stays readable. Before a round opens, and with no round at all, the start page says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, OutboxMessage, Round, utcnow
from app.rounds import create_round
from tests.app.apply.journey import VALID, complete_application, pass_eligibility
from tests.app.helpers import Client, check_hygiene

DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}


def close(round_: Round) -> None:
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def application() -> Application:
    db.session.expire_all()
    return db.session.scalars(select(Application)).one()


def post(client: Client, url: str, hidden: dict[str, str], data: dict[str, Any]) -> BeautifulSoup:
    """Post with the hidden fields of a page loaded earlier (before the deadline passed)."""
    response = client.client.post(url, data={**hidden, **data})
    assert response.status_code == 200, response.headers.get("Location")
    page = BeautifulSoup(response.data, "html.parser")
    check_hygiene(page)
    return page


def main_text(page: BeautifulSoup) -> str:
    return page.select_one("main").get_text(" ", strip=True)


def test_the_task_list_says_the_call_has_closed_and_the_answers_stay_readable(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    close(open_round)

    page = client.get_page("/application")
    text = main_text(page)
    assert "closed" in text and "cannot" in text and "send" in text
    assert len(page.select(".task-list__item")) == 5  # every section still listed
    # No "email me the link", no sending: only "Forget this device".
    assert [f["action"] for f in page.select("main form")] == ["/application/forget-device"]
    assert "Check your answers" not in text
    # A way to read every answer: check answers, where nothing can be changed or sent.
    read = page.select_one("main a[href='/application/check-answers']")
    assert read is not None

    check = client.get_page(read["href"])
    text = main_text(check)
    assert "closed" in text and "can no longer be sent" in text
    for answer in (
        VALID["organisation"]["organisation_name"],
        VALID["difference"]["difference"],
        VALID["evidence"]["evidence"],
        VALID["contact"]["contact_name"],
    ):
        assert answer in text
    assert not check.select("main form")
    assert not check.select("button")
    assert "Send expression of interest" not in check.get_text()
    assert not check.select(".summary-list__actions a")  # no Change links


def test_a_question_page_after_closing_shows_the_answers_without_a_save_button(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    close(open_round)
    page = client.get_page("/application/evidence")
    assert page.select_one("textarea#evidence").get_text() == VALID["evidence"]["evidence"]
    assert "closed" in main_text(page)
    assert not page.select("main button")


def test_the_resume_link_still_opens_the_draft_after_closing(
    client: Client, app: Flask, open_round: Round
) -> None:
    complete_application(client)
    link = client.get_page("/application").select_one("#resume-link .resume-link a")["href"]
    close(open_round)
    other = Client(app.test_client())
    response = other.get(link)
    assert response.headers["Location"].endswith("/application")
    assert "closed" in main_text(other.get_page("/application"))
    assert VALID["organisation"]["organisation_name"] in main_text(
        other.get_page("/application/check-answers")
    )


def test_sending_after_the_deadline_does_not_submit(client: Client, open_round: Round) -> None:
    complete_application(client)
    hidden = client.hidden_fields("/application/check-answers")
    close(open_round)  # the deadline passes while the page is open

    page = post(client, "/application/check-answers", hidden, DECLARATION)
    assert page.select_one("title").get_text().startswith("Error:")
    notices = " ".join(n.get_text(" ", strip=True) for n in page.select(".notice"))
    assert "closed" in notices
    assert VALID["organisation"]["organisation_name"] in main_text(page)  # still readable
    draft = application()
    assert draft.status == "draft"
    assert draft.reference is None and draft.submitted_at is None
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert "confirmation" not in kinds
    # And the confirmation page is not reachable.
    response = client.get("/application/confirmation")
    assert response.headers["Location"].endswith("/application")


def test_saving_a_page_after_the_deadline_changes_nothing_and_keeps_what_was_typed(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    hidden = client.hidden_fields("/application/difference")
    before = application().answers
    close(open_round)

    typed = "A late change that arrives after the deadline.\r\nSecond line."
    page = post(client, "/application/difference", hidden, {"difference": typed})
    kept = page.select_one("textarea#difference").get_text().replace("\r\n", "\n")
    assert kept == typed.replace("\r\n", "\n")
    assert "closed" in " ".join(n.get_text(" ", strip=True) for n in page.select(".notice"))
    assert not page.select("main button")
    assert application().answers == before

    hidden_contact = {"csrf_token": hidden["csrf_token"]}
    page = post(
        client, "/application/contact", hidden_contact, {**VALID["contact"], "email": "new@ex.org"}
    )
    assert page.select_one("#email")["value"] == "new@ex.org"
    assert application().answers == before


def test_a_first_page_saved_after_the_deadline_creates_no_draft(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    hidden = client.hidden_fields("/application/organisation")
    close(open_round)
    page = post(client, "/application/organisation", hidden, VALID["organisation"])
    assert "closed" in " ".join(n.get_text(" ", strip=True) for n in page.select(".notice"))
    name = VALID["organisation"]["organisation_name"]
    assert page.select_one("#organisation_name")["value"] == name
    assert db.session.scalar(select(func.count(Application.id))) == 0


def test_after_closing_the_start_page_says_no_call_is_open(
    client: Client, open_round: Round
) -> None:
    close(open_round)
    page = client.get_page("/")
    text = main_text(page)
    assert "No call is open" in page.select_one("h1").get_text()
    assert open_round.title in text and "closed" in text
    assert not page.select("a.button--start")
    response = client.get("/eligibility/uk_based")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")


def test_a_round_not_yet_open_says_when_it_opens(client: Client, app: Flask) -> None:
    create_round(
        db.session,
        slug="next",
        title="Partner sites 2099",
        opens_at=datetime(2099, 7, 1, 8, 30, tzinfo=UTC),  # 9:30am in London (BST)
        closes_at=datetime(2099, 9, 1, 11, 0, tzinfo=UTC),
    )
    db.session.commit()
    page = client.get_page("/")
    text = main_text(page)
    assert page.select_one("h1").get_text(strip=True) == "Partner sites 2099"
    assert "not open yet" in text
    assert "9:30am on Wednesday 1 July 2099" in text
    assert app.config["CENTRE_EMAIL"] in text  # a next step
    assert not page.select("a.button--start")
    response = client.get("/eligibility/uk_based")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")


def test_with_no_round_at_all_the_start_page_says_so(client: Client, app: Flask) -> None:
    page = client.get_page("/")
    assert page.select_one("h1").get_text(strip=True) == "No call is open at the moment"
    text = main_text(page)
    assert "What you can do" in text
    assert app.config["CENTRE_EMAIL"] in text and app.config["CENTRE_PHONE"] in text
    assert not page.select("a.button--start")


def test_no_link_email_is_queued_after_the_deadline(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    client.submit("/application/organisation", VALID["organisation"])
    hidden = client.hidden_fields("/application")
    close(open_round)
    page = post(client, "/application/email-link", hidden, {"email": "late@example.org"})
    assert "closed" in main_text(page)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
