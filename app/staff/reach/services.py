"""Reach: the round's applications so far, counted by each mix dimension and by the quota
table's combinations, whether the quota table can be met yet (the selection engine's own
feasibility and advice, on the mix alone), and how the reminders to unsent drafts went.

The applications are read as plain rows (no ORM objects), so the page stays quick for a round of
many thousands; a draft's mix comes from its answers, as sending would copy it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from selection import QuotaError

from ...applications.answers import missing_pages, mix_attributes
from ...labels import MIX_LABELS
from ...models import AnswerPage, Application, DraftReminder, Round
from ...rounds import london
from ..rounds.services import quota_categories
from ..runs.engine_input import MIX_COLUMNS, category_label

if TYPE_CHECKING:  # pandas loads when the quotas are checked, not as the app starts
    from selection import Reach, Shortfall

NOT_GIVEN = ""


@dataclass(frozen=True)
class Entry:
    """One application as reach counts it: its mix values (text, "" when not given)."""

    mix: dict[str, str]
    sent: bool
    complete: bool = False
    """For a draft: every question answered, so it could be sent as it is."""
    eligible: bool = True
    """For a sent application: not screened out as ineligible."""
    submitted_at: datetime | None = None
    organisation: str = ""


def _text(column: str, value: Any) -> str:
    if column == "first_time":
        return NOT_GIVEN if value is None else ("yes" if value else "no")
    return str(value) if value else NOT_GIVEN


def round_entries(session: Session, round_: Round) -> list[Entry]:
    """The round's sent applications (not merged into another) and its drafts in progress."""
    columns = [getattr(Application, c) for c in MIX_COLUMNS]
    entries = [
        Entry(
            {c: _text(c, v) for c, v in zip(MIX_COLUMNS, values, strict=True)},
            sent=True,
            eligible=screening != "ineligible",
            submitted_at=submitted_at,
            organisation=organisation or "",
        )
        for screening, submitted_at, organisation, *values in session.execute(
            select(
                Application.screening,
                Application.submitted_at,
                Application.organisation_name,
                *columns,
            ).where(
                Application.round_id == round_.id,
                Application.status == "submitted",
                Application.merged_into_id.is_(None),
            )
        )
    ]
    answers: dict[int, dict[str, dict[str, Any]]] = {}
    drafts = select(Application.id).where(
        Application.round_id == round_.id,
        Application.status == "draft",
        Application.merged_into_id.is_(None),
        Application.erased_at.is_(None),
    )
    for (app_id,) in session.execute(drafts):
        answers[app_id] = {}
    for app_id, page_id, page in session.execute(
        select(AnswerPage.application_id, AnswerPage.page_id, AnswerPage.answers).where(
            AnswerPage.application_id.in_(drafts)
        )
    ):
        answers.setdefault(app_id, {})[page_id] = dict(page or {})
    for given in answers.values():
        mix = mix_attributes(given)
        entries.append(
            Entry(
                {c: _text(c, mix.get(c)) for c in MIX_COLUMNS},
                sent=False,
                complete=not missing_pages(given),
                organisation=str(mix.get("organisation_name") or ""),
            )
        )
    return entries


# --- Counts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    category: str
    label: str
    sent: int
    drafts: int
    complete: int


@dataclass(frozen=True)
class DimensionCounts:
    dimension: str
    label: str
    rows: list[CountRow]
    total_rows: int = 0
    """For a shortened table: how many rows the whole one has (the export has them all)."""

    @property
    def most(self) -> int:
        return max([r.sent + r.drafts for r in self.rows] + [1])


def _categories(round_: Round, dimension: str) -> list[tuple[str, str]]:
    return [
        (v, category_label(round_, dimension, v)) for v, _ in quota_categories(round_, dimension)
    ]


