"""A CSRF token that expired while someone was typing must not lose their answers: the page comes
back with every value kept and a clear message, nothing is saved, and the next try saves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import VALID, complete_application, fill_pages, pass_eligibility
from tests.app.helpers import Client, check_hygiene

CSRF_LIFETIME = 60


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "WTF_CSRF_TIME_LIMIT": CSRF_LIFETIME}


@pytest.fixture
def time_passes(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call to move the signing clock past the CSRF token's lifetime (no sleeping in tests)."""
    real = TimestampSigner.get_timestamp

    def later() -> None:
        monkeypatch.setattr(
            TimestampSigner, "get_timestamp", lambda self: real(self) + 2 * CSRF_LIFETIME
        )

    return later


def post(client: Client, url: str, data: dict[str, Any]) -> tuple[int, BeautifulSoup, str]:
    response = client.client.post(url, data=data)
    page = BeautifulSoup(response.data, "html.parser")
    if response.status_code == 200:
        check_hygiene(page)
    return response.status_code, page, response.headers.get("Location", "")


def hidden_of(page: BeautifulSoup) -> dict[str, str]:
    form = page.select_one("main form[method=post]")
    return {tag["name"]: tag.get("value", "") for tag in form.select("input[type=hidden]")}


def says_not_saved(page: BeautifulSoup) -> bool:
    notices = " ".join(n.get_text(" ", strip=True) for n in page.select("main .notice")).lower()
    return "could not save" in notices and "answers are still here" in notices


def stored() -> dict[str, dict[str, Any]]:
    db.session.expire_all()
    application = db.session.scalars(select(Application)).one()
    return application.answers


def test_an_expired_token_on_a_question_page_keeps_every_answer(
    client: Client, open_round: Round, time_passes: Callable[[], None]
) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    hidden = client.hidden_fields("/application/contact")
    typed = {
        **VALID["contact"],
        "phone": "+44 29 2000 0000",
        "adjustments": "Meetings after 10am.\r\nLarge print, please.",
    }
    time_passes()

    status, page, _ = post(client, "/application/contact", {**hidden, **typed})
    assert status == 200
    assert says_not_saved(page)
    for name in ("contact_name", "contact_role", "email", "phone"):
        assert page.select_one(f"#{name}")["value"] == typed[name], name
    assert page.select_one("input[name=preferred_contact][checked]")["value"] == "email"
    kept = page.select_one("#adjustments").get_text().replace("\r\n", "\n")
    assert kept == typed["adjustments"].replace("\r\n", "\n")
    assert "contact" not in stored()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0

    # Selecting the button again, with the page's new token, saves.
    status, _, location = post(client, "/application/contact", {**typed, **hidden_of(page)})
    assert status == 302 and location.endswith("/application")
    assert stored()["contact"]["phone"] == "+44 29 2000 0000"


def test_an_expired_token_on_the_first_page_creates_no_draft(
    client: Client, open_round: Round, time_passes: Callable[[], None]
) -> None:
    pass_eligibility(client)
    hidden = client.hidden_fields("/application/organisation")
    time_passes()
    status, page, _ = post(client, "/application/organisation", {**hidden, **VALID["organisation"]})
    assert status == 200
    assert says_not_saved(page)
    assert (
        page.select_one("#organisation_name")["value"] == VALID["organisation"]["organisation_name"]
    )
    ticked = [tag["value"] for tag in page.select("input[name=organisation_type][checked]")]
    assert ticked == VALID["organisation"]["organisation_type"]
    assert page.select_one("#registered_number")["value"] == "1234567"
    assert db.session.scalar(select(func.count(Application.id))) == 0

    status, _, _ = post(
        client, "/application/organisation", {**VALID["organisation"], **hidden_of(page)}
    )
    assert status == 302
    assert (
        stored()["organisation"]["organisation_name"] == VALID["organisation"]["organisation_name"]
    )


def test_a_checkbox_page_keeps_its_ticks(
    client: Client, open_round: Round, time_passes: Callable[[], None]
) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    hidden = client.hidden_fields("/application/topics")
    time_passes()
    typed = {"topics": ["workforce", "other"], "topics_other": "Housing", "work_mode": "network"}
    status, page, _ = post(client, "/application/topics", {**hidden, **typed})
    assert status == 200 and says_not_saved(page)
    ticked = {box["value"] for box in page.select("input[name=topics][checked]")}
    assert ticked == {"workforce", "other"}
    assert page.select_one("#topics_other")["value"] == "Housing"
    assert "topics" not in stored()


