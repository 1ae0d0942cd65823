"""The final submit's database work, statement by statement, and what it leaves on the object.

The submit is the request every applicant makes at the busiest moment (the hours before a round
closes), so its statements are counted: a draft that saving its pages left complete is claimed
(a conditional UPDATE by its token) with its confirmation email queued, one statement on
PostgreSQL, reading nothing first. A statement more (reading the draft or its answers, reading
the row back, a SAVEPOINT) fails here. A draft not known to be complete is read (its round and
answers in one SELECT) and claimed as read. A reference already taken spoils the transaction:
the view rolls back and sends again with another, tested below for both paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from app.apply import services
from app.apply.services import (
    find_by_token,
    save_page,
    send_by_token,
    start_application,
    submit_application,
)
from app.extensions import db
from app.models import Application, OutboxMessage, Round, utcnow
from tests.app.apply.journey import (
    VALID,
    answered_draft,
    complete_application,
    forget_readiness,
    sent_confirmations,
)
from tests.app.factories import submitted_application
from tests.app.helpers import Client

CHECK_ANSWERS = "/application/check-answers"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The first word of every SQL statement sent while the block runs (BEGIN left out: SQLite
    sends it as a statement, PostgreSQL's driver does not)."""
    seen: list[str] = []

    def record(conn: object, cursor: object, sql: str, *args: object) -> None:
        word = sql.split(None, 1)[0].upper()
        if word != "BEGIN":
            seen.append(word)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_final_submit_sends_one_statement_on_postgres_two_on_sqlite(
    app: Flask, client: Client, open_round: Round
) -> None:
    """PostgreSQL claims the complete draft and queues the email in one statement (WITH claimed
    AS (UPDATE ...) INSERT ...); SQLite, which has no data-modifying WITH, sends the two apart.
    The email's body (a copy of the answers) is composed when it is sent, not in the request."""
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    with statements(app) as seen:
        response = client.client.post(CHECK_ANSWERS, data={**form, **DECLARATION})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/application/confirmation")
    if db.engine.dialect.name == "postgresql":
        assert seen == ["WITH"]
    else:
        assert seen == ["UPDATE", "INSERT"]
    sent = db.session.execute(select(Application)).scalar_one()
    email = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.kind == "confirmation")
    ).scalar_one()
    assert email.application_id == sent.id
    assert email.subject == f"Expression of interest received: {sent.reference}"
    assert email.to_address == VALID["contact"]["email"]
    assert email.body == ""  # composed when sent
    assert sent.submitted_at is not None
    for moment in (email.created_at, email.next_attempt_at):  # due at once
        assert sent.submitted_at <= moment <= utcnow()
    assert email.attempts == 0 and email.sent_at is None
    # The row's mix attributes, from what saving the pages kept; nothing of it left behind.
    assert (sent.nation, sent.region, sent.area_type) == ("wales", "wales", "rural")
    assert sent.organisation_name == VALID["organisation"]["organisation_name"]
    assert (sent.size_band, sent.led_by) == ("1-9", "carer-led")
    assert sent.first_time is True  # never took part before (VALID)
    assert sent.ready_to_send is None
    [body] = sent_confirmations()
    assert f"Your reference is {sent.reference}" in body
    assert VALID["organisation"]["organisation_name"] in body


def test_final_submit_on_postgres_is_one_autocommit_statement_and_the_pool_is_left_as_it_was(
    app: Flask, client: Client, open_round: Round
) -> None:
    """PostgreSQL: the send's statement is atomic on its own, so it runs with the driver in
    autocommit (it sends no BEGIN or COMMIT, two round trips fewer), and the connection is back
    in transaction mode when it returns to the pool, for the next request. SQLite: one
    transaction, begun first (its claim and email are two statements)."""
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    sent: list[tuple[str, object]] = []
    returned: list[object] = []

    def record(conn: Any, cursor: object, sql: str, *args: object) -> None:
        driver = conn.connection.dbapi_connection
        sent.append((sql.split(None, 1)[0].upper(), getattr(driver, "autocommit", None)))

    def checkin(dbapi_connection: Any, record: object) -> None:
        returned.append(getattr(dbapi_connection, "autocommit", None))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine.pool, "checkin", checkin)
    try:
        response = client.client.post(CHECK_ANSWERS, data={**form, **DECLARATION})
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine.pool, "checkin", checkin)
    assert response.headers["Location"].endswith("/application/confirmation")
    if engine.dialect.name == "postgresql":
        assert sent == [("WITH", True)]
        assert returned and returned[-1] is False  # transactions again for whoever is next
    else:
        assert [word for word, _mode in sent] == ["BEGIN", "UPDATE", "INSERT"]
    confirmations = select(func.count()).where(OutboxMessage.kind == "confirmation")
    assert db.session.scalar(confirmations) == 1
    status = db.session.scalar(select(Application.status))
    assert status == "submitted"


