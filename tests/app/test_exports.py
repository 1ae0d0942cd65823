"""The XLSX writer behind every spreadsheet download, read back with openpyxl and with pandas.

tests/app/security/test_export_injection.py proves every download inert end to end; these check
the workbook itself: types, layout and text that XML or Excel would otherwise change.
"""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from app.exports import MAX_WIDTH, write_workbook

LONG = "A reason long enough to need wrapping rather than a column as wide as itself. " * 2


def workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    target = io.BytesIO()
    write_workbook(target, sheets)
    return target.getvalue()


def test_cells_keep_their_types_and_text_comes_back_as_written_but_guarded() -> None:
    frame = pd.DataFrame(
        {
            "reference": ["EOI-1", "=1+1", " leading space", "line\r\nbreak", "bell\x07", "<&>"],
            "rank": [1, 2, 3, None, 5, 6],  # a float column with a gap, as pandas makes it
            "score": [4.25, -3.5, 1e-7, 0.0, float("nan"), 12.0],
            "eligible": [True, False, True, True, False, True],
            "reason": [LONG, "-2", "+44 20", "@home", "_x0041_", "plain"],
        }
    )
    body = workbook({"Decisions": frame, "Empty": pd.DataFrame([], columns=["a", "b"])})

    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Decisions", "Empty"]
    sheet = book["Decisions"]
    header = [c.value for c in sheet[1]]
    assert header == list(frame.columns)
    assert all(c.font.b for c in sheet[1])  # the header row is bold
    assert sheet.freeze_panes == "A2"  # and stays in view
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2, max_col=len(header))]
    assert [r[0] for r in rows] == [
        "EOI-1",
        "'=1+1",
        " leading space",
        "line\r\nbreak",
        "bell\ufffd",  # XML cannot hold the control character
        "<&>",
    ]
    assert [r[1] for r in rows] == [1, 2, 3, None, 5, 6]
    assert [r[2] for r in rows] == [4.25, -3.5, 1e-7, 0, None, 12]
    assert [r[3] for r in rows] == [True, False, True, True, False, True]
    # Numbers written as text stay text; formula triggers are guarded.
    assert [r[4] for r in rows[1:4]] == ["-2", "'+44 20", "'@home"]
    for row in sheet.iter_rows(min_row=2):
        assert row[1].data_type == "n" and row[3].data_type == "b"
        assert all(c.data_type != "f" for c in row)
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["E"] == MAX_WIDTH and widths["A"] == len(" leading space") + 2
    assert [c.value for c in book["Empty"][1]] == ["a", "b"] and book["Empty"].max_row == 1

    # Excel reads _xHHHH_ in text as an escaped character: the writer escapes the underscore
    # (ECMA-376 ST_Xstring), so Excel shows "_x0041_" as typed, not "A".
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        assert "<t>_x005F_x0041_</t>" in package.read("xl/worksheets/sheet1.xml").decode()
    # A second reader agrees on values and types.
    read = pd.read_excel(io.BytesIO(body), sheet_name="Decisions")
    assert read["score"].iloc[0] == 4.25 and read["eligible"].tolist()[:2] == [True, False]


@pytest.mark.parametrize("name", ["", "a/b", "Sheet[1]", "x" * 32])
def test_a_sheet_name_excel_refuses_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        workbook({name: pd.DataFrame({"a": [1]})})
