"""The web application's spreadsheet downloads: files from the one writer in ``selection``.

The writer itself is tested in tests/selection/test_spreadsheets.py; every download's content
in tests/app/security/test_export_injection.py and each feature's own tests.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from openpyxl import load_workbook

from app.exports import XLSX_TYPE, xlsx_response


def test_an_xlsx_download_is_an_attachment_never_cached_and_dated_as_given() -> None:
    created = dt.datetime(2027, 3, 24, 12, 0, tzinfo=dt.UTC)
    frame = pd.DataFrame({"reference": ["EOI-1", "=1+1"], "score": [4.5, 3.0]})

    response = xlsx_response({"Decisions": frame}, "rationale: round 1.xlsx", created=created)

    assert response.headers["Content-Type"] == XLSX_TYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="rationale-round-1.xlsx"'
    assert response.headers["Cache-Control"] == "no-store"
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.properties.created == created.replace(tzinfo=None)
    rows = list(book["Decisions"].iter_rows(values_only=True))
    assert rows == [("reference", "score"), ("EOI-1", 4.5), ("'=1+1", 3)]
    again = xlsx_response({"Decisions": frame}, "rationale.xlsx", created=created)
    assert again.get_data() == response.get_data()