def test_saving_a_page_sends_four_statements(app: Flask, client: Client, open_round: Round) -> None:
    """Every page an applicant saves: the draft, its pages (loaded together), the page's UPDATE
    and the draft's. Where to go next comes from the answers in hand, not read back."""
    complete_application(client)
    url = "/application/topics"
    form = client.hidden_fields(url)
    with statements(app) as seen:
        response = client.client.post(
            url, data={**form, "topics": ["carers"], "work_mode": "embedded"}
        )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/application/experience")  # the next page
    assert seen == ["SELECT", "SELECT", "UPDATE", "UPDATE"]
    [application] = db.session.scalars(select(Application)).all()
    topics = application.answers["topics"]
    assert (topics["topics"], topics["work_mode"]) == (["carers"], "embedded")
    assert application.answers["contact"]["email"] == VALID["contact"]["email"]  # others kept


def test_sent_application_object_matches_its_row(app: Flask, open_round: Round) -> None:
    """The object is brought up to date from what the claim wrote, not by reading it back."""
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
    assert row.organisation_name == application.organisation_name
    assert application.organisation_name == VALID["organisation"]["organisation_name"]
    assert application not in db.session.dirty  # nothing left for a later flush to write
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.application_id == application.id
    assert application.reference in message.subject
    assert message.to_address == VALID["contact"]["email"]


def draws(monkeypatch: pytest.MonkeyPatch, *references: str) -> list[str]:
    """Make the reference generator return these, in order; returns what it has handed out."""
    queue = list(references)
    handed: list[str] = []

    def next_reference(now: object) -> str:
        handed.append(queue.pop(0))
        return handed[-1]

    monkeypatch.setattr("app.apply.services.new_reference", next_reference)
    return handed


