"""Submission: starting a draft, saving a page, the one send (for applicants and staff entry),
the private token and reference, and the confirmation email composed as it is sent. The
services add and flush; the view commits once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..errors import DomainError
from ..models import AnswerPage, Application, OutboxMessage, Round
from ..outbox import composes, queue_email
from ..rounds import LONDON, closing_day
from . import emails
from .answers import answer_rows, missing_pages, mix_attributes
from .channels import channel_for, queue_for_applicant
from .confirmed_email import check_address_limit, is_confirmed
from .questions import Answers, Page

# No 0/O, 1/I/L or U/V: a reference read out over the phone cannot be misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
REFERENCE_LENGTH = 6


ROUND_CLOSED = "This call has closed, so answers can no longer be changed or sent."


class RoundClosed(DomainError):
    """The round's closing time has passed: drafts can be read but not changed or sent."""

    def __init__(self) -> None:
        super().__init__(ROUND_CLOSED)


class NoLongerADraft(DomainError):
    """The application was sent, withdrawn or merged by staff while this change was being made:
    the change is refused whole (the caller rolls back). `status` is what it is now."""

    def __init__(self, status: str) -> None:
        super().__init__("This application is no longer a draft, so it cannot be changed.")
        self.status = status


class NotReady(DomainError):
    """The application cannot be sent yet; `pages` lists what is missing."""

    def __init__(self, pages: list[Page]) -> None:
        super().__init__("Answer every question before you send the application.")
        self.pages = pages


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_reference(round_: Round) -> str:
    """A fresh reference, "EOI-2027-7KQ2MX": the year is the round's (the year it opens, UK
    time), not the day's, so a round's references share one year even if it runs over 1 January."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"EOI-{round_.opens_at.astimezone(LONDON).year}-{body}"


def accepts_changes(application: Application, now: datetime) -> bool:
    """Whether the application's answers can be changed and sent now: while its round is open,
    or, for one staff entered that reached the centre on or before the closing date (by post,
    say), after the round has closed too."""
    round_ = application.round
    if round_.is_open(now):
        return True
    return (
        application.entered_by_id is not None
        and application.received_on is not None
        and now >= round_.opens_at
        and application.received_on <= closing_day(round_)
    )


def find_by_token(session: Session, token: str | None) -> Application | None:
    """The application whose private token this is, with its round and answers loaded (every
    page of the journey reads all three)."""
    if not token or len(token) > 100:
        return None
    # The pages in a second SELECT: joined, each page's row would repeat the round (and decode
    # its settings) once per page.
    return session.scalars(
        select(Application)
        .where(Application.token_hash == hash_token(token))
        .options(joinedload(Application.round), selectinload(Application.pages))
    ).first()


def start_application(
    session: Session,
    round_: Round,
    eligibility: dict[str, Any],
    now: datetime,
    language: str = "en",
) -> tuple[Application, str]:
    """Create a draft and return it with its private token (shown once, then only hashed)."""
    if not round_.is_open(now):
        raise RoundClosed()
    token = new_token()
    application = Application(
        round_id=round_.id,
        status="draft",
        token_hash=hash_token(token),
        eligibility=dict(eligibility),
        language=language,
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    return application, token


def save_page(
    session: Session,
    application: Application,
    page_id: str,
    answers: dict[str, Any],
    now: datetime,
    language: str | None = None,
) -> None:
    """Store one page's answers, leaving every other page as it was; with a language, the draft
    is in that language from now on (the one the applicant last saved a page in)."""
    if application.status != "draft":
        if application.round.has_closed(now):
            raise RoundClosed()
        raise NoLongerADraft(application.status)
    if not accepts_changes(application, now):
        raise RoundClosed()
    # The draft's row is changed only while it is still a draft: a send or a member of staff that
    # got there after this request read it (another tab, the same moment) waits for this save;
    # one that got there first makes this save fail whole. Either way no page changes once an
    # application is sent.
    touched = session.execute(
        update(Application)
        .where(Application.id == application.id, Application.status == "draft")
        .values(updated_at=now, **({"language": language} if language else {}))
        .execution_options(synchronize_session=False)
    )
    if touched.rowcount != 1:
        status = session.scalar(select(Application.status).where(Application.id == application.id))
        raise NoLongerADraft(str(status or "deleted"))
    set_committed_value(application, "updated_at", now)
    if language:
        set_committed_value(application, "language", language)
    # The draft's pages are loaded with it (find_by_token): no SELECT for the one to change.
    existing = next((p for p in application.pages if p.page_id == page_id), None)
    if existing is not None:
        existing.answers = dict(answers)
        existing.updated_at = now
    else:
        try:
            with session.begin_nested():
                session.add(
                    AnswerPage(
                        application_id=application.id,
                        page_id=page_id,
                        answers=dict(answers),
                        updated_at=now,
                    )
                )
        except IntegrityError:
            # Another tab saved this page at the same moment: keep the latest answers.
            session.execute(
                update(AnswerPage)
                .where(AnswerPage.application_id == application.id, AnswerPage.page_id == page_id)
                .values(answers=dict(answers), updated_at=now)
            )
    session.flush()
    session.expire(application, ["pages"])


REFERENCE_CONSTRAINT = "uq_applications_reference"


def _reference_taken(error: IntegrityError) -> bool:
    """The unique reference clashed, and nothing else: PostgreSQL names the constraint (its
    message would also quote the row), SQLite the column."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:
        return getattr(error.orig, "sqlstate", None) == "23505" and (
            diag.constraint_name == REFERENCE_CONSTRAINT
        )
    return str(error.orig) == "UNIQUE constraint failed: applications.reference"


