"""Staff view of reach while a call is open: the counts (chart, map and table), the weekly trend,
whether the quota table can be met yet, the reminders, and the outreach export as CSV or XLSX.
Staff and admins only; nothing here writes."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template
from werkzeug.wrappers import Response

from ...access import roles_required
from ...exports import csv_response, xlsx_response
from ...extensions import db
from ...models import Round, utcnow
from ...rounds import reminder_days
from .. import bp
from ..runs.engine_input import category_label
from .exports import one_table, outreach_frames
from .services import (
    combination_counts,
    dimension_counts,
    feasibility,
    most_common,
    reminder_summary,
    round_entries,
    weekly_sent,
)
from .uk_map import AREAS, shaded_map

STAFF = ("staff", "admin")


@bp.get("/rounds/<int:round_id>/reach")
@roles_required(*STAFF)
def reach(round_id: int) -> str:
    round_ = db.get_or_404(Round, round_id)
    now = utcnow()
    entries = round_entries(db.session, round_)
    dimensions = dimension_counts(round_, entries)
    combinations = combination_counts(round_, entries)
    regions = next(d for d in dimensions if d.dimension == "region")
    sent_by_area = {r.category: r.sent for r in regions.rows}
    labels = {area: category_label(round_, "region", area) for area in AREAS}
    uk_map = shaded_map(
        Path(current_app.static_folder or "static") / "uk-map.svg", sent_by_area, labels
    )
    return render_template(
        "staff/reach/reach.html",
        round=round_,
        is_open=round_.is_open(now),
        sent=sum(1 for e in entries if e.sent),
        drafts=sum(1 for e in entries if not e.sent),
        complete=sum(1 for e in entries if not e.sent and e.complete),
        dimensions=dimensions,
        combinations=most_common(combinations) if combinations else None,
        map_rows=[r for r in regions.rows if r.category in AREAS],
        uk_map=uk_map,
        weeks=weekly_sent(round_, entries, now),
        now_pool=feasibility(round_, entries, with_complete_drafts=False),
        draft_pool=feasibility(round_, entries, with_complete_drafts=True),
        reminders=reminder_summary(db.session, round_),
        reminder_days=reminder_days(round_),
    )


@bp.get("/rounds/<int:round_id>/reach.csv")
@roles_required(*STAFF)
def reach_csv(round_id: int) -> Response:
    round_ = db.get_or_404(Round, round_id)
    sheets = outreach_frames(round_, round_entries(db.session, round_))
    return csv_response(one_table(sheets), f"outreach-{round_.slug}.csv")


@bp.get("/rounds/<int:round_id>/reach.xlsx")
@roles_required(*STAFF)
def reach_xlsx(round_id: int) -> Response:
    round_ = db.get_or_404(Round, round_id)
    sheets = outreach_frames(round_, round_entries(db.session, round_))
    return xlsx_response(sheets, f"outreach-{round_.slug}.xlsx", created=utcnow())
