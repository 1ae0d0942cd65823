"""Business verbs of the applicant journey. They add and flush; the view commits once."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Text,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..models import AnswerPage, Application, OutboxMessage, Round
from ..outbox import queue_email
from ..rounds import LONDON, option_label
from . import emails
from .questions import (
    ELIGIBILITY,
    SECTIONS,
    Answers,
    Page,
    Question,
    Section,
    applicable_pages,
)

# No 0/O, 1/I/L or U/V: a reference read out over the phone cannot be misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
REFERENCE_LENGTH = 6


class RoundClosed(Exception):
    """The round's closing time has passed: drafts can be read but not changed or sent."""


class NoLongerADraft(Exception):
    """The application was sent, withdrawn or merged by staff while this change was being made:
    the change is refused whole (the caller rolls back). `status` is what it is now."""

    def __init__(self, status: str) -> None:
        super().__init__(f"application is {status}")
        self.status = status


class NotReady(Exception):
    """The application cannot be sent yet; `pages` lists what is missing."""

    def __init__(self, pages: list[Page]) -> None:
        super().__init__("application incomplete")
        self.pages = pages


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_reference(now: datetime) -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"EOI-{now.astimezone(LONDON).year}-{body}"


# Every page of the journey reads the draft's round and answers: load the three together. The
# statement is built once; SQLAlchemy then reuses its compiled form for every request.
_BY_TOKEN = (
    select(Application)
    .where(Application.token_hash == bindparam("token_hash"))
    .options(joinedload(Application.round), selectinload(Application.pages))
)


def find_by_token(session: Session, token: str | None) -> Application | None:
    """The application whose private token this is, with its round and answers loaded."""
    if not token or len(token) > 100:
        return None
    return session.scalars(_BY_TOKEN, {"token_hash": hash_token(token)}).first()


def eligibility_complete(answers: dict[str, Any]) -> bool:
    return all(answers.get(question.id) == "yes" for question in ELIGIBILITY)


def start_application(
    session: Session, round_: Round, eligibility: dict[str, Any], now: datetime
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
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    return application, token


def save_page(
    session: Session, application: Application, page_id: str, answers: dict[str, Any], now: datetime
) -> None:
    """Store one page's answers, leaving every other page as it was."""
    if application.status != "draft":
        if application.round.has_closed(now):
            raise RoundClosed()
        raise NoLongerADraft(application.status)
    if not application.round.is_open(now):
        raise RoundClosed()
    # The draft's row is changed only while it is still a draft: a send or a member of staff that
    # got there after this request read it (another tab, the same moment) waits for this save or
    # finds the row changed; one that got there first makes this save fail whole. Either way no
    # page changes once an application is sent.
    table = Application.__table__
    touched = session.execute(
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == application.id, table.c.status == "draft")
        .values(updated_at=now)
    )
    if touched.rowcount != 1:
        status = session.execute(select(table.c.status).where(table.c.id == application.id))
        raise NoLongerADraft(str(status.scalar_one_or_none() or "deleted"))
    set_committed_value(application, "updated_at", now)
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


def page_complete(page: Page, answers: Answers) -> bool:
    saved = answers.get(page.id)
    if saved is None:
        return False
    for question in page.questions:
        if question.required and saved.get(question.id) in (None, "", []):
            return False
        if question.other_for:
            chosen = saved.get(question.other_for)
            chosen_other = "other" in chosen if isinstance(chosen, list) else chosen == "other"
            if chosen_other and not saved.get(question.id):
                return False
    return True


@dataclass(frozen=True)
class SectionStatus:
    section: Section
    status: str  # "not-started", "in-progress", "completed"
    first_page: Page

    @property
    def label(self) -> str:
        return {"not-started": "Not started", "in-progress": "In progress"}.get(
            self.status, "Completed"
        )


def section_statuses(answers: Answers) -> list[SectionStatus]:
    result = []
    for section in SECTIONS:
        pages = applicable_pages(section, answers)
        complete = [page_complete(page, answers) for page in pages]
        started = any(page.id in answers for page in section.pages)
        if all(complete):
            status = "completed"
        elif started:
            status = "in-progress"
        else:
            status = "not-started"
        first_incomplete = next(
            (page for page, done in zip(pages, complete, strict=True) if not done), pages[0]
        )
        result.append(SectionStatus(section, status, first_incomplete))
    return result


def missing_pages(answers: Answers) -> list[Page]:
    return [
        page
        for section in SECTIONS
        for page in applicable_pages(section, answers)
        if not page_complete(page, answers)
    ]


