"""What saving a page keeps for the final submit (applications.ready_to_send), and when the send
must not trust it: the draft is then read and checked, as every send was before."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app import outbox
from app.apply import services
from app.apply.services import email_resume_link, find_by_token, save_page, send_by_token
from app.extensions import db
from app.models import AnswerPage, Application, OutboxMessage, Round, utcnow
from app.outbox import send_due
from app.staff.services import withdraw_application
from tests.app.apply.journey import (
    VALID,
    RecordingTransport,
    answered_draft,
    sent_confirmations,
)
from tests.app.apply.test_submit_statements import statements


def kept(application_id: int) -> dict[str, object] | None:
    db.session.expire_all()
    return db.session.scalar(select(Application.ready_to_send).filter_by(id=application_id))


def committed_draft(open_round: Round) -> tuple[Application, str, datetime]:
    """A draft with every page answered, committed; with its token and the time it was saved."""
    now = utcnow()
    draft, token = answered_draft(open_round, now)
    db.session.commit()
    return draft, token, now


def test_a_complete_draft_keeps_its_mix_attributes_and_a_missing_answer_clears_them(
    app: Flask, open_round: Round
) -> None:
    draft, _token, now = committed_draft(open_round)
    ready = kept(draft.id)
    assert ready is not None
    assert ready["organisation_name"] == VALID["organisation"]["organisation_name"]
    assert (ready["nation"], ready["region"], ready["area_type"]) == ("wales", "wales", "rural")
    assert (ready["size_band"], ready["led_by"], ready["first_time"]) == ("1-9", "carer-led", True)
    assert ready["rules"] == services.READY_RULES

    # Saved again without a required answer (save and come back later): not complete now.
    save_page(db.session, draft, "contact", {**VALID["contact"], "email": ""}, now)
    db.session.commit()
    assert kept(draft.id) is None
    save_page(db.session, draft, "contact", VALID["contact"], now)
    db.session.commit()
    assert kept(draft.id) is not None


def test_a_save_from_a_draft_read_before_another_tabs_save_leaves_it_unknown(
    app: Flask, open_round: Round
) -> None:
    """Two tabs read the draft; the second saves a page with an answer missing; the first then
    saves another page, its answers in hand now out of date (they still hold the other page
    complete). It must not mark the draft complete: it leaves readiness unknown, and the send
    reads the answers and finds the page to finish."""
    _draft, token, now = committed_draft(open_round)
    first_tab = find_by_token(db.session, token)
    assert first_tab is not None
    first_tab_updated_at = first_tab.updated_at
    db.session.expunge_all()

    second_tab = find_by_token(db.session, token)
    assert second_tab is not None
    later = now + timedelta(seconds=1)
    save_page(db.session, second_tab, "contact", {**VALID["contact"], "email": ""}, later)
    db.session.commit()
    db.session.expunge_all()

    first_tab = find_by_token(db.session, token)
    assert first_tab is not None
    # As the first tab read it: the other page complete, updated_at from before the other save.
    db.session.expire(first_tab, ["pages"])
    first_tab.pages  # noqa: B018 - loaded now, then made to look as the first tab saw it
    contact = next(page for page in first_tab.pages if page.page_id == "contact")
    set_committed_value(contact, "answers", VALID["contact"])
    set_committed_value(first_tab, "updated_at", first_tab_updated_at)
    save_page(db.session, first_tab, "topics", VALID["topics"], later + timedelta(seconds=1))
    db.session.commit()
    assert kept(first_tab.id) is None

    with pytest.raises(services.NotReady) as not_ready:
        send_by_token(db.session.connection(), token, later + timedelta(seconds=2))
    db.session.rollback()
    assert [page.id for page in not_ready.value.pages] == ["contact"]


def test_a_draft_found_complete_by_other_rules_is_read_and_checked_again(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saved complete before a release changed the questions or this check: the one-statement
    claim passes it by, and the send reads the draft and decides with the rules it has now."""
    draft, token, now = committed_draft(open_round)
    monkeypatch.setattr(services, "READY_RULES", "another-release")
    with statements(app) as seen:
        assert send_by_token(db.session.connection(), token, now) == "submitted"
    db.session.commit()
    assert seen[:2] == ["UPDATE", "SELECT"] or seen[:2] == ["WITH", "SELECT"]
    assert db.session.scalar(select(Application.status).filter_by(id=draft.id)) == "submitted"


def test_a_confirmation_with_nothing_to_compose_it_from_is_dropped_not_sent_blank(
    app: Flask, open_round: Round, caplog: pytest.LogCaptureFixture
) -> None:
    """The confirmation is composed as it is sent, from its application. One whose application
    is gone (its link set to NULL when the row is deleted) is dropped with a warning that names
    only the message, never sent with an empty body; the one beside it goes out."""
    now = utcnow()
    tokens = [answered_draft(open_round, now)[1] for _ in range(2)]
    db.session.commit()
    for token in tokens:
        assert send_by_token(db.session.connection(), token, now) == "submitted"
    db.session.commit()
    gone, kept_message = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    gone_id = gone.id
    db.session.execute(update(OutboxMessage).filter_by(id=gone_id).values(application_id=None))
    db.session.commit()

    bodies = sent_confirmations()
    assert len(bodies) == 1
    sent = db.session.get(Application, kept_message.application_id)
    assert sent is not None
    assert f"Your reference is {sent.reference}" in bodies[0]
    assert db.session.get(OutboxMessage, gone_id) is None
    assert f"outbox message {gone_id} (confirmation) dropped" in caplog.text
    assert VALID["contact"]["email"] not in caplog.text


