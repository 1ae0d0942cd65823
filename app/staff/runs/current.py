"""A confirmed run as it now stands, after staff's swaps and replacements: its totals, price of
balance, quota table, mix and every reason worked out again by the engine, and the log of who
changed what, when and why.

The engine's first answer stays in the run's decisions (and its figures under
``summary["engine"]``); the run's summary and bounds hold the current figures, so every page and
file that reads them shows the selection as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Application, Override, SelectionRun, User
from .engine_input import clean, evaluate_engine, records, snapshot
from .services import mix_table
from .shortlist import run_overrides

# The run summary's figures that describe the selection, replaced when staff change it.
CURRENT_FIGURES = (
    "total_score",
    "unconstrained_total_score",
    "price_of_balance",
    "mean_selected_score",
    "selected",
    "reserves",
    "not_selected",
    "binding_bounds",
)


def selection_after(run: SelectionRun, overrides: Iterable[Override]) -> set[int]:
    """The application ids selected once ``overrides`` apply, in order, to the engine's choice."""
    chosen = {d.application_id for d in run.decisions if d.decision == "selected"}
    for o in overrides:
        chosen.discard(o.removed_application_id)
        chosen.add(o.added_application_id)
    return chosen


def staff_reasons(
    overrides: Iterable[Override], references: dict[int, str]
) -> dict[int, tuple[str, str]]:
    """Application id -> (decision, reason) for the applications staff moved, the latest change
    to each winning; each reason names the application it changed places with."""
    result: dict[int, tuple[str, str]] = {}
    for o in overrides:
        out = references.get(o.removed_application_id, "")
        into = references.get(o.added_application_id, "")
        result[o.removed_application_id] = (
            "not_selected",
            f"Not selected: taken out by staff decision, and {into} selected in its place. "
            f"Reason given: {o.reason}",
        )
        result[o.added_application_id] = (
            "selected",
            f"Selected by staff decision, in place of {out}. Reason given: {o.reason}",
        )
    return result


def refresh_current(session: Session, run: SelectionRun) -> None:
    """Work out the run's figures and reasons again for the selection as it now stands.

    Called after every change to a confirmed run (inside the change's transaction, with the run
    locked): the engine explains the current selection, keeping the sites staff put in and out
    of every re-solve behind a reason, and the run stores the result.
    """
    overrides = run_overrides(session, run)
    rows = snapshot(run)
    references = {i: str(r["id"]) for i, r in rows.items()}
    chosen = selection_after(run, overrides)
    staff = staff_reasons(overrides, references)
    kept = [references[i] for i, (d, _) in staff.items() if d == "selected" and i in chosen]
    left_out = [references[i] for i, (d, _) in staff.items() if d != "selected"]
    result = evaluate_engine(
        run.parameters,
        list(rows.values()),
        sorted(references[i] for i in chosen),
        kept,
        left_out,
    )
    summary = dict(run.summary)
    if "engine" not in summary:  # the engine's first answer, kept once
        summary["engine"] = {
            **{key: summary.get(key) for key in CURRENT_FIGURES},
            "mix": summary.get("mix", []),
            "bounds": run.bounds,
        }
    figures = clean(dict(result.summary))
    summary.update({key: figures.get(key) for key in CURRENT_FIGURES})
    bounds = records(result.bounds)
    selected_refs = {references[i] for i in chosen}
    summary["mix"] = mix_table(list(rows.values()), selected_refs, bounds)
    summary["hand_changed"] = bool(figures.get("hand_changed"))
    summary["current_warnings"] = list(result.warnings)
    by_reference = {r: i for i, r in references.items()}
    engine = {d.application_id: d for d in run.decisions}
    current: dict[str, list[Any]] = {}
    for d in records(result.decisions):
        i = by_reference[str(d["id"])]
        decision, reason = staff.get(i, (str(d["decision"]), str(d["reason"] or "")))
        code = "staff" if i in staff else str(d["reason_code"] or "")
        reserve = d["reserve_number"] if decision == "reserve" else None
        was = engine.get(i)
        if was is None or (was.decision, was.reason, was.reserve_number, was.reason_code) != (
            decision,
            reason,
            reserve,
            code,
        ):
            current[str(i)] = [decision, reason, reserve, code]
    summary["current"] = current
    run.summary = summary
    run.bounds = bounds
    session.flush()


def current_reason_codes(run: SelectionRun) -> dict[int, str]:
    """Application id -> the kind of its reason as the run now stands (the engine's reason codes,
    and "staff" for an application staff moved), for reasons rebuilt without free text."""
    codes = {d.application_id: d.reason_code for d in run.decisions}
    for key, (_, _, _, *code) in (run.summary.get("current") or {}).items():
        codes[int(key)] = code[0] if code else "staff"
    return codes


# --- The change log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change to a confirmed run's selection, as staff read it in the log."""

    at: Any  # datetime (UTC); pages and files show it in UK time
    who: str
    kind: str  # "Swap" or "Replacement"
    out_reference: str
    out_organisation: str
    in_reference: str
    in_organisation: str
    reason: str


def change_log(session: Session, run: SelectionRun) -> list[Change]:
    """Who changed the run's selection, which application went out and which came in, when and
    why, oldest first."""
    overrides = run_overrides(session, run)
    if not overrides:
        return []
    ids = {o.removed_application_id for o in overrides} | {
        o.added_application_id for o in overrides
    }
    apps = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))}
    people = {
        u.id: u.name
        for u in session.scalars(select(User).where(User.id.in_({o.user_id for o in overrides})))
    }
    rows = snapshot(run)

    def reference(i: int) -> str:
        app = apps.get(i)
        return str(rows.get(i, {}).get("id") or (app.reference if app else "") or i)

    def organisation(i: int) -> str:
        app = apps.get(i)
        return (app.organisation_name if app else "") or str(
            rows.get(i, {}).get("organisation", "")
        )

    return [
        Change(
            o.at,
            people.get(o.user_id, ""),
            "Replacement"
            if o.reason.startswith(f"{reference(o.removed_application_id)} withdrew.")
            else "Swap",
            reference(o.removed_application_id),
            organisation(o.removed_application_id),
            reference(o.added_application_id),
            organisation(o.added_application_id),
            o.reason,
        )
        for o in overrides
    ]
