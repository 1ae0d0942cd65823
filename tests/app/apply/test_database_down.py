"""The database goes away mid-journey: a friendly 503 with Retry-After, what the person typed kept
in a form that sends it again, nothing half-written; and the journey completes once it is back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import PAGE_ORDER, TEXT, VALID, fill_pages, pass_eligibility, send
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, check_hygiene
from tests.app.tables import snapshot

DOWN_MESSAGE = "server closed the connection unexpectedly"


@dataclass
class Outage:
    """Turns this app's database off and on: new connections are refused (pooled ones are
    dropped), or the next COMMIT fails after every statement of the request has run."""

    engine: Engine
    refusing: bool = False
    failing_commit: bool = False

    def down(self) -> None:
        self.refusing = True
        self.engine.dispose()

    def fail_next_commit(self) -> None:
        self.failing_commit = True

    def up(self) -> None:
        self.refusing = False
        self.failing_commit = False

    def on_connect(self, dialect: Any, record: Any, cargs: Any, cparams: Any) -> None:
        if self.refusing:
            # The driver's own error, as when the server is stopped; SQLAlchemy wraps it.
            raise dialect.loaded_dbapi.OperationalError("connection refused: database is down")

    def on_commit(self, connection: Any) -> None:
        if self.failing_commit:
            self.failing_commit = False
            orig = connection.dialect.loaded_dbapi.OperationalError(DOWN_MESSAGE)
            raise OperationalError("COMMIT", None, orig)


@pytest.fixture
def outage(app: Flask) -> Iterator[Outage]:
    switch = Outage(db.engine)
    event.listen(db.engine, "do_connect", switch.on_connect)
    event.listen(db.engine, "commit", switch.on_commit)
    yield switch
    switch.up()
    event.remove(db.engine, "do_connect", switch.on_connect)
    event.remove(db.engine, "commit", switch.on_commit)


def post(client: Client, url: str, data: dict[str, Any]) -> TestResponse:
    """Post a page's form as a browser would: its hidden fields (CSRF token) plus the answers."""
    body = client.hidden_fields(url)
    body.update(data)
    return client.client.post(url, data=body)


def unavailable_page(response: TestResponse) -> BeautifulSoup:
    assert response.status_code == 503, response.status_code
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"  # it may show someone's answers
    page = BeautifulSoup(response.data, "html.parser")
    check_hygiene(page)
    assert page.select_one("h1").get_text(strip=True) == (
        "Sorry, there is a problem with the service"
    )
    return page


def retry_form(page: BeautifulSoup) -> tuple[str, MultiDict[str, str]]:
    """The "Try again" form's address and the fields a browser would send."""
    form = page.select_one("main form[method=post]")
    assert form is not None, "the 503 page has no form to send the answers again"
    assert form.select_one("button").get_text(strip=True) == "Try again"
    data: MultiDict[str, str] = MultiDict()
    for tag in form.select("input, textarea"):
        if tag.name == "textarea":
            # A browser drops the one newline that follows <textarea>.
            text = tag.get_text()
            data.add(tag["name"], text[1:] if text.startswith("\n") else text)
        else:
            data.add(tag["name"], tag.get("value", ""))
    return form["action"], data


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_first_page_keeps_the_answers_and_saves_them_when_the_database_is_back(
    client: Client, open_round: Round, outage: Outage
) -> None:
    pass_eligibility(client)
    url = "/application/organisation"
    body = client.hidden_fields(url)
    body.update(VALID["organisation"])
    before = snapshot()

    outage.down()
    page = unavailable_page(client.client.post(url, data=body))

    name = page.select_one("#kept-organisation_name")
    assert name["value"] == VALID["organisation"]["organisation_name"]
    assert page.select_one('label[for="kept-organisation_name"]')
    action, data = retry_form(page)
    assert action == url
    # The choices travel as hidden fields, every one ticked.
    assert data.getlist("organisation_type") == VALID["organisation"]["organisation_type"]
    assert data["csrf_token"] and data["form_started"] == body["form_started"]

    # Still down: "Try again" gives the same page with the answers still there.
    again = unavailable_page(client.client.post(action, data=data))
    kept, sent = retry_form(again)[1].to_dict(flat=False), data.to_dict(flat=False)
    # The CSRF token is signed afresh with the time of each page (a second later, it differs).
    assert kept.pop("csrf_token") and sent.pop("csrf_token")
    assert kept == sent

    outage.up()
    assert snapshot() == before  # nothing written, not even the draft
    saved = client.client.post(action, data=data)

    assert saved.status_code == 302, saved.status_code
    assert saved.headers["Location"].endswith("/application/leadership")
    [application] = db.session.scalars(select(Application)).all()
    assert (
        application.answers["organisation"]["organisation_name"]
        == (VALID["organisation"]["organisation_name"])
    )


