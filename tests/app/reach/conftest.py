"""Reach fixtures: a round, a signed-in member of staff, and drafts made through the services."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.applications.confirmed_email import address_hash
from app.applications.services import save_page, start_application
from app.extensions import db
from app.models import Application, Round, utcnow
from tests.app.apply.journey import VALID
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client


@pytest.fixture
def staff_client(client: Client, make_user: Any) -> Client:
    sign_in_as(client, make_user("staff", name="Sam Staff"))
    return client


def make_draft(
    round_: Round,
    pages: list[str] | None = None,
    *,
    email: str | None = None,
    confirmed: bool = True,
    started: datetime | None = None,
    **overrides: dict[str, Any],
) -> Application:
    """A draft with the VALID answers of ``pages`` (every page when None), each overridable; with
    ``email`` as its contact address, confirmed as the applicant's unless ``confirmed`` is off."""
    now = utcnow()
    answers = copy.deepcopy(VALID)
    for page_id, values in overrides.items():
        answers.setdefault(page_id, {}).update(values)
    if email is not None:
        answers["contact"]["email"] = email
    application, _token = start_application(
        db.session, round_, {"uk_based": "yes"}, started or round_.opens_at + timedelta(hours=1)
    )
    for page_id in pages if pages is not None else list(answers):
        if page_id == "region" and answers["location"].get("nation") != "england":
            continue
        values = dict(answers[page_id])
        if values.get("postcode"):
            values["postcode"] = values["postcode"].upper()
        save_page(db.session, application, page_id, values, now)
    if confirmed:
        application.confirmed_email_hash = address_hash(answers["contact"]["email"])
    db.session.commit()
    return application
