"""The final submit's database work, statement by statement, and what it leaves on the object.

The submit is the request every applicant makes at the busiest moment (the hours before a round
closes), so its statements are counted: the draft with its round, its answers, the claim (a
conditional UPDATE inside a SAVEPOINT, so a reference already taken is drawn again) and the
confirmation email. A statement more (reading the row back, loading the round or the answers
lazily) fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, select

from app.apply.services import (
    find_by_token,
    save_page,
    start_application,
    submit_application,
)
from app.extensions import db
from app.models import Application, OutboxMessage, Round, utcnow
from tests.app.apply.journey import VALID, complete_application
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


def test_final_submit_sends_six_statements(app: Flask, client: Client, open_round: Round) -> None:
    complete_application(client)
    form = client.hidden_fields(CHECK_ANSWERS)
    with statements(app) as seen:
        response = client.client.post(CHECK_ANSWERS, data={**form, **DECLARATION})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/application/confirmation")
    assert seen == ["SELECT", "SELECT", "SAVEPOINT", "UPDATE", "RELEASE", "INSERT"]


def test_sent_application_object_matches_its_row(app: Flask, open_round: Round) -> None:
    """The object is brought up to date from what the claim wrote, not by reading it back."""
    now = utcnow()
    draft, token = start_application(db.session, open_round, {"uk_based": "yes"}, now)
    for page_id, values in VALID.items():
        save_page(db.session, draft, page_id, values, now)
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
