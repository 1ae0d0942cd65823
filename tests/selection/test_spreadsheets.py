"""The one CSV and XLSX writer and its formula guard, read back with openpyxl, pandas and csv.

tests/app/security/test_export_injection.py proves every web download inert end to end; these check
the files themselves: types, layout, guarded and exact text, and the same bytes on replay.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from xlsxwriter.exceptions import InvalidWorksheetName

from selection import FORMULA_TRIGGERS, safe_cell, write_csv, write_xlsx
from selection.spreadsheets import MAX_WIDTH

CREATED = dt.datetime(2027, 3, 24, 12, 30, 5)
LONG = "A reason long enough to need wrapping rather than a column as wide as itself. " * 2
INJECTIONS = ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd", "\tTAB", "\rCR"]
# Text XlsxWriter copies into the file as its own rich-string XML: here it would close the cell
# and add a formula cell of its own, B9.
RAW_XML = (
    '<r><t>a</t></r></is></c><c r="B9"><f>1+1</f><v>2</v></c>'
    '<c r="C9" t="inlineStr"><is><r><t>b</t></r>'
)


def workbook(sheets: dict[str, pd.DataFrame], **options: Any) -> bytes:
    target = io.BytesIO()
    write_xlsx(target, sheets, created=options.pop("created", CREATED), **options)
    return target.getvalue()


def excel_text(stored: str) -> str:
    """Text as Excel shows it: ECMA-376 (ST_Xstring) escapes a character as _xHHHH_, which
    openpyxl leaves as stored in an inline-string cell."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), stored)


def cells(body: bytes) -> list[Any]:
    """Every cell of every sheet; fails if any cell is a formula."""
    book = load_workbook(io.BytesIO(body))
    found = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in found if c.data_type == "f"]
    return found


@pytest.mark.parametrize("text", INJECTIONS)
def test_safe_cell_quotes_formula_like_text(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-3", "+4.5", "-0.25", "1e3", "North", "", 7, -2.5, None])
def test_safe_cell_leaves_numbers_and_plain_text_alone(value: object) -> None:
    assert safe_cell(value) == value


def test_every_trigger_is_neutralised_by_the_csv_and_xlsx_writers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [*INJECTIONS, "-5", "plain"], "n": range(len(INJECTIONS) + 2)})

    write_csv(frame, tmp_path / "out.csv")
    write_xlsx(tmp_path / "out.xlsx", {"Decisions": frame}, created=CREATED)

    expected = {"'" + text for text in INJECTIONS} | {"-5", "plain"}
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        assert {row["id"] for row in csv.DictReader(handle)} == expected
    found = cells((tmp_path / "out.xlsx").read_bytes())
    in_xlsx = {excel_text(c.value) for c in found if isinstance(c.value, str)}
    assert in_xlsx == expected | {"id", "n"}


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
    assert [excel_text(r[0]) for r in rows] == [
        "EOI-1",
        "'=1+1",
        " leading space",
        "line\r\nbreak",
        "bell\x07",  # a control character is kept, escaped as the standard says
        "<&>",
    ]
    assert [r[1] for r in rows] == [1, 2, 3, None, 5, 6]
    assert [r[2] for r in rows] == [4.25, -3.5, 1e-7, 0, None, 12]
    assert [r[3] for r in rows] == [True, False, True, True, False, True]
    # Numbers written as text stay text; formula triggers are guarded; Excel's own escape
    # sequence is itself escaped, so Excel shows "_x0041_" as typed, not "A".
    assert [r[4] for r in rows[1:4]] == ["-2", "'+44 20", "'@home"]
    assert excel_text(rows[4][4]) == "_x0041_"
    for row in sheet.iter_rows(min_row=2):
        assert row[1].data_type == "n" and row[3].data_type == "b"
        assert all(c.data_type != "f" for c in row)
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["E"] == pytest.approx(MAX_WIDTH, abs=1)
    assert widths["A"] == pytest.approx(len(" leading space") + 2, abs=1)
    # Long text wraps within its column rather than running across the next ones.
    assert sheet["E2"].alignment.wrap_text and sheet["A2"].alignment.wrap_text
    assert [c.value for c in book["Empty"][1]] == ["a", "b"] and book["Empty"].max_row == 1
    # A second reader agrees on values and types.
    read = pd.read_excel(io.BytesIO(body), sheet_name="Decisions")
    assert read["score"].iloc[0] == 4.25 and read["eligible"].tolist()[:2] == [True, False]


