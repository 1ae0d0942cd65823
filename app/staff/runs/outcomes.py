"""Outcome emails: one per application of a confirmed run, in plain words, never a second."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...audit import History, record
from ...models import (
    Application,
    ApplicationEvent,
    OutboxMessage,
    SelectionDecision,
    SelectionRun,
    User,
)
from ...outbox import queue_email
from .decisions import lock_run
from .services import RunError
from .shortlist import final_decisions, reserve_numbers, run_overrides

OUTCOME_KIND = "outcome"


def outcome_email(
    organisation: str, decision: str, reason: str, reserve: int | None
) -> tuple[str, str]:
    """Subject and body of an outcome email, in plain words."""
    name = organisation or "your organisation"
    if decision == "selected":
        subject = "Your expression of interest: selected"
        opening = f"We are pleased to tell you that {name} has been selected as a partner site."
    elif decision == "reserve":
        subject = "Your expression of interest: on the reserve list"
        place = f" at number {reserve}" if reserve else ""
        opening = (
            f"{name} has not been selected this time, but is on our reserve list{place}. "
            "If a selected site withdraws, we may offer you a place."
        )
    elif decision == "ineligible":
        subject = "Your expression of interest: not eligible"
        opening = f"We are sorry to tell you that {name} was not eligible this time."
    else:
        subject = "Your expression of interest: not selected"
        opening = f"We are sorry to tell you that {name} has not been selected this time."
    body = render_template("emails/outcome.txt", opening=opening, reason=reason)
    return subject, body


# The engine's reasons name other applications by reference where staff need to see which (the
# selected site a reserve could replace, the lowest one a site scored below). An applicant's own
# email leaves them out: they are someone else's, and mean nothing to the reader.
_PLACE_OF = re.compile(r"take the place of (?!any of the selected sites).*? while keeping")
_IN_BRACKETS = re.compile(r" \(([^()]+)\)")
_WORD = re.compile(r"[^\s,;()]+")


def applicant_reason(reason: str, own: str | None, references: Collection[str]) -> str:
    """A decision's reason for the applicant's email, without other applications' references."""

    def other(text: str) -> bool:
        return text in references and text != own

    text = _PLACE_OF.sub("take the place of some of the selected sites while keeping", reason)
    text = _IN_BRACKETS.sub(lambda m: "" if other(m.group(1)) else m.group(0), text)

    def named(match: re.Match[str]) -> str:
        word = match.group(0)
        core = word.rstrip(".")  # a reference ending a sentence keeps its full stop
        return "another application" + word[len(core) :] if other(core) else word

    return _WORD.sub(named, text)


PLAIN_SELECTED_BY_STAFF = "Selected when the selection panel made its final decision."
PLAIN_REMOVED_BY_STAFF = (
    "Not selected: when the selection panel made its final decision, another application was "
    "chosen in its place."
)


def queue_outcome_messages(session: Session, run: SelectionRun, user: User, now: datetime) -> int:
    """Queue one outcome email per application of a confirmed run; never a second one."""
    if run.confirmed_at is None:
        raise RunError("Confirm the run as the decision before sending outcome messages.")
    lock_run(session, run)  # two presses at once cannot both queue
    overrides = run_overrides(session, run)
    finals = final_decisions(run, overrides)
    ids = list(finals)
    # Staff's override reasons are internal notes: applicants get plain, general words instead.
    plain = {o.added_application_id: PLAIN_SELECTED_BY_STAFF for o in overrides}
    plain.update({o.removed_application_id: PLAIN_REMOVED_BY_STAFF for o in overrides})
    withdrew = set(
        session.scalars(
            select(ApplicationEvent.application_id).where(
                ApplicationEvent.kind == "selection-withdrawal",
                ApplicationEvent.application_id.in_(ids),
            )
        )
    )
    done = set(
        session.scalars(
            select(OutboxMessage.application_id).where(
                OutboxMessage.kind == OUTCOME_KIND, OutboxMessage.application_id.in_(ids)
            )
        )
    )
    reserves = reserve_numbers(run)
    applications = list(session.scalars(select(Application).where(Application.id.in_(ids))))
    references = {app.reference for app in applications if app.reference}
    history = []
    for app in applications:
        if app.id in done or app.id in withdrew or app.status != "submitted":
            continue
        email = app.answers.get("contact", {}).get("email")
        if not email:
            continue
        decision, reason = finals[app.id]
        reason = applicant_reason(plain.get(app.id, reason), app.reference, references)
        subject, body = outcome_email(
            app.organisation_name or "", decision, reason, reserves.get(app.id)
        )
        queue_email(
            session,
            kind=OUTCOME_KIND,
            to_address=str(email),
            subject=f"{subject} ({app.reference})",
            body=body,
            application_id=app.id,
        )
        history.append(History(app.id, "outcome-queued", f"Run {run.id}: {decision}.", now))
    queued = len(history)
    if queued:
        record(
            session,
            user,
            "outcomes.queued",
            "run",
            run.id,
            run.round_id,
            history=history,
            messages=queued,
        )
    session.flush()
    return queued


def outcomes_queued(session: Session, run: SelectionRun) -> int:
    """How many of the run's applications have an outcome message queued (or sent)."""
    in_run = select(SelectionDecision.application_id).where(SelectionDecision.run_id == run.id)
    return int(
        session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == OUTCOME_KIND, OutboxMessage.application_id.in_(in_run)
            )
        )
        or 0
    )
