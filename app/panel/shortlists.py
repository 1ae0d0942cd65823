"""Shortlists that staff have shared with the panel: read-only, for reviewers (and staff).

A reviewer never sees a row for an application they declared a conflict of interest with, nor
anything else that would tell them how it fared: see ``withhold_conflicts``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..access import roles_required
from ..extensions import db
from ..labels import WITHHELD_REASONS
from ..models import Application, Conflict, Round, SelectionDecision, SelectionRun
from ..staff.runs.shortlist import shortlist_context, shortlist_query
from ..urls import this_page
from . import bp

PANEL = ("reviewer", "staff", "admin")


class UnrankedDecision:
    """A run's decision for one application without its rank or reserve number: numbered in
    order, they would leave a gap where the hidden application stands."""

    rank = None
    reserve_number = None

    def __init__(self, decision: SelectionDecision) -> None:
        self._decision = decision

    def __getattr__(self, name: str) -> Any:
        return getattr(self._decision, name)


@dataclass(frozen=True)
class WithheldRow:
    """A shortlist row as a reviewer with a conflict in the run sees it."""

    decision: UnrankedDecision
    application: Application
    final: str
    final_reason: str
    label: str


def withhold_conflicts(context: dict[str, Any]) -> dict[str, Any]:
    """The shortlist page for a reviewer with a conflict in the run (whose row ``shortlist_context``
    already left out of the table and its counts): no ranks, reserve numbers or comparative
    reasons, and no mix of the selected sites, whose counts and binding quotas include it.
    An ineligible application's reason is about itself and is kept."""
    found = context["found"]
    rows = [
        WithheldRow(
            UnrankedDecision(row.decision),
            row.application,
            row.final,
            WITHHELD_REASONS.get(row.final, row.final_reason),
            row.label,
        )
        for row in found.rows
    ]
    return {**context, "found": replace(found, rows=rows), "mix": []}


def _application_url(application: Application) -> str | None:
    """Staff reading the panel's copy can open each application; reviewers read the row only."""
    if not current_user.is_staff:
        return None
    return url_for("staff.application", application_id=application.id)


@bp.get("/shortlists")
@roles_required(*PANEL)
def shortlists() -> str:
    runs = db.session.scalars(
        select(SelectionRun)
        .where(SelectionRun.shared_with_panel.is_(True), SelectionRun.status == "done")
        .order_by(SelectionRun.id.desc())
    ).all()
    rounds = {r.id: r for r in db.session.scalars(select(Round))}
    return render_template("panel/shortlists.html", runs=runs, rounds=rounds)


@bp.get("/shortlists/<int:run_id>")
@roles_required(*PANEL)
def shortlist(run_id: int) -> str:
    run = db.session.get(SelectionRun, run_id)
    # An unshared run is not there as far as the panel can tell.
    if run is None or not run.shared_with_panel or run.status != "done":
        abort(404)
    round_ = db.get_or_404(Round, run.round_id)
    conflicts = frozenset(
        db.session.scalars(
            select(SelectionDecision.application_id)
            .join(Conflict, Conflict.application_id == SelectionDecision.application_id)
            .where(SelectionDecision.run_id == run.id, Conflict.reviewer_id == current_user.id)
        )
    )
    context = shortlist_context(
        db.session,
        round_,
        run,
        **shortlist_query(request.args),
        link=this_page,
        hidden=conflicts,
        application_url=_application_url,
    )
    if conflicts:
        context = withhold_conflicts(context)
    return render_template("panel/shortlist.html", withheld=bool(conflicts), **context)
