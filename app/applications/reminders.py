"""Reminders to send a draft before the call closes, and the applicant's opt-out.

Each round has a schedule: so many days before the deadline (a round setting, by default 7 and
2). When `flask send-reminders` runs after a point of the schedule has passed, every unsent draft
of an open round that has a confirmed contact email address (or, for one who prefers post, a
postal address: the letter waits in the print queue) and has not opted out gets one reminder for
that point. The reminder is recorded in the transaction that queues it, and a unique constraint
on draft and point refuses a second: the command can run as often as cron likes, from any number
of machines, across restarts, and a draft gets at most one reminder per point. Only the latest
point passed is sent, so a command that did not run for a while does not send a burst.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..models import Application, DraftReminder, OutboxMessage, Round, utcnow
from ..outbox import composes
from ..rounds import reminder_days
from ..urls import external_url
from .channels import can_post, channel_for, queue_for_applicant
from .confirmed_email import is_confirmed

SALT = "draft-reminder-opt-out"
REMINDER_KIND = "draft-reminder"


def opt_out_token(secret_key: str, application_id: int) -> str:
    """The secret part of a draft's opt-out link: signed, so it names only that draft."""
    return URLSafeSerializer(secret_key, salt=SALT).dumps(application_id)


def draft_for_opt_out(session: Session, secret_key: str, token: str) -> Application | None:
    """The draft an opt-out link names, if the link is genuine (None otherwise)."""
    if not token or len(token) > 200:
        return None
    try:
        application_id = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(application_id, int) or isinstance(application_id, bool):
        return None
    return session.get(Application, application_id)


def opt_out(session: Session, application: Application, now: datetime) -> None:
    """No more reminders for this draft (asking twice changes nothing)."""
    if application.reminders_opted_out_at is None:
        application.reminders_opted_out_at = now
        session.flush()


def contact_channel(application: Application) -> str | None:
    """How a reminder may reach the draft's contact: "email" to the contact email in the
    answers, only once the applicant has shown it is theirs (the service never mails an address
    someone merely typed); "post" to the postal address of one who prefers post or gave no email
    address; None when neither is possible."""
    if channel_for(application) == "post":
        return "post" if can_post(application) else None
    address = application.answers.get("contact", {}).get("email")
    if address and is_confirmed(application, str(address)):
        return "email"
    return None


def current_point(round_: Round, now: datetime) -> int | None:
    """The latest point of the round's schedule that has passed while the round is open (the
    fewest days before the deadline), or None."""
    if not round_.is_open(now):
        return None
    passed = [d for d in reminder_days(round_) if now >= round_.closes_at - timedelta(days=d)]
    return min(passed) if passed else None


@dataclass(frozen=True)
class ReminderRun:
    sent: int
    skipped_no_contact: int


def send_reminders(session: Session, now: datetime) -> ReminderRun:
    """Queue the reminders due now; the caller commits. Each reminder and its email are written
    together under a savepoint, so one already recorded (by another run) is simply skipped."""
    sent = no_contact = 0
    rounds = session.scalars(
        select(Round).where(Round.opens_at <= now, Round.closes_at > now).order_by(Round.id)
    ).all()
    for round_ in rounds:
        point = current_point(round_, now)
        if point is None:
            continue
        point_at = round_.closes_at - timedelta(days=point)
        reminded = select(DraftReminder.application_id).where(DraftReminder.days_before <= point)
        drafts = session.scalars(
            select(Application)
            .where(
                Application.round_id == round_.id,
                Application.status == "draft",
                Application.merged_into_id.is_(None),
                Application.erased_at.is_(None),
                Application.reminders_opted_out_at.is_(None),
                Application.created_at <= point_at,
                Application.id.not_in(reminded),
            )
            .options(selectinload(Application.pages))
            .order_by(Application.id)
        ).all()
        for draft in drafts:
            if contact_channel(draft) is None:
                no_contact += 1
                continue
            try:
                with session.begin_nested():
                    session.add(
                        DraftReminder(application_id=draft.id, days_before=point, sent_at=now)
                    )
                    session.flush()
                    remind_applicant(session, draft)
            except IntegrityError:
                continue  # another run recorded this reminder first
            sent += 1
    return ReminderRun(sent, no_contact)


def remind_applicant(session: Session, application: Application) -> None:
    """Send one reminder to the applicant through `queue_for_applicant`, the one place a message
    is handed to a channel. An email is composed as it is sent (`compose_reminder`), so none goes
    once the draft is sent; a letter for the print queue is written now."""
    subject = f"Reminder: send your expression of interest for {application.round.title}"
    body = ""
    if channel_for(application) == "post":
        config = current_app.config
        body = render_template(
            "emails/draft_reminder_letter.txt",
            round=application.round,
            phone=config["CENTRE_PHONE"],
            centre_email=config["CENTRE_EMAIL"],
        )
    queue_for_applicant(session, application, kind=REMINDER_KIND, subject=subject, body=body)


@composes(REMINDER_KIND)
def compose_reminder(session: Session, message: OutboxMessage) -> bool:
    """The reminder, composed as `flask send-mail` sends it; False (it is dropped) when the draft
    has been sent, withdrawn, erased or deleted, has opted out, or its round has closed."""
    application = (
        session.get(Application, message.application_id) if message.application_id else None
    )
    if (
        application is None
        or application.status != "draft"
        or application.erased_at is not None
        or application.reminders_opted_out_at is not None
        or not application.round.is_open(utcnow())
    ):
        return False
    link = external_url(
        "apply.reminder_opt_out",
        token=opt_out_token(current_app.secret_key or "", application.id),
    )
    message.body = render_template(
        "emails/draft_reminder.txt", round=application.round, opt_out_link=link
    )
    return True
