"""Staff queries and business verbs: the applications list, screening, assisted applications,
withdrawal, merging duplicates and round settings. They add and flush; the view commits once."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from selection import CRITERIA

if TYPE_CHECKING:  # pandas loads when quotas are read, not as the app starts
    pass

from ...applications.questions import PAGES
from ...applications.services import hash_token, new_token
from ...audit import History, record, record_for_application
from ...errors import DomainError
from ...labels import (
    CHANNEL_LABELS,
    CO_PRODUCTION_LABELS,
    SCREENING_LABELS,
    SCREENING_REASONS,
    SORT_LABELS,
    STATUS_LABELS,
)
from ...models import (
    AnswerPage,
    Application,
    ApplicationEvent,
    Conflict,
    Moderation,
    Review,
    Round,
    User,
)
from ...rounds import closing_day, format_day, london, options
from ...urls import whole_number_or_none
from ..runs.engine_input import MIX_COLUMNS, category_label

ASSISTED_CHANNELS = ("phone", "post", "email")
PER_PAGE = 50


class StaffError(DomainError):
    """A request staff cannot make as it stands; the message can be shown to them as it is."""


# --- The applications list ------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationFilters:
    """What the list is narrowed to; an empty string means any."""

    status: str = ""
    screening: str = ""
    nation: str = ""
    region: str = ""
    area_type: str = ""
    size_band: str = ""
    led_by: str = ""
    topic: str = ""
    co_production: str = ""
    q: str = ""
    sort: str = "submitted-desc"
    page: int = 1


def filter_choices(round_: Round) -> dict[str, list[tuple[str, str]]]:
    """(value, label) choices for each filter, from the round's option lists."""
    regions = [*options(round_, "region")]
    regions += [(v, label) for v, label in options(round_, "nation") if v != "england"]
    return {
        "status": list(STATUS_LABELS.items()),
        "screening": list(SCREENING_LABELS.items()),
        "nation": options(round_, "nation"),
        "region": regions,
        "area_type": options(round_, "area_type"),
        "size_band": options(round_, "staff_band"),
        "led_by": options(round_, "led_by"),
        "topic": options(round_, "topics"),
        "co_production": list(CO_PRODUCTION_LABELS.items()),
        "sort": list(SORT_LABELS.items()),
    }


def parse_filters(round_: Round, args: Mapping[str, str]) -> ApplicationFilters:
    """Filters from a query string: anything not offered is ignored, never an error."""
    choices = filter_choices(round_)
    values: dict[str, Any] = {}
    for name, offered in choices.items():
        value = str(args.get(name, "")).strip()
        if value in {v for v, _ in offered}:
            values[name] = value
    values["q"] = str(args.get("q", "")).strip()[:200]
    values["page"] = whole_number_or_none(args.get("page")) or 1
    return ApplicationFilters(**values)


@dataclass(frozen=True)
class ApplicationsPage:
    rows: list[Application]
    total: int
    page: int
    pages: int
    status_counts: dict[str, int]
    screening_counts: dict[str, int]


def _with_topic(session: Session, round_: Round, topic: str) -> list[int]:
    """Ids of the round's applications that chose this topic (read from the answers)."""
    found = []
    for application_id, answers in session.execute(
        select(AnswerPage.application_id, AnswerPage.answers)
        .join(Application, Application.id == AnswerPage.application_id)
        .where(Application.round_id == round_.id, AnswerPage.page_id == "topics")
    ):
        chosen = (answers or {}).get("topics") or []
        if isinstance(chosen, list) and topic in chosen:
            found.append(application_id)
    return found


def _co_producing(session: Session, round_: Round, answer: str) -> list[int]:
    """Ids of the round's applications that gave this answer on co-production (eligibility)."""
    return [
        application_id
        for application_id, eligibility in session.execute(
            select(Application.id, Application.eligibility).where(Application.round_id == round_.id)
        )
        if (eligibility or {}).get("co_production") == answer
    ]


