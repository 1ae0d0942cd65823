"""Staff queries and business verbs: the applications list, screening, assisted applications,
withdrawal, merging duplicates and round settings. They add and flush; the view commits once."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, object_session

from selection import CRITERIA, QuotaError

if TYPE_CHECKING:  # pandas loads when quotas are read, not as the app starts
    from selection import QuotaTable

from ..applications.questions import PAGES
from ..applications.services import hash_token, new_token
from ..audit import History, record
from ..errors import DomainError
from ..models import (
    AnswerPage,
    Application,
    ApplicationEvent,
    Conflict,
    Moderation,
    Review,
    Round,
    User,
)
from ..rounds import DEFAULT_SETTINGS, options
from ..urls import whole_number_or_none
from .run_services import (  # SCREENING_REASONS: defined there, where a run's reasons use it
    MIX_COLUMNS,
    MIX_LABELS,
    SCREENING_REASONS,
    category_label,
    input_rows,
)

STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Sent",
    "withdrawn": "Withdrawn",
    "merged": "Merged",
}
SCREENING_LABELS = {
    "unscreened": "Not screened",
    "eligible": "Eligible",
    "ineligible": "Not eligible",
}
CHANNEL_LABELS = {"online": "Online", "phone": "Phone", "post": "Post", "email": "Email"}
ASSISTED_CHANNELS = ("phone", "post", "email")
SORTS = {
    "submitted-desc": "Sent, newest first",
    "submitted": "Sent, oldest first",
    "organisation": "Organisation name, A to Z",
    "reference": "Reference",
}
PER_PAGE = 50
TEXT_KEYS: tuple[str, ...] = tuple(DEFAULT_SETTINGS["texts"])
TEXT_LABELS = {
    "who_for": "Who can apply",
    "offer": "What we offer",
    "ask": "What we ask of you",
    "time_needed": "Time needed to apply",
    "next_steps": "What happens next",
    "how_chosen": "How sites are chosen",
    "decisions": "When decisions are made",
    "site_time": "Time a site gives",
    "funding_paid": "When funding is paid",
    "match_funding": "Match funding",
    "network_route": "What the network route offers",
    "technology": "The right to say no to technology",
}
# The round's option list holding each quota dimension's categories (region is special).
_DIMENSION_OPTIONS = {
    "nation": "nation",
    "area_type": "area_type",
    "size_band": "staff_band",
    "led_by": "led_by",
    "pressures": "pressures",
    "local_deprivation": "local_deprivation",
}


class StaffError(DomainError):
    """A request staff cannot make as it stands; the message can be shown to them as it is."""


# --- Rounds on the staff home ---------------------------------------------------------------


@dataclass(frozen=True)
class RoundSummary:
    round: Round
    drafts: int
    submitted: int


def round_summaries(session: Session) -> list[RoundSummary]:
    counts = dict(
        ((round_id, status), n)
        for round_id, status, n in session.execute(
            select(Application.round_id, Application.status, func.count(Application.id)).group_by(
                Application.round_id, Application.status
            )
        )
    )
    rounds = session.scalars(select(Round).order_by(Round.closes_at.desc())).all()
    return [
        RoundSummary(r, counts.get((r.id, "draft"), 0), counts.get((r.id, "submitted"), 0))
        for r in rounds
    ]


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
        "sort": list(SORTS.items()),
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
    record(
        session,
        user,
        "application.screened",
        "application",
        application.id,
        application.round_id,
        history=[History(application.id, "screened", detail, now)],
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
    record(
        session,
        user,
        "application.withdrawn",
        "application",
        application.id,
        application.round_id,
        history=[History(application.id, "withdrawn", f"Withdrawn: {reason.strip()}", now)],
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


def start_assisted_application(
    session: Session, round_: Round, channel: str, staff_user: User, now: datetime
) -> Application:
    """A draft entered by staff for an organisation that applied by phone, post or email."""
    if channel not in ASSISTED_CHANNELS:
        raise StaffError("Select how the expression of interest was received")
    if not round_.is_open(now):
        raise StaffError("This round is not open, so applications cannot be entered")
    application = Application(
        round_id=round_.id,
        status="draft",
        # Nobody is given a resume link: staff reach the draft from their own pages.
        token_hash=hash_token(new_token()),
        channel=channel,
        entered_by_id=staff_user.id,
        eligibility={},
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    record(
        session,
        staff_user,
        "application.assisted_started",
        "application",
        application.id,
        round_.id,
        history=[
            History(
                application.id,
                "created",
                f"Started by staff for an expression of interest received by {channel}",
                now,
            )
        ],
        channel=channel,
    )
    session.flush()
    return application


def record_page_entered(
    session: Session, application: Application, page_id: str, user: User, now: datetime
) -> None:
    record(
        session,
        user,
        "application.assisted_page_saved",
        "application",
        application.id,
        application.round_id,
        history=[History(application.id, "answers", f"Entered “{PAGES[page_id].title}”", now)],
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
    record(
        session,
        user,
        "application.assisted_sent",
        "application",
        application.id,
        application.round_id,
        history=[History(application.id, "submitted", sent, now)],
        channel=application.channel,
    )
    session.flush()


# --- Round settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundSettings:
    title: str
    texts: dict[str, str]
    opens_at: datetime
    closes_at: datetime
    sites_wanted: int
    weights: dict[str, float]
    reviews_required: int
    lottery_band: float | None


def _settings_fields(round_: Round) -> dict[str, Any]:
    """The round's settings staff can change, by field name (for the audit log's list)."""
    texts = (round_.settings or {}).get("texts", {})
    return {
        "title": round_.title,
        **{f"texts.{key}": texts.get(key) for key in TEXT_KEYS},
        "opens_at": round_.opens_at,
        "closes_at": round_.closes_at,
        "sites_wanted": round_.sites_wanted,
        **{f"weights.{c}": float((round_.weights or {}).get(c, 1.0)) for c in CRITERIA},
        "reviews_required": round_.reviews_required,
        "lottery_band": round_.lottery_band,
    }


def update_round_settings(
    session: Session, round_: Round, settings: RoundSettings, user: User | None
) -> None:
    if settings.closes_at <= settings.opens_at:
        raise StaffError("The closing time must be after the opening time")
    if any(not w > 0 for w in settings.weights.values()):
        raise StaffError("Every criterion weight must be more than 0")
    before = _settings_fields(round_)
    round_.title = settings.title
    # A new dict, so the JSON column sees the change.
    stored = dict(round_.settings or {})
    stored["texts"] = {**stored.get("texts", {}), **settings.texts}
    round_.settings = stored
    round_.opens_at = settings.opens_at
    round_.closes_at = settings.closes_at
    round_.sites_wanted = settings.sites_wanted
    round_.weights = {c: float(settings.weights[c]) for c in CRITERIA}
    round_.reviews_required = settings.reviews_required
    round_.lottery_band = settings.lottery_band
    after = _settings_fields(round_)
    # Only the names of the fields: texts and titles are prose, not codes.
    changed = [name for name in after if after[name] != before[name]]
    if changed:
        record(
            session, user, "round.settings_changed", "round", round_.id, round_.id, fields=changed
        )
    session.flush()


def round_weights(round_: Round) -> dict[str, float]:
    return {c: float((round_.weights or {}).get(c, 1.0)) for c in CRITERIA}


# --- The quota table ------------------------------------------------------------------------

QUOTA_COLUMNS = ("dimension", "category", "min", "max")
MAX_QUOTA_ROWS = 200
_CELL = re.compile(r"^Row (\d+), column '(\w+)'")


def quota_categories(round_: Round, dimension: str) -> list[tuple[str, str]]:
    """The (category, label) pairs a quota on this dimension may name, from the round's options."""
    if dimension == "region":
        return [*options(round_, "region")] + [
            (v, label) for v, label in options(round_, "nation") if v != "england"
        ]
    if dimension == "first_time":
        return [("yes", "First time"), ("no", "Taken part before")]
    return options(round_, _DIMENSION_OPTIONS[dimension])