def count_rows(
    round_: Round, entries: list[Entry], key: tuple[str, ...], known: list[tuple[str, ...]]
) -> list[CountRow]:
    """Counts per value of ``key`` (one or more dimensions): the ``known`` values in order, then
    any other value found (such as "Not given"), each labelled."""
    counted = Counter((tuple(e.mix[d] for d in key), e.sent, e.complete) for e in entries)
    sent: Counter[tuple[str, ...]] = Counter()
    drafts: Counter[tuple[str, ...]] = Counter()
    complete: Counter[tuple[str, ...]] = Counter()
    for (value, was_sent, is_complete), n in counted.items():
        if was_sent:
            sent[value] += n
        else:
            drafts[value] += n
            complete[value] += n if is_complete else 0
    listed = set(known)
    found = [v for v in sorted(set(sent) | set(drafts)) if v not in listed]
    labels = {
        (d, v): category_label(round_, d, v)
        for d in key
        for v in {value[key.index(d)] for value in [*known, *found]}
    }
    return [
        CountRow(
            " / ".join(value),
            # " / " between categories: "and" is inside labels ("Mixed urban and rural").
            " / ".join(labels[(d, v)] for d, v in zip(key, value, strict=True)),
            sent[value],
            drafts[value],
            complete[value],
        )
        for value in [*known, *found]
    ]


def dimension_counts(round_: Round, entries: list[Entry]) -> list[DimensionCounts]:
    """Counts by each mix dimension, categories in the round's own order."""
    return [
        DimensionCounts(
            d,
            MIX_LABELS[d],
            count_rows(round_, entries, (d,), [(v,) for v, _ in _categories(round_, d)]),
        )
        for d in MIX_COLUMNS
    ]


def combination_counts(round_: Round, entries: list[Entry]) -> DimensionCounts | None:
    """Counts by the combinations of the dimensions the quota table uses (when it uses two or
    more): only combinations some application has, in the round's order of categories."""
    dims = tuple(dict.fromkeys(str(r.get("dimension")) for r in round_.quotas or []))
    dims = tuple(d for d in dims if d in MIX_COLUMNS)
    if len(dims) < 2:
        return None
    order = {d: {v: i for i, (v, _) in enumerate(_categories(round_, d))} for d in dims}
    present = {tuple(e.mix[d] for d in dims) for e in entries}
    known = sorted(
        present,
        key=lambda v: tuple(order[d].get(x, len(order[d])) for d, x in zip(dims, v, strict=True)),
    )
    return DimensionCounts(
        "+".join(dims),
        _join([MIX_LABELS[d] for d in dims]),
        count_rows(round_, entries, dims, known),
    )


@dataclass(frozen=True)
class Week:
    number: int
    starts: datetime
    sent: int

    @property
    def starts_label(self) -> str:
        local = london(self.starts)
        return f"{local.day} {local.strftime('%B %Y')}"


COMBINATIONS_SHOWN = 50


def most_common(table: DimensionCounts, limit: int = COMBINATIONS_SHOWN) -> DimensionCounts:
    """The table's ``limit`` rows with the most applications (sent, then drafts), most first."""
    if len(table.rows) <= limit:
        return table
    rows = sorted(table.rows, key=lambda r: (-r.sent, -r.drafts))[:limit]
    return DimensionCounts(table.dimension, table.label, rows, len(table.rows))


def weekly_sent(round_: Round, entries: list[Entry], now: datetime) -> list[Week]:
    """Sent applications per week since the round opened, up to this week (or the close)."""
    if now < round_.opens_at:
        return []
    end = min(now, round_.closes_at)
    weeks = (end - round_.opens_at) // timedelta(days=7) + 1
    counts = [0] * weeks
    for e in entries:
        if e.sent and e.submitted_at is not None and e.submitted_at >= round_.opens_at:
            week = (e.submitted_at - round_.opens_at) // timedelta(days=7)
            counts[min(week, weeks - 1)] += 1
    return [Week(i + 1, round_.opens_at + timedelta(days=7 * i), n) for i, n in enumerate(counts)]


# --- Can the quotas be met yet? -----------------------------------------------------------------


@dataclass(frozen=True)
class QuotaRow:
    dimension: str
    category: str
    label: str
    minimum: int | None
    maximum: int | None
    available: int
    more: int
    side: str = "min"


@dataclass(frozen=True)
class Feasibility:
    """The answer for one pool: a sentence, the applications in it, and each quota's row."""

    pool: int
    feasible: bool
    sentence: str
    rows: list[QuotaRow] = field(default_factory=list)
    more_in_all: int = 0
    problems: list[str] = field(default_factory=list)