def test_a_complete_draft_is_not_claimed_before_its_round_opens(
    app: Flask, open_round: Round
) -> None:
    draft, token, _now = committed_draft(open_round)
    with pytest.raises(services.RoundClosed):
        send_by_token(db.session.connection(), token, open_round.opens_at - timedelta(seconds=1))
    db.session.rollback()
    assert db.session.scalar(select(Application.status).filter_by(id=draft.id)) == "draft"
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_change_that_bypasses_save_page_makes_the_send_read_the_draft(
    app: Flask, open_round: Round
) -> None:
    """As an older release's save_page would (it knows nothing of ready_to_send): the contact's
    email blanked and the row's updated_at moved. The draft's kept readiness no longer matches
    its updated_at, so the send reads the answers and finds the page to finish."""
    draft, token, now = committed_draft(open_round)
    assert kept(draft.id) is not None
    later = now + timedelta(minutes=5)
    db.session.execute(
        update(AnswerPage)
        .filter_by(application_id=draft.id, page_id="contact")
        .values(answers={**VALID["contact"], "email": ""})
    )
    db.session.execute(update(Application).filter_by(id=draft.id).values(updated_at=later))
    db.session.commit()
    with pytest.raises(services.NotReady) as not_ready:
        send_by_token(db.session.connection(), token, later)
    db.session.rollback()
    assert [page.id for page in not_ready.value.pages] == ["contact"]


def test_a_withdrawn_draft_keeps_no_copy_of_its_mix(
    app: Flask, open_round: Round, make_user: Any
) -> None:
    draft, _token, now = committed_draft(open_round)
    assert kept(draft.id) is not None
    withdraw_application(db.session, draft, "Asked to withdraw", make_user("staff"), now)
    db.session.commit()
    assert kept(draft.id) is None
    assert db.session.scalar(select(Application.ready_at).filter_by(id=draft.id)) is None


def test_an_email_link_sent_after_the_last_page_keeps_the_draft_ready(
    app: Flask, open_round: Round
) -> None:
    """Asking for the resume link changes the row (when it was emailed), not the answers."""
    draft, token, now = committed_draft(open_round)
    application = find_by_token(db.session, token)
    assert application is not None
    later = now + timedelta(minutes=1)
    email = VALID["contact"]["email"]
    email_resume_link(db.session, application, email, "https://x/r/t", later, per_address_per_day=5)
    db.session.commit()
    row = db.session.execute(
        select(Application.updated_at, Application.ready_at).filter_by(id=draft.id)
    ).one()
    assert row.updated_at == row.ready_at == later
    with statements(app) as seen:
        assert send_by_token(db.session.connection(), token, later) == "submitted"
    assert seen in (["WITH"], ["UPDATE", "INSERT"])


class FailingTransport(RecordingTransport):
    def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        raise ConnectionRefusedError("SMTP down")


def queued_confirmation(open_round: Round) -> int:
    _draft, token, now = committed_draft(open_round)
    assert send_by_token(db.session.connection(), token, now) == "submitted"
    db.session.commit()
    return int(db.session.scalars(select(func.max(OutboxMessage.id))).one())


def test_a_composed_confirmation_that_is_not_sent_keeps_no_copy_of_the_answers(
    app: Flask, open_round: Round
) -> None:
    message_id = queued_confirmation(open_round)
    assert send_due(db.session, FailingTransport(), "sender@example.org") == (0, 1)
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    assert (message.sent_at, message.attempts, message.body) == (None, 1, "")
    assert message.last_error == "ConnectionRefusedError"


def test_a_confirmation_that_cannot_be_composed_waits_and_the_rest_still_go(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A composer that fails (a bug, the database) or none registered for the kind: the message
    is kept with the error and a retry time, and the next message is sent meanwhile."""
    first = queued_confirmation(open_round)
    db.session.execute(
        update(OutboxMessage).filter_by(id=first).values(kind="confirmation-of-another-kind")
    )
    second = queued_confirmation(open_round)

    def broken(session: object, message: object) -> bool:
        raise ValueError("a bug")

    third = queued_confirmation(open_round)
    monkeypatch.setitem(outbox._COMPOSERS, "confirmation-broken", broken)
    db.session.execute(
        update(OutboxMessage).filter_by(id=second).values(kind="confirmation-broken")
    )
    db.session.commit()

    transport = RecordingTransport()
    assert send_due(db.session, transport, "sender@example.org") == (1, 2)
    assert len(transport.messages) == 1
    db.session.expire_all()
    for waiting, error in ((first, "LookupError"), (second, "ValueError")):
        message = db.session.get(OutboxMessage, waiting)
        assert message is not None
        assert (message.sent_at, message.attempts, message.last_error) == (None, 1, error)
        assert message.next_attempt_at > utcnow()
    sent = db.session.get(OutboxMessage, third)
    assert sent is not None and sent.sent_at is not None