def _matching(session: Session, round_: Round, text: str) -> list[int]:
    """Ids of the round's applications whose organisation name or reference contains the text,
    in any case. Compared in Python: SQLite's lower() folds only ASCII letters (Ŵ, É)."""
    wanted = text.casefold()
    return [
        application_id
        for application_id, name, reference in session.execute(
            select(Application.id, Application.organisation_name, Application.reference).where(
                Application.round_id == round_.id
            )
        )
        if wanted in (name or "").casefold() or wanted in (reference or "").casefold()
    ]


def list_applications(
    session: Session, round_: Round, filters: ApplicationFilters, per_page: int = PER_PAGE
) -> ApplicationsPage:
    query: Select[Any] = select(Application).where(Application.round_id == round_.id)
    for name in ("status", "screening", "nation", "region", "area_type", "size_band", "led_by"):
        value = getattr(filters, name)
        if value:
            query = query.where(getattr(Application, name) == value)
    if filters.topic:
        query = query.where(Application.id.in_(_with_topic(session, round_, filters.topic)))
    if filters.co_production:
        ids = _co_producing(session, round_, filters.co_production)
        query = query.where(Application.id.in_(ids))
    if filters.q:
        query = query.where(Application.id.in_(_matching(session, round_, filters.q)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(filters.page, 1), pages)
    last = Application.submitted_at.is_(None)  # drafts last, on both databases
    order: list[Any]
    if filters.sort == "submitted":
        order = [last, Application.submitted_at]
    elif filters.sort == "organisation":
        order = [Application.organisation_name.is_(None), func.lower(Application.organisation_name)]
    elif filters.sort == "reference":
        order = [Application.reference.is_(None), Application.reference]
    else:
        order = [last, Application.submitted_at.desc()]
    rows = list(
        session.scalars(
            query.order_by(*order, Application.id).limit(per_page).offset((page - 1) * per_page)
        )
    )
    status_counts = dict.fromkeys(STATUS_LABELS, 0)
    for status, n in session.execute(
        select(Application.status, func.count(Application.id))
        .where(Application.round_id == round_.id)
        .group_by(Application.status)
    ):
        status_counts[status] = int(n)
    screening_counts = dict.fromkeys(SCREENING_LABELS, 0)
    for screening, n in session.execute(
        select(Application.screening, func.count(Application.id))
        .where(Application.round_id == round_.id, Application.status == "submitted")
        .group_by(Application.screening)
    ):
        screening_counts[screening] = int(n)
    return ApplicationsPage(rows, total, page, pages, status_counts, screening_counts)


def mix_labels(round_: Round, application: Application) -> dict[str, str]:
    """The application's mix attributes as people read them (labels, never codes)."""
    result = {}
    for column in MIX_COLUMNS:
        value = getattr(application, column)
        if column == "first_time":
            value = "" if value is None else ("yes" if value else "no")
        result[column] = category_label(round_, column, value or "")
    return result


# --- The application page -------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    who: str
    kind: str
    detail: str


def history(session: Session, application: Application) -> list[HistoryItem]:
    rows = session.execute(
        select(ApplicationEvent, User.name)
        .outerjoin(User, User.id == ApplicationEvent.user_id)
        .where(ApplicationEvent.application_id == application.id)
        .order_by(ApplicationEvent.at, ApplicationEvent.id)
    )
    return [
        HistoryItem(event.at, name or "The applicant", event.kind, event.detail)
        for event, name in rows
    ]


@dataclass(frozen=True)
class ReviewSummary:
    reviewer: str
    submitted_at: datetime | None
    scores: dict[str, int | None]
    overall_comment: str


def submitted_reviews(session: Session, application: Application) -> list[ReviewSummary]:
    result = []
    for review, name in session.execute(
        select(Review, User.name)
        .join(User, User.id == Review.reviewer_id)
        .where(Review.application_id == application.id, Review.status == "submitted")
        .order_by(Review.submitted_at, Review.id)
    ):
        scores: dict[str, int | None] = dict.fromkeys(CRITERIA)
        for score in review.scores:
            scores[score.criterion] = score.score
        result.append(ReviewSummary(name, review.submitted_at, scores, review.overall_comment))
    return result


@dataclass(frozen=True)
class ModerationItem:
    criterion: str
    score: float
    reason: str
    who: str
    at: datetime


def moderations(session: Session, application: Application) -> list[ModerationItem]:
    """Moderated scores recorded by staff, oldest first (the latest per criterion counts)."""
    return [
        ModerationItem(row.criterion, row.score, row.reason, name, row.at)
        for row, name in session.execute(
            select(Moderation, User.name)
            .join(User, User.id == Moderation.user_id)
            .where(Moderation.application_id == application.id)
            .order_by(Moderation.at, Moderation.id)
        )
    ]


def flags(session: Session, application: Application, reviews: list[ReviewSummary]) -> list[str]:
    """What staff should look at: too few reviews, disagreement, conflicts, possible duplicates."""
    found = []
    eligible = application.status == "submitted" and application.screening == "eligible"
    if eligible and len(reviews) < application.round.reviews_required:
        found.append(
            f"Too few reviews: {len(reviews)} of the {application.round.reviews_required} needed"
        )
    for criterion in CRITERIA:
        given = [s for r in reviews if (s := r.scores.get(criterion)) is not None]
        if given and max(given) - min(given) >= 2:
            found.append(
                f"Reviewers disagree on {criterion}: scores from {min(given)} to {max(given)}"
            )
    conflicts = session.scalar(
        select(func.count(Conflict.id)).where(
            Conflict.application_id == application.id, Conflict.resolved_at.is_(None)
        )
    )
    if conflicts:
        found.append(
            f"{conflicts} reviewer{'s' if conflicts != 1 else ''} declared a conflict of interest"
        )
    for other in possible_duplicates(session, application):
        found.append(f"Possible duplicate: {other.reference} has the same organisation name")
    return found


def possible_duplicates(session: Session, application: Application) -> list[Application]:
    """Other sent applications in the round with the same organisation name, in any case."""
    if not application.organisation_name:
        return []
    name = application.organisation_name.strip().casefold()
    return [
        other
        for other in session.scalars(
            select(Application)
            .where(
                Application.round_id == application.round_id,
                Application.id != application.id,
                Application.status == "submitted",
            )
            .order_by(Application.id)
        )
        if (other.organisation_name or "").strip().casefold() == name
    ]


# --- Screening, withdrawal and merging ------------------------------------------------------


def screen_application(
    session: Session,
    application: Application,
    decision: str,
    reason: str | None,
    note: str,
    user: User,
    now: datetime,
) -> None:
    """Mark a sent application eligible, ineligible (with a reason) or back to not screened."""
    if application.status != "submitted":
        raise StaffError("Only a sent application can be screened.")
    if decision not in SCREENING_LABELS:
        raise StaffError("Select whether the application is eligible")
    if decision == "ineligible" and reason not in SCREENING_REASONS:
        raise StaffError("Select why the application is not eligible")
    application.screening = decision
    application.screening_reason = reason if decision == "ineligible" else None
    application.screening_note = note or None
    detail = SCREENING_LABELS[decision]
    if decision == "ineligible" and reason:
        detail += f": {SCREENING_REASONS[reason]}"
    if note:
        detail += f". Note: {note}"
    record_for_application(
        session,
        user,
        "application.screened",
        application,
        "screened",
        detail,
        now,
        screening=decision,
        reason=application.screening_reason,
        note_given=bool(note),
    )
    session.flush()


def withdraw_application(
    session: Session, application: Application, reason: str, user: User, now: datetime
) -> None:
    if application.status not in ("draft", "submitted"):
        raise StaffError(
            f"This application cannot be withdrawn: it is {STATUS_LABELS[application.status]}."
        )
    if not reason.strip():
        raise StaffError("Enter why the application is withdrawn")
    record_for_application(
        session,
        user,
        "application.withdrawn",
        application,
        "withdrawn",
        f"Withdrawn: {reason.strip()}",
        now,
        previous_status=application.status,
    )
    application.status = "withdrawn"
    application.withdrawn_reason = reason.strip()
    application.updated_at = now
    session.flush()


def find_in_round(session: Session, round_: Round, reference: str) -> Application | None:
    return session.scalars(
        select(Application).where(
            Application.round_id == round_.id,
            func.upper(Application.reference) == reference.strip().upper(),
        )
    ).first()


def merge_applications(
    session: Session, keep: Application, duplicate: Application, user: User, now: datetime
) -> None:
    """Keep one of two sent applications from the same round; the other is marked merged."""
    if keep.id == duplicate.id:
        raise StaffError("Enter the reference of another application, not this one")
    if keep.round_id != duplicate.round_id:
        raise StaffError("Both applications must be in the same round")
    for application in (keep, duplicate):
        if application.status != "submitted":
            raise StaffError(
                f"{application.reference or 'The draft'} is "
                f"{STATUS_LABELS[application.status].lower()}: only sent applications can be "
                "merged"
            )
    duplicate.status = "merged"
    duplicate.merged_into_id = keep.id
    duplicate.updated_at = now
    record(
        session,
        user,
        "application.merged",
        "application",
        duplicate.id,
        duplicate.round_id,
        history=[
            History(duplicate.id, "merged", f"Merged into {keep.reference} as a duplicate", now),
            History(keep.id, "merged", f"{duplicate.reference} merged into this application", now),
        ],
        merged_into=keep.id,
    )
    session.flush()


# --- Assisted applications ------------------------------------------------------------------


class ReceivedDateError(StaffError):
    """The date the application was received cannot be accepted; the message says why."""


def check_received_on(round_: Round, received_on: date | None, now: datetime) -> date:
    """The day an application entered by staff was received: today if not given while the
    round is open; after the closing date it must be given, and on or before that date."""
    today = london(now).date()
    closing = closing_day(round_)
    if received_on is None:
        if round_.is_open(now):
            return today
        raise ReceivedDateError(
            "Enter the date the application was received: the round has closed, so it can be "
            f"entered only if it reached you on or before the closing date, {format_day(closing)}"
        )
    if received_on > today:
        raise ReceivedDateError("The date it was received must be today or in the past")
    if received_on > closing:
        raise ReceivedDateError(
            f"The date it was received must be on or before the closing date, "
            f"{format_day(closing)}: an application received after it cannot be entered"
        )
    opening = london(round_.opens_at).date()
    if received_on < opening:
        raise ReceivedDateError(
            f"The date it was received must be on or after the opening date, {format_day(opening)}"
        )
    return received_on


def start_assisted_application(
    session: Session,
    round_: Round,
    channel: str,
    received_on: date | None,
    staff_user: User,
    now: datetime,
) -> Application:
    """A draft entered by staff for an organisation that applied by phone, post or email, with
    the day it was received. One received on or before the closing date can be entered, and
    sent, after it (applications.services.accepts_changes)."""
    if channel not in ASSISTED_CHANNELS:
        raise StaffError("Select how the expression of interest was received")
    if now < round_.opens_at:
        raise StaffError("This round is not open yet, so applications cannot be entered")
    received = check_received_on(round_, received_on, now)
    application = Application(
        round_id=round_.id,
        status="draft",
        # Nobody is given a resume link: staff reach the draft from their own pages.
        token_hash=hash_token(new_token()),
        channel=channel,
        entered_by_id=staff_user.id,
        received_on=received,
        eligibility={},
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    after_closing = round_.has_closed(now)
    record_for_application(
        session,
        staff_user,
        "application.assisted_started",
        application,
        "created",
        f"Started by staff for an expression of interest received by {channel} on "
        f"{format_day(received)}" + (", after the closing date" if after_closing else ""),
        now,
        channel=channel,
        received_on=received.isoformat(),
        after_closing=after_closing,
    )
    session.flush()
    return application


def record_page_entered(
    session: Session, application: Application, page_id: str, user: User, now: datetime
) -> None:
    record_for_application(
        session,
        user,
        "application.assisted_page_saved",
        application,
        "answers",
        f"Entered “{PAGES[page_id].title}”",
        now,
        page=page_id,
    )
    session.flush()


def record_sent_by_staff(
    session: Session, application: Application, user: User, now: datetime
) -> None:
    sent = (
        f"Sent by staff ({CHANNEL_LABELS[application.channel].lower()}); "
        f"reference {application.reference}"
    )
    record_for_application(
        session,
        user,
        "application.assisted_sent",
        application,
        "submitted",
        sent,
        now,
        channel=application.channel,
    )
    session.flush()
