"""Spam without a CAPTCHA: a honeypot and a minimum fill time on the first page, and rate limits
per IP on creating drafts, sending and emailing the link; each refusal keeps what was typed."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import PAGE_ORDER, VALID, fill_pages, pass_eligibility
from tests.app.helpers import Client, check_hygiene

MIN_FILL_SECONDS = 30
RATE_LIMITS = {
    "APPLY_DRAFT_RATE_LIMIT": "2 per hour",
    "APPLY_SUBMIT_RATE_LIMIT": "2 per hour",
    "APPLY_EMAIL_LINK_RATE_LIMIT": "2 per hour",
}
FIRST_PAGE = "/application/organisation"


@pytest.fixture
def settings() -> dict[str, Any]:
    """Extra settings for one test: parametrise `settings` to change them."""
    return {}


@pytest.fixture
def app_config(app_config: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "MIN_FILL_SECONDS": MIN_FILL_SECONDS, **settings}


with_low_rate_limits = pytest.mark.parametrize("settings", [RATE_LIMITS], ids=["low-limits"])


def form_session(client: Client) -> str:
    """The random value the client's session cookie holds for signing the first page's stamp."""
    with client.client.session_transaction() as session:
        return str(session["form_session"])


def stamp(app: Flask, started: float, session_value: str) -> str:
    """A form-started stamp as the first page signs it for the session holding `session_value`."""
    serializer = URLSafeTimedSerializer(app.secret_key, salt="form-started")
    return serializer.dumps([started, session_value])


def post(client: Client, url: str, data: dict[str, Any]) -> tuple[int, BeautifulSoup]:
    response = client.client.post(url, data=data)
    page = BeautifulSoup(response.data, "html.parser")
    if response.status_code in (200, 429):
        check_hygiene(page)
    return response.status_code, page


def first_page(client: Client, app: Flask, **fields: Any) -> tuple[int, BeautifulSoup]:
    """Post the first page as a person who took a minute over it, with `fields` changed."""
    hidden = client.hidden_fields(FIRST_PAGE)
    body = {
        **hidden,
        **VALID["organisation"],
        "form_started": stamp(app, time.time() - 2 * MIN_FILL_SECONDS, form_session(client)),
        **fields,
    }
    return post(client, FIRST_PAGE, body)


def notices(page: BeautifulSoup) -> str:
    return " ".join(n.get_text(" ", strip=True) for n in page.select("main .notice"))


def assert_first_page_kept(page: BeautifulSoup) -> None:
    answers = VALID["organisation"]
    assert page.select_one("#organisation_name")["value"] == answers["organisation_name"]
    assert page.select_one("#registered_number")["value"] == answers["registered_number"]
    ticked = [tag["value"] for tag in page.select("input[name=organisation_type][checked]")]
    assert ticked == answers["organisation_type"]


def drafts() -> int:
    return int(db.session.scalar(select(func.count(Application.id))) or 0)


# The honeypot.


def test_the_honeypot_is_hidden_from_people(client: Client, app: Flask, open_round: Round) -> None:
    pass_eligibility(client)
    page = client.get_page(FIRST_PAGE)
    trap = page.select_one("input[name=website]")
    assert trap is not None
    assert trap.find_parent(attrs={"aria-hidden": "true"}) is not None
    assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off"
    assert trap.get("value", "") == ""
    # Only the first page has it.
    assert not client.get_page("/eligibility/uk_based").select("input[name=website]")


def test_a_filled_honeypot_saves_nothing_and_keeps_the_answers(
    client: Client, app: Flask, open_round: Round
) -> None:
    pass_eligibility(client)
    status, page = first_page(client, app, website="https://cheap-pills.example")
    assert status == 200
    assert "could not save" in notices(page).lower()
    assert page.select_one("title").get_text().startswith("Error:")
    assert_first_page_kept(page)
    assert drafts() == 0

    # A person whose browser filled it in can clear it and carry on.
    status, _ = first_page(client, app, website="")
    assert status == 302
    assert drafts() == 1


# The minimum fill time.


def test_a_first_page_sent_too_quickly_is_refused_with_answers_kept(
    client: Client, app: Flask, open_round: Round
) -> None:
    pass_eligibility(client)
    hidden = client.hidden_fields(FIRST_PAGE)  # the stamp the page gave: just now
    status, page = post(client, FIRST_PAGE, {**hidden, **VALID["organisation"]})
    assert status == 200
    assert notices(page)  # says what to do
    assert "Save and continue" in notices(page)
    assert not page.select_one("title").get_text().startswith("Error:")
    assert_first_page_kept(page)
    assert drafts() == 0
    # The page still carries a stamp for the next try.
    assert page.select_one("input[name=form_started]")["value"]


class Clock:
    """The fill-time check's clock, moved by hand: no test waits."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from app.apply import spam

    fake = Clock()
    monkeypatch.setattr(spam, "_clock", fake)
    return fake


