"""Selection runs: building the engine's input from the database, storing what it decided, and
the staff decision that follows (confirmation, overrides, replacements, outcome messages).

Every run stores a snapshot of its input rows, so its shortlist, mix, exports and any later
replacement are computed from exactly what the engine saw, whatever changes afterwards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import render_template
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from selection import (
    CRITERIA,
    InfeasibleQuotasError,
    InputError,
    QuotaError,
    SelectionOptions,
    SelectionResult,
    __version__,
)

if TYPE_CHECKING:  # pandas and scipy load when a selection runs, not as the app starts
    import pandas as pd

    from selection import QuotaTable

from ..audit import History, record
from ..errors import DomainError
from ..models import (
    Application,
    ApplicationEvent,
    Moderation,
    OutboxMessage,
    Override,
    Review,
    ReviewScore,
    Round,
    SelectionDecision,
    SelectionRun,
    User,
)
from ..outbox import queue_email
from ..rounds import option_label

log = logging.getLogger(__name__)

MIX_COLUMNS: tuple[str, ...] = (
    "nation",
    "region",
    "area_type",
    "size_band",
    "led_by",
    "first_time",
    "pressures",
    "local_deprivation",
)
MIX_LABELS = {
    "nation": "Nation",
    "region": "Region",
    "area_type": "Rurality",
    "size_band": "Size (staff)",
    "led_by": "Led by",
    "first_time": "First time",
    "pressures": "Pressures",
    "local_deprivation": "Local population",
}
# The round's option list that labels each mix column's categories.
_OPTION_KEYS = {
    "nation": "nation",
    "area_type": "area_type",
    "size_band": "staff_band",
    "led_by": "led_by",
    "pressures": "pressures",
    "local_deprivation": "local_deprivation",
}
CRITERION_LABELS = {
    "difference": "Difference",
    "inequalities": "Inequalities",
    "resources": "Resources",
    "evidence": "Evidence",
}
# Why staff screened an application out: the code stored, and the words people read (the
# screening form offers these; a run's reasons quote them).
SCREENING_REASONS: dict[str, str] = {
    "not-uk": "Not based in the UK",
    "not-adult-social-care": "Not adult social care",
    "duplicate": "Duplicate of another application",
    "incomplete": "Incomplete application",
    "other": "Other reason",
}
DECISION_LABELS = {
    "selected": "Selected",
    "reserve": "Reserve",
    "not_selected": "Not selected",
    "ineligible": "Not eligible",
}
STALE_AFTER = timedelta(hours=1)
OUTCOME_KIND = "outcome"
DEFAULT_RESERVES = 10


class RunError(DomainError):
    """A problem with a run request whose message can be shown to staff as it is."""


class RunInProgress(RunError):
    def __init__(self) -> None:
        super().__init__(
            "A selection run is already in progress for this round. Wait for it to finish, "
            "then look at the list of runs."
        )


def category_label(round_: Round, dimension: str, value: str) -> str:
    """A category as people read it: the round's option label, else the value itself."""
    if value == "":
        return "Not given"
    if dimension == "region":
        label = option_label(round_, "region", value)
        return option_label(round_, "nation", value) if label == value else label
    if dimension in _OPTION_KEYS:
        return option_label(round_, _OPTION_KEYS[dimension], value)
    if dimension == "first_time":
        return {"yes": "First time", "no": "Taken part before"}.get(value, value)
    return value


