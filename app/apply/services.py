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
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..models import AnswerPage, Application, OutboxMessage, Round, UTCDateTime
from ..outbox import composes, queue_email
from ..rounds import LONDON, option_label
from . import emails, questions
from .confirmed_email import check_address_limit, is_confirmed
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
    # With the row goes what a send of the draft would write if it is now complete (the final
    # submit then claims it without reading the answers: send_by_token), from the answers read
    # with the draft and this page. Only if no other save came in between (updated_at as read):
    # else the answers in hand may not be the draft's, and the send reads them to decide.
    table = Application.__table__
    after = {**application.answers, page_id: dict(answers)}
    ready = None if missing_pages(after) else {**mix_attributes(after), "rules": READY_RULES}
    touched = session.execute(
        update(table)  # type: ignore[arg-type]
        .where(
            table.c.id == application.id,
            table.c.status == "draft",
            table.c.updated_at == application.updated_at,
        )
        .values(updated_at=now, ready_to_send=ready, ready_at=now if ready else None)
    )
    if touched.rowcount != 1:
        ready = None
        touched = session.execute(
            update(table)  # type: ignore[arg-type]
            .where(table.c.id == application.id, table.c.status == "draft")
            .values(updated_at=now, ready_to_send=None, ready_at=None)
        )
    if touched.rowcount != 1:
        status = session.execute(select(table.c.status).where(table.c.id == application.id))
        raise NoLongerADraft(str(status.scalar_one_or_none() or "deleted"))
    set_committed_value(application, "updated_at", now)
    set_committed_value(application, "ready_to_send", ready)
    set_committed_value(application, "ready_at", now if ready else None)
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


def _rules_version() -> str:
    """Which rules found a draft complete: the source of the questions and of this module. A
    draft saved complete before a release changed them (a question made required, say) is read
    and checked again when it is sent, not claimed as it was saved."""
    digest = hashlib.sha256()
    for module in (__file__, questions.__file__):
        digest.update(Path(str(module)).read_bytes())
    return digest.hexdigest()[:16]


READY_RULES = _rules_version()


# The claim: draft -> submitted, only if still a draft. Built once with named parameters (they
# cannot share the columns' names), so each send only binds its values.
_STAMP_COLUMNS = ("status", "reference", "submitted_at", "declaration_at", "updated_at")
_MIX_COLUMNS = tuple(mix_attributes({}))  # organisation_name, nation, ... first_time
_SENT_COLUMNS = (*_STAMP_COLUMNS, *_MIX_COLUMNS, "ready_to_send", "ready_at")
_apps = Application.__table__
_rounds = Round.__table__
_pages = AnswerPage.__table__
_outbox = OutboxMessage.__table__
_CLAIM = (
    update(_apps)  # type: ignore[arg-type]
    .where(_apps.c.id == bindparam("claim_id"), _apps.c.status == "draft")
    .values({column: bindparam(f"new_{column}") for column in _SENT_COLUMNS})
)

# The applicant's send, when it has read the answers, claims the draft only if it is as it was
# read (its answers are what the row's columns are made from): a page saved from another tab in
# between, which moves updated_at, makes the claim miss and the send read again.
_CLAIM_AS_READ = _CLAIM.where(_apps.c.updated_at == bindparam("read_updated_at"))

# The applicant's send of a draft that `save_page` left complete (ready_to_send holds the mix
# attributes as they were saved): claimed by its token without reading anything first, if still a
# draft, complete by these rules, unchanged since (ready_at is its updated_at: any other writer,
# the ORM's onupdate or an older release's save_page, moves updated_at alone) and its round open.
# The row's lock orders it with any page save: a save that got there first has set ready_to_send
# anew (None if a page is now missing), one that comes after finds the application sent.
_ready = _apps.c.ready_to_send
_MIX_FROM_READY = {
    column: _ready[column].as_boolean() if column == "first_time" else _ready[column].as_string()
    for column in _MIX_COLUMNS
}
_CLAIM_READY = (
    update(_apps)  # type: ignore[arg-type]
    .where(
        _apps.c.token_hash == bindparam("claim_token_hash"),
        _apps.c.status == "draft",
        _ready["rules"].as_string() == bindparam("ready_rules"),  # NULL: not known complete
        _apps.c.ready_at == _apps.c.updated_at,
        _apps.c.round_id.in_(
            select(_rounds.c.id).where(
                _rounds.c.opens_at <= bindparam("now", type_=UTCDateTime()),
                _rounds.c.closes_at > bindparam("now", type_=UTCDateTime()),
            )
        ),
    )
    .values(
        {
            **{column: bindparam(f"new_{column}") for column in _STAMP_COLUMNS},
            **_MIX_FROM_READY,
            "ready_to_send": null(),
            "ready_at": null(),
        }
    )
    .returning(_apps.c.id)
)

