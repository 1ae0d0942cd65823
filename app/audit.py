"""The audit log: every change staff, reviewers and admins make, as who, what, when, which record.

Services call ``record`` next to the change, in the same transaction (it adds, never commits).
The detail may hold only codes, numbers, booleans and lists of those, such as the names of the
fields that changed: ``record`` refuses free text, so answers, names, email addresses, phone
numbers and postcodes cannot reach the log by accident. Applicants' own actions are not logged
here.

``record`` is also the one writer of an application's history (``ApplicationEvent``, read on its
staff page): a change that belongs there passes ``history`` rows, written by the same actor in
the same transaction as the audit event, so the two never disagree. The history's text is for
staff and may name things; it never goes to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy.orm import Session

from .models import Application, ApplicationEvent, AuditEvent, utcnow

# Action code -> what admins read in the log. Grouped by the record they change.
ACTIONS: dict[str, str] = {
    "user.created": "Created an account (command line)",
    "user.invited": "Invited a user",
    "user.roles_changed": "Changed a user's role",
    "user.suspended": "Suspended a user",
    "user.reactivated": "Let a suspended user sign in again",
    "user.password_set": "Set their password from an invitation",
    "user.password_reset": "Reset their password",
    "round.created": "Created a round (command line)",
    "round.settings_changed": "Changed a round's settings",
    "round.quotas_changed": "Changed a round's quota table",
    "reviewing.closed": "Closed reviewing",
    "reviewing.reopened": "Opened reviewing again",
    "application.screened": "Screened an application",
    "application.withdrawn": "Withdrew an application",
    "application.merged": "Merged a duplicate application",
    "application.assisted_started": "Started an application received by phone, post or email",
    "application.assisted_page_saved": "Entered answers for an assisted application",
    "application.assisted_sent": "Sent an assisted application",
    "letter.posted": "Marked a letter as posted",
    "application.exported": "Downloaded everything held about an application",
    "application.erased": "Erased an application's personal data",
    "assignment.added": "Assigned a reviewer",
    "assignment.removed": "Removed a reviewer",
    "conflict.declared": "Declared a conflict of interest",
    "review.draft_saved": "Saved a draft review",
    "review.submitted": "Submitted a review",
    "review.changed": "Changed a submitted review",
    "moderation.recorded": "Recorded a moderated score",
    "feedback.edited": "Edited the feedback for an applicant",
    "rubric.changed": "Changed a round's rubric",
    "letters.template_saved": "Changed an outcome letter",
    "letters.template_reset": "Put an outcome letter back to the default",
    "letters.settings_saved": "Changed what outcome letters say about contacting us",
    "run.started": "Started a selection run",
    "run.shared": "Shared a shortlist with the panel",
    "run.unshared": "Stopped sharing a shortlist with the panel",
    "run.confirmed": "Confirmed a run as the decision",
    "override.recorded": "Swapped a selected site by hand",
    "replacement.accepted": "Replaced a site that withdrew",
    "outcomes.queued": "Queued outcome letters",
    "export.downloaded": "Downloaded an export",
}
RECORD_TYPES: dict[str, str] = {
    "application": "Application",
    "round": "Round",
    "run": "Selection run",
    "user": "User",
    "audit_log": "Audit log",
}
# A detail value is a code, never prose: lower-case letters, digits and . _ : - only.
_CODE = re.compile(r"[a-z0-9][a-z0-9_.:\-]{0,79}")
_DETAIL_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class Actor(Protocol):
    id: int
    role: str


class History(NamedTuple):
    """One row of an application's history: which application, what kind of change, the words
    staff read, and when."""

    application_id: int
    kind: str
    text: str
    at: datetime


def _checked(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if not _CODE.fullmatch(value):
            raise ValueError(f"audit detail {key!r} must be a code, not free text")
        return value
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        if any(isinstance(item, list | tuple | set | frozenset | dict) for item in items):
            raise ValueError(f"audit detail {key!r} must be a flat list")
        return [_checked(key, item) for item in items]
    raise ValueError(f"audit detail {key!r} must be a code, a number or a list of codes")


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    record_type: str,
    record_id: int | None,
    round_id: int | None = None,
    *,
    history: Iterable[History] = (),
    **detail: Any,
) -> AuditEvent:
    """Add one audit event to the session, and the ``history`` rows of the applications it
    changed (the caller commits). ``actor`` is None for the command line or the system.
    Raises ValueError for an unknown action or prose in the detail.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to app.audit.ACTIONS")
    if record_type not in RECORD_TYPES:
        raise ValueError(f"unknown audit record type {record_type!r}")
    clean = {}
    for key, value in detail.items():
        if not _DETAIL_KEY.fullmatch(key):
            raise ValueError(f"audit detail key {key!r} must be a short lower-case name")
        clean[key] = _checked(key, value)
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else None,
        action=action,
        record_type=record_type,
        record_id=record_id,
        round_id=round_id,
        detail=clean,
    )
    session.add(event)
    session.add_all(
        ApplicationEvent(
            application_id=row.application_id,
            user_id=actor.id if actor is not None else None,
            at=row.at,
            kind=row.kind,
            detail=row.text,
        )
        for row in history
    )
    return event


def record_for_application(
    session: Session,
    actor: Actor | None,
    action: str,
    application: Application,
    kind: str,
    text: str,
    at: datetime,
    **detail: Any,
) -> AuditEvent:
    """`record` for a change to one application: the event names the application and its round,
    and the application's history gets one row (`kind`, the words staff read, `at`)."""
    history = [History(application.id, kind, text, at)]
    return record(
        session,
        actor,
        action,
        "application",
        application.id,
        application.round_id,
        history=history,
        **detail,
    )