def dimension_choices() -> list[tuple[str, str]]:
    return [(c, MIX_LABELS[c]) for c in MIX_COLUMNS]


@dataclass
class QuotaCheck:
    """Rows as typed, and the problems found (each naming a row and column when it can)."""

    rows: list[dict[str, str]]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: QuotaTable | None = None

    def cell_errors(self) -> dict[tuple[int, str], str]:
        """The first problem for each (row number, column) named in a message."""
        found: dict[tuple[int, str], str] = {}
        for problem in self.problems:
            cell = cell_of(problem)
            if cell is not None:
                found.setdefault(cell, problem)
        return found


def cell_of(problem: str) -> tuple[int, str] | None:
    """The (row number, column) a message names, as the engine writes it: "Row 3, column 'min'"."""
    match = _CELL.match(problem)
    return (int(match.group(1)), match.group(2)) if match else None


def _check_table(round_: Round, check: QuotaCheck) -> QuotaCheck:
    """After the engine has read the table: dimensions, categories and bounds for this round.

    Categories are matched by the engine's own rule (:func:`selection.category_key`: case,
    spacing and Unicode form do not matter) and stored as the round's option codes.
    """
    from selection import QuotaTable, category_key

    assert check.table is not None
    problems = []
    bounds = []
    allowed = dict(dimension_choices())
    for bound in check.table.bounds:
        if bound.dimension not in allowed:
            problems.append(
                f"Row {bound.row}, column 'dimension': '{bound.dimension}' is not a quota "
                f"dimension; use one of {', '.join(allowed)}."
            )
            continue
        categories = [c for c, _ in quota_categories(round_, bound.dimension)]
        codes = {category_key(c): c for c in categories}
        code = codes.get(category_key(bound.category))
        if code is None:
            problems.append(
                f"Row {bound.row}, column 'category': '{bound.category}' is not a category of "
                f"{bound.dimension}; use one of {', '.join(categories)}."
            )
        else:
            bounds.append(replace(bound, category=code))
        if bound.min is not None and bound.max is not None and bound.min > bound.max:
            problems.append(
                f"Row {bound.row}, column 'max': the maximum {bound.max} is below the minimum "
                f"{bound.min}."
            )
    table = QuotaTable(tuple(bounds), check.table.rounding_notes)
    return replace(check, problems=problems, table=table)