def test_the_fill_time_runs_from_the_first_eligibility_question(
    client: Client, app: Flask, open_round: Round, clock: Clock
) -> None:
    """A person who took their time over the eligibility questions, then pastes prepared
    answers into the first page at once, is not mistaken for a bot."""
    pass_eligibility(client)
    clock.now += MIN_FILL_SECONDS + 1
    body = {**client.hidden_fields(FIRST_PAGE), **VALID["organisation"]}
    status, page = post(client, FIRST_PAGE, body)  # sent the moment the page was shown
    assert status == 302, notices(page)
    assert drafts() == 1


def test_too_fast_says_check_and_send_again_without_error_and_keeps_everything(
    client: Client, app: Flask, open_round: Round, clock: Clock
) -> None:
    pass_eligibility(client)
    clock.now += MIN_FILL_SECONDS - 5
    status, page = post(
        client, FIRST_PAGE, {**client.hidden_fields(FIRST_PAGE), **VALID["organisation"]}
    )
    assert status == 200
    assert not page.select_one("title").get_text().startswith("Error")
    assert "Error" not in page.select_one("main").get_text()
    assert not page.select(".error-summary, .error-message")
    assert page.select_one("#check-again").get_text(" ", strip=True) == (
        "Please check your answers and send again: select Save and continue."
    )
    assert_first_page_kept(page)
    assert drafts() == 0
    # A moment later, sent again as it is: saved.
    clock.now += 6
    hidden = {
        tag["name"]: tag.get("value", "") for tag in page.select("main form input[type=hidden]")
    }
    status, _ = post(client, FIRST_PAGE, {**VALID["organisation"], **hidden})
    assert status == 302
    assert drafts() == 1


def test_a_stamp_from_the_journey_of_one_session_is_refused_in_another(
    client: Client, app: Flask, open_round: Round, clock: Clock
) -> None:
    """Measured from the eligibility questions, the stamp is still bound to its session."""
    pass_eligibility(client)
    clock.now += MIN_FILL_SECONDS + 1
    given = client.hidden_fields(FIRST_PAGE)["form_started"]
    other = Client(app.test_client())
    pass_eligibility(other)
    body = {**other.hidden_fields(FIRST_PAGE), **VALID["organisation"], "form_started": given}
    status, page = post(other, FIRST_PAGE, body)
    assert status == 200
    assert page.select_one("#check-again")
    assert drafts() == 0


def test_a_first_page_that_took_long_enough_is_saved(
    client: Client, app: Flask, open_round: Round
) -> None:
    pass_eligibility(client)
    status, _ = first_page(client, app)
    assert status == 302
    assert drafts() == 1


def test_just_under_the_minimum_is_refused(client: Client, app: Flask, open_round: Round) -> None:
    pass_eligibility(client)
    client.get_page(FIRST_PAGE)  # the session gets its value for signing stamps
    status, page = first_page(
        client,
        app,
        form_started=stamp(app, time.time() - (MIN_FILL_SECONDS - 5), form_session(client)),
    )
    assert status == 200
    assert notices(page)
    assert drafts() == 0