def region_of(answers: Answers) -> str | None:
    """The ITL1 region: the English region, or the nation itself outside England."""
    nation = answers.get("location", {}).get("nation")
    if nation == "england":
        region = answers.get("region", {}).get("region")
        return str(region) if region else None
    return str(nation) if nation else None


def mix_attributes(answers: Answers) -> dict[str, Any]:
    """The columns staff filter on and the engine balances on, copied from the answers."""
    return {
        "organisation_name": answers.get("organisation", {}).get("organisation_name"),
        "nation": answers.get("location", {}).get("nation"),
        "region": region_of(answers),
        "area_type": answers.get("location", {}).get("area_type"),
        "size_band": answers.get("leadership", {}).get("staff_band"),
        "led_by": answers.get("leadership", {}).get("led_by"),
        "first_time": answers.get("experience", {}).get("prior_participation") == "never",
    }


@dataclass(frozen=True)
class AnswerRow:
    page_id: str
    question: Question
    value: str  # as shown to people: labels, not codes; "Not given" when empty


def _display(round_: Round, question: Question, value: Any) -> str:
    if value in (None, "", []):
        return "Not given"
    if question.kind == "radios" and question.options:
        return option_label(round_, question.options, str(value))
    if question.kind == "checkboxes" and question.options:
        return "\n".join(option_label(round_, question.options, str(v)) for v in value)
    return str(value)


def answer_rows(round_: Round, answers: Answers) -> list[tuple[Section, list[AnswerRow]]]:
    """Every answer, by section, in the order asked; 'other' answers follow their choice."""
    result = []
    for section in SECTIONS:
        rows = []
        for page in applicable_pages(section, answers):
            saved = answers.get(page.id, {})
            for question in page.questions:
                value = saved.get(question.id)
                if question.other_for and value in (None, ""):
                    continue
                rows.append(AnswerRow(page.id, question, _display(round_, question, value)))
        result.append((section, rows))
    return result


# The claim: draft -> submitted, only if still a draft. Built once with named parameters (they
# cannot share the columns' names), so each send only binds its values.
_SENT_COLUMNS = (
    "status",
    "reference",
    "submitted_at",
    "declaration_at",
    "updated_at",
    "organisation_name",
    "nation",
    "region",
    "area_type",
    "size_band",
    "led_by",
    "first_time",
)
_CLAIM = (
    update(Application.__table__)  # type: ignore[arg-type]
    .where(
        Application.__table__.c.id == bindparam("claim_id"),
        Application.__table__.c.status == "draft",
    )
    .values({column: bindparam(f"new_{column}") for column in _SENT_COLUMNS})
)

# The applicant's send claims the draft only if it is as it was read (its answers are what the
# row's columns and the email are made from): a page saved from another tab in between, which
# moves updated_at, makes the claim miss and the send read again.
_CLAIM_AS_READ = _CLAIM.where(Application.__table__.c.updated_at == bindparam("read_updated_at"))

# On PostgreSQL the claim and the confirmation email's INSERT are one statement (a data-modifying
# WITH): the email row is written only if the claim changed the draft, in one round trip instead
# of two. SQLite has no such statement: there the two are sent one after the other.
_claimed = _CLAIM_AS_READ.returning(Application.__table__.c.id).cte("claimed")
_outbox = OutboxMessage.__table__
_EMAIL_FIELDS = ("kind", "to_address", "subject", "body", "created_at", "next_attempt_at")
_CLAIM_AND_QUEUE = (
    insert(_outbox)
    .from_select(  # type: ignore[arg-type]
        [*_EMAIL_FIELDS, "attempts", "application_id"],
        select(
            *(bindparam(f"email_{name}", type_=_outbox.c[name].type) for name in _EMAIL_FIELDS),
            literal(0),
            _claimed.c.id,
        ),
        include_defaults=False,
    )
    # The row count reached through SQLAlchemy was -1 for this statement (seen in the statement
    # test); the returned id says the email was written, whatever the driver reports.
    .returning(_outbox.c.id)
)


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


class ReferenceTaken(Exception):
    """The reference drawn for a send is already someone else's: roll back and send again."""


def _sent_values(answers: Answers, now: datetime) -> dict[str, Any]:
    """The claim's parameters: what sending writes on the row, with a fresh reference."""
    return {
        "new_status": "submitted",
        "new_reference": new_reference(now),
        "new_submitted_at": now,
        "new_declaration_at": now,
        "new_updated_at": now,
        **{f"new_{column}": value for column, value in mix_attributes(answers).items()},
    }


