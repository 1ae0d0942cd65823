"""CSV and XLSX downloads, built on request and never kept once sent.

The files are written by ``selection.spreadsheets`` (``write_csv``, ``write_xlsx``), the writers
the selection command line uses too, so both share one formula guard and one XLSX writer.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from flask import Response, current_app

if TYPE_CHECKING:  # pandas loads when a file is written, not as the app starts
    import pandas as pd

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_filename(name: str) -> str:
    """A download name of letters, digits, dots, dashes and underscores only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "export"


def _download(body: bytes | Iterable[bytes], mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def csv_response(frame: pd.DataFrame, filename: str) -> Response:
    """``frame`` as a UTF-8 CSV download (with a byte-order mark, so Excel reads accents)."""
    from selection import write_csv

    text = io.StringIO()
    write_csv(frame, text)
    return _download(("\ufeff" + text.getvalue()).encode("utf-8"), CSV_TYPE, filename)


def xlsx_response(
    sheets: Mapping[str, pd.DataFrame], filename: str, created: dt.datetime
) -> Response:
    """One worksheet per entry of ``sheets``, as an XLSX download. ``created`` is the workbook's
    creation date: the same sheets and date give the same bytes."""
    from selection import write_xlsx

    data = io.BytesIO()
    write_xlsx(data, sheets, created=created)
    return _download(data.getvalue(), XLSX_TYPE, filename)


def csv_stream_response(chunks: Iterable[pd.DataFrame], filename: str) -> Response:
    """Like ``csv_response``, but sent a chunk of rows at a time, for a long export: each frame
    goes through the same writer; the header is sent once.

    The download is read after the view has returned, so each chunk is made inside an application
    context of its own, opened and closed around it: a chunk may query through ``db.session``
    (afresh each time: keep no cursor open between chunks), and a download left unread holds no
    context or connection open.
    """
    from selection import write_csv

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def generate() -> Iterator[bytes]:
        yield "\ufeff".encode()
        frames = iter(chunks)
        number = 0
        while True:
            with app.app_context():
                frame = next(frames, None)
            if frame is None:
                return
            text = io.StringIO()
            write_csv(frame, text)
            body = text.getvalue()
            if number:
                body = body.split("\r\n", 1)[1]  # the header (plain column names) went first
            number += 1
            yield body.encode("utf-8")

    return _download(generate(), CSV_TYPE, filename)
