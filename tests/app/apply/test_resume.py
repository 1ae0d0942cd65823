"""Save and come back later: the private link, on screen and by email, resumes the draft; a wrong
link gets a 404 and never someone else's draft; only the token's SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select, text

from app.extensions import db
from app.models import Application, OutboxMessage, Round, utcnow
from app.rounds import create_round
from tests.app.apply.journey import VALID, complete_application, fill_pages, pass_eligibility, send
from tests.app.helpers import Client, check_hygiene

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"
LINK = re.compile(r"https?://[^\s\"'<>]+/resume/[^\s\"'<>]+")


def fresh_client(app: Flask) -> Client:
    """Another browser: no cookies, no session."""
    return Client(app.test_client())


def start_draft(client: Client, **overrides: dict[str, str]) -> str:
    """Pass eligibility, save the first page and return the resume link shown on the task list."""
    pass_eligibility(client)
    fill_pages(client, ["organisation"], **overrides)
    return shown_link(client)


def shown_link(client: Client) -> str:
    page = client.get_page("/application")
    link = page.select_one("#resume-link .resume-link a")
    assert link is not None, "the task list shows the private link once a page is saved"
    assert LINK.fullmatch(link["href"]), link["href"]
    assert link.get_text(strip=True) == link["href"]  # the link is shown, so it can be copied
    return str(link["href"])


def path_of(link: str) -> str:
    return urlsplit(link).path


def token_of(link: str) -> str:
    return path_of(link).rsplit("/", 1)[1]


def names_on_check_answers(client: Client) -> str:
    return client.get_page("/application/check-answers").get_text(" ", strip=True)


def test_the_link_on_the_task_list_resumes_the_draft_in_another_browser(
    client: Client, app: Flask, open_round: Round
) -> None:
    link = start_draft(client)
    fill_pages(client, ["leadership"])

    other = fresh_client(app)
    response = other.get(path_of(link))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/application")
    page = other.get_page("/application")
    statuses = {
        item.select_one("a").get_text(strip=True): item.select_one(".tag").get_text(strip=True)
        for item in page.select(".task-list__item")
    }
    assert statuses["Your organisation"] == "Completed"
    assert VALID["organisation"]["organisation_name"] in names_on_check_answers(other)
    # The resumed browser can carry on: its saves go to the same draft.
    fill_pages(other, ["location"])
    db.session.expire_all()
    application = db.session.scalars(select(Application)).one()
    assert set(application.answers) == {"organisation", "leadership", "location"}


def test_the_task_list_says_until_when_the_draft_is_kept(client: Client, app: Flask) -> None:
    create_round(
        db.session,
        slug="summer",
        title="Summer call",
        opens_at=utcnow() - timedelta(days=1),
        closes_at=datetime(2099, 6, 30, 11, 0, tzinfo=UTC),  # noon in London (BST)
    )
    db.session.commit()
    start_draft(client)
    text_ = client.get_page("/application").get_text(" ", strip=True)
    assert "draft until" in text_
    assert "midday on Tuesday 30 June 2099" in text_


def test_the_emailed_link_resumes_the_draft(client: Client, app: Flask, open_round: Round) -> None:
    shown = start_draft(client)
    assert db.session.scalars(select(OutboxMessage)).all() == []  # no address known yet
    fill_pages(client, ["contact"])

    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.kind == "resume-link"
    assert message.to_address == VALID["contact"]["email"]
    [emailed] = LINK.findall(message.body)
    # The link shown, with a proof of the address it was emailed to (tests/app/apply/
    # test_confirmed_email.py).
    assert emailed.startswith(f"{shown}/")
    assert "until" in message.body  # says how long the draft is kept

    other = fresh_client(app)
    assert other.get_page(path_of(emailed)).select_one("main form")["action"] == path_of(emailed)
    response = other.submit(path_of(emailed))
    assert response.headers["Location"].endswith("/application")
    assert VALID["contact"]["contact_name"] in names_on_check_answers(other)


def test_the_link_is_emailed_once_not_on_every_save_of_the_contact_page(
    client: Client, open_round: Round
) -> None:
    start_draft(client)
    fill_pages(client, ["contact", "contact"])
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds == ["resume-link"]


@pytest.mark.parametrize(
    "wrong",
    [
        "not-a-token",
        "x" * 43,  # the length of a real token
        "A" * 5000,
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_a_wrong_token_is_not_found(
    client: Client, app: Flask, open_round: Round, wrong: str
) -> None:
    start_draft(client)
    other = fresh_client(app)
    other.get_page(f"/resume/{wrong}", status=404)
    # The other browser has no draft: it is sent to the start of the journey.
    response = other.get("/application")
    assert response.status_code == 302
    assert "/eligibility/" in response.headers["Location"]


def test_a_nearly_right_token_never_opens_someone_elses_draft(
    client: Client, app: Flask, open_round: Round
) -> None:
    first = start_draft(client, organisation={"organisation_name": "Gofalwyr Sir Gâr"})
    other = fresh_client(app)
    second = start_draft(other, organisation={"organisation_name": "Ynys Môn Carers"})
    assert token_of(first) != token_of(second)

    token = token_of(first)
    for altered in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:-1],
        token + "x",
        token.upper() if token.upper() != token else token.lower(),
    ):
        other.get_page(f"/resume/{altered}", status=404)
        # Still their own draft, not the first organisation's.
        answers = names_on_check_answers(other)
        assert "Ynys Môn Carers" in answers
        assert "Gofalwyr Sir Gâr" not in answers


def test_only_the_hash_of_the_token_is_stored(client: Client, open_round: Round) -> None:
    link = start_draft(client)
    fill_pages(client, ["leadership", "contact"])
    token = token_of(link)
    assert len(token) >= 32  # long and random

    application = db.session.scalars(select(Application)).one()
    assert application.token_hash == hashlib.sha256(token.encode()).hexdigest()
    for table in ("applications", "answer_pages"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            assert all(token not in str(value) for value in row), f"raw token in {table}"


def test_each_draft_gets_its_own_token(client: Client, app: Flask, open_round: Round) -> None:
    links = {start_draft(client), start_draft(fresh_client(app)), start_draft(fresh_client(app))}
    assert len(links) == 3


def test_a_sent_applications_link_leads_to_its_confirmation(
    client: Client, app: Flask, open_round: Round
) -> None:
    complete_application(client)
    link = shown_link(client)
    send(client)
    reference = db.session.scalars(select(Application.reference)).one()
    assert reference

    for visit in range(2):  # it still works when revisited, in any browser
        other = fresh_client(app)
        response = other.get(path_of(link))
        assert response.status_code == 302, f"visit {visit}"
        assert response.headers["Location"].endswith("/application/confirmation")
        page = other.get_page("/application/confirmation")
        assert page.select_one(".reference").get_text(strip=True) == reference
        assert VALID["organisation"]["organisation_name"] in page.get_text()
        # The task list and question pages lead back to the confirmation, not to a draft.
        for url in ("/application", "/application/organisation", "/application/check-answers"):
            response = other.get(url)
            assert response.headers["Location"].endswith("/application/confirmation"), url


def email_link(client: Client, email: str) -> tuple[int, str, bytes]:
    """Use the "Email me the link" form on the task list."""
    hidden = client.hidden_fields("/application")
    response = client.client.post("/application/email-link", data={**hidden, "email": email})
    return response.status_code, response.headers.get("Location", ""), response.data


def test_email_me_the_link_queues_an_email_with_the_link(client: Client, open_round: Round) -> None:
    link = start_draft(client)
    status, location, _ = email_link(client, "  bethan.ap.rhys@example.org ")
    assert status == 302 and location.endswith("/application")
    page = client.get_page("/application")
    assert "emailed your link" in page.select_one("main").get_text()

    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.kind == "resume-link"
    assert message.to_address == "bethan.ap.rhys@example.org"
    [emailed] = LINK.findall(message.body)
    assert emailed.startswith(f"{link}/")
    assert message.sent_at is None


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter an email address"),
        ("   ", "Enter an email address"),
        (
            "bethan.example.org",
            "Enter an email address in the correct format, like name@example.com",
        ),
        ("bethan@example", "Enter an email address in the correct format, like name@example.com"),
    ],
)
def test_email_me_the_link_checks_the_address(
    client: Client, open_round: Round, email: str, message: str
) -> None:
    link = start_draft(client)
    status, _, body = email_link(client, email)
    assert status == 200
    page = BeautifulSoup(body, "html.parser")
    check_hygiene(page)
    assert page.select_one("title").get_text().startswith("Error:")
    [summary] = page.select(".error-summary a")
    assert summary.get_text(strip=True) == message
    assert summary["href"] == "#email"
    assert message in page.select_one("#email-error").get_text()
    assert page.select_one("#email")["value"] == email.strip()
    # The page is still the task list, with the link on it.
    assert page.select_one("#resume-link .resume-link a")["href"] == link
    assert db.session.scalars(select(OutboxMessage)).all() == []
