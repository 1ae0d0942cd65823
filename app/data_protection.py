"""Data protection: a subject access export, erasure of personal data, and retention.

- ``subject_access_record`` gathers every stored record about one application (its
  organisation): answers, history, screening, reviews, moderation, decisions, and the emails
  and letters sent to it. Staff download it as JSON from the application's page.
- ``erase_application`` blanks the personal data (contact details, postcode, every free-text
  answer and staff note, reviewers' comments, feedback for the applicant and conflict notes,
  the resume token, the emails' addresses and bodies, and the files the outbox wrote of them;
  the letters' names, postal addresses and bodies, unposted letters dropped) and keeps the
  anonymised decision record: reference, status, mix attributes, choice answers, scores and
  decisions with their reason codes, and which outcome letters were sent.
- ``retention_plan`` / ``apply_retention`` (``flask retention``) delete drafts never sent once
  their round has been closed RETENTION_DRAFT_DAYS, and erase applications once their round's
  decision is RETENTION_PERSONAL_DATA_DAYS old.

Services add and flush; the view or command commits, and then removes the files the outbox
wrote of the emails concerned (``outbox.remove_file_copies``): a file cannot be put back if
the erasure were rolled back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from .applications.questions import PAGES
from .audit import Actor, record_for_application
from .errors import DomainError
from .labels import ERASURE_REASONS
from .models import (
    ApplicantFeedback,
    Application,
    ApplicationEvent,
    AuditEvent,
    Conflict,
    Letter,
    Moderation,
    OutboxMessage,
    OutcomeLetter,
    Override,
    Review,
    Round,
    SelectionDecision,
    SelectionRun,
    User,
)

ERASED = ""  # what an erased answer becomes
# Answers kept after erasure: the choices (mix attributes, topics, bands) hold no personal data.
KEPT_KINDS = frozenset({"radios", "checkboxes"})


class DataProtectionError(DomainError):
    """An erasure that cannot be done, with a message to show."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _kept(page_id: str, question_id: str) -> bool:
    page = PAGES.get(page_id)
    if page is None:
        return False
    question = next((q for q in page.questions if q.id == question_id), None)
    return question is not None and question.kind in KEPT_KINDS


# --- Subject access -------------------------------------------------------------------------