def _phrase(round_: Round, shortfall: Shortfall) -> str:
    """A shortfall in words: "2 more from Wales", "1 more in “Rurality: Remote rural or island”"."""
    bound = shortfall.bound
    label = category_label(round_, bound.dimension, bound.category)
    if bound.dimension in ("nation", "region"):
        where, preposition = label, "from"
    else:
        where, preposition = f"“{MIX_LABELS.get(bound.dimension, bound.dimension)}: {label}”", "in"
    if shortfall.side == "min":
        return f"{shortfall.more} more {preposition} {where}"
    return f"{shortfall.more} more from outside {where}"


def _sentence(round_: Round, reach: Reach) -> str:
    if reach.feasible:
        return "The quota table can be met."
    parts = [_phrase(round_, s) for s in reach.shortfalls if s.more]
    noun = "application is" if reach.more_in_all == 1 else "applications are"
    if reach.more_in_all:
        start = f"Not yet: at least {reach.more_in_all} more {noun} needed in all"
        return f"{start}, including at least {_join(parts)}." if parts else f"{start}."
    if not parts:
        return (
            "Not yet: the quota table can only be met by choosing two sites from the same "
            "organisation."
        )
    first_more = reach.shortfalls[0].more if reach.shortfalls else 0
    verb = "is" if len(parts) == 1 and first_more == 1 else "are"
    return f"Not yet: at least {_join(_with_noun(parts))} {verb} needed."


def _with_noun(parts: list[str]) -> list[str]:
    """The first part says what is counted: "2 more applications from Wales"."""
    if not parts:
        return parts
    number, rest = parts[0].split(" more ", 1)
    noun = "application" if number == "1" else "applications"
    return [f"{number} more {noun} {rest}", *parts[1:]]


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def feasibility(round_: Round, entries: list[Entry], *, with_complete_drafts: bool) -> Feasibility:
    """Whether the quota table can be met by the eligible sent applications so far (and, with
    ``with_complete_drafts``, the drafts that could be sent as they are), by the engine."""
    import pandas as pd

    from selection import SelectionOptions, quota_reach, read_quotas

    pool = [
        e
        for e in entries
        if (e.sent and e.eligible) or (with_complete_drafts and not e.sent and e.complete)
    ]
    k = round_.sites_wanted
    frame = pd.DataFrame(
        {
            **{c: [e.mix[c] for e in pool] for c in MIX_COLUMNS},
            "organisation": [e.organisation for e in pool],
        }
    )
    try:
        table = read_quotas(
            pd.DataFrame(round_.quotas or [], columns=["dimension", "category", "min", "max"]), k
        )
        reach = quota_reach(
            frame, table, k, one_per_organisation=SelectionOptions().one_per_organisation
        )
    except QuotaError as error:
        return Feasibility(
            len(pool),
            False,
            "The quota table cannot be checked until its problems are put right.",
            problems=list(error.problems),
        )
    more = {(s.bound.dimension, s.bound.category): s for s in reach.shortfalls}
    rows = []
    for bound, available in zip(table.bounds, reach.available, strict=True):
        shortfall = more.get((bound.dimension, bound.category))
        rows.append(
            QuotaRow(
                MIX_LABELS.get(bound.dimension, bound.dimension),
                bound.category,
                category_label(round_, bound.dimension, bound.category),
                bound.min,
                bound.max,
                available,
                shortfall.more if shortfall else 0,
                shortfall.side if shortfall else "min",
            )
        )
    return Feasibility(len(pool), reach.feasible, _sentence(round_, reach), rows, reach.more_in_all)


# --- Reminders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderSummary:
    sent: int
    drafts_reminded: int
    sent_after: int
    """Drafts reminded that were sent after their first reminder."""


def reminder_summary(session: Session, round_: Round) -> ReminderSummary:
    first = (
        select(
            DraftReminder.application_id.label("application_id"),
            func.min(DraftReminder.sent_at).label("first_at"),
            func.count(DraftReminder.id).label("n"),
        )
        .join(Application, Application.id == DraftReminder.application_id)
        .where(Application.round_id == round_.id)
        .group_by(DraftReminder.application_id)
        .subquery()
    )
    total, reminded = session.execute(
        select(func.coalesce(func.sum(first.c.n), 0), func.count(first.c.application_id))
    ).one()
    after = session.scalar(
        select(func.count(Application.id))
        .join(first, first.c.application_id == Application.id)
        .where(Application.status == "submitted", Application.submitted_at > first.c.first_at)
    )
    return ReminderSummary(int(total), int(reminded), int(after or 0))