def test_an_expired_token_on_check_answers_does_not_send(
    client: Client, open_round: Round, time_passes: Callable[[], None]
) -> None:
    complete_application(client)
    hidden = client.hidden_fields("/application/check-answers")
    time_passes()
    declaration = {"confirm_correct": "yes", "confirm_privacy": "yes"}

    status, page, _ = post(client, "/application/check-answers", {**hidden, **declaration})
    assert status == 200
    assert says_not_saved(page)
    assert page.select_one("input[name=confirm_correct][checked]")
    assert page.select_one("input[name=confirm_privacy][checked]")
    db.session.expire_all()
    assert db.session.scalars(select(Application.status)).one() == "draft"

    status, _, location = post(
        client, "/application/check-answers", {**declaration, **hidden_of(page)}
    )
    assert status == 302 and location.endswith("/application/confirmation")
    db.session.expire_all()
    assert db.session.scalars(select(Application.status)).one() == "submitted"


def test_an_expired_token_on_an_eligibility_page_keeps_the_answer(
    client: Client, open_round: Round, time_passes: Callable[[], None]
) -> None:
    for question_id in ("uk_based", "adult_social_care", "co_production"):
        client.submit(f"/eligibility/{question_id}", {"answer": "yes"})
    hidden = client.hidden_fields("/eligibility/share_learning")
    time_passes()

    status, page, _ = post(client, "/eligibility/share_learning", {**hidden, "answer": "yes"})
    assert status == 200
    assert says_not_saved(page)
    assert page.select_one("title").get_text().startswith("Error:")
    assert page.select_one("input[name=answer][checked]")["value"] == "yes"
    # The answer was not recorded: the application cannot be started yet.
    response = client.get("/application")
    assert response.headers["Location"].endswith("/eligibility/uk_based")

    status, _, location = post(
        client, "/eligibility/share_learning", {"answer": "yes", **hidden_of(page)}
    )
    assert status == 302 and location.endswith("/application")


PAGE_FIRST_FIELD = {"difference": "difference", "contact": "contact_name"}


def tampered(token: str) -> str:
    return token[:-2] + ("aa" if not token.endswith("aa") else "bb")


@pytest.mark.parametrize("page_id", ["difference", "contact"])
def test_a_tampered_token_saves_nothing_and_keeps_the_answers(
    client: Client, open_round: Round, page_id: str
) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    hidden = client.hidden_fields(f"/application/{page_id}")
    status, page, _ = post(
        client,
        f"/application/{page_id}",
        {**VALID[page_id], "csrf_token": tampered(hidden["csrf_token"])},
    )
    assert status == 200
    assert says_not_saved(page)
    first = PAGE_FIRST_FIELD[page_id]
    shown = page.select_one(f"#{first}")
    value = shown.get_text() if shown.name == "textarea" else shown["value"]
    assert value == VALID[page_id][first]
    assert page_id not in stored()


def test_a_post_without_a_token_saves_nothing(client: Client, open_round: Round) -> None:
    complete_application(client)
    before = stored()
    status, page, _ = post(client, "/application/difference", {"difference": "Changed."})
    assert status == 200 and says_not_saved(page)
    assert page.select_one("title").get_text().startswith("Error:")
    assert stored() == before

    status, _, _ = post(
        client, "/application/check-answers", {"confirm_correct": "yes", "confirm_privacy": "yes"}
    )
    assert status == 200
    db.session.expire_all()
    assert db.session.scalars(select(Application.status)).one() == "draft"

    outbox_before = db.session.scalar(select(func.count(OutboxMessage.id)))
    status, page, _ = post(client, "/application/email-link", {"email": "someone@example.org"})
    assert status == 200 and says_not_saved(page)
    assert page.select_one("#email")["value"] == "someone@example.org"
    assert page.select_one("title").get_text().startswith("Error:")
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == outbox_before


def test_a_token_from_another_browser_is_refused(
    client: Client, app: Flask, open_round: Round
) -> None:
    """A forged request carrying the attacker's own valid token must not save."""
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    before = stored()
    attacker = Client(app.test_client())
    pass_eligibility(attacker)
    token = attacker.hidden_fields("/application/organisation")["csrf_token"]
    status, page, _ = post(
        client, "/application/difference", {"difference": "Forged.", "csrf_token": token}
    )
    assert status == 200 and says_not_saved(page)
    assert stored() == before