@pytest.mark.parametrize(
    "how",
    ["altered", "wrong-key", "not-signed", "missing", "future", "other-session", "no-session"],
)
def test_a_tampered_or_missing_stamp_is_refused(
    client: Client, app: Flask, open_round: Round, how: str
) -> None:
    pass_eligibility(client)
    client.get_page(FIRST_PAGE)
    mine = form_session(client)
    old = time.time() - 10 * MIN_FILL_SECONDS
    good = stamp(app, old, mine)
    serializer = URLSafeTimedSerializer(app.secret_key, salt="form-started")
    bad = {
        "altered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "wrong-key": URLSafeTimedSerializer("another-key", salt="form-started").dumps([old, mine]),
        "not-signed": str(old),
        "missing": "",
        "future": stamp(app, time.time() + 3600, mine),
        "other-session": stamp(app, old, "another-sessions-value"),
        "no-session": serializer.dumps(old),  # as stamps were before they named their session
    }[how]
    status, page = first_page(client, app, form_started=bad)
    assert status == 200
    assert notices(page)
    assert_first_page_kept(page)
    assert drafts() == 0


@pytest.mark.parametrize("settings", [{"MIN_FILL_SECONDS": 0.2}], ids=["short-fill-time"])
def test_a_stamp_the_page_gave_one_session_is_refused_in_another(
    client: Client, app: Flask, open_round: Round
) -> None:
    """One genuine stamp, taken once, cannot be replayed by a bot in session after session."""
    pass_eligibility(client)
    given = client.hidden_fields(FIRST_PAGE)["form_started"]
    time.sleep(0.3)  # older than the minimum fill time

    other = Client(app.test_client())
    pass_eligibility(other)
    body = {**other.hidden_fields(FIRST_PAGE), **VALID["organisation"], "form_started": given}
    status, page = post(other, FIRST_PAGE, body)
    assert status == 200
    assert "Save and continue" in notices(page)
    assert_first_page_kept(page)
    assert drafts() == 0

    # In the session it was given to, the same stamp is good.
    body = {**client.hidden_fields(FIRST_PAGE), **VALID["organisation"], "form_started": given}
    status, _ = post(client, FIRST_PAGE, body)
    assert status == 302
    assert drafts() == 1


def test_correcting_a_mistake_quickly_is_not_refused(
    client: Client, app: Flask, open_round: Round
) -> None:
    """The fill time runs from when the page was first shown, not from the last error."""
    pass_eligibility(client)
    status, page = first_page(client, app, organisation_name="")
    assert status == 200
    assert page.select(".error-summary a")
    hidden = {
        tag["name"]: tag.get("value", "") for tag in page.select("main form input[type=hidden]")
    }
    status, page = post(client, FIRST_PAGE, {**VALID["organisation"], **hidden})
    assert status == 302, notices(page)
    assert drafts() == 1


def test_later_pages_have_no_fill_time_check(client: Client, app: Flask, open_round: Round) -> None:
    pass_eligibility(client)
    first_page(client, app)
    fill_pages(client, ["leadership"])  # posted at once, with no stamp: saved
    db.session.expire_all()
    assert "leadership" in db.session.scalars(select(Application)).one().answers


# Rate limits per IP.


def assert_friendly_429(page: BeautifulSoup, app: Flask) -> None:
    text = page.select_one("main").get_text(" ", strip=True)
    assert page.select_one("h1").get_text(strip=True)
    assert "try again" in text.lower()
    assert app.config["CENTRE_PHONE"] in text  # another way to reach a person


@with_low_rate_limits
def test_too_many_new_drafts_from_one_place_get_429(app: Flask, open_round: Round) -> None:
    browsers = [Client(app.test_client()) for _ in range(3)]
    for browser in browsers:
        pass_eligibility(browser)
    for browser in browsers[:2]:
        assert first_page(browser, app)[0] == 302
    status, page = first_page(browsers[2], app)
    assert status == 429
    assert_friendly_429(page, app)
    assert drafts() == 2
    # Drafts already started can still be saved: the limit is on creating them.
    fill_pages(browsers[0], ["leadership", "location"])


