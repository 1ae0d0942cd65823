"""Make rows for tests through the same services the app uses."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from app.applications.services import save_page, start_application, submit_application
from app.extensions import db
from app.models import Application, Round, utcnow
from app.rounds import create_round
from tests.app.apply.journey import VALID


def make_round(slug: str = "staff-round", **kwargs: Any) -> Round:
    now = utcnow()
    values: dict[str, Any] = {
        "title": "Partner sites 2027",
        "opens_at": now - timedelta(days=10),
        "closes_at": now + timedelta(days=10),
    }
    values.update(kwargs)
    round_ = create_round(db.session, slug=slug, **values)
    db.session.commit()
    return round_


def submitted_application(round_: Round, **pages: dict[str, Any]) -> Application:
    """A sent application with VALID answers, each page overridable:
    submitted_application(r, organisation={"organisation_name": "X"}, location={...})."""
    now = utcnow()
    answers = copy.deepcopy(VALID)
    for page_id, values in pages.items():
        answers.setdefault(page_id, {}).update(values)
    if answers["location"].get("nation") == "england" and "region" not in answers:
        answers["region"] = {"region": "north-west"}
    application, _token = start_application(
        db.session, round_, {"uk_based": "yes"}, now - timedelta(minutes=30)
    )
    for page_id, values in answers.items():
        if page_id == "region" and answers["location"].get("nation") != "england":
            continue
        values = {k: v for k, v in values.items()}
        if values.get("postcode"):
            values["postcode"] = values["postcode"].upper()
        save_page(db.session, application, page_id, values, now)
    submit_application(db.session, application, now)
    db.session.commit()
    return application
