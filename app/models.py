"""Database models (SQLAlchemy 2, typed).

Times are stored in UTC. A draft's answers are stored one row per question page, so saving one
page (say, in a second tab) can never overwrite another page's answers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which drops time zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Round(db.Model):  # type: ignore[name-defined]
    """One call for expressions of interest, with its configuration (questions' options, texts)."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sites_wanted: Mapped[int] = mapped_column(default=12)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Selection settings: criterion weights, reviews needed per application, the quota table in
    # the engine's format (rows of dimension, category, min, max) and the optional lottery band.
    reviews_required: Mapped[int] = mapped_column(default=2, server_default="2")
    weights: Mapped[dict[str, float]] = mapped_column(JSON, default=dict, server_default="{}")
    quotas: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    lottery_band: Mapped[float | None] = mapped_column()
    reviewing_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    applications: Mapped[list[Application]] = relationship(back_populates="round")

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def has_closed(self, now: datetime) -> bool:
        return now >= self.closes_at


class Application(db.Model):  # type: ignore[name-defined]
    """An expression of interest: a draft until sent, then submitted with a reference."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    # SHA-256 of the private resume token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="online")
    # The language the applicant uses ("en" or "cy", app/language.py): the draft opens in it.
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    declaration_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    link_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SHA-256 of the email address the applicant has shown is theirs, by opening the link
    # emailed to it (app/applications/confirmed_email.py): the confirmation's copy of the
    # answers goes only to that address. None until then.
    confirmed_email_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the application is sent, so staff can filter and the engine can balance without
    # reading every answer: the mix attributes, copied from the answers.
    organisation_name: Mapped[str | None] = mapped_column(String(200), index=True)
    nation: Mapped[str | None] = mapped_column(String(40), index=True)
    region: Mapped[str | None] = mapped_column(String(40))
    area_type: Mapped[str | None] = mapped_column(String(40))
    size_band: Mapped[str | None] = mapped_column(String(40))
    led_by: Mapped[str | None] = mapped_column(String(40))
    first_time: Mapped[bool | None] = mapped_column(Boolean)
    pressures: Mapped[str | None] = mapped_column(String(40))
    local_deprivation: Mapped[str | None] = mapped_column(String(40))
    # Staff screening: "unscreened", "eligible" or "ineligible" (with a reason from a list).
    screening: Mapped[str] = mapped_column(
        String(20), default="unscreened", server_default="unscreened", index=True
    )
    screening_reason: Mapped[str | None] = mapped_column(String(60))
    screening_note: Mapped[str | None] = mapped_column(Text)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The day an application entered by staff reached the centre (by post, phone or email), as
    # staff typed it: one received on or before the closing date can be entered after it.
    received_on: Mapped[date | None] = mapped_column(Date)
    # Set when the personal data was erased (app/data_protection.py); the decision record stays.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the applicant asked for no more reminders to send the draft (the link in each).
    reminders_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    round: Mapped[Round] = relationship(back_populates="applications")
    pages: Mapped[list[AnswerPage]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="AnswerPage.id"
    )

    @property
    def answers(self) -> dict[str, dict[str, Any]]:
        """Saved answers by page id."""
        return {page.page_id: dict(page.answers) for page in self.pages}


class AnswerPage(db.Model):  # type: ignore[name-defined]
    """The saved answers of one question page of one application."""

    __tablename__ = "answer_pages"
    __table_args__ = (UniqueConstraint("application_id", "page_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    page_id: Mapped[str] = mapped_column(String(50))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    application: Mapped[Application] = relationship(back_populates="pages")


class DraftReminder(db.Model):  # type: ignore[name-defined]
    """A reminder to send a draft, one per draft per point of the round's schedule (so many days
    before the deadline): the unique constraint is what stops a second one, whatever runs."""

    __tablename__ = "draft_reminders"
    __table_args__ = (UniqueConstraint("application_id", "days_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    days_before: Mapped[int] = mapped_column()
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """An email waiting to be sent, written in the same transaction as the change that causes it.

    `flask send-mail` sends due messages and blanks the body once sent (it may hold a resume link
    and a copy of the answers). A message queued with an empty body is composed as it is sent,
    by the function registered for its kind (`outbox.composes`): the confirmation email.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Letter(db.Model):  # type: ignore[name-defined]
    """A letter to post to an applicant: what would have been emailed, for an applicant with no
    email address or who prefers post (app/applications/channels.py). Staff print it from the
    print queue and mark it posted; the outbox never sees it."""

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_queue", "posted_at", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    to_name: Mapped[str] = mapped_column(String(200))
    # The address block as printed, one line per line (organisation, lines, town, postcode).
    address: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    application: Mapped[Application] = relationship()