def _queue_confirmation(session: Session, application: Application, answers: Answers) -> None:
    queue_email(
        session,
        application_id=application.id,
        **_confirmation(application.round, application.reference, answers),
    )


def _confirmation(round_: Round, reference: str | None, answers: Answers) -> dict[str, Any]:
    """The confirmation email's fields (kind, to_address, subject, body)."""
    return {
        "kind": "confirmation",
        "to_address": str(answers.get("contact", {})["email"]),
        "subject": f"Expression of interest received: {reference}",
        "body": emails.confirmation(round_, reference, answer_rows(round_, answers)),
    }


def submit_application(session: Session, application: Application, now: datetime) -> Application:
    """Send the application exactly once, however many times this is called at the same moment.

    The claim is one conditional UPDATE (draft -> submitted): concurrent calls wait on the row
    lock and then find it already submitted, so only the winner writes the reference and queues
    the confirmation email; every caller gets the same application back. For a loaded object in
    a unit of work that may hold other changes (assisted entry, the demo seed): a reference
    already taken is drawn again inside a SAVEPOINT, undoing nothing else. The applicant's own
    final submit uses `send_by_token`, which needs neither the object nor the SAVEPOINT.
    """
    if application.status == "submitted":
        return application
    if not application.round.is_open(now):
        raise RoundClosed()
    answers = application.answers
    missing = missing_pages(answers)
    if missing:
        raise NotReady(missing)
    session.flush()  # anything still pending is written before the claim, as it always was
    connection = session.connection()
    for _attempt in range(5):
        values = _sent_values(answers, now)
        try:
            # On the session's connection: no ORM object changes inside the SAVEPOINT.
            with connection.begin_nested():
                result = connection.execute(_CLAIM, {"claim_id": application.id, **values})
            break
        except IntegrityError as error:
            if not _reference_taken(error):
                raise
            continue  # the reference was taken: draw another
    else:
        raise RuntimeError("could not draw a unique reference")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        # Another request sent it first: show what it wrote.
        session.refresh(application)
        return application
    # What the UPDATE wrote is known: record it on the object without reading the row back.
    for name, value in values.items():
        set_committed_value(application, name.removeprefix("new_"), value)
    _queue_confirmation(session, application, answers)
    return application


# The final submit reads everything it needs in one statement and one row: the draft's state, its
# round and its saved pages, gathered by the database into one JSON object by page (decoded once
# here, not once a page by the driver, and the round's columns sent once, not once a page).
_apps = Application.__table__
_rounds = Round.__table__
_pages = AnswerPage.__table__


def _draft_to_send(answers_by_page: Any) -> Any:
    return (
        select(
            _apps.c.id,
            _apps.c.status,
            _apps.c.updated_at,
            _rounds.c.id.label("round_id"),
            _rounds.c.title,
            _rounds.c.opens_at,
            _rounds.c.closes_at,
            cast(_rounds.c.settings, Text).label("settings"),
            # A draft with no page yet has one joined row with no page: left out of the object.
            cast(answers_by_page.filter(_pages.c.page_id.is_not(None)), Text).label("answers"),
        )
        .select_from(
            _apps.join(_rounds, _rounds.c.id == _apps.c.round_id).outerjoin(
                _pages, _pages.c.application_id == _apps.c.id
            )
        )
        .where(_apps.c.token_hash == bindparam("token_hash"))
        .group_by(_apps.c.id, _rounds.c.id)
    )


_DRAFT_TO_SEND = {
    "postgresql": _draft_to_send(func.json_object_agg(_pages.c.page_id, _pages.c.answers)),
    "sqlite": _draft_to_send(func.json_group_object(_pages.c.page_id, func.json(_pages.c.answers))),
}


@contextmanager
def send_connection(session: Session) -> Iterator[Connection]:
    """The connection for `send_by_token`: on PostgreSQL, one of its own in autocommit.

    On PostgreSQL the send is two statements, each atomic on its own: the read of the draft, and
    the conditional claim with the email's INSERT (one data-modifying WITH). A transaction around
    them would add nothing but its BEGIN and COMMIT, two of the request's round trips to the
    database; in autocommit psycopg sends neither, and the ORM session's bookkeeping is skipped
    too. The connection goes back to the pool in its usual mode (SQLAlchemy resets it on return;
    tested). Anywhere else the session's connection and transaction, for the caller to commit:
    on SQLite (claim and email are two statements there), in a session that has begun a
    transaction already, or one bound to a connection (as some tests bind it).
    """
    bind = session.get_bind()
    if (
        isinstance(bind, Engine)
        and bind.dialect.name == "postgresql"
        and not session.in_transaction()
    ):
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
    else:
        yield session.connection()


