"""Fixtures for the panel: a round, eligible applications, reviewers and their clients."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import Application, Round, User, utcnow
from app.panel.services import save_review
from tests.app.conftest import sign_in_as
from tests.app.factories import make_round, submitted_application
from tests.app.helpers import Client


@pytest.fixture
def round_(app: Flask) -> Round:
    round_ = make_round("panel-round")
    round_.reviews_required = 2
    db.session.commit()
    return round_


@pytest.fixture
def eligible(round_: Round) -> Callable[..., Application]:
    """A sent application screened eligible, through the applicant's services (answers and all)."""

    def make(nation: str = "wales", name: str | None = None) -> Application:
        pages: dict[str, Any] = {"location": {"nation": nation}}
        if name:
            pages["organisation"] = {"organisation_name": name}
        application = submitted_application(round_, **pages)
        application.screening = "eligible"
        db.session.commit()
        return application

    return make


def quick_application(
    round_: Round,
    *,
    nation: str | None = "wales",
    screening: str = "eligible",
    status: str = "submitted",
) -> Application:
    """A bare application row, for tests of assignment that need many and read no answers."""
    code = uuid.uuid4().hex
    application = Application(
        round_id=round_.id,
        status=status,
        token_hash=code + code[:32],
        reference=f"T-{code[:10]}" if status == "submitted" else None,
        organisation_name=f"Organisation {code[:4]}",
        nation=nation,
        screening=screening,
        submitted_at=utcnow() if status == "submitted" else None,
    )
    db.session.add(application)
    db.session.flush()
    return application


@pytest.fixture
def reviewer(make_user: Callable[..., User]) -> Callable[..., User]:
    """make a reviewer: reviewer(nation="england", name="Ann")."""

    def make(nation: str | None = None, name: str = "Panel Member") -> User:
        user = make_user("reviewer", name=name)
        user.nation = nation
        db.session.commit()
        return user

    return make


@pytest.fixture
def client_for(app: Flask) -> Callable[[User], Client]:
    """A separate signed-in browser for each user."""

    def make(user: User) -> Client:
        client = Client(app.test_client())
        sign_in_as(client, user)
        return client

    return make


def assign_to(application: Application, *reviewers: User) -> None:
    from app.models import Assignment

    for user in reviewers:
        db.session.add(Assignment(application_id=application.id, reviewer_id=user.id))
    db.session.commit()


def review(
    application: Application,
    user: User,
    scores: dict[str, int | None],
    *,
    submit: bool = True,
    comment: str = "",
) -> None:
    """Save a review through the service (the panel's own verb), and commit."""
    save_review(
        db.session,
        application,
        user,
        scores=scores,
        comments={},
        overall_comment=comment,
        submit=submit,
        now=utcnow(),
    )
    db.session.commit()


def all_scores(value: int) -> dict[str, int | None]:
    return {c: value for c in ("difference", "inequalities", "resources", "evidence")}


def post(
    browser: Client, from_page: str, to_url: str, data: dict[str, Any], status: int = 302
) -> Any:
    """Post a form found on `from_page` to its action `to_url`, with that page's CSRF token."""
    page = browser.get_page(from_page)
    body: dict[str, Any] = {"csrf_token": page.select_one("input[name=csrf_token]")["value"]}
    body.update(data)
    response = browser.client.post(to_url, data=body)
    assert response.status_code == status, f"POST {to_url}: {response.status_code}"
    return response


def parse(response: Any) -> Any:
    from bs4 import BeautifulSoup

    from tests.app.helpers import check_hygiene

    page = BeautifulSoup(response.data, "html.parser")
    check_hygiene(page)
    return page