ROLES = ("admin", "staff", "reviewer")


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    """A member of staff, a panel reviewer or an admin. No self sign-up: admins invite users."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    nation: Mapped[str | None] = mapped_column(String(40))
    # Bumped when the password changes, so every other session signs out.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active and self.password_hash)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")


class UserToken(db.Model):  # type: ignore[name-defined]
    """A single-use, expiring link to set a password (invitation or reset); only its hash kept."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # "invite" or "reset"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class SignInFailure(db.Model):  # type: ignore[name-defined]
    """A failed sign-in, counted per account and per address for lockout, and per trusted device
    when made from a browser that signed in to the account before (app/auth/services.py). Keys
    are hashes, so the table holds neither email addresses nor IP addresses."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64), index=True)
    address_key: Mapped[str] = mapped_column(String(64), index=True)
    device_key: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ApplicationEvent(db.Model):  # type: ignore[name-defined]
    """What happened to an application, by whom and when: its history on the staff page."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")


class Assignment(db.Model):  # type: ignore[name-defined]
    """An application given to a reviewer to score."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Conflict(db.Model):  # type: ignore[name-defined]
    """A reviewer's declared conflict of interest: the application is hidden from them."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Review(db.Model):  # type: ignore[name-defined]
    """One reviewer's review of one application: a draft until submitted."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    scores: Mapped[list[ReviewScore]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewScore.id"
    )


class ReviewScore(db.Model):  # type: ignore[name-defined]
    """One rating (1 to 5) and comment for one criterion: one per criterion per review."""

    __tablename__ = "review_scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")  # internal: never reaches applicants
    # Feedback the reviewer wrote for the applicant: the only review text a letter may quote.
    feedback: Mapped[str] = mapped_column(Text, default="", server_default="")

    review: Mapped[Review] = relationship(back_populates="scores")


class Moderation(db.Model):  # type: ignore[name-defined]
    """A moderated score for one criterion, with its reason; the reviews stay on record."""

    __tablename__ = "moderations"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApplicantFeedback(db.Model):  # type: ignore[name-defined]
    """Moderation's edit of the feedback for the applicant on one criterion: when present, the
    letter gives this instead of the reviewers' own feedback for the applicant."""

    __tablename__ = "applicant_feedback"
    __table_args__ = (UniqueConstraint("application_id", "criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SelectionRun(db.Model):  # type: ignore[name-defined]
    """One run of the selection engine, stored immutably with everything needed to replay it.

    At most one run per round is "running" at a time: a partial unique index enforces it in the
    database, whatever the buttons say.
    """

    __tablename__ = "selection_runs"
    __table_args__ = (
        Index(
            "uq_selection_runs_one_running",
            "round_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(20), default="running"
    )  # running/done/infeasible/failed
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Snapshot: k, weights, options, the quota table, seed, input hash and engine version.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    engine_version: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bounds: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")  # e.g. the relaxation advice
    shared_with_panel: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    decisions: Mapped[list[SelectionDecision]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="SelectionDecision.id"
    )


class SelectionDecision(db.Model):  # type: ignore[name-defined]
    """The engine's decision for one application in one run, with its scores and reason."""

    __tablename__ = "selection_decisions"
    __table_args__ = (UniqueConstraint("run_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("selection_runs.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int | None] = mapped_column()
    score: Mapped[float | None] = mapped_column()
    difference: Mapped[float | None] = mapped_column()
    inequalities: Mapped[float | None] = mapped_column()
    resources: Mapped[float | None] = mapped_column()
    evidence: Mapped[float | None] = mapped_column()
    flags: Mapped[str] = mapped_column(String(200), default="")
    reason_code: Mapped[str] = mapped_column(String(40), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    reserve_number: Mapped[int | None] = mapped_column()

    run: Mapped[SelectionRun] = relationship(back_populates="decisions")


class Override(db.Model):  # type: ignore[name-defined]
    """Staff swapped one selected site for another in a confirmed decision, with a reason."""

    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("selection_runs.id"), index=True)
    removed_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    added_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutcomeLetter(db.Model):  # type: ignore[name-defined]
    """One outcome letter queued for one confirmed decision on an application.

    `basis` names the decision: 0 for the run's own, else the id of the override (a swap or a
    replacement) that changed it. The unique key means a decision is written to once, however
    often or concurrently staff press the button; a changed decision is a new basis, so a new
    letter, which says what changed (`previous_decision`).
    """

    __tablename__ = "outcome_letters"
    __table_args__ = (UniqueConstraint("run_id", "application_id", "basis"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("selection_runs.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    basis: Mapped[int] = mapped_column(default=0)
    decision: Mapped[str] = mapped_column(String(20))
    previous_decision: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))  # the applicant's preference: email/post/phone
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    queued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One change made by a member of staff, a reviewer or an admin: who, what, when, which record.

    Cross-cutting and append-only; ``detail`` holds only facts that identify nobody (codes,
    counts, ids, the names of changed fields), never answers, names or contact details.
    Written through ``app.audit.record``.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # None for the command line or the system; the role is the one held at the time.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column()
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
