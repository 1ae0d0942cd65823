"""app.audit.record: one row per call in the caller's transaction, and never prose in the detail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit import ACTIONS, History, record
from app.extensions import db
from app.models import ApplicationEvent, AuditEvent, Round, utcnow
from tests.app.apply.journey import VALID
from tests.app.audit.conftest import applicant_data, leaks
from tests.app.factories import submitted_application


def count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


def test_record_adds_one_row_in_the_callers_transaction_and_never_commits(
    round_: Round, staff: Any
) -> None:
    before = utcnow()
    event = record(
        db.session,
        staff,
        "round.settings_changed",
        "round",
        round_.id,
        round_.id,
        fields=["title", "weights.difference"],
        rows=3,
        note_given=True,
        reason=None,
    )
    assert event in db.session.new
    db.session.flush()
    assert count() == 1
    stored = db.session.get(AuditEvent, event.id)
    assert (stored.actor_id, stored.actor_role, stored.action) == (
        staff.id,
        "staff",
        "round.settings_changed",
    )
    assert stored.detail == {
        "fields": ["title", "weights.difference"],
        "rows": 3,
        "note_given": True,
        "reason": None,
    }
    assert before <= stored.occurred_at <= utcnow()
    assert stored.occurred_at.tzinfo is not None
    db.session.rollback()  # the caller decides: nothing was committed
    assert count() == 0


def test_record_writes_the_applications_history_with_the_audit_event(
    round_: Round, staff: Any
) -> None:
    """One call, one writer: the history rows (which may name things, for staff) go in with the
    audit event, by the same actor, and a rollback takes back both."""
    first, second = submitted_application(round_), submitted_application(round_)
    at = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    event = record(
        db.session,
        staff,
        "application.merged",
        "application",
        second.id,
        round_.id,
        history=[
            History(second.id, "merged", "Merged into EOI-1 as a duplicate", at),
            History(first.id, "merged", "EOI-2 merged into this application", at),
        ],
        merged_into=first.id,
    )
    db.session.flush()
    rows = db.session.scalars(select(ApplicationEvent).order_by(ApplicationEvent.id)).all()
    assert [(r.application_id, r.user_id, r.at, r.kind, r.detail) for r in rows] == [
        (second.id, staff.id, at, "merged", "Merged into EOI-1 as a duplicate"),
        (first.id, staff.id, at, "merged", "EOI-2 merged into this application"),
    ]
    assert event.detail == {"merged_into": first.id}  # the history's words stay out of the log
    db.session.rollback()
    assert db.session.scalar(select(func.count(ApplicationEvent.id))) == 0
    assert count() == 0


def test_the_command_line_has_no_actor(round_: Round) -> None:
    event = record(db.session, None, "round.created", "round", round_.id, round_.id)
    db.session.commit()
    assert (event.actor_id, event.actor_role) == (None, None)


@pytest.mark.parametrize(
    "value",
    [
        VALID["contact"]["email"],
        VALID["contact"]["phone"],
        VALID["location"]["postcode"].upper(),
        VALID["organisation"]["organisation_name"],
        "My sister runs it",
        "=HYPERLINK(1)",
        "",
        ["ok", "Not A Code"],
        [["nested"]],
        {"a": 1},
        b"bytes",
    ],
)
def test_free_text_and_nested_values_are_refused(round_: Round, staff: Any, value: Any) -> None:
    with pytest.raises(ValueError, match="audit detail"):
        record(db.session, staff, "round.settings_changed", "round", round_.id, note=value)
    assert not db.session.new


def test_unknown_actions_record_types_and_keys_are_refused(round_: Round, staff: Any) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        record(db.session, staff, "round.deleted", "round", round_.id)
    with pytest.raises(ValueError, match="record type"):
        record(db.session, staff, "round.created", "rounds", round_.id)
    with pytest.raises(ValueError, match="key"):
        record(db.session, staff, "round.created", "round", round_.id, **{"Their Email": "x"})
    assert not db.session.new


def test_every_action_has_a_label_and_a_dotted_code() -> None:
    for code, label in ACTIONS.items():
        assert code.count(".") == 1 and code == code.lower(), code
        assert label and label[0].isupper(), code


def test_the_leak_check_finds_personal_data_written_past_record(round_: Round) -> None:
    """The suite's check must be able to fail: a row written without record() is caught."""
    email = VALID["contact"]["email"]
    row = AuditEvent(
        action="application.screened",
        record_type="application",
        record_id=1,
        detail={"note": f"Called {email.upper()}"},
    )
    db.session.add(row)
    db.session.flush()
    assert leaks([row], applicant_data()) == [f"{row.id}: {email}"]
    db.session.rollback()
