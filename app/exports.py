"""CSV and XLSX downloads, built in memory on request and never kept on disk.

Every cell goes through the selection engine's formula-injection guard
(``selection.report.write_csv`` / ``write_xlsx`` apply ``safe_cell``), so there is one guard for
the command line and the web application.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pandas as pd
from flask import Response

from selection.report import write_csv, write_xlsx

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_filename(name: str) -> str:
    """A download name of letters, digits, dots, dashes and underscores only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "export"


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def csv_response(frame: pd.DataFrame, filename: str) -> Response:
    """``frame`` as a UTF-8 CSV download (with a byte-order mark, so Excel reads accents)."""
    text = io.StringIO()
    write_csv(frame, text)
    return _download(("\ufeff" + text.getvalue()).encode("utf-8"), CSV_TYPE, filename)


def xlsx_response(sheets: Mapping[str, pd.DataFrame], filename: str) -> Response:
    """One worksheet per entry of ``sheets``, as an XLSX download."""
    data = io.BytesIO()
    write_xlsx(data, sheets)
    return _download(data.getvalue(), XLSX_TYPE, filename)
