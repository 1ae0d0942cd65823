"""The one send (`submit_application`), used by applicants and by staff entry: what it writes, what
it refuses, and that a send made twice submits once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.applications import services
from app.applications.services import (
    NotReady,
    RoundClosed,
    find_by_token,
    save_page,
    start_application,
    submit_application,
)
from app.extensions import db
from app.models import Application, OutboxMessage, Round, utcnow
from tests.app.apply.journey import VALID, answered_draft, complete_application, sent_confirmations
from tests.app.factories import submitted_application
from tests.app.helpers import Client

CHECK_ANSWERS = "/application/check-answers"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}


def confirmations() -> int:
    return int(
        db.session.scalar(select(func.count()).where(OutboxMessage.kind == "confirmation")) or 0
    )


def test_sent_application_object_matches_its_row(app: Flask, open_round: Round) -> None:
    now = utcnow()
    _draft, token = answered_draft(open_round, now)
    db.session.commit()
    db.session.expunge_all()
    application = find_by_token(db.session, token)
    assert application is not None
    submit_application(db.session, application, now)
    row = db.session.execute(
        select(Application.__table__).where(Application.__table__.c.id == application.id)
    ).one()
    assert row.status == application.status == "submitted"
    assert row.reference == application.reference
    assert row.reference is not None and row.reference.startswith("EOI-")
    assert row.submitted_at == application.submitted_at == now
    assert row.nation == application.nation == VALID["location"]["nation"]
    assert application.organisation_name == VALID["organisation"]["organisation_name"]
    assert row.first_time is True  # "never" took part before
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.application_id == application.id
    assert application.reference in message.subject
    assert message.to_address == VALID["contact"]["email"]


def test_a_second_send_of_an_application_already_sent_changes_nothing(
    app: Flask, open_round: Round
) -> None:
    """Another request sent the draft after this one read it (the object still says draft): the
    conditional change finds no draft, and the application comes back as the other request left
    it, with one confirmation email, not two."""
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    db.session.commit()
    db.session.execute(
        update(Application)
        .where(Application.id == draft.id)
        .values(status="submitted", reference="EOI-2027-OTHER2")
        .execution_options(synchronize_session=False)
    )
    assert draft.status == "draft"  # as this request read it
    sent = submit_application(db.session, draft, now)
    db.session.commit()
    assert (sent.status, sent.reference) == ("submitted", "EOI-2027-OTHER2")
    assert confirmations() == 0  # the other request queues its own


def test_the_send_says_which_pages_are_missing_and_sends_every_saved_page(
    app: Flask, open_round: Round
) -> None:
    """With nothing saved, every page is to do; with one left out, that one; with all, it is
    sent with the row's columns as saved (quotes, a backslash, a new line and Welsh letters
    arrive unchanged)."""
    now = utcnow()
    draft, _token = start_application(db.session, open_round, {"uk_based": "yes"}, now)
    db.session.commit()
    with pytest.raises(NotReady) as nothing_saved:
        submit_application(db.session, draft, now)
    db.session.rollback()
    assert "contact" in [page.id for page in nothing_saved.value.pages]
    assert len(nothing_saved.value.pages) >= len(VALID) - 1  # every page (England adds one)

    name = 'Gofalwyr "Tŷ Newydd" \\ Cymru\nLtd'
    saved = {
        **VALID,
        "organisation": {**VALID["organisation"], "organisation_name": name},
        "experience": {**VALID["experience"], "prior_participation": "once"},
    }
    for page_id, values in saved.items():
        if page_id != "contact":
            save_page(db.session, draft, page_id, values, now)
    db.session.commit()
    with pytest.raises(NotReady) as one_left:
        submit_application(db.session, draft, now)
    db.session.rollback()
    assert [page.id for page in one_left.value.pages] == ["contact"]

    save_page(db.session, draft, "contact", VALID["contact"], now)
    db.session.commit()
    assert submit_application(db.session, draft, now).status == "submitted"
    db.session.commit()
    table = Application.__table__
    row = db.session.execute(select(table).where(table.c.id == draft.id)).one()
    assert (row.status, row.organisation_name, row.nation) == ("submitted", name, "wales")
    assert row.first_time is False  # took part once before
    [body] = sent_confirmations()
    assert 'Gofalwyr "Tŷ Newydd" \\ Cymru' in body


def test_a_draft_is_not_sent_once_its_round_has_closed(app: Flask, open_round: Round) -> None:
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    db.session.commit()
    with pytest.raises(RoundClosed):
        submit_application(db.session, draft, open_round.closes_at)
    db.session.rollback()
    assert db.session.scalar(select(Application.status)) == "draft"
    assert confirmations() == 0


def test_a_draft_withdrawn_after_the_send_read_it_is_not_sent(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff withdraw the draft after the send has read it, before its change: nothing is sent
    or queued, and the send returns it withdrawn."""
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    db.session.commit()
    check = services.missing_pages

    def withdrawn_meanwhile(answers: object) -> object:
        db.session.execute(
            update(Application)
            .where(Application.id == draft.id)
            .values(status="withdrawn")
            .execution_options(synchronize_session=False)
        )
        return check(answers)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "missing_pages", withdrawn_meanwhile)
    assert submit_application(db.session, draft, now).status == "withdrawn"
    db.session.commit()
    row = db.session.execute(select(Application.status, Application.reference)).one()
    assert tuple(row) == ("withdrawn", None)
    assert confirmations() == 0