# The confirmation email of the application just claimed: its address read from the contact page,
# its body composed when it is sent (`compose_confirmation`), so the send itself neither reads
# the answers nor writes a copy of them.
_QUEUE_COLUMNS = [
    "kind",
    "to_address",
    "subject",
    "body",
    "created_at",
    "next_attempt_at",
    "attempts",
    "application_id",
]


def _confirmation_for(application_id: Any) -> Any:
    contact_email = (
        select(_pages.c.answers["email"].as_string())
        .where(_pages.c.application_id == application_id, _pages.c.page_id == "contact")
        .scalar_subquery()
    )
    return select(
        literal("confirmation"),
        func.coalesce(contact_email, ""),
        bindparam("email_subject", type_=String()),
        literal(""),
        bindparam("email_at", type_=UTCDateTime()),
        bindparam("email_at", type_=UTCDateTime()),
        literal(0),
        application_id,
    )


def _claim_and_queue(claim: Any) -> Any:
    """PostgreSQL: the claim and the confirmation's INSERT as one statement (a data-modifying
    WITH): the email row is written only if the claim changed the draft, in one round trip."""
    claimed = claim.cte("claimed")
    return (
        insert(_outbox)
        .from_select(  # type: ignore[arg-type]
            _QUEUE_COLUMNS,
            _confirmation_for(claimed.c.id).select_from(claimed),
            include_defaults=False,
        )
        # The row count reached through SQLAlchemy was -1 for this statement (seen in the
        # statement test); the returned id says the email was written.
        .returning(_outbox.c.id)
    )


