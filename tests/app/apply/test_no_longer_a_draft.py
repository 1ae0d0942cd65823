"""An application that stops being a draft while its applicant is still at it.

Staff can withdraw a draft, or merge a sent application into another; another tab can send it
while this one saves a page, or save a page while this one sends. None of these may give a 500,
change a sent application's answers, or send answers other than those last saved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.applications import services
from app.applications.services import NoLongerADraft, find_by_token, save_page, submit_application
from app.extensions import db
from app.models import AnswerPage, Application, OutboxMessage, Round, utcnow
from tests.app.apply.journey import (
    VALID,
    answered_draft,
    complete_application,
    sent_confirmations,
)
from tests.app.helpers import Client

APPLICATIONS = Application.__table__
CLOSED = "This expression of interest is closed"


def set_status(status: str) -> None:
    db.session.execute(update(APPLICATIONS).values(status=status))
    db.session.commit()


def saved_topics() -> Any:
    return db.session.scalars(
        select(AnswerPage.answers).where(AnswerPage.page_id == "topics")
    ).one()


@pytest.mark.parametrize(
    ("status", "says"),
    [("withdrawn", "has withdrawn this expression"), ("merged", "joined this one to the other")],
)
def test_a_withdrawn_or_merged_application_is_closed_to_its_applicant(
    app: Flask, client: Client, open_round: Round, status: str, says: str
) -> None:
    """Every page of the journey says so (no 500, no pretend task list), saving a page changes
    nothing, and a send sends nothing."""
    complete_application(client)
    before = saved_topics()
    page_form = client.hidden_fields("/application/topics")
    send_form = client.hidden_fields("/application/check-answers")
    set_status(status)
    for url in ("/application", "/application/topics", "/application/check-answers"):
        page = client.get_page(url)
        assert page.h1 is not None and page.h1.get_text(strip=True) == CLOSED, url
        assert says in page.get_text()
    confirmation = client.client.get("/application/confirmation")
    assert confirmation.headers["Location"].endswith("/application")

    saved = client.client.post(
        "/application/topics", data={**page_form, "topics": ["housing"], "work_mode": "embedded"}
    )
    assert saved.status_code == 200 and CLOSED in saved.get_data(as_text=True)
    db.session.expire_all()
    assert saved_topics() == before

    sent = client.client.post(
        "/application/check-answers",
        data={**send_form, "confirm_correct": "yes", "confirm_privacy": "yes"},
    )
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/application")
    db.session.expire_all()
    assert db.session.scalar(select(APPLICATIONS.c.status)) == status
    assert db.session.scalars(select(OutboxMessage).filter_by(kind="confirmation")).all() == []


def test_a_page_saved_after_another_tab_sent_the_application_is_refused(
    app: Flask, open_round: Round
) -> None:
    """The save read the draft before the send claimed it: its UPDATE of the draft finds it no
    longer a draft, and the save fails whole (no page changed)."""
    now = utcnow()
    _draft, token = answered_draft(open_round, now)
    db.session.commit()
    db.session.expunge_all()
    application = find_by_token(db.session, token)
    assert application is not None and application.status == "draft"  # what this request read
    db.session.execute(  # another tab's send, after that read (the object still says draft)
        update(APPLICATIONS).where(APPLICATIONS.c.id == application.id).values(status="submitted")
    )
    with pytest.raises(NoLongerADraft) as refused:
        save_page(db.session, application, "topics", {"topics": ["housing"]}, now)
    assert refused.value.status == "submitted"
    assert saved_topics() == VALID["topics"]  # in the same transaction: nothing written
    db.session.rollback()


def test_a_page_saved_between_the_sends_read_and_its_claim_is_sent_too(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another tab saves a new organisation name after the send has read the draft: the
    conditional change misses (the draft changed), the send reads it again, and the row and the
    email carry the name saved last."""
    now = utcnow()
    _draft, token = answered_draft(open_round, now)
    db.session.commit()
    db.session.expunge_all()
    application = find_by_token(db.session, token)
    assert application is not None
    renamed = {**VALID["organisation"], "organisation_name": "Cwm Carers Together"}
    check, calls = services.missing_pages, []

    def saved_meanwhile(answers: Any) -> Any:
        calls.append(answers["organisation"]["organisation_name"])
        if len(calls) == 1:  # the other tab's save, once
            connection = db.session.connection()
            connection.execute(
                update(AnswerPage.__table__)
                .where(AnswerPage.__table__.c.page_id == "organisation")
                .values(answers=renamed)
            )
            connection.execute(update(APPLICATIONS).values(updated_at=now + timedelta(seconds=1)))
        return check(answers)

    monkeypatch.setattr(services, "missing_pages", saved_meanwhile)
    assert submit_application(db.session, application, now).status == "submitted"
    db.session.commit()
    assert calls == [VALID["organisation"]["organisation_name"], "Cwm Carers Together"]
    row = db.session.execute(select(APPLICATIONS)).one()
    assert (row.status, row.organisation_name) == ("submitted", "Cwm Carers Together")
    [email] = db.session.scalars(select(OutboxMessage).filter_by(kind="confirmation")).all()
    assert email.application_id == row.id
    [body] = sent_confirmations()
    assert "Cwm Carers Together" in body