# --- The engine's input --------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """A value as plain JSON: numpy scalars unwrapped, NaN and NA as None."""
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _clean(v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


def pool_applications(session: Session, round_: Round) -> list[Application]:
    """The round's sent applications (not withdrawn, not merged into another), oldest first."""
    return list(
        session.scalars(
            select(Application)
            .where(
                Application.round_id == round_.id,
                Application.status == "submitted",
                Application.merged_into_id.is_(None),
            )
            .order_by(Application.id)
        )
    )


def input_rows(session: Session, round_: Round) -> list[dict[str, Any]]:
    """One row per application as the engine sees it: id, eligibility, mix, criterion means.

    A criterion's value is the mean of the submitted reviews' scores, or the moderated score when
    staff moderated that criterion (the latest moderation wins).
    """
    applications = pool_applications(session, round_)
    ids = [a.id for a in applications]
    scores: dict[int, dict[str, list[int]]] = {i: {c: [] for c in CRITERIA} for i in ids}
    counts: dict[int, int] = dict.fromkeys(ids, 0)
    moderated: dict[int, dict[str, float]] = {i: {} for i in ids}
    if ids:
        for app_id, n in session.execute(
            select(Review.application_id, func.count(Review.id))
            .where(Review.application_id.in_(ids), Review.status == "submitted")
            .group_by(Review.application_id)
        ):
            counts[app_id] = int(n)
        for app_id, criterion, score in session.execute(
            select(Review.application_id, ReviewScore.criterion, ReviewScore.score)
            .join(ReviewScore, ReviewScore.review_id == Review.id)
            .where(Review.application_id.in_(ids), Review.status == "submitted")
        ):
            if score is not None and criterion in CRITERIA:
                scores[app_id][criterion].append(int(score))
        for moderation in session.scalars(
            select(Moderation)
            .where(Moderation.application_id.in_(ids))
            .order_by(Moderation.at, Moderation.id)
        ):
            if moderation.criterion in CRITERIA:
                moderated[moderation.application_id][moderation.criterion] = float(moderation.score)
    rows = []
    for a in applications:
        eligible = a.screening == "eligible"
        if a.screening == "ineligible":
            code = a.screening_reason or ""
            why = SCREENING_REASONS.get(code, code)
        elif not eligible:
            why = "not screened yet"
        else:
            why = ""
        row: dict[str, Any] = {
            "id": a.reference or str(a.id),
            "application_id": a.id,
            "eligible": eligible,
            "ineligible_reason": why,
            "organisation": a.organisation_name or "",
        }
        for column in MIX_COLUMNS:
            value = getattr(a, column)
            if column == "first_time":
                row[column] = "" if value is None else ("yes" if value else "no")
            else:
                row[column] = value or ""
        spread = 0
        for c in CRITERIA:
            given = scores[a.id][c]
            if c in moderated[a.id]:
                row[c] = moderated[a.id][c]
            else:
                row[c] = sum(given) / len(given) if given else None
            if given:
                spread = max(spread, max(given) - min(given))
        row["n_reviews"] = counts[a.id]
        row["spread"] = spread
        row["moderated"] = ";".join(c for c in CRITERIA if c in moderated[a.id])
        flags = []
        if eligible and counts[a.id] < round_.reviews_required:
            flags.append("too_few_reviews")
        if spread >= 2:
            flags.append("disagreement")
        if row["moderated"]:
            flags.append("moderated")
        row["flags"] = ";".join(flags)
        rows.append(row)
    return rows


def _engine_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    columns = ["id", "eligible", "ineligible_reason", "organisation", *MIX_COLUMNS, *CRITERIA]
    frame = pd.DataFrame(rows, columns=[*columns, "n_reviews"])
    for c in CRITERIA:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    frame["n_reviews"] = pd.to_numeric(frame["n_reviews"]).astype(float)
    return frame


def _quota_table(quotas: list[dict[str, Any]], k: int) -> QuotaTable:
    import pandas as pd

    from selection import QuotaTable, read_quotas

    if not quotas:
        return QuotaTable(())
    return read_quotas(pd.DataFrame(quotas), k)


def _run_engine(
    parameters: Mapping[str, Any], rows: list[dict[str, Any]], *, decide_only: bool = False
) -> SelectionResult:
    """Run the engine on a stored snapshot (also used to replay a run for replacements, with
    ``decide_only``: the stored run already holds its reasons)."""
    from selection import select as run_engine

    k = int(parameters["k"])
    options = SelectionOptions(**parameters["options"])
    return run_engine(
        _engine_frame(rows),
        _quota_table(parameters["quotas"], k),
        k,
        weights=parameters["weights"] or None,
        options=options,
        decide_only=decide_only,
    )


# --- Starting a run -------------------------------------------------------------------------


def new_seed() -> int:
    return secrets.randbelow(1_000_000)


def start_run(
    session: Session,
    round_: Round,
    user: User | None,
    now: datetime,
    seed: int,
    *,
    reserves: int = DEFAULT_RESERVES,
    hold_lock: Callable[[], None] | None = None,
) -> SelectionRun:
    """Run the selection engine on the round and store the run with every decision.

    The run row is inserted as "running" first; the database's partial unique index refuses a
    second running run for the same round (RunInProgress). ``hold_lock`` is called once the row
    is flushed: the view passes its commit, so other requests see the lock while this computes.
    """
    _retire_stale_run(session, round_, now)
    k = round_.sites_wanted
    options = SelectionOptions(
        seed=seed,
        reserves=reserves,
        lottery_band=round_.lottery_band,
        min_reviews=round_.reviews_required,
    )
    parameters: dict[str, Any] = {
        "k": k,
        "weights": {c: float((round_.weights or {}).get(c, 1.0)) for c in CRITERIA},
        "quotas": [dict(q) for q in round_.quotas or []],
        "options": options.as_dict(),
        "seed": seed,
    }
    run = SelectionRun(
        round_id=round_.id,
        status="running",
        created_by_id=user.id if user is not None else None,
        created_at=now,
        parameters=parameters,
        engine_version=__version__,
        summary={},
        bounds=[],
        message="",
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        raise RunInProgress() from None
    # Recorded with the lock, so a run whose process dies is still on the log.
    record(session, user, "run.started", "run", run.id, round_.id, seed=seed, reserves=reserves)
    if hold_lock is not None:
        hold_lock()
    _compute(session, round_, run, now)
    return run


def _retire_stale_run(session: Session, round_: Round, now: datetime) -> None:
    """A run left "running" by a process that died would block the round for ever."""
    stale = session.scalars(
        select(SelectionRun).where(
            SelectionRun.round_id == round_.id,
            SelectionRun.status == "running",
            SelectionRun.created_at < now - STALE_AFTER,
        )
    ).first()
    if stale is not None:
        stale.status = "failed"
        stale.finished_at = now
        stale.message = "This run stopped without finishing."
        session.flush()


def _compute(session: Session, round_: Round, run: SelectionRun, now: datetime) -> None:
    rows = input_rows(session, round_)
    parameters = dict(run.parameters)
    parameters["applications"] = rows
    parameters["unscreened"] = sum(1 for r in rows if r["ineligible_reason"] == "not screened yet")
    run.finished_at = now
    unscored = [r["id"] for r in rows if r["eligible"] and any(r[c] is None for c in CRITERIA)]
    if unscored:
        run.parameters = parameters
        run.status = "failed"
        shown = ", ".join(unscored[:20]) + (" and others" if len(unscored) > 20 else "")
        run.message = (
            f"{len(unscored)} eligible applications have no submitted review score for every "
            f"criterion yet: {shown}. Get them reviewed or moderated, then start a new run."
        )
        session.flush()
        return
    try:
        result = _run_engine(parameters, rows)
    except InfeasibleQuotasError as error:
        run.parameters = parameters
        run.status = "infeasible"
        run.message = "The quotas cannot all be met."
        run.summary = _clean(
            {"advice": error.advice, "conflicting": error.conflicting, "changes": error.changes}
        )
        session.flush()
        return
    except QuotaError as error:
        run.parameters = parameters
        run.status = "failed"
        run.message = "The quota table cannot be used as it is."
        run.summary = {"problems": list(error.problems)}
        session.flush()
        return
    except InputError as error:
        run.parameters = parameters
        run.status = "failed"
        run.message = str(error)
        session.flush()
        return
    except Exception as error:
        error_id = secrets.token_hex(4)
        # Only the type: an engine message can quote application data.
        log.error(
            "selection run %s failed (error id %s): %s", run.id, error_id, type(error).__name__
        )
        run.parameters = parameters
        run.status = "failed"
        run.message = (
            f"The selection engine stopped with an unexpected error (error id {error_id}). "
            "Nothing was decided. Tell the technical team the error id."
        )
        session.flush()
        return
    parameters["audit"] = _clean(dict(result.audit))
    parameters["warnings"] = list(result.warnings)
    run.parameters = parameters
    run.input_sha256 = str(result.audit["inputs_sha256"])
    run.engine_version = str(result.audit["version"])
    bounds = _records(result.bounds)
    run.bounds = bounds
    summary = _clean(dict(result.summary))
    summary["mix"] = mix_table(rows, set(result.selected_ids), bounds)
    run.summary = summary
    by_id = {r["id"]: r for r in rows}
    for d in _records(result.decisions):
        source = by_id[str(d["id"])]
        session.add(
            SelectionDecision(
                run_id=run.id,
                application_id=source["application_id"],
                decision=d["decision"],
                rank=d["rank"],
                score=d["score"],
                flags=source["flags"],
                reason_code=d["reason_code"] or "",
                reason=d["reason"] or "",
                reserve_number=d["reserve_number"],
                **{c: d[c] for c in CRITERIA},
            )
        )
    run.status = "done"
    session.flush()


def mix_table(
    rows: list[dict[str, Any]], selected: set[str], bounds: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per dimension and category: eligible pool count, selected count and the quota bounds."""
    limits = {(b["dimension"], b["category"]): (b["min"], b["max"]) for b in bounds}
    dimensions = list(MIX_COLUMNS) + [d for d, _ in limits if d not in MIX_COLUMNS]
    table = []
    for dimension in dimensions:
        pool: dict[str, int] = {}
        chosen: dict[str, int] = {}
        for r in rows:
            if not r["eligible"] or dimension not in r:
                continue
            value = str(r[dimension] or "")
            pool[value] = pool.get(value, 0) + 1
            if r["id"] in selected:
                chosen[value] = chosen.get(value, 0) + 1
        categories = sorted(set(pool) | {c for d, c in limits if d == dimension})
        for category in categories:
            lo, hi = limits.get((dimension, category), (None, None))
            table.append(
                {
                    "dimension": dimension,
                    "category": category,
                    "pool": pool.get(category, 0),
                    "selected": chosen.get(category, 0),
                    "min": lo,
                    "max": hi,
                }
            )
    return table


# --- Reading runs -----------------------------------------------------------------------------


def round_runs(session: Session, round_: Round) -> list[SelectionRun]:
    return list(
        session.scalars(
            select(SelectionRun)
            .where(SelectionRun.round_id == round_.id)
            .order_by(SelectionRun.id.desc())
        )
    )


def round_run_ids(session: Session, round_: Round) -> list[int]:
    """The round's run ids, newest first, without loading each run's stored snapshot."""
    return list(
        session.scalars(
            select(SelectionRun.id)
            .where(SelectionRun.round_id == round_.id)
            .order_by(SelectionRun.id.desc())
        )
    )


@dataclass(frozen=True)
class ShortlistRow:
    decision: SelectionDecision
    application: Application
    final: str  # the decision after any overrides
    final_reason: str

    @property
    def label(self) -> str:
        return DECISION_LABELS.get(self.final, self.final)


def run_overrides(session: Session, run: SelectionRun) -> list[Override]:
    return list(
        session.scalars(select(Override).where(Override.run_id == run.id).order_by(Override.id))
    )


def _overridden(overrides: Iterable[Override]) -> dict[int, tuple[str, str]]:
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


def final_decisions(run: SelectionRun, overrides: Iterable[Override]) -> dict[int, tuple[str, str]]:
    """Application id -> (decision, reason) once the recorded overrides are applied in order."""
    result = {d.application_id: (d.decision, d.reason) for d in run.decisions}
    result.update(_overridden(overrides))
    return result


def _rank_order(rank: int | None, application_id: int) -> tuple[bool, int, int]:
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
    rows = [
        ShortlistRow(d, apps[d.application_id], *finals[d.application_id]) for d in run.decisions
    ]
    rows.sort(key=lambda r: _rank_order(r.decision.rank, r.application.id))
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
    changed = _overridden(run_overrides(session, run))
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
        matching.append(_rank_order(rank, application_id))
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
    rows = [
        ShortlistRow(
            decisions[i],
            apps[i],
            *changed.get(i, (decisions[i].decision, decisions[i].reason)),
        )
        for i in shown
    ]
    return ShortlistPage(rows, total, page, pages, start + 1, counts)


@dataclass(frozen=True)
class Change:
    reference: str
    organisation: str
    before: str
    before_reason: str
    after: str
    after_reason: str


def compare_runs(session: Session, first: SelectionRun, second: SelectionRun) -> list[Change]:
    """Applications whose decision differs between two runs, with both reasons."""
    one = {d.application_id: d for d in first.decisions}
    two = {d.application_id: d for d in second.decisions}
    ids = sorted(set(one) | set(two))
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))}
    changes = []
    for i in ids:
        a, b = one.get(i), two.get(i)
        if a is not None and b is not None and a.decision == b.decision:
            continue
        app = apps[i]
        changes.append(
            Change(
                app.reference or str(app.id),
                app.organisation_name or "",
                DECISION_LABELS.get(a.decision, a.decision) if a else "Not in this run",
                a.reason if a else "",
                DECISION_LABELS.get(b.decision, b.decision) if b else "Not in this run",
                b.reason if b else "",
            )
        )
    return changes


# --- Sharing and confirming ----------------------------------------------------------------


def set_shared(session: Session, run: SelectionRun, shared: bool, by: User | None = None) -> None:
    if run.status != "done":
        raise RunError("Only a finished run can be shared with the panel.")
    if run.shared_with_panel != shared:
        action = "run.shared" if shared else "run.unshared"
        record(session, by, action, "run", run.id, run.round_id)
    run.shared_with_panel = shared
    session.flush()


def confirm_run(session: Session, run: SelectionRun, user: User, now: datetime) -> None:
    """Make this run the round's decision; a round has at most one confirmed run."""
    if run.status != "done":
        raise RunError("Only a finished run can be confirmed as the decision.")
    if run.confirmed_at is not None:
        raise RunError("This run is already the round's decision.")
    other = session.scalars(
        select(SelectionRun).where(
            SelectionRun.round_id == run.round_id,
            SelectionRun.confirmed_at.is_not(None),
            SelectionRun.id != run.id,
        )
    ).first()
    if other is not None:
        raise RunError(f"Run {other.id} is already confirmed as this round's decision.")
    run.confirmed_at = now
    run.confirmed_by_id = user.id
    record(session, user, "run.confirmed", "run", run.id, run.round_id)
    session.flush()


# --- Overrides --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundEffect:
    dimension: str
    category: str
    min: int | None
    max: int | None
    before: int
    after: int

    def _met(self, count: int) -> bool:
        return (self.min is None or count >= self.min) and (self.max is None or count <= self.max)

    @property
    def met_before(self) -> bool:
        return self._met(self.before)

    @property
    def met_after(self) -> bool:
        return self._met(self.after)


@dataclass(frozen=True)
class OverrideEffect:
    remove: dict[str, Any]
    add: dict[str, Any]
    total_before: float
    total_after: float
    bounds: list[BoundEffect]

    @property
    def change(self) -> float:
        return round(self.total_after - self.total_before, 3)

    @property
    def broken(self) -> list[BoundEffect]:
        return [b for b in self.bounds if not b.met_after]


def _snapshot(run: SelectionRun) -> dict[int, dict[str, Any]]:
    return {int(r["application_id"]): r for r in run.parameters.get("applications", [])}


def _score(run: SelectionRun) -> dict[int, float]:
    return {d.application_id: float(d.score) for d in run.decisions if d.score is not None}


def _lock_run(session: Session, run: SelectionRun) -> None:
    """Hold the run's row until the transaction ends, so that changes to its decision are made
    one at a time, each seeing those before it. PostgreSQL: a row lock (reads made after it see
    what the holder before committed). SQLite: a writing request's transaction begins IMMEDIATE
    and holds the database's write lock already (app/database.py)."""
    session.execute(select(SelectionRun.id).where(SelectionRun.id == run.id).with_for_update())


def selected_now(run: SelectionRun, overrides: Iterable[Override]) -> set[int]:
    return {i for i, (d, _) in final_decisions(run, overrides).items() if d == "selected"}


def override_effect(
    session: Session, run: SelectionRun, remove_id: int, add_id: int
) -> OverrideEffect:
    """What swapping a selected application for another would do to the total and each quota."""
    if run.status != "done":
        raise RunError("Only a finished run can be changed.")
    overrides = run_overrides(session, run)
    current = selected_now(run, overrides)
    finals = final_decisions(run, overrides)
    rows = _snapshot(run)
    if remove_id not in current:
        raise RunError("Choose a selected application to take out.")
    if add_id not in rows or add_id in current or finals.get(add_id, ("",))[0] == "ineligible":
        raise RunError("Choose an eligible application that is not selected to bring in.")
    scores = _score(run)
    after = (current - {remove_id}) | {add_id}
    effects = []
    for b in run.bounds:

        def count(chosen: set[int], b: dict[str, Any] = b) -> int:
            return sum(1 for i in chosen if str(rows[i].get(b["dimension"]) or "") == b["category"])

        effects.append(
            BoundEffect(
                b["dimension"], b["category"], b["min"], b["max"], count(current), count(after)
            )
        )
    return OverrideEffect(
        remove=rows[remove_id],
        add=rows[add_id],
        total_before=round(sum(scores.get(i, 0.0) for i in current), 3),
        total_after=round(sum(scores.get(i, 0.0) for i in after), 3),
        bounds=effects,
    )


def record_override(
    session: Session,
    run: SelectionRun,
    remove_id: int,
    add_id: int,
    reason: str,
    user: User,
    now: datetime,
) -> Override:
    if run.confirmed_at is None:
        raise RunError("Confirm the run as the decision before changing it.")
    if not reason.strip():
        raise RunError("Enter the reason for the change.")
    _lock_run(session, run)  # the effect is worked out from the changes already recorded
    effect = override_effect(session, run, remove_id, add_id)
    override = Override(
        run_id=run.id,
        removed_application_id=remove_id,
        added_application_id=add_id,
        reason=reason.strip(),
        user_id=user.id,
        at=now,
    )
    session.add(override)
    detail = f"Run {run.id}: {effect.add['id']} selected in place of {effect.remove['id']}."
    session.flush()
    record(
        session,
        user,
        "override.recorded",
        "run",
        run.id,
        run.round_id,
        history=[
            History(remove_id, "selection-override", detail, now),
            History(add_id, "selection-override", detail, now),
        ],
        override_id=override.id,
        removed_application_id=remove_id,
        added_application_id=add_id,
    )
    session.flush()
    return override


# --- Replacing a withdrawn site -------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    withdrawn_id: int
    withdrawn_reference: str
    replacement_id: int
    replacement_reference: str
    reason: str
    total_score: float


def propose_replacement(session: Session, run: SelectionRun, withdrawn_id: int) -> Proposal:
    """The engine's best replacement for a selected site that withdraws, keeping every quota.

    The run is replayed from its stored snapshot (the input hash must match) so the engine's
    replace() works on exactly the problem it solved.
    """
    if run.confirmed_at is None:
        raise RunError("Confirm the run as the decision before replacing a site.")
    overrides = run_overrides(session, run)
    rows = _snapshot(run)
    engine_selected = {d.application_id for d in run.decisions if d.decision == "selected"}
    if withdrawn_id not in selected_now(run, overrides) or withdrawn_id not in engine_selected:
        raise RunError("Choose a site the engine selected that is still selected.")
    if overrides:
        raise RunError(
            "This decision has already been changed by hand, so the engine cannot propose a "
            "replacement that keeps every quota. Use a swap with a reason instead."
        )
    stored = json.dumps(run.parameters, sort_keys=True, default=str).encode()
    key = (run.id, run.input_sha256 or "", hashlib.sha256(stored).hexdigest(), withdrawn_id)
    with _REPLAYS_LOCK:
        answer = _REPLAYS.get(key)
    if answer is None:
        answer = _replay_replacement(run, rows, withdrawn_id)
        if run.input_sha256:
            with _REPLAYS_LOCK:
                _REPLAYS[key] = answer
                while len(_REPLAYS) > _REPLAYS_KEPT:
                    _REPLAYS.popitem(last=False)
    if isinstance(answer, str):
        raise RunError(answer)
    return answer


# The engine's replay is the replacement page's whole cost (tens of milliseconds on every view
# and post). Its answer depends only on what the run stored, its snapshot and parameters, whose
# digest is in the key: other data is another key. So each process keeps the last few answers:
# a memo of a fixed computation, not state; every worker gives the same.
_REPLAYS: OrderedDict[tuple[int, str, str, int], Proposal | str] = OrderedDict()
_REPLAYS_KEPT = 32
_REPLAYS_LOCK = threading.Lock()


def _replay_replacement(
    run: SelectionRun, rows: dict[int, dict[str, Any]], withdrawn_id: int
) -> Proposal | str:
    """The engine's replacement for `withdrawn_id`, or why there is none."""
    from selection import replace

    result = _run_engine(run.parameters, list(rows.values()), decide_only=True)
    if result.audit["inputs_sha256"] != run.input_sha256:
        return "This run can no longer be replayed exactly, so no replacement is proposed."
    try:
        found = replace(result, [rows[withdrawn_id]["id"]])
    except InfeasibleQuotasError as error:
        return " ".join(error.advice)
    by_reference = {r["id"]: i for i, r in rows.items()}
    incoming = found.replacements[0]
    return Proposal(
        withdrawn_id,
        rows[withdrawn_id]["id"],
        by_reference[incoming],
        incoming,
        found.reasons[0],
        found.total_score,
    )


def accept_replacement(
    session: Session,
    run: SelectionRun,
    proposal: Proposal,
    replacement_id: int,
    note: str,
    user: User,
    now: datetime,
) -> Override:
    """Record the replacement staff accepted: `proposal` is `propose_replacement`'s, made in this
    transaction (the engine's replay is not run twice), and `replacement_id` the site the page
    showed, which must still be the one proposed."""
    withdrawn_id = proposal.withdrawn_id
    if proposal.replacement_id != replacement_id:
        raise RunError("The proposed replacement has changed. Check the new proposal.")
    # The proposal was made from the changes recorded when it was read: once the run is locked,
    # any change another person recorded meanwhile is seen, and this one refused.
    _lock_run(session, run)
    if run_overrides(session, run):
        raise RunError(
            "This decision has just been changed by someone else. Check the run's page before "
            "replacing a site."
        )
    reason = f"{proposal.withdrawn_reference} withdrew. {proposal.reason}"
    if note.strip():
        reason += f" Note: {note.strip()}"
    override = Override(
        run_id=run.id,
        removed_application_id=withdrawn_id,
        added_application_id=replacement_id,
        reason=reason,
        user_id=user.id,
        at=now,
    )
    session.add(override)
    detail = (
        f"Run {run.id}: withdrew from the selection, replaced by {proposal.replacement_reference}."
    )
    session.flush()
    record(
        session,
        user,
        "replacement.accepted",
        "run",
        run.id,
        run.round_id,
        history=[
            History(withdrawn_id, "selection-withdrawal", detail, now),
            History(replacement_id, "selection-replacement", detail, now),
        ],
        override_id=override.id,
        removed_application_id=withdrawn_id,
        added_application_id=replacement_id,
        note_given=bool(note.strip()),
    )
    session.flush()
    return override


# --- Outcome messages -----------------------------------------------------------------------


def outcome_email(
    organisation: str, decision: str, reason: str, reserve: int | None
) -> tuple[str, str]:
    """Subject and body of an outcome email, in plain words."""
    name = organisation or "your organisation"
    if decision == "selected":
        subject = "Your expression of interest: selected"
        opening = f"We are pleased to tell you that {name} has been selected as a partner site."
    elif decision == "reserve":
        subject = "Your expression of interest: on the reserve list"
        place = f" at number {reserve}" if reserve else ""
        opening = (
            f"{name} has not been selected this time, but is on our reserve list{place}. "
            "If a selected site withdraws, we may offer you a place."
        )
    elif decision == "ineligible":
        subject = "Your expression of interest: not eligible"
        opening = f"We are sorry to tell you that {name} was not eligible this time."
    else:
        subject = "Your expression of interest: not selected"
        opening = f"We are sorry to tell you that {name} has not been selected this time."
    body = render_template("emails/outcome.txt", opening=opening, reason=reason)
    return subject, body


# The engine's reasons name other applications by reference where staff need to see which (the
# selected site a reserve could replace, the lowest one a site scored below). An applicant's own
# email leaves them out: they are someone else's, and mean nothing to the reader.
_PLACE_OF = re.compile(r"take the place of (?!any of the selected sites).*? while keeping")
_IN_BRACKETS = re.compile(r" \(([^()]+)\)")
_WORD = re.compile(r"[^\s,;()]+")


def applicant_reason(reason: str, own: str | None, references: Collection[str]) -> str:
    """A decision's reason for the applicant's email, without other applications' references."""

    def other(text: str) -> bool:
        return text in references and text != own

    text = _PLACE_OF.sub("take the place of some of the selected sites while keeping", reason)
    text = _IN_BRACKETS.sub(lambda m: "" if other(m.group(1)) else m.group(0), text)

    def named(match: re.Match[str]) -> str:
        word = match.group(0)
        core = word.rstrip(".")  # a reference ending a sentence keeps its full stop
        return "another application" + word[len(core) :] if other(core) else word

    return _WORD.sub(named, text)


PLAIN_SELECTED_BY_STAFF = "Selected when the selection panel made its final decision."
PLAIN_REMOVED_BY_STAFF = (
    "Not selected: when the selection panel made its final decision, another application was "
    "chosen in its place."
)


def queue_outcome_messages(session: Session, run: SelectionRun, user: User, now: datetime) -> int:
    """Queue one outcome email per application of a confirmed run; never a second one."""
    if run.confirmed_at is None:
        raise RunError("Confirm the run as the decision before sending outcome messages.")
    _lock_run(session, run)  # two presses at once cannot both queue
    overrides = run_overrides(session, run)
    finals = final_decisions(run, overrides)
    ids = list(finals)
    # Staff's override reasons are internal notes: applicants get plain, general words instead.
    plain = {o.added_application_id: PLAIN_SELECTED_BY_STAFF for o in overrides}
    plain.update({o.removed_application_id: PLAIN_REMOVED_BY_STAFF for o in overrides})
    withdrew = set(
        session.scalars(
            select(ApplicationEvent.application_id).where(
                ApplicationEvent.kind == "selection-withdrawal",
                ApplicationEvent.application_id.in_(ids),
            )
        )
    )
    done = set(
        session.scalars(
            select(OutboxMessage.application_id).where(
                OutboxMessage.kind == OUTCOME_KIND, OutboxMessage.application_id.in_(ids)
            )
        )
    )
    reserves = {d.application_id: d.reserve_number for d in run.decisions}
    applications = list(session.scalars(select(Application).where(Application.id.in_(ids))))
    references = {app.reference for app in applications if app.reference}
    history = []
    for app in applications:
        if app.id in done or app.id in withdrew or app.status != "submitted":
            continue
        email = app.answers.get("contact", {}).get("email")
        if not email:
            continue
        decision, reason = finals[app.id]
        reason = applicant_reason(plain.get(app.id, reason), app.reference, references)
        subject, body = outcome_email(
            app.organisation_name or "", decision, reason, reserves.get(app.id)
        )
        queue_email(
            session,
            kind=OUTCOME_KIND,
            to_address=str(email),
            subject=f"{subject} ({app.reference})",
            body=body,
            application_id=app.id,
        )
        history.append(History(app.id, "outcome-queued", f"Run {run.id}: {decision}.", now))
    queued = len(history)
    if queued:
        record(
            session,
            user,
            "outcomes.queued",
            "run",
            run.id,
            run.round_id,
            history=history,
            messages=queued,
        )
    session.flush()
    return queued


def outcomes_queued(session: Session, run: SelectionRun) -> int:
    """How many of the run's applications have an outcome message queued (or sent)."""
    in_run = select(SelectionDecision.application_id).where(SelectionDecision.run_id == run.id)
    return int(
        session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == OUTCOME_KIND, OutboxMessage.application_id.in_(in_run)
            )
        )
        or 0
    )


# --- The rationale export -------------------------------------------------------------------


def rationale_sheets(
    session: Session, run: SelectionRun, round_: Round, *, anonymised: bool = False
) -> dict[str, pd.DataFrame]:
    """Decisions, Mix, Parameters and Reviews summary: enough for anyone to replay the run.

    The anonymised variant leaves out organisation names (the run holds no contact details or
    reviewer names in any case).
    """
    import pandas as pd

    rows = _snapshot(run)
    changed = _overridden(run_overrides(session, run))
    # Plain rows rather than objects: a run can hold tens of thousands of decisions.
    columns = (
        SelectionDecision.application_id,
        SelectionDecision.rank,
        *(getattr(SelectionDecision, c) for c in CRITERIA),
        SelectionDecision.score,
        SelectionDecision.flags,
        SelectionDecision.decision,
        SelectionDecision.reason,
        SelectionDecision.reserve_number,
        Application.reference,
    )
    found = session.execute(
        select(*columns)
        .join(Application, Application.id == SelectionDecision.application_id)
        .where(SelectionDecision.run_id == run.id)
    ).all()
    decisions = []
    for d in sorted(found, key=lambda d: _rank_order(d.rank, d.application_id)):
        snap = rows.get(d.application_id, {})
        record: dict[str, Any] = {"rank": d.rank, "reference": snap.get("id") or d.reference}
        if not anonymised:
            record["organisation"] = snap.get("organisation", "")
        for column in MIX_COLUMNS:
            record[column] = snap.get(column, "")
        for c in CRITERIA:
            record[c] = getattr(d, c)
        final, final_reason = changed.get(d.application_id, (d.decision, d.reason))
        record.update(
            {
                "score": d.score,
                "flags": d.flags,
                "decision": d.decision,
                "reason": d.reason,
                "reserve_number": d.reserve_number,
                "final_decision": final,
                "final_reason": final_reason,
            }
        )
        decisions.append(record)
    mix = pd.DataFrame(
        run.summary.get("mix", []),
        columns=["dimension", "category", "pool", "selected", "min", "max"],
    )
    binding = {(b["dimension"], b["category"]): b for b in run.bounds}
    mix["binding"] = [
        bool(binding.get((r.dimension, r.category), {}).get("binding", False))
        for r in mix.itertuples()
    ]
    mix["cost"] = [binding.get((r.dimension, r.category), {}).get("cost") for r in mix.itertuples()]
    # The codes above replay the run; these say what they mean ("Pressures", "Really struggling").
    mix["dimension_label"] = [MIX_LABELS.get(d, d) for d in mix["dimension"]]
    mix["category_label"] = [
        category_label(round_, r.dimension, str(r.category)) for r in mix.itertuples()
    ]
    p = run.parameters
    parameter_rows: list[tuple[str, Any]] = [
        ("round", round_.slug),
        ("run", run.id),
        ("status", run.status),
        ("started_at", run.created_at.isoformat()),
        ("confirmed_at", run.confirmed_at.isoformat() if run.confirmed_at else ""),
        ("engine_version", run.engine_version or ""),
        ("inputs_sha256", run.input_sha256 or ""),
        ("k", p.get("k")),
        ("seed", p.get("seed")),
    ]
    parameter_rows += [(f"weights.{c}", w) for c, w in (p.get("weights") or {}).items()]
    parameter_rows += [(f"options.{k}", v) for k, v in (p.get("options") or {}).items()]
    for q in p.get("quotas") or []:
        parameter_rows.append(
            (
                f"quota.{q.get('dimension')}.{q.get('category')}",
                f"min {q.get('min')}, max {q.get('max')}",
            )
        )
    for key in ("total_score", "unconstrained_total_score", "price_of_balance"):
        if key in run.summary:
            parameter_rows.append((key, run.summary[key]))
    parameters = pd.DataFrame(
        [(k, "" if v is None else str(v)) for k, v in parameter_rows],
        columns=["parameter", "value"],
    )
    reviews = pd.DataFrame(
        [
            {
                "reference": r["id"],
                "eligible": r["eligible"],
                "reviews": r.get("n_reviews"),
                **{c: r.get(c) for c in CRITERIA},
                "largest_spread": r.get("spread"),
                "moderated": r.get("moderated", ""),
                "flags": r.get("flags", ""),
            }
            for r in rows.values()
        ]
    )
    return {
        "Decisions": pd.DataFrame(decisions),
        "Mix": mix,
        "Parameters": parameters,
        "Reviews summary": reviews,
    }