def test_numpy_decimal_date_and_infinite_values_are_written_as_people_expect() -> None:
    frame = pd.DataFrame(
        {
            "when": [dt.date(2027, 3, 24), dt.datetime(2027, 3, 24, 9, 5)],
            "amount": [Decimal("2.5"), None],
            "limit": [float("inf"), float("-inf")],
        }
    )
    sheet = load_workbook(io.BytesIO(workbook({"S": frame})))["S"]
    assert [c.value for c in sheet["A"][1:]] == ["2027-03-24", "2027-03-24T09:05:00"]
    assert [c.value for c in sheet["B"][1:]] == [2.5, None]
    assert [c.value for c in sheet["C"][1:]] == ["inf", "'-inf"]


def test_the_same_sheets_and_date_give_the_same_bytes_and_the_date_is_the_one_given() -> None:
    frame = pd.DataFrame({"id": ["A1", "A2"], "score": [4.5, 3.0], "reason": [LONG, "short"]})

    first = workbook({"Decisions": frame})
    assert workbook({"Decisions": frame}) == first
    # The same moment given in another time zone is the same file.
    london_summer = dt.timezone(dt.timedelta(hours=1))
    assert workbook({"Decisions": frame}, created=CREATED.replace(tzinfo=dt.UTC)) == first
    later = CREATED.replace(tzinfo=dt.UTC).astimezone(london_summer)
    assert workbook({"Decisions": frame}, created=later) == first

    book = load_workbook(io.BytesIO(first))
    assert book.properties.created == CREATED
    assert workbook({"Decisions": frame}, created=CREATED + dt.timedelta(seconds=1)) != first


def test_the_workbook_is_written_row_by_row_with_inline_text() -> None:
    # Constant-memory mode keeps no shared-string table: each text is written in its own cell.
    body = workbook({"S": pd.DataFrame({"a": ["x", "y"]})})
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        assert "xl/sharedStrings.xml" not in package.namelist()
        assert package.read("xl/worksheets/sheet1.xml").count(b't="inlineStr"') == 3


def test_columns_named_exact_keep_ids_as_given_and_never_as_formulas() -> None:
    ids = [*(t for t in INJECTIONS if t.strip() == t), "-5", "A1"]
    frame = pd.DataFrame({"id": ids, "note": ids})

    body = workbook({"Decisions": frame}, exact=["id"])

    found = cells(body)
    sheet = load_workbook(io.BytesIO(body))["Decisions"]
    assert [c.value for c in sheet["A"][1:]] == ids  # exactly as given, as text
    assert all(c.data_type == "s" for c in sheet["A"])
    assert [c.value for c in sheet["B"][1:]] == [str(safe_cell(i)) for i in ids]
    assert len(found) == 2 * (len(ids) + 1)


def test_text_that_looks_like_xlsxwriter_markup_is_kept_as_text() -> None:
    frame = pd.DataFrame({"id": [RAW_XML, "<r>"], "note": [RAW_XML, "<r>plain</r> text"]})

    body = workbook({"Decisions": frame}, exact=["id"])

    sheet = load_workbook(io.BytesIO(body))["Decisions"]
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert sheet.max_row == 3 and sheet.max_column == 2  # no cells added
    # The only text even an exact column marks: XlsxWriter cannot write it as it is.
    assert [c.value for c in sheet[2]] == ["'" + RAW_XML] * 2
    assert [c.value for c in sheet[3]] == ["<r>", "<r>plain</r> text"]


def test_headers_are_guarded_too() -> None:
    sheet = load_workbook(io.BytesIO(workbook({"S": pd.DataFrame({"=SUM(1)": [1]})})))["S"]
    assert sheet["A1"].value == "'=SUM(1)"
    assert not sheet["A1"].value.startswith(FORMULA_TRIGGERS)


@pytest.mark.parametrize("name", ["a/b", "Sheet[1]", "x" * 32])
def test_a_sheet_name_excel_refuses_is_refused(name: str) -> None:
    with pytest.raises(InvalidWorksheetName):
        workbook({name: pd.DataFrame({"a": [1]})})