def draws(monkeypatch: pytest.MonkeyPatch, *references: str) -> list[str]:
    """Make the reference generator return these, in order; returns what it has handed out."""
    queue = list(references)
    handed: list[str] = []

    def next_reference(now: object) -> str:
        handed.append(queue.pop(0))
        return handed[-1]

    monkeypatch.setattr(services, "new_reference", next_reference)
    return handed


def test_final_submit_draws_again_when_the_reference_is_taken(
    app: Flask, client: Client, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first reference drawn belongs to an application already sent: it is drawn again; one
    email, nothing of the failed attempt."""
    taken = submitted_application(open_round).reference
    assert taken is not None
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    handed = draws(monkeypatch, taken, "EOI-2027-ZZZZZ2")
    response = client.client.post(CHECK_ANSWERS, data={**form, **DECLARATION})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/application/confirmation")
    assert handed == [taken, "EOI-2027-ZZZZZ2"]
    db.session.expire_all()
    sent = db.session.scalars(select(Application).filter_by(reference="EOI-2027-ZZZZZ2")).one()
    assert sent.status == "submitted"
    subjects = db.session.scalars(
        select(OutboxMessage.subject).filter_by(application_id=sent.id, kind="confirmation")
    ).all()
    assert subjects == ["Expression of interest received: EOI-2027-ZZZZZ2"]
    assert confirmations() == 2  # the earlier application's and this one
    page = client.client.get("/application/confirmation")
    assert "EOI-2027-ZZZZZ2" in page.get_data(as_text=True)


def test_a_redrawn_reference_keeps_the_rest_of_the_transaction(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff entry saves pages and sends in one transaction: the redraw (in a SAVEPOINT) keeps
    the pages saved before it."""
    taken = submitted_application(open_round).reference
    assert taken is not None
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    handed = draws(monkeypatch, taken, "EOI-2027-ZZZZZ3")
    submit_application(db.session, draft, now)
    db.session.commit()
    assert handed == [taken, "EOI-2027-ZZZZZ3"]
    db.session.expire_all()
    assert (draft.reference, draft.status) == ("EOI-2027-ZZZZZ3", "submitted")
    assert len(draft.answers) == len(VALID)


def test_only_a_reference_clash_is_drawn_again(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any other integrity error (here a mix column the database refuses: NOT NULL round) fails
    at once; it is not drawn again five times as if it were a clash."""
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    calls: list[int] = []

    def breaks_a_constraint(answers: object) -> dict[str, object]:
        calls.append(1)
        return {"round_id": None}

    monkeypatch.setattr(services, "mix_attributes", breaks_a_constraint)
    with pytest.raises(IntegrityError):
        submit_application(db.session, draft, now)
    assert len(calls) == 1
    db.session.rollback()


def test_sending_twice_over_http_gives_one_application_and_one_email(
    app: Flask, client: Client, open_round: Round
) -> None:
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    first = client.client.post(CHECK_ANSWERS, data={**form, **DECLARATION})
    second = client.client.post(CHECK_ANSWERS, data={**form, **DECLARATION})
    assert first.headers["Location"].endswith("/application/confirmation")
    assert second.headers["Location"].endswith("/application/confirmation")
    statuses = db.session.scalars(select(Application.status)).all()
    assert statuses == ["submitted"]
    assert confirmations() == 1
    assert timedelta(0) <= utcnow() - db.session.scalar(select(Application.submitted_at))