def test_a_long_answer_survives_a_failed_commit_and_the_journey_completes(
    client: Client, open_round: Round, outage: Outage
) -> None:
    pass_eligibility(client)
    fill_pages(client, PAGE_ORDER[: PAGE_ORDER.index("difference")])
    url = "/application/difference"
    typed = TEXT["difference"] + "\n\nA second paragraph, with <angle> & ‘quotes’."
    before = snapshot()

    # Every statement runs, then the database goes away at COMMIT.
    outage.fail_next_commit()
    page = unavailable_page(post(client, url, {"difference": typed}))

    assert snapshot() == before  # the page's answers were rolled back, not half-saved
    textarea = page.select_one("textarea#kept-difference")
    assert textarea is not None and typed in textarea.get_text()
    assert page.select_one('label[for="kept-difference"]')

    action, data = retry_form(page)
    assert client.client.post(action, data=data).status_code == 302
    db.session.rollback()
    application = db.session.scalars(select(Application)).one()
    assert application.answers["difference"]["difference"] == typed.strip()

    fill_pages(client, PAGE_ORDER[PAGE_ORDER.index("difference") + 1 :])
    assert send(client).endswith("/application/confirmation")
    db.session.rollback()
    assert db.session.scalars(select(Application)).one().status == "submitted"


def test_contact_page_writes_no_outbox_row_until_it_is_saved(
    client: Client, open_round: Round, outage: Outage
) -> None:
    pass_eligibility(client)
    fill_pages(client, PAGE_ORDER[: PAGE_ORDER.index("contact")])
    before = snapshot()

    outage.fail_next_commit()
    page = unavailable_page(post(client, "/application/contact", VALID["contact"]))

    assert snapshot() == before
    assert count(OutboxMessage) == 0
    assert page.select_one("#kept-email")["value"] == VALID["contact"]["email"]
    action, data = retry_form(page)
    assert client.client.post(action, data=data).status_code == 302
    assert count(OutboxMessage) == 1  # the resume link, once


def test_final_submit_while_down_sends_nothing_and_can_be_sent_again(
    client: Client, open_round: Round, outage: Outage
) -> None:
    pass_eligibility(client)
    fill_pages(client)
    url = "/application/check-answers"
    body = client.hidden_fields(url)
    body.update({"confirm_correct": "yes", "confirm_privacy": "yes"})
    before = snapshot()

    outage.down()
    page = unavailable_page(client.client.post(url, data=body))

    action, data = retry_form(page)
    assert data.getlist("confirm_correct") == ["yes"]
    outage.up()
    assert snapshot() == before
    sent = client.client.post(action, data=data)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/confirmation")
    db.session.rollback()
    assert db.session.scalars(select(Application)).one().status == "submitted"


def test_pages_say_try_again_while_down_even_for_a_signed_in_user(
    client: Client, open_round: Round, outage: Outage, make_user: Any
) -> None:
    staff = make_user("staff")
    sign_in_as(client, staff)

    outage.down()
    for url in ("/", "/application", "/staff/"):
        page = unavailable_page(client.get(url))
        link = page.select_one("main a[href]")
        assert link.get_text(strip=True) == "Try again" and link["href"] == url
        # The page is drawn without loading the user: no nav that needs the database.
        assert page.select_one("main form") is None

    outage.up()
    assert client.get("/staff/").status_code == 200


def test_a_sign_in_is_not_re_presented_because_passwords_never_go_into_a_page(
    client: Client, open_round: Round, outage: Outage
) -> None:
    body = client.hidden_fields("/sign-in")
    body.update({"email": "someone@example.org", "password": "typed-secret-words"})

    outage.down()
    page = unavailable_page(client.client.post("/sign-in", data=body))

    assert "typed-secret-words" not in str(page)
    assert page.select_one("main form") is None
    assert "go back and send it again" in page.get_text()
