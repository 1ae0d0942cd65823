"""Selection runs: starting one (the engine on the round's snapshot, every decision stored),
reading them, comparing two and sharing one with the panel."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from selection import (
    CRITERIA,
    InfeasibleQuotasError,
    InputError,
    QuotaError,
    SelectionOptions,
    __version__,
)

from ...audit import record
from ...errors import DomainError
from ...labels import DECISION_LABELS
from ...models import (
    Application,
    Round,
    SelectionDecision,
    SelectionRun,
    User,
)
from .engine_input import MIX_COLUMNS, clean, engine_labels, input_rows, records, run_engine

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)
DEFAULT_RESERVES = 10


class RunError(DomainError):
    """A problem with a run request whose message can be shown to staff as it is."""


class RunInProgress(RunError):
    def __init__(self) -> None:
        super().__init__(
            "A selection run is already in progress for this round. Wait for it to finish, "
            "then look at the list of runs."
        )


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
        "labels": engine_labels(round_),
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
        result = run_engine(parameters, rows)
    except InfeasibleQuotasError as error:
        run.parameters = parameters
        run.status = "infeasible"
        run.message = "The quotas cannot all be met."
        run.summary = clean(
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
    parameters["audit"] = clean(dict(result.audit))
    parameters["warnings"] = list(result.warnings)
    run.parameters = parameters
    run.input_sha256 = str(result.audit["inputs_sha256"])
    run.engine_version = str(result.audit["version"])
    bounds = records(result.bounds)
    run.bounds = bounds
    summary = clean(dict(result.summary))
    summary["mix"] = mix_table(rows, set(result.selected_ids), bounds)
    run.summary = summary
    by_id = {r["id"]: r for r in rows}
    for d in records(result.decisions):
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


def set_shared(session: Session, run: SelectionRun, shared: bool, by: User | None = None) -> None:
    if run.status != "done":
        raise RunError("Only a finished run can be shared with the panel.")
    if run.shared_with_panel != shared:
        action = "run.shared" if shared else "run.unshared"
        record(session, by, action, "run", run.id, run.round_id)
    run.shared_with_panel = shared
    session.flush()