def subject_access_record(session: Session, application: Application) -> dict[str, Any]:
    """Everything stored about this application, as plain JSON-ready data.

    Reviewers and staff appear by role (and reviewers by number), not by name: the export is
    about the organisation, not about the people who assessed it.
    """
    roles = {u.id: u.role for u in session.scalars(select(User))}
    reviews = session.scalars(
        select(Review).where(Review.application_id == application.id).order_by(Review.id)
    ).all()
    decisions = session.execute(
        select(SelectionDecision, SelectionRun)
        .join(SelectionRun, SelectionRun.id == SelectionDecision.run_id)
        .where(SelectionDecision.application_id == application.id)
        .order_by(SelectionRun.id)
    ).all()
    overrides = session.scalars(
        select(Override)
        .where(
            or_(
                Override.removed_application_id == application.id,
                Override.added_application_id == application.id,
            )
        )
        .order_by(Override.id)
    ).all()
    return {
        "about": (
            "Everything Partner Select holds about this expression of interest, exported "
            "for a subject access request."
        ),
        "application": {
            "id": application.id,
            "reference": application.reference,
            "round": application.round.title,
            "status": application.status,
            "channel": application.channel,
            "received_on": application.received_on.isoformat() if application.received_on else None,
            "created_at": _iso(application.created_at),
            "submitted_at": _iso(application.submitted_at),
            "updated_at": _iso(application.updated_at),
            "declaration_at": _iso(application.declaration_at),
            "link_emailed_at": _iso(application.link_emailed_at),
            "email_address_confirmed": application.confirmed_email_hash is not None,
            "erased_at": _iso(application.erased_at),
            "eligibility": application.eligibility,
            "organisation_name": application.organisation_name,
            "mix": {
                "nation": application.nation,
                "region": application.region,
                "area_type": application.area_type,
                "size_band": application.size_band,
                "led_by": application.led_by,
                "first_time": application.first_time,
            },
            "withdrawn_reason": application.withdrawn_reason,
            "merged_into_id": application.merged_into_id,
        },
        "answers": application.answers,
        "screening": {
            "result": application.screening,
            "reason": application.screening_reason,
            "note": application.screening_note,
        },
        "history": [
            {
                "at": _iso(e.at),
                "by": roles.get(e.user_id) if e.user_id else "applicant or system",
                "what": e.kind,
                "detail": e.detail,
            }
            for e in session.scalars(
                select(ApplicationEvent)
                .where(ApplicationEvent.application_id == application.id)
                .order_by(ApplicationEvent.at, ApplicationEvent.id)
            )
        ],
        "audit_log": [
            {"at": _iso(e.occurred_at), "by": e.actor_role, "action": e.action, "detail": e.detail}
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.record_type == "application")
                .where(AuditEvent.record_id == application.id)
                .order_by(AuditEvent.id)
            )
        ],
        "reviews": [
            {
                "reviewer": f"Reviewer {number}",
                "status": review.status,
                "submitted_at": _iso(review.submitted_at),
                "scores": {s.criterion: s.score for s in review.scores},
                "comments": {s.criterion: s.comment for s in review.scores},
                "feedback_for_the_applicant": {s.criterion: s.feedback for s in review.scores},
                "overall_comment": review.overall_comment,
            }
            for number, review in enumerate(reviews, start=1)
        ],
        "feedback_for_the_applicant": {
            f.criterion: f.text
            for f in session.scalars(
                select(ApplicantFeedback)
                .where(ApplicantFeedback.application_id == application.id)
                .order_by(ApplicantFeedback.id)
            )
        },
        "outcome_letters": [
            {
                "run": letter.run_id,
                "decision": letter.decision,
                "previous_decision": letter.previous_decision,
                "channel": letter.channel,
                "queued_at": _iso(letter.queued_at),
            }
            for letter in session.scalars(
                select(OutcomeLetter)
                .where(OutcomeLetter.application_id == application.id)
                .order_by(OutcomeLetter.id)
            )
        ],
        "conflicts_of_interest": [
            {
                "declared_at": _iso(c.declared_at),
                "resolved_at": _iso(c.resolved_at),
                "note": c.note,
            }
            for c in session.scalars(
                select(Conflict)
                .where(Conflict.application_id == application.id)
                .order_by(Conflict.id)
            )
        ],
        "moderations": [
            {"at": _iso(m.at), "criterion": m.criterion, "score": m.score, "reason": m.reason}
            for m in session.scalars(
                select(Moderation)
                .where(Moderation.application_id == application.id)
                .order_by(Moderation.id)
            )
        ],
        "decisions": [
            {
                "run": run.id,
                "run_status": run.status,
                "run_created_at": _iso(run.created_at),
                "confirmed_at": _iso(run.confirmed_at),
                "decision": d.decision,
                "rank": d.rank,
                "score": d.score,
                "scores": {
                    "difference": d.difference,
                    "inequalities": d.inequalities,
                    "resources": d.resources,
                    "evidence": d.evidence,
                },
                "reason_code": d.reason_code,
                "reason": d.reason,
                "reserve_number": d.reserve_number,
            }
            for d, run in decisions
        ],
        "overrides": [
            {
                "run": o.run_id,
                "at": _iso(o.at),
                "effect": "removed" if o.removed_application_id == application.id else "added",
                "reason": o.reason,
            }
            for o in overrides
        ],
        "emails": [
            {
                "kind": m.kind,
                "to": m.to_address,
                "subject": m.subject,
                "body": m.body,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.application_id == application.id)
                .order_by(OutboxMessage.id)
            )
        ],
        "letters": [
            {
                "kind": letter.kind,
                "to": letter.to_name,
                "address": letter.address.splitlines(),
                "subject": letter.subject,
                "body": letter.body,
                "queued_at": _iso(letter.queued_at),
                "posted_at": _iso(letter.posted_at),
            }
            for letter in session.scalars(
                select(Letter).where(Letter.application_id == application.id).order_by(Letter.id)
            )
        ],
    }


# --- Erasure --------------------------------------------------------------------------------


