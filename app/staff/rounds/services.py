"""Rounds: the staff home's summary of each round, the round's settings, and its quota table
(checked against the round's options and the pool, then stored with the round)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from selection import CRITERIA, QuotaError

if TYPE_CHECKING:  # pandas loads when quotas are read, not as the app starts
    from selection import QuotaTable

from ...applications.rubric import rubric, rubric_settings
from ...audit import record
from ...errors import DomainError
from ...labels import (
    MIX_LABELS,
)
from ...models import (
    Application,
    Review,
    Round,
    User,
)
from ...rounds import DEFAULT_SETTINGS, options, reminder_days
from ..runs.engine_input import MIX_COLUMNS, category_label, input_rows

TEXT_KEYS: tuple[str, ...] = tuple(DEFAULT_SETTINGS["texts"])
# The round's option list holding each quota dimension's categories (region is special).
_DIMENSION_OPTIONS = {
    "nation": "nation",
    "area_type": "area_type",
    "size_band": "staff_band",
    "led_by": "led_by",
    "pressures": "pressures",
    "local_deprivation": "local_deprivation",
}


class RoundError(DomainError):
    """A change to a round that cannot be made, with a message to show."""


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
    reminder_days: list[int] | None = None
    """Days before the deadline to remind unsent drafts; None leaves the round's as they are."""
    reviewing_days: int | None = None  # None: leave the round's setting as it is
    welsh_offered: bool | None = None  # None: leave the round's setting as it is


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
        "reminder_days": reminder_days(round_),
        "reviewing_days": (round_.settings or {}).get("reviewing_days"),
        "welsh_offered": bool((round_.settings or {}).get("welsh_offered")),
    }


def update_round_settings(
    session: Session, round_: Round, settings: RoundSettings, user: User | None
) -> None:
    if settings.closes_at <= settings.opens_at:
        raise RoundError("The closing time must be after the opening time")
    if any(not w > 0 for w in settings.weights.values()):
        raise RoundError("Every criterion weight must be more than 0")
    before = _settings_fields(round_)
    round_.title = settings.title
    # A new dict, so the JSON column sees the change.
    stored = dict(round_.settings or {})
    stored["texts"] = {**stored.get("texts", {}), **settings.texts}
    if settings.reminder_days is not None:
        stored["reminder_days"] = list(settings.reminder_days)
    if settings.reviewing_days is not None:
        stored["reviewing_days"] = settings.reviewing_days
    if settings.welsh_offered is not None:
        stored["welsh_offered"] = settings.welsh_offered
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


# --- The rubric -----------------------------------------------------------------------------


def rubric_frozen(session: Session, round_: Round) -> bool:
    """Once a review of the round is submitted, its rubric's words stay as that reviewer read
    them: every review is scored against the same words."""
    return (
        session.scalar(
            select(func.count(Review.id))
            .join(Application, Application.id == Review.application_id)
            .where(Application.round_id == round_.id, Review.status == "submitted")
        )
        or 0
    ) > 0


RUBRIC_FROZEN = (
    "The rubric can no longer change: reviewers have started submitting reviews scored against "
    "it, and every review must be scored against the same words."
)


def save_rubric(
    session: Session,
    round_: Round,
    words: Mapping[str, Mapping[str, Any]],
    user: User | None,
) -> None:
    """Store the round's own rubric words: per criterion what we look for and the descriptor of
    each score. Refused once a review is submitted."""
    if rubric_frozen(session, round_):
        raise RoundError(RUBRIC_FROZEN)
    criteria = []
    for criterion in rubric(round_):
        own = words.get(criterion.id) or {}
        looks = str(own.get("looks_for") or "").strip()
        levels = [str(v or "").strip() for v in own.get("levels") or []]
        if not looks or len(levels) != len(criterion.levels) or not all(levels):
            raise RoundError(f"Enter every description for “{criterion.title}”")
        criteria.append(
            replace(
                criterion,
                looks_for=looks,
                levels=tuple(
                    replace(level, descriptor=text)
                    for level, text in zip(criterion.levels, levels, strict=True)
                ),
            )
        )
    before = rubric_settings(rubric(round_))
    stored = dict(round_.settings or {})
    stored["rubric"] = rubric_settings(tuple(criteria))
    round_.settings = stored
    changed = [c for c in stored["rubric"] if stored["rubric"][c] != before.get(c)]
    record(session, user, "rubric.changed", "round", round_.id, round_.id, criteria=changed)
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
        raise RoundError("The quota table has problems")
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
