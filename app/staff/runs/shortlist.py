"""A run's shortlist: the final decisions once staff's overrides apply, one page at a time, and
the request-free presenter the staff and panel shortlist pages both show."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...labels import CRITERION_LABELS, DECISION_LABELS, FLAG_LABELS, MIX_LABELS
from ...models import (
    Application,
    Override,
    Round,
    SelectionDecision,
    SelectionRun,
)
from ...rounds import options
from ...urls import whole_number_or_none
from .engine_input import category_label, category_order


@dataclass(frozen=True)
class ShortlistRow:
    decision: SelectionDecision
    application: Application
    final: str  # the decision after any overrides
    final_reason: str
    reserve_number: int | None = None  # its place on the reserve list as the run now stands

    @property
    def label(self) -> str:
        return DECISION_LABELS.get(self.final, self.final)


def run_overrides(session: Session, run: SelectionRun) -> list[Override]:
    return list(
        session.scalars(select(Override).where(Override.run_id == run.id).order_by(Override.id))
    )


def overridden(overrides: Iterable[Override]) -> dict[int, tuple[str, str]]:
    """Application id -> (decision, reason) for the applications the overrides changed, applied
    in order."""
    result = {}
    for o in overrides:
        result[o.removed_application_id] = (
            "not_selected",
            f"Not selected: replaced by staff decision. {o.reason}",
        )
        result[o.added_application_id] = ("selected", f"Selected by staff decision. {o.reason}")
    return result


def changed_decisions(
    run: SelectionRun, overrides: Iterable[Override]
) -> dict[int, tuple[str, str]]:
    """Application id -> (decision, reason) where the run as it now stands differs from the
    engine's first answer: as stored when staff last changed it (every reason worked out again,
    app/staff/runs/current.py), else (a run changed before that was stored) the overrides."""
    stored = run.summary.get("current")
    if stored is not None:
        return {int(i): (str(d), str(r)) for i, (d, r, *_) in stored.items()}
    return overridden(overrides)


def reserve_numbers(run: SelectionRun) -> dict[int, int | None]:
    """Application id -> its place on the reserve list as the run now stands (renumbered when
    staff changed the selection, app/staff/runs/current.py)."""
    numbers = {d.application_id: d.reserve_number for d in run.decisions}
    for key, (_, _, reserve, *_) in (run.summary.get("current") or {}).items():
        numbers[int(key)] = reserve
    return numbers


def final_decisions(run: SelectionRun, overrides: Iterable[Override]) -> dict[int, tuple[str, str]]:
    """Application id -> (decision, reason) once the recorded overrides are applied in order."""
    result = {d.application_id: (d.decision, d.reason) for d in run.decisions}
    result.update(changed_decisions(run, overrides))
    return result


def rank_order(rank: int | None, application_id: int) -> tuple[bool, int, int]:
    """Best rank first, the unranked (ineligible) last, then by application."""
    return (rank is None, rank or 0, application_id)


def shortlist(session: Session, run: SelectionRun) -> list[ShortlistRow]:
    """The run's whole decision table, best rank first (ineligible last); ``shortlist_page``
    gives it a page at a time, filtered."""
    apps = {
        a.id: a
        for a in session.scalars(
            select(Application).where(Application.id.in_([d.application_id for d in run.decisions]))
        )
    }
    finals = final_decisions(run, run_overrides(session, run))
    reserves = reserve_numbers(run)
    rows = [
        ShortlistRow(
            d, apps[d.application_id], *finals[d.application_id], reserves.get(d.application_id)
        )
        for d in run.decisions
    ]
    rows.sort(key=lambda r: rank_order(r.decision.rank, r.application.id))
    return rows


SHORTLIST_PER_PAGE = 100


@dataclass(frozen=True)
class ShortlistPage:
    rows: list[ShortlistRow]
    total: int  # applications matching the filters, on every page
    page: int
    pages: int
    first: int  # the position of the first row shown among ``total`` (1 for the first page)
    counts: dict[str, int]  # final decision -> applications in the run, whatever the filters

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def shortlist_page(
    session: Session,
    run: SelectionRun,
    *,
    decision: str | None = None,
    nation: str | None = None,
    page: int = 1,
    per_page: int = SHORTLIST_PER_PAGE,
    hidden: frozenset[int] = frozenset(),
) -> ShortlistPage:
    """One page of ``shortlist`` in the same order, filtered by final decision and nation;
    ``hidden`` applications (a reviewer's conflicts) are left out of the rows and the counts.

    A few columns of every decision are read to filter, count and order them; the full rows
    (decision, application) only for the page shown, so a run of thousands costs little more
    than one of a hundred.
    """
    changed = changed_decisions(run, run_overrides(session, run))
    counts = dict.fromkeys(DECISION_LABELS, 0)
    matching = []
    for application_id, engine_decision, rank, application_nation in session.execute(
        select(
            SelectionDecision.application_id,
            SelectionDecision.decision,
            SelectionDecision.rank,
            Application.nation,
        )
        .join(Application, Application.id == SelectionDecision.application_id)
        .where(SelectionDecision.run_id == run.id)
    ):
        if application_id in hidden:
            continue
        final = changed[application_id][0] if application_id in changed else engine_decision
        counts[final] = counts.get(final, 0) + 1
        if (decision and final != decision) or (nation and application_nation != nation):
            continue
        matching.append(rank_order(rank, application_id))
    matching.sort()
    total = len(matching)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    shown = [application_id for *_, application_id in matching[start : start + per_page]]
    decisions = {
        d.application_id: d
        for d in session.scalars(
            select(SelectionDecision).where(
                SelectionDecision.run_id == run.id, SelectionDecision.application_id.in_(shown)
            )
        )
    }
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(shown)))}
    reserves = reserve_numbers(run)
    rows = [
        ShortlistRow(
            decisions[i],
            apps[i],
            *changed.get(i, (decisions[i].decision, decisions[i].reason)),
            reserves.get(i),
        )
        for i in shown
    ]
    return ShortlistPage(rows, total, page, pages, start + 1, counts)


# --- The presenter: what a shortlist page shows --------------------------------------------


def mix_sections(round_: Round, run: SelectionRun) -> list[dict[str, Any]]:
    """The mix table grouped by dimension, with readable labels, categories in their natural
    order (the round's option list; "Not given" last), for the chart and the table.

    Each row says whether the selection is within the quota's bounds; ``has_quota`` marks the
    dimensions the quota table bounds (the meeting summary shows those)."""
    binding = {(b["dimension"], b["category"]): b for b in run.bounds}
    sections: dict[str, dict[str, Any]] = {}
    for row in run.summary.get("mix", []):
        dim = row["dimension"]
        section = sections.setdefault(
            dim,
            {"dimension": dim, "label": MIX_LABELS.get(dim, dim), "rows": [], "has_quota": False},
        )
        bound = binding.get((dim, row["category"]), {})
        low, high = row.get("min"), row.get("max")
        section["has_quota"] = section["has_quota"] or low is not None or high is not None
        section["rows"].append(
            {
                **row,
                "label": category_label(round_, dim, row["category"]),
                "binding": bool(bound.get("binding")),
                "cost": bound.get("cost"),
                "within": (low is None or row["selected"] >= low)
                and (high is None or row["selected"] <= high),
            }
        )
    for section in sections.values():
        natural = {code: i for i, code in enumerate(category_order(round_, section["dimension"]))}
        section["rows"].sort(
            key=lambda r: (
                r["category"] == "",
                natural.get(r["category"], len(natural)),
                r["label"],
            )
        )
    return list(sections.values())


@dataclass(frozen=True)
class MeetingSummary:
    """What a meeting reads first: the selected sites best rank first, the reserves in order."""

    selected: list[ShortlistRow]
    reserves: list[ShortlistRow]


def meeting_summary(session: Session, run: SelectionRun) -> MeetingSummary:
    """The run's selected sites and reserves once staff's overrides apply."""
    rows = shortlist(session, run)
    selected = [r for r in rows if r.final == "selected"]
    reserves = sorted(
        (r for r in rows if r.final == "reserve"),
        key=lambda r: (r.reserve_number or 0, r.application.id),
    )
    return MeetingSummary(selected, reserves)


def shortlist_query(query: Mapping[str, str]) -> dict[str, Any]:
    """The decision, nation and page a shortlist link asks for, as ``shortlist_context`` takes
    them (a page that is not a whole number is the first)."""
    return {
        "decision": query.get("decision", ""),
        "nation": query.get("nation", ""),
        "page": whole_number_or_none(query.get("page")) or 1,
    }


def shortlist_context(
    session: Session,
    round_: Round,
    run: SelectionRun,
    *,
    decision: str,
    nation: str,
    page: int,
    link: Callable[..., str],
    hidden: frozenset[int] = frozenset(),
    application_url: Callable[[Application], str | None] = lambda _: None,
) -> dict[str, Any]:
    """What the shortlist page shows, for staff and (for shared runs) the panel: one page of the
    table, filtered by decision and nation as asked (a value not offered shows everything).
    ``link(**query)`` gives the page's own address with that query, for the filters and pages.

    ``hidden`` applications (a reviewer's conflicts) are left out of the table and its counts,
    and the table is not filtered by decision then: the number of rows with a decision, set
    against the sites the round wants, would tell how the hidden one fared; the meeting summary
    is left out then too. ``application_url`` gives the page each row links to (None: no link).
    """
    if decision not in DECISION_LABELS or hidden:
        decision = ""
    nations = options(round_, "nation")
    if nation not in dict(nations):
        nation = ""
    found = shortlist_page(
        session,
        run,
        decision=decision or None,
        nation=nation or None,
        page=page,
        per_page=SHORTLIST_PER_PAGE,
        hidden=hidden,
    )
    filters = {k: v for k, v in (("decision", decision), ("nation", nation)) if v}
    return {
        "round": round_,
        "run": run,
        "found": found,
        "decision": decision,
        "nation": nation,
        "nations": nations,
        "decision_labels": DECISION_LABELS,
        "criteria": CRITERION_LABELS,
        "mix": mix_sections(round_, run),
        "summary": None if hidden else meeting_summary(session, run),
        "application_url": application_url,
        "label": lambda dim, value: category_label(round_, dim, value or ""),
        "filter_url": link(),
        "page_url": lambda number: link(_anchor="shortlist", page=number, **filters),
        "dimension_labels": MIX_LABELS,
        "flag_text": flag_text,
    }


def flag_text(flags: str) -> str:
    """A run's stored flags (``too_few_reviews;moderated``) in words."""
    return "; ".join(FLAG_LABELS.get(f, f.replace("_", " ")) for f in flags.split(";") if f)


def confirm_check(session: Session, round_: Round, run: SelectionRun) -> dict[str, Any]:
    """What the check page before confirming a run shows: the count of each decision, the
    changes made so far, the sites that would be selected and the reserves, whether another run
    is already the round's decision, and whether newer runs exist."""
    rows = shortlist(session, run)
    counts = {value: 0 for value in DECISION_LABELS}
    for row in rows:
        counts[row.final] = counts.get(row.final, 0) + 1
    confirmed = session.scalars(
        select(SelectionRun.id).where(
            SelectionRun.round_id == round_.id,
            SelectionRun.confirmed_at.is_not(None),
            SelectionRun.id != run.id,
        )
    ).first()
    newer = session.scalars(
        select(SelectionRun.id).where(
            SelectionRun.round_id == round_.id,
            SelectionRun.id > run.id,
            SelectionRun.status == "done",
        )
    ).all()
    return {
        "round": round_,
        "run": run,
        "counts": counts,
        "total": len(rows),
        "decision_labels": DECISION_LABELS,
        "overrides": run_overrides(session, run),
        "summary": meeting_summary(session, run),
        "other_confirmed": confirmed,
        "newer_runs": list(newer),
    }


@dataclass(frozen=True)
class RunDecision:
    """One application's decision in one run, as its staff page shows it."""

    heading: str  # "The latest run", "The confirmed decision" or both
    run_id: int
    decision: str  # as people read it, "Reserve 2"
    reason: str
    confirmed: bool  # whether this run is the round's decision


def application_decisions(session: Session, application: Application) -> list[RunDecision]:
    """The application's decision in its round's latest finished run and in the confirmed run
    (one entry when they are the same run), once staff's overrides apply."""
    runs = session.scalars(
        select(SelectionRun)
        .where(SelectionRun.round_id == application.round_id, SelectionRun.status == "done")
        .order_by(SelectionRun.id.desc())
    ).all()
    if not runs:
        return []
    latest = runs[0]
    confirmed = next((r for r in runs if r.confirmed_at is not None), None)
    wanted = [(latest, "The latest run")]
    if confirmed is not None:
        wanted = (
            [(latest, "The latest run, confirmed as the decision")]
            if confirmed.id == latest.id
            else [(confirmed, "The confirmed decision"), *wanted]
        )
    found = []
    for run, heading in wanted:
        stored = session.scalars(
            select(SelectionDecision).where(
                SelectionDecision.run_id == run.id,
                SelectionDecision.application_id == application.id,
            )
        ).first()
        if stored is None:
            found.append(
                RunDecision(heading, run.id, "Not in this run", "", run.confirmed_at is not None)
            )
            continue
        final, reason = final_decisions(run, run_overrides(session, run))[application.id]
        text = DECISION_LABELS.get(final, final)
        reserve = reserve_numbers(run).get(application.id)
        if final == "reserve" and reserve:
            text = f"{text} {reserve}"
        found.append(RunDecision(heading, run.id, text, reason, run.confirmed_at is not None))
    return found
