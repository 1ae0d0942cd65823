"""Staff downloads of a round's applications: "all applications with every answer, for
analysis", as CSV (streamed as it is built) and XLSX. Built on request, never kept on disk; every
cell goes through the formula guard in `app.exports`."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ..access import roles_required
from ..exports import csv_stream_response, xlsx_response
from ..extensions import db
from ..models import Round
from . import bp
from .application_exports import export_frame, export_frames

STAFF = ("staff", "admin")


@bp.get("/rounds/<int:round_id>/applications.csv")
@roles_required(*STAFF)
def applications_csv(round_id: int) -> Response:
    round_ = db.get_or_404(Round, round_id)
    return csv_stream_response(export_frames(db.session, round_), f"applications-{round_.slug}.csv")


@bp.get("/rounds/<int:round_id>/applications.xlsx")
@roles_required(*STAFF)
def applications_xlsx(round_id: int) -> Response:
    round_ = db.get_or_404(Round, round_id)
    return xlsx_response(
        {"Applications": export_frame(db.session, round_)}, f"applications-{round_.slug}.xlsx"
    )