_CLAIM_READY_AND_QUEUE = _claim_and_queue(_CLAIM_READY)
_CLAIM_AS_READ_AND_QUEUE = _claim_and_queue(_CLAIM_AS_READ.returning(_apps.c.id))
# SQLite has no data-modifying WITH: there the email's INSERT follows the claim.
_QUEUE_CONFIRMATION = insert(_outbox).from_select(  # type: ignore[arg-type]
    _QUEUE_COLUMNS, _confirmation_for(bindparam("claimed_id")), include_defaults=False
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
    return {**_sent_stamps(now), **{f"new_{k}": v for k, v in mix_attributes(answers).items()}}


def _sent_stamps(now: datetime) -> dict[str, Any]:
    reference = new_reference(now)
    return {
        "new_status": "submitted",
        "new_reference": reference,
        "new_submitted_at": now,
        "new_declaration_at": now,
        "new_updated_at": now,
        "new_ready_to_send": None,
        "new_ready_at": None,
        "email_subject": _subject(reference),
        "email_at": now,
    }


def _subject(reference: str | None) -> str:
    return f"Expression of interest received: {reference}"


def _queue_confirmation(session: Session, application: Application, answers: Answers) -> None:
    queue_email(
        session,
        kind="confirmation",
        to_address=str(answers.get("contact", {})["email"]),
        subject=_subject(application.reference),
        body="",  # composed when sent: compose_confirmation
        application_id=application.id,
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
        if name.startswith("new_"):
            set_committed_value(application, name.removeprefix("new_"), value)
    _queue_confirmation(session, application, answers)
    return application


# When the send must read the draft (not known to be complete, or not claimed for a reason to
# find out): its state, its round and its saved pages in one statement and one row, the pages
# gathered by the database into one JSON object by page (decoded once here, not once a page by
# the driver, and the round's columns sent once, not once a page).


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

    On PostgreSQL each of the send's statements is atomic on its own (the claim and the email's
    INSERT are one data-modifying WITH). A transaction around them would add nothing but its
    BEGIN and COMMIT, two of the request's round trips to the database; in autocommit psycopg
    sends neither, and the ORM session's bookkeeping is skipped too. The connection goes back to
    the pool in its usual mode (SQLAlchemy resets it on return; tested). Anywhere else the
    session's connection and transaction, for the caller to commit: on SQLite (claim and email
    are two statements there), in a session that has begun a transaction already, or one bound
    to a connection (as some tests bind it).
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
    unknown token (or a draft deleted meanwhile).

    A draft that `save_page` left complete is claimed in one statement on PostgreSQL, with its
    confirmation email (two on SQLite), reading nothing first: the busiest request of a round's
    last hours at its cheapest. Anything else (a page missing, the round closed, sent already,
    an unknown token, a draft saved before this was kept) finds no draft to claim and is read:
    the draft, its round and its answers together, then the claim as read (only if the draft is
    as it was read, so a page saved in between is never left out) and the email. Concurrent
    sends of one draft give one application. Core statements on the caller's connection
    (`send_connection`: in autocommit on PostgreSQL, else in its transaction): no ORM object is
    loaded. Raises RoundClosed, NotReady (with the pages to finish) or ReferenceTaken (nothing
    was written; in a transaction it is spoilt: roll back and call again). `before_claim` is
    called before anything is written: whatever it raises stops the send with nothing written
    (the view reads its rate limit's answer there).
    """
    if not token or len(token) > 100:
        return None
    token_hash = hash_token(token)
    before_claim()
    if _claim_ready(connection, token_hash, now):
        return "submitted"
    status: str | None = "draft"
    for _attempt in range(3):
        status = _send_as_read(connection, token_hash, now)
        if status != "draft":
            break
    return status


def _claim_ready(connection: Connection, token_hash: str, now: datetime) -> bool:
    values = {
        "claim_token_hash": token_hash,
        "ready_rules": READY_RULES,
        "now": now,
        **_sent_stamps(now),
    }
    with _reference_clash_is_retried():
        if connection.dialect.name == "postgresql":
            return connection.execute(_CLAIM_READY_AND_QUEUE, values).first() is not None
        claimed = connection.execute(_CLAIM_READY, values).first()
        if claimed is None:
            return False
        connection.execute(_QUEUE_CONFIRMATION, {**values, "claimed_id": claimed.id})
        return True


@contextmanager
def _reference_clash_is_retried() -> Iterator[None]:
    try:
        yield
    except IntegrityError as error:
        if not _reference_taken(error):
            raise
        raise ReferenceTaken() from error


@lru_cache(maxsize=16)
def _round_as_read(
    round_id: int, title: str, opens_at: datetime, closes_at: datetime, settings: str
) -> Round:
    """The draft's round as the send read it: a Round never added to a session, only read (its
    dates, title and settings, for the checks). The same for every send of the round in this
    process, until staff change any of these (the key is every value read)."""
    return Round(
        id=round_id,
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        settings=json.loads(settings),
    )


def _send_as_read(connection: Connection, token_hash: str, now: datetime) -> str | None:
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
    claim = {
        "claim_id": first.id,
        "read_updated_at": first.updated_at,
        **_sent_values(answers, now),
    }
    with _reference_clash_is_retried():
        if connection.dialect.name == "postgresql":
            claimed = connection.execute(_CLAIM_AS_READ_AND_QUEUE, claim).first() is not None
        else:
            claimed = connection.execute(_CLAIM_AS_READ, claim).rowcount == 1
            if claimed:
                connection.execute(_QUEUE_CONFIRMATION, {**claim, "claimed_id": first.id})
    if claimed:
        return "submitted"
    # Changed between our read and our claim: sent by another request, withdrawn by staff, or a
    # page saved (still "draft": read again). One more statement, only in that race.
    now_status = connection.execute(
        select(_apps.c.status).where(_apps.c.id == first.id)
    ).scalar_one_or_none()
    return None if now_status is None else str(now_status)


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
    # Not a change to the answers: a draft kept as complete stays so (ready_at moves with
    # updated_at, which the ORM's onupdate would move alone, making the send read the draft).
    table = Application.__table__
    stamp = literal(now, UTCDateTime())
    session.execute(
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == application.id)
        .values(
            link_emailed_at=stamp,
            updated_at=stamp,
            ready_at=case((table.c.ready_at == table.c.updated_at, stamp), else_=table.c.ready_at),
        )
    )
    set_committed_value(application, "link_emailed_at", now)
    set_committed_value(application, "updated_at", now)
    session.expire(application, ["ready_at"])