def send_by_token(
    connection: Connection,
    token: str | None,
    now: datetime,
    before_claim: Callable[[], None] = lambda: None,
) -> str | None:
    """The applicant's final submit: send the draft whose private token this is, exactly once.

    Returns the application's status afterwards ("submitted", or another state staff gave it;
    "draft" if it was still being changed from another tab after three tries), or None for an
    unknown token (or a draft deleted meanwhile). The draft, its round and its answers are read
    together; then the claim (the conditional UPDATE of `submit_application`, only if the draft
    is as it was read, so concurrent sends of one draft give one application and a page saved
    in between is never left out) and the confirmation email's INSERT: one statement on
    PostgreSQL, two on SQLite. A claim that misses reads the status once more, and reads the
    draft again if it is still one. Core statements on the caller's connection
    (`send_connection`: in autocommit on PostgreSQL, else in its transaction): no ORM object is
    loaded. Raises RoundClosed, NotReady (with the pages to finish) or ReferenceTaken (nothing
    was written; in a transaction it is spoilt: roll back and call again). `before_claim` is
    called each time the draft is read and found ready, before anything is written: whatever it
    raises stops the send with nothing written (the view reads its rate limit's answer there).
    """
    if not token or len(token) > 100:
        return None
    status: str | None = "draft"
    for _attempt in range(3):
        status = _send_as_read(connection, hash_token(token), now, before_claim)
        if status != "draft":
            break
    return status


@lru_cache(maxsize=16)
def _round_as_read(
    round_id: int, title: str, opens_at: datetime, closes_at: datetime, settings: str
) -> Round:
    """The draft's round as the send read it: a Round never added to a session, only read (its
    dates, title and settings, for the checks and the email). The same for every send of the
    round in this process, until staff change any of these (the key is every value read). In
    one process, the send's CPU against the bare INSERT's (benchmarks/bare_app.py) went from
    1.57 and 1.54 times to 1.46 and 1.47 when the object and its decoded settings were kept."""
    return Round(
        id=round_id,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        settings=json.loads(settings),
    )


def _send_as_read(
    connection: Connection, token_hash: str, now: datetime, before_claim: Callable[[], None]
) -> str | None:
    statement = _DRAFT_TO_SEND[connection.dialect.name]
    first = connection.execute(statement, {"token_hash": token_hash}).first()
    if first is None:
        return None
    if first.status != "draft":
        return str(first.status)
    round_ = _round_as_read(
        first.round_id, first.title, first.opens_at, first.closes_at, first.settings
    )
    if not round_.is_open(now):
        raise RoundClosed()
    answers: Answers = json.loads(first.answers) if first.answers else {}
    missing = missing_pages(answers)
    if missing:
        raise NotReady(missing)
    before_claim()
    values = _sent_values(answers, now)
    claim = {"claim_id": first.id, "read_updated_at": first.updated_at, **values}
    # The email is composed before the claim is known to win (on PostgreSQL both are written by
    # one statement, the email's row only if the claim wins). Losing is rare: a double send.
    email = _confirmation(round_, values["new_reference"], answers)
    try:
        if connection.dialect.name == "postgresql":
            fields = {f"email_{key}": value for key, value in email.items()}
            fields["email_created_at"] = fields["email_next_attempt_at"] = now
            queued = connection.execute(_CLAIM_AND_QUEUE, {**claim, **fields}).first()
            claimed = queued is not None
        else:
            claimed = connection.execute(_CLAIM_AS_READ, claim).rowcount == 1
            if claimed:
                queue_email(connection, application_id=first.id, **email)
    except IntegrityError as error:
        if not _reference_taken(error):
            raise
        raise ReferenceTaken() from error
    if claimed:
        return "submitted"
    # Changed between our read and our claim: sent by another request, withdrawn by staff, or a
    # page saved (still "draft": read again). One more statement, only in that race.
    now_status = connection.execute(
        select(_apps.c.status).where(_apps.c.id == first.id)
    ).scalar_one_or_none()
    return None if now_status is None else str(now_status)


def email_resume_link(
    session: Session, application: Application, email: str, link: str, now: datetime
) -> None:
    queue_email(
        session,
        kind="resume-link",
        to_address=email,
        subject="Your link to come back to your expression of interest",
        body=emails.resume_link(application, link),
        application_id=application.id,
    )
    application.link_emailed_at = now
    session.flush()
