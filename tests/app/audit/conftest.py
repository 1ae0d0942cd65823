"""Audit log fixtures: people in each role with their own browser, a round, and the checks that
every action leaves exactly one audit row and that no row holds personal data or answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Round, User
from tests.app.apply.journey import TEXT, VALID
from tests.app.conftest import sign_in_as
from tests.app.factories import make_round
from tests.app.helpers import Client

# Free text typed in these tests (notes, reasons, comments): none may reach the log.
NOTE = "Checked with Siân on the phone"
REASON = "Their trustee board asked to withdraw"
COMMENT = "A strong carers' network in the valleys"
MODERATION_REASON = "Reviewers read the evidence differently"
OVERRIDE_REASON = "Local authority partner pulled out"
SECRETS = [NOTE, REASON, COMMENT, MODERATION_REASON, OVERRIDE_REASON]


def applicant_data() -> list[str]:
    """Answers and contact details from the test data: the words the log must never hold."""
    contact, organisation = VALID["contact"], VALID["organisation"]
    postcode = VALID["location"]["postcode"]
    return [
        *TEXT.values(),
        organisation["organisation_name"],
        organisation["registered_number"],
        contact["contact_name"],
        contact["email"],
        contact["phone"],
        postcode,
        postcode.upper(),
        postcode.replace(" ", "").upper(),
    ]


def leaks(rows: Iterable[AuditEvent], forbidden: Iterable[str]) -> list[str]:
    """Every (row id, forbidden text) where the text appears in the row, case-insensitively."""
    found = []
    words = [w for w in forbidden if w]
    for row in rows:
        text = " ".join(
            [
                json.dumps(row.detail, ensure_ascii=False),
                row.action,
                row.record_type,
                row.actor_role or "",
            ]
        ).casefold()
        found += [f"{row.id}: {w}" for w in words if w.casefold() in text]
    return found


@pytest.fixture(autouse=True)
def no_personal_data_in_the_log(app: Flask) -> Iterator[None]:
    """After each test, the detail of every audit row is checked against the applicant's answers
    and contact details, the free text typed in the test, and every account's email and name."""
    yield
    db.session.rollback()
    rows = list(db.session.scalars(select(AuditEvent)))
    people = [text for user in db.session.scalars(select(User)) for text in (user.email, user.name)]
    assert leaks(rows, [*applicant_data(), *SECRETS, *people]) == []


def last_id() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def new_events(since: int) -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.id > since).order_by(AuditEvent.id))
    )


def one_event(since: int, action: str) -> AuditEvent:
    """The one audit row written since ``since``, which must be ``action``."""
    events = new_events(since)
    assert [e.action for e in events] == [action]
    return events[0]


def assert_event(
    event: AuditEvent,
    actor: User | None,
    record_type: str,
    record_id: int | None,
    round_id: int | None = None,
) -> None:
    assert event.actor_id == (actor.id if actor else None)
    assert event.actor_role == (actor.role if actor else None)
    assert (event.record_type, event.record_id, event.round_id) == (
        record_type,
        record_id,
        round_id,
    )


@pytest.fixture
def round_(app: Flask) -> Round:
    round_ = make_round("audit-round")
    round_.reviews_required = 2
    db.session.commit()
    return round_


@pytest.fixture
def browser_for(app: Flask) -> Callable[[User], Client]:
    """A separate signed-in browser for each user."""

    def make(user: User) -> Client:
        browser = Client(app.test_client())
        sign_in_as(browser, user)
        return browser

    return make


@pytest.fixture
def staff(make_user: Any) -> User:
    return make_user("staff", name="Sam Staff")


@pytest.fixture
def admin(make_user: Any) -> User:
    return make_user("admin", name="Ada Admin")


@pytest.fixture
def panel_member(make_user: Any) -> User:
    return make_user("reviewer", name="Rhys Reviewer")


def post(browser: Client, page_url: str, action: str, data: dict[str, Any] | None = None) -> Any:
    """Press the button of the form on ``page_url`` whose action is ``action``."""
    page = browser.get_page(page_url)
    form = next(f for f in page.select("form[method=post]") if f["action"] == action)
    body = {t["name"]: t.get("value", "") for t in form.select("input[type=hidden]")}
    body.update(data or {})
    return browser.client.post(action, data=body)