def erase_application(
    session: Session, application: Application, actor: Actor | None, reason: str, now: datetime
) -> list[int]:
    """Blank the personal data of one application and keep its anonymised decision record.
    Returns the ids of its outbox messages, whose file copies the caller removes once this is
    committed (``outbox.remove_file_copies``)."""
    if reason not in ERASURE_REASONS:
        raise DataProtectionError("Select why the personal data is being erased")
    if application.erased_at is not None:
        raise DataProtectionError("This application's personal data has already been erased")
    for page in application.pages:
        page.answers = {
            key: (value if _kept(page.page_id, key) else ERASED)
            for key, value in page.answers.items()
        }
    application.organisation_name = None
    application.screening_note = None
    application.confirmed_email_hash = None
    if application.withdrawn_reason:
        application.withdrawn_reason = ERASED
    # A new random hash: the resume link stops working, and nothing can be matched to it.
    application.token_hash = secrets.token_hex(32)
    application.erased_at = now
    application.updated_at = now

    for event in session.scalars(
        select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
    ):
        event.detail = ERASED
    for review in session.scalars(select(Review).where(Review.application_id == application.id)):
        review.overall_comment = ERASED
        for score in review.scores:
            score.comment = ERASED
            score.feedback = ERASED
    for feedback in session.scalars(
        select(ApplicantFeedback).where(ApplicantFeedback.application_id == application.id)
    ):
        feedback.text = ERASED
    # A reviewer's note on a conflict says how they know the organisation and its people.
    for conflict in session.scalars(
        select(Conflict).where(Conflict.application_id == application.id)
    ):
        conflict.note = ERASED
    emails = list(
        session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.application_id == application.id)
        )
    )
    # Emails never sent are dropped; those sent keep their kind and dates only.
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.application_id == application.id, OutboxMessage.sent_at.is_(None)
        )
    )
    for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.application_id == application.id)
    ):
        message.to_address = ERASED
        message.subject = ERASED
        message.body = ERASED
        message.last_error = None
    # Letters never posted are dropped; those posted keep their kind and dates only.
    session.execute(
        delete(Letter).where(Letter.application_id == application.id, Letter.posted_at.is_(None))
    )
    for letter in session.scalars(select(Letter).where(Letter.application_id == application.id)):
        letter.to_name = ERASED
        letter.address = ERASED
        letter.subject = ERASED
        letter.body = ERASED
    # The runs' stored inputs name the organisation: blank it there too.
    for run in session.scalars(
        select(SelectionRun)
        .join(SelectionDecision, SelectionDecision.run_id == SelectionRun.id)
        .where(SelectionDecision.application_id == application.id)
    ):
        rows = run.parameters.get("applications")
        if rows:
            run.parameters = {
                **run.parameters,
                "applications": [
                    {**row, "organisation": ERASED}
                    if row.get("application_id") == application.id
                    else row
                    for row in rows
                ],
            }
    erased = f"Personal data erased: {ERASURE_REASONS[reason].lower()}"
    record_for_application(
        session,
        actor,
        "application.erased",
        application,
        "erased",
        erased,
        now,
        reason=reason,
    )
    session.flush()
    return emails


# --- Retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionPlan:
    drafts: list[Application]  # never sent, round closed long enough ago: deleted
    to_erase: list[Application]  # round decided long enough ago: personal data erased


def decided_at(session: Session, round_: Round) -> datetime | None:
    """When the round's decision was confirmed (its confirmed run), if it has one."""
    return session.scalars(
        select(SelectionRun.confirmed_at)
        .where(SelectionRun.round_id == round_.id, SelectionRun.confirmed_at.is_not(None))
        .order_by(SelectionRun.confirmed_at)
    ).first()


def retention_plan(
    session: Session, now: datetime, *, draft_days: int, personal_data_days: int
) -> RetentionPlan:
    drafts: list[Application] = []
    to_erase: list[Application] = []
    for round_ in session.scalars(select(Round).order_by(Round.id)):
        if now - round_.closes_at >= timedelta(days=draft_days):
            drafts.extend(
                session.scalars(
                    select(Application)
                    .where(Application.round_id == round_.id, Application.status == "draft")
                    .order_by(Application.id)
                )
            )
        decided = decided_at(session, round_)
        if decided is not None and now - decided >= timedelta(days=personal_data_days):
            to_erase.extend(
                session.scalars(
                    select(Application)
                    .where(
                        Application.round_id == round_.id,
                        Application.status != "draft",
                        Application.erased_at.is_(None),
                    )
                    .order_by(Application.id)
                )
            )
    return RetentionPlan(drafts, to_erase)


def apply_retention(session: Session, plan: RetentionPlan, now: datetime) -> list[int]:
    """Delete the plan's drafts (with their answers and emails) and erase the rest. Returns the
    ids of the outbox messages concerned, as ``erase_application`` does."""
    draft_ids = [a.id for a in plan.drafts]
    emails: list[int] = []
    if draft_ids:
        emails.extend(
            session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.application_id.in_(draft_ids))
            )
        )
        session.execute(delete(OutboxMessage).where(OutboxMessage.application_id.in_(draft_ids)))
        session.execute(delete(Letter).where(Letter.application_id.in_(draft_ids)))
        for draft in plan.drafts:
            session.delete(draft)
        session.flush()
    for application in plan.to_erase:
        emails.extend(erase_application(session, application, None, "retention", now))
    return emails