def check_quota_rows(round_: Round, rows: list[dict[str, str]]) -> QuotaCheck:
    """Check rows typed in the form; row numbers are as in the CSV file (the header is row 1)."""
    import pandas as pd

    frame = pd.DataFrame(
        [{c: str(row.get(c, "")) for c in QUOTA_COLUMNS} for row in rows],
        columns=list(QUOTA_COLUMNS),
    )
    return _read(round_, frame, rows)


def check_quota_csv(round_: Round, text: str) -> QuotaCheck:
    """Check an uploaded CSV file's text; its rows come back for the form, if it can be read."""
    rows = _csv_rows(text)
    return _read(round_, io.StringIO(text), rows if rows is not None else [])


def _read(round_: Round, source: Any, rows: list[dict[str, str]]) -> QuotaCheck:
    from selection import read_quotas

    check = QuotaCheck(rows)
    try:
        check.table = read_quotas(source, round_.sites_wanted)
    except QuotaError as error:
        check.problems = list(error.problems)
        return check
    check.notes = list(check.table.rounding_notes)
    return _check_table(round_, check)


def _csv_rows(text: str) -> list[dict[str, str]] | None:
    """The file's rows as typed, by column name; None when it has no dimension/category headers.

    Blank lines are skipped, as the engine skips them, so row numbers match its messages."""
    try:
        records = [r for r in csv.reader(io.StringIO(text)) if r]
    except csv.Error:
        return None
    if not records:
        return None
    aliases = {"feature": "dimension", "value": "category"}
    header = [aliases.get(h.strip().lower(), h.strip().lower()) for h in records[0]]
    if "dimension" not in header or "category" not in header:
        return None
    return [
        {
            c: (r[header.index(c)] if c in header and header.index(c) < len(r) else "")
            for c in QUOTA_COLUMNS
        }
        for r in records[1:]
    ]


def save_quotas(
    round_: Round, check: QuotaCheck, user: User | None = None, source: str = "form"
) -> None:
    """Store a checked quota table; ``source`` is "form" or "upload" (for the audit log)."""
    session = object_session(round_)
    assert session is not None, "the round must belong to a session"
    if check.problems or check.table is None:
        raise StaffError("The quota table has problems")
    round_.quotas = [
        {"dimension": b.dimension, "category": b.category, "min": b.min, "max": b.max}
        for b in check.table.bounds
    ]
    record(
        session,
        user,
        "round.quotas_changed",
        "round",
        round_.id,
        round_.id,
        source=source,
        rows=len(round_.quotas),
    )
    session.flush()


def quotas_csv(round_: Round) -> str:
    """The round's quota table in the engine's format: dimension,category,min,max."""
    from selection import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(QUOTA_COLUMNS)
    for row in round_.quotas or []:
        # The same formula guard as every other download (a stored row could start with "=").
        writer.writerow(
            [
                safe_cell(row["dimension"]),
                safe_cell(row["category"]),
                "" if row.get("min") is None else row["min"],
                "" if row.get("max") is None else row["max"],
            ]
        )
    return out.getvalue()


def stored_quota_rows(round_: Round) -> list[dict[str, str]]:
    return [
        {
            "dimension": str(row["dimension"]),
            "category": str(row["category"]),
            "min": "" if row.get("min") is None else str(row["min"]),
            "max": "" if row.get("max") is None else str(row["max"]),
        }
        for row in round_.quotas or []
    ]


@dataclass(frozen=True)
class PoolCheck:
    sent: int
    eligible: int
    problems: list[str]


def check_against_pool(session: Session, round_: Round) -> PoolCheck:
    """The engine's view of the stored quotas against the applications sent so far."""
    import pandas as pd

    from selection import read_quotas, validate_quotas

    rows = input_rows(session, round_)
    frame = pd.DataFrame(rows, columns=["eligible", *MIX_COLUMNS])
    eligible = sum(1 for r in rows if r["eligible"])
    if not round_.quotas or not rows:
        return PoolCheck(len(rows), eligible, [])
    table = read_quotas(pd.DataFrame(round_.quotas), round_.sites_wanted)
    # Rows for a category no application has yet are included: staff should know of them.
    problems = validate_quotas(table, frame, round_.sites_wanted, warnings=True)
    return PoolCheck(len(rows), eligible, problems)


def describe_quota(round_: Round, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Stored quota rows as people read them."""
    return [
        {
            "dimension": MIX_LABELS.get(str(r["dimension"]), str(r["dimension"])),
            "category": category_label(round_, str(r["dimension"]), str(r["category"])),
            "min": "" if r.get("min") is None else str(r["min"]),
            "max": "" if r.get("max") is None else str(r["max"]),
        }
        for r in rows
    ]
