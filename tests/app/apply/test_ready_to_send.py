"""What saving a page keeps for the final submit (applications.ready_to_send), and when the send
must not trust it: the draft is then read and checked, as every send was before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.apply import services
from app.apply.services import find_by_token, save_page, send_by_token
from app.extensions import db
from app.models import Application, OutboxMessage, Round, utcnow
from tests.app.apply.journey import VALID, answered_draft, sent_confirmations
from tests.app.apply.test_submit_statements import statements


def kept(application_id: int) -> dict[str, object] | None:
    db.session.expire_all()
    return db.session.scalar(select(Application.ready_to_send).filter_by(id=application_id))


def test_a_complete_draft_keeps_its_mix_attributes_and_a_missing_answer_clears_them(
    app: Flask, open_round: Round
) -> None:
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    db.session.commit()
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
    now = utcnow()
    _draft, token = answered_draft(open_round, now)
    db.session.commit()
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
    now = utcnow()
    draft, token = answered_draft(open_round, now)
    db.session.commit()
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
