"""Shortlists that staff have shared with the panel: read-only, for reviewers (and staff).

A reviewer never sees a row for an application they declared a conflict of interest with.
"""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select

from ..access import roles_required
from ..extensions import db
from ..models import Conflict, Round, SelectionRun
from ..staff.runs import shortlist_context
from . import bp

PANEL = ("reviewer", "staff", "admin")


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
            select(Conflict.application_id).where(Conflict.reviewer_id == current_user.id)
        )
    )
    return render_template(
        "panel/shortlist.html", **shortlist_context(round_, run, hidden=conflicts)
    )