@with_low_rate_limits
def test_refused_first_pages_count_towards_the_draft_limit(
    client: Client, app: Flask, open_round: Round
) -> None:
    pass_eligibility(client)
    for _ in range(2):
        assert first_page(client, app, organisation_name="")[0] == 200
    assert first_page(client, app)[0] == 429
    assert drafts() == 0
    client.get_page(FIRST_PAGE)  # reading is not limited


@with_low_rate_limits
def test_too_many_sends_from_one_place_get_429(
    client: Client, app: Flask, open_round: Round
) -> None:
    pass_eligibility(client)
    first_page(client, app)
    fill_pages(client, PAGE_ORDER[1:])
    hidden = client.hidden_fields("/application/check-answers")
    for _ in range(2):  # without the declaration: errors, but each counts
        assert post(client, "/application/check-answers", hidden)[0] == 200
    status, page = post(
        client,
        "/application/check-answers",
        {**hidden, "confirm_correct": "yes", "confirm_privacy": "yes"},
    )
    assert status == 429
    assert_friendly_429(page, app)
    db.session.expire_all()
    assert db.session.scalars(select(Application.status)).one() == "draft"
    client.get_page("/application/check-answers")  # the answers are still there to read


@with_low_rate_limits
def test_too_many_emailed_links_get_429(client: Client, app: Flask, open_round: Round) -> None:
    pass_eligibility(client)
    first_page(client, app)
    hidden = client.hidden_fields("/application")
    for _ in range(2):
        response = client.client.post(
            "/application/email-link", data={**hidden, "email": "someone@example.org"}
        )
        assert response.status_code == 302
    status, page = post(
        client, "/application/email-link", {**hidden, "email": "someone@example.org"}
    )
    assert status == 429
    assert_friendly_429(page, app)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2


@with_low_rate_limits
def test_a_refusal_says_when_to_come_back_and_other_responses_carry_no_counters(
    client: Client, app: Flask, open_round: Round
) -> None:
    """Retry-After on the 429 page: the seconds until the hour's window lets one more through
    (moving window: the first of the two links sent goes out of it). No X-RateLimit-* headers
    anywhere: working them out would read the counters again on every request."""
    pass_eligibility(client)
    first_page(client, app)
    hidden = client.hidden_fields("/application")
    started = time.time()
    for _ in range(2):
        response = client.client.post(
            "/application/email-link", data={**hidden, "email": "someone@example.org"}
        )
        assert response.status_code == 302
        assert not [name for name, _ in response.headers.items() if name.startswith("X-RateLimit")]
    refused = client.client.post(
        "/application/email-link", data={**hidden, "email": "someone@example.org"}
    )
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    wait = int(refused.headers["Retry-After"])
    elapsed = time.time() - started
    assert 3600 - elapsed - 2 <= wait <= 3602  # the library rounds the reset time up


@with_low_rate_limits
def test_a_refusal_is_logged_without_the_address(
    client: Client, app: Flask, open_round: Round, caplog: pytest.LogCaptureFixture
) -> None:
    """An IP address is personal data: the log says which limit and page refused, not whom."""
    address = "203.0.113.57"
    caplog.set_level(logging.INFO, logger="flask-limiter")
    pass_eligibility(client)
    first_page(client, app)
    hidden = client.hidden_fields("/application")
    statuses = [
        client.client.post(
            "/application/email-link",
            data={**hidden, "email": "someone@example.org"},
            environ_base={"REMOTE_ADDR": address},
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    refusals = [r.getMessage() for r in caplog.records if r.name == "flask-limiter"]
    assert refusals == [
        "ratelimit 2 per 1 hour (address withheld) exceeded at endpoint: apply.email_link"
    ]
    assert address not in caplog.text
