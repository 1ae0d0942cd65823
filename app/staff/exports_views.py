"""Staff downloads of a round's applications: "all applications with every answer, for
analysis", as CSV (streamed as it is built) and XLSX. Built on request, never kept on disk; every
cell goes through the formula guard in `app.exports`. Each download is on the audit log, so it is
a POST with a CSRF token (a button): a link on another site cannot record one."""

from __future__ import annotations

from flask_login import current_user
from werkzeug.wrappers import Response

from ..access import roles_required
from ..audit import record
from ..exports import csv_stream_response, xlsx_response
from ..extensions import db
from ..models import Round, utcnow
from . import bp
from .applications.exports import export_frame, export_frames

STAFF = ("staff", "admin")


def _logged_round(round_id: int, file_format: str) -> Round:
    """The round, with the download of its applications put on the audit log (the file holds
    every answer and contact detail), committed before the file is built."""
    round_ = db.get_or_404(Round, round_id)
    record(
        db.session,
        current_user,
        "export.downloaded",
        "round",
        round_.id,
        round_.id,
        export="applications",
        format=file_format,
    )
    db.session.commit()
    # Loaded again now: the streamed CSV reads the round after this request's session has ended.
    db.session.refresh(round_)
    return round_


@bp.post("/rounds/<int:round_id>/applications.csv")
@roles_required(*STAFF)
def applications_csv(round_id: int) -> Response:
    round_ = _logged_round(round_id, "csv")
    return csv_stream_response(export_frames(db.session, round_), f"applications-{round_.slug}.csv")


@bp.post("/rounds/<int:round_id>/applications.xlsx")
@roles_required(*STAFF)
def applications_xlsx(round_id: int) -> Response:
    round_ = _logged_round(round_id, "xlsx")
    return xlsx_response(
        {"Applications": export_frame(db.session, round_)},
        f"applications-{round_.slug}.xlsx",
        created=utcnow(),
    )