def _subject(reference: str | None) -> str:
    return f"Expression of interest received: {reference}"


def _queue_confirmation(session: Session, application: Application, answers: Answers) -> None:
    """The confirmation: an email composed as it is sent (compose_confirmation), or, for an
    applicant with no email address or who prefers post, a letter with a copy of the answers
    for the print queue."""
    body = ""
    if channel_for(application) == "post":
        round_ = application.round
        body = emails.confirmation(round_, application.reference, answer_rows(round_, answers))
    queue_for_applicant(
        session,
        application,
        kind="confirmation",
        subject=_subject(application.reference),
        body=body,
    )


@composes("confirmation")
def compose_confirmation(session: Session, message: OutboxMessage) -> bool:
    """The confirmation email, composed as it is sent from the application as it was sent: the
    reference, what happens next and a copy of the answers (or a summary). False if there is
    no application to compose it from (deleted, erased or never sent)."""
    if message.application_id is None:
        return False
    application = session.scalars(
        select(Application)
        .where(Application.id == message.application_id)
        .options(joinedload(Application.round), selectinload(Application.pages))
    ).first()
    if application is None or application.reference is None or application.erased_at:
        return False
    round_, answers = application.round, application.answers
    message.to_address = str(answers.get("contact", {}).get("email") or message.to_address)
    message.subject = _subject(application.reference)
    # The copy of the answers only to an address the applicant has shown is theirs; any other
    # address (typed by anyone) gets a summary without the free text.
    if is_confirmed(application, message.to_address):
        rows = answer_rows(round_, answers)
        message.body = emails.confirmation(round_, application.reference, rows)
    else:
        message.body = emails.confirmation_summary(round_, application)
    return True


def submit_application(session: Session, application: Application, now: datetime) -> Application:
    """Send the draft exactly once, however many times this is called at the same moment; the
    one send for applicants and for staff entering an application.

    The state change is conditional: draft -> submitted only while the row is still the draft
    as read (its status and updated_at). Of two sends at once only one changes the row; it
    writes the reference and the mix columns and queues the confirmation email in the caller's
    transaction; the other finds the application sent and returns it as it now is. A page saved
    from another tab in between moves updated_at: the draft is read again, so nothing saved is
    left out. Returns the application as it now is (still a draft only if it kept changing).
    Raises RoundClosed, or NotReady with the pages to finish.
    """
    session.flush()  # the caller's pending changes (staff entry) are part of what is read
    for _attempt in range(3):
        if application.status != "draft":
            return application
        if not accepts_changes(application, now):
            raise RoundClosed()
        answers = application.answers
        missing = missing_pages(answers)
        if missing:
            raise NotReady(missing)
        if _claim(session, application, answers, now):
            _queue_confirmation(session, application, answers)
            return application
        # Sent, withdrawn or changed since it was read: read it again.
        session.refresh(application)
        session.expire(application, ["pages"])
    return application


def _claim(session: Session, application: Application, answers: Answers, now: datetime) -> bool:
    """The conditional UPDATE, with a fresh reference; one already taken is drawn again inside a
    SAVEPOINT, undoing nothing else of the transaction. The row it changed comes back through
    RETURNING into `application` (the ORM's UPDATE..RETURNING with populate_existing), so the
    object says what was written without reading it again."""
    for _attempt in range(5):
        try:
            with session.begin_nested():
                result = session.execute(
                    update(Application)
                    .where(
                        Application.id == application.id,
                        Application.status == "draft",
                        Application.updated_at == application.updated_at,
                    )
                    .values(
                        status="submitted",
                        reference=new_reference(application.round),
                        submitted_at=now,
                        declaration_at=now,
                        updated_at=now,
                        **mix_attributes(answers),
                    )
                    .returning(Application),
                    execution_options={"synchronize_session": False, "populate_existing": True},
                )
                changed = result.scalars().all()
            return bool(changed)
        except IntegrityError as error:
            if not _reference_taken(error):
                raise
    raise RuntimeError("could not draw a unique reference")


def email_resume_link(
    session: Session,
    application: Application,
    email: str,
    link: str,
    now: datetime,
    per_address_per_day: int,
) -> None:
    """Queue the resume link to `email`; TooManyEmails (nothing written) if that address has
    had `per_address_per_day` emails from the service in the last day."""
    check_address_limit(session, email, now, per_address_per_day)
    queue_email(
        session,
        kind="resume-link",
        to_address=email,
        subject="Your link to come back to your expression of interest",
        body=emails.resume_link(application, link),
        application_id=application.id,
    )
    application.link_emailed_at = now
    application.updated_at = now
    session.flush()


def sent_applications(
    session: Session, round_: Round, *, eligible_only: bool = False
) -> list[Application]:
    """The round's sent applications (not withdrawn, not merged into another), oldest first:
    the pool a selection run reads. With `eligible_only`, only those screened eligible: the
    ones reviewers are given."""
    query = select(Application).where(
        Application.round_id == round_.id,
        Application.status == "submitted",
        Application.merged_into_id.is_(None),
    )
    if eligible_only:
        query = query.where(Application.screening == "eligible")
    return list(session.scalars(query.order_by(Application.id)))
