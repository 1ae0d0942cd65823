"""The staff decision on a run: confirming it, overriding (a swap with a reason) and accepting
the engine's replacement for a selected site that withdraws."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from selection import (
    InfeasibleQuotasError,
)

from ...audit import History, record
from ...models import (
    Override,
    SelectionRun,
    User,
)
from .current import refresh_current
from .engine_input import run_engine, snapshot
from .services import RunError
from .shortlist import final_decisions, run_overrides


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


def _score(run: SelectionRun) -> dict[int, float]:
    return {d.application_id: float(d.score) for d in run.decisions if d.score is not None}


def lock_run(session: Session, run: SelectionRun) -> None:
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
    rows = snapshot(run)
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
    lock_run(session, run)  # the effect is worked out from the changes already recorded
    effect = override_effect(session, run, remove_id, add_id)
    detail = f"Run {run.id}: {effect.add['id']} selected in place of {effect.remove['id']}."
    return _write_change(
        session, "override", run, remove_id, add_id, reason.strip(), detail, user, now
    )


# The two kinds of change to a confirmed run's selection: the audit action, and the history kinds
# of the application taken out and of the one put in.
CHANGES: dict[str, tuple[str, str, str]] = {
    "override": ("override.recorded", "selection-override", "selection-override"),
    "replacement": ("replacement.accepted", "selection-withdrawal", "selection-replacement"),
}


def _write_change(
    session: Session,
    change: str,
    run: SelectionRun,
    removed_id: int,
    added_id: int,
    reason: str,
    detail: str,
    user: User,
    now: datetime,
    **audit: Any,
) -> Override:
    """Add a change to a confirmed run's selection (`change`: a key of CHANGES), its audit event,
    and `detail` in the history of the application taken out and of the one put in; then the
    run's figures and reasons are worked out again for the selection as it now stands."""
    action, removed_kind, added_kind = CHANGES[change]
    override = Override(
        run_id=run.id,
        removed_application_id=removed_id,
        added_application_id=added_id,
        reason=reason,
        user_id=user.id,
        at=now,
    )
    session.add(override)
    session.flush()
    record(
        session,
        user,
        action,
        "run",
        run.id,
        run.round_id,
        history=[
            History(removed_id, removed_kind, detail, now),
            History(added_id, added_kind, detail, now),
        ],
        override_id=override.id,
        removed_application_id=removed_id,
        added_application_id=added_id,
        **audit,
    )
    session.flush()
    refresh_current(session, run)
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
    rows = snapshot(run)
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

    result = run_engine(run.parameters, list(rows.values()), decide_only=True)
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
    lock_run(session, run)
    if run_overrides(session, run):
        raise RunError(
            "This decision has just been changed by someone else. Check the run's page before "
            "replacing a site."
        )
    reason = f"{proposal.withdrawn_reference} withdrew. {proposal.reason}"
    if note.strip():
        reason += f" Note: {note.strip()}"
    detail = (
        f"Run {run.id}: withdrew from the selection, replaced by {proposal.replacement_reference}."
    )
    return _write_change(
        session,
        "replacement",
        run,
        withdrawn_id,
        replacement_id,
        reason,
        detail,
        user,
        now,
        note_given=bool(note.strip()),
    )