def test_final_submit_draws_again_when_the_reference_is_taken(
    app: Flask, client: Client, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first reference drawn belongs to an application already sent: the whole send is
    rolled back and made again with the next one; one email, nothing of the failed attempt."""
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
    assert sent.organisation_name == VALID["organisation"]["organisation_name"]
    subjects = db.session.scalars(
        select(OutboxMessage.subject).filter_by(application_id=sent.id, kind="confirmation")
    ).all()
    assert subjects == ["Expression of interest received: EOI-2027-ZZZZZ2"]
    confirmations = select(func.count()).where(OutboxMessage.kind == "confirmation")
    assert db.session.scalar(confirmations) == 2  # the earlier application's and this one
    page = client.client.get("/application/confirmation")
    assert "EOI-2027-ZZZZZ2" in page.get_data(as_text=True)


def test_submit_application_draws_again_when_the_reference_is_taken(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit-of-work path (assisted entry, the demo) redraws inside a SAVEPOINT, keeping the
    other changes of its transaction."""
    taken = submitted_application(open_round).reference
    assert taken is not None
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    handed = draws(monkeypatch, taken, "EOI-2027-ZZZZZ3")
    submit_application(db.session, draft, now)
    db.session.commit()
    assert handed == [taken, "EOI-2027-ZZZZZ3"]
    db.session.expire_all()
    assert draft.reference == "EOI-2027-ZZZZZ3"
    assert draft.status == "submitted"
    assert len(draft.answers) == len(VALID)  # the pages saved in the same transaction stayed


def test_submit_application_retries_only_a_reference_clash(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any other integrity error (here the claim writes no status: NOT NULL) fails at once; it
    is not drawn again five times as if it were a clash."""
    now = utcnow()
    draft, _token = answered_draft(open_round, now)
    make_values, calls = services._sent_values, []

    def no_status(*args: Any) -> dict[str, Any]:
        calls.append(1)
        return {**make_values(*args), "new_status": None}

    monkeypatch.setattr(services, "_sent_values", no_status)
    with pytest.raises(IntegrityError) as raised:
        submit_application(db.session, draft, now)
    assert len(calls) == 1
    assert "status" in str(raised.value.orig)


def test_a_draft_changed_between_the_read_and_the_claim_reports_what_it_is_now(
    app: Flask, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff withdraw the draft after the send has read it, before its claim: nothing is sent or
    queued, and the send says "withdrawn", not "submitted"."""
    now = utcnow()
    draft, token = answered_draft(open_round, now)
    db.session.commit()
    forget_readiness(draft.id)  # so the send reads the draft
    table = Application.__table__
    check = services.missing_pages

    def withdrawn_meanwhile(answers: object) -> object:
        db.session.connection().execute(
            table.update().where(table.c.id == draft.id).values(status="withdrawn")
        )
        return check(answers)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "missing_pages", withdrawn_meanwhile)
    assert send_by_token(db.session.connection(), token, now) == "withdrawn"
    db.session.commit()
    row = db.session.execute(select(table).where(table.c.id == draft.id)).one()
    assert (row.status, row.reference) == ("withdrawn", None)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


@pytest.mark.parametrize("path", ["claimed as saved", "read first"])
def test_the_send_reads_every_saved_page_and_only_those(
    app: Flask, open_round: Round, path: str
) -> None:
    """The send finds what is still to do from the pages saved: with none, every page; with one
    left out, that one; with all, it is sent, the row's columns as saved (a name with quotes, a
    backslash, a new line and Welsh letters arrives unchanged), whether it comes from what
    saving kept (the draft claimed as it stands) or from the pages gathered by the database into
    one object (a draft whose readiness is not known is read first)."""
    now = utcnow()
    draft, token = start_application(db.session, open_round, {"uk_based": "yes"}, now)
    db.session.commit()
    with pytest.raises(services.NotReady) as nothing_saved:
        send_by_token(db.session.connection(), token, now)
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
    assert draft.ready_to_send is None  # a page to go
    with pytest.raises(services.NotReady) as one_left:
        send_by_token(db.session.connection(), token, now)
    db.session.rollback()
    assert [page.id for page in one_left.value.pages] == ["contact"]

    save_page(db.session, draft, "contact", VALID["contact"], now)
    db.session.commit()
    assert draft.ready_to_send is not None and draft.ready_to_send["organisation_name"] == name
    if path == "read first":
        forget_readiness(draft.id)
    assert send_by_token(db.session.connection(), token, now) == "submitted"
    db.session.commit()
    table = Application.__table__
    row = db.session.execute(select(table).where(table.c.id == draft.id)).one()
    assert (row.status, row.organisation_name, row.nation) == ("submitted", name, "wales")
    assert (row.first_time, row.ready_to_send) == (False, None)  # took part once before
    [body] = sent_confirmations()
    assert 'Gofalwyr "Tŷ Newydd" \\ Cymru' in body


def test_a_send_checks_the_round_as_staff_left_it_since_the_last_send(
    app: Flask, open_round: Round
) -> None:
    """A send that reads the draft keeps the round it read (its settings decoded once) for later
    sends of the same round: a change staff make in between (the closing time) is in the next
    send's checks, not the round as the first send found it. The email, composed when sent,
    says what the round says then."""
    now = utcnow()
    drafts = [answered_draft(open_round, now) for _ in range(3)]
    db.session.commit()
    tokens = []
    for draft, token in drafts:
        forget_readiness(draft.id)
        tokens.append(token)
    assert send_by_token(db.session.connection(), tokens[0], now) == "submitted"
    db.session.commit()
    assert ["Panel meets on 3 March." in body for body in sent_confirmations()] == [False]

    settings = dict(open_round.settings)
    settings["texts"] = {**settings.get("texts", {}), "next_steps": "Panel meets on 3 March."}
    open_round.settings = settings
    db.session.commit()
    assert send_by_token(db.session.connection(), tokens[1], now) == "submitted"
    db.session.commit()
    assert ["Panel meets on 3 March." in body for body in sent_confirmations()] == [True]

    open_round.closes_at = now - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(services.RoundClosed):
        send_by_token(db.session.connection(), tokens[2], now)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(Application.status == "draft")) == 1


def test_a_complete_draft_is_not_claimed_once_its_round_has_closed(
    app: Flask, open_round: Round
) -> None:
    """The one-statement claim checks the round's times itself: at the closing time a complete
    draft is refused (RoundClosed, nothing written), as one read first is."""
    now = utcnow()
    draft, token = answered_draft(open_round, now)
    db.session.commit()
    assert draft.ready_to_send is not None
    with pytest.raises(services.RoundClosed):
        send_by_token(db.session.connection(), token, open_round.closes_at)
    db.session.rollback()
    assert db.session.scalar(select(Application.status)) == "draft"
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
