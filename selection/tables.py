"""Reading the files staff give the command line: CSV (comma, semicolon or tab) or XLSX workbooks.

Every file becomes a table of text cells whose row positions follow the spreadsheet: position p
is spreadsheet row p + 2, as the header is row 1.  Problems raise :class:`InputError` naming the
row where there is one, phrased for the person who has to fix the file.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from selection.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

_ZIP = b"PK\x03\x04"  # an XLSX workbook is a zip archive
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}
_SNIFF_LINES = 50


def read_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """A CSV file or a workbook's sheet (the first unless ``sheet`` names one) as text cells.

    A CSV file may be separated by commas, semicolons or tabs (spreadsheets in many locales save
    semicolons); the separator is found with :class:`csv.Sniffer`.  Blank rows inside the data
    are kept as blank rows, so row numbers in messages match the spreadsheet; blank rows at the
    end are dropped.  A row with more cells than the header is an error naming that row.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"file not found ({path}).") from None
    except OSError as exc:
        raise InputError(f"the file could not be read ({exc.strerror}).") from None
    if data.startswith(_OLE):
        raise InputError(
            "this is an old Excel (.xls) workbook; save it as an Excel workbook (.xlsx) or as "
            "'CSV UTF-8'."
        )
    if data.startswith(_ZIP):
        header, rows = _workbook_rows(data, sheet)
    else:
        if sheet is not None:
            raise InputError("a CSV file has no sheets: give a sheet only for an .xlsx workbook.")
        header, rows = _csv_rows(data)
    return _as_frame(header, rows)


def _csv_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")  # spreadsheet programs often start UTF-8 CSV with a BOM
    except UnicodeDecodeError:
        raise InputError(
            "the file is not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8'."
        ) from None
    if not text.strip():
        raise InputError("the file is empty.")
    sample = "\n".join(text.splitlines()[:_SNIFF_LINES])
    try:
        separator = csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        separator = ","  # one column, or no separator used consistently: read as commas
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    except csv.Error as exc:
        raise InputError(f"the file could not be read as CSV ({exc}).") from None
    header = [cell.strip() for cell in records[0]]
    if len(header) == 1:
        # One column named "id;region;..." means the file uses a separator that was not found.
        used = [name for sep, name in SEPARATORS.items() if sep != separator and sep in header[0]]
        if used:
            raise InputError(
                f"the header row is one column, '{header[0]}': the file seems to be separated "
                f"by {used[0]} in a way that could not be read; save it from the spreadsheet "
                "as 'CSV UTF-8' (comma separated)."
            )
    return header, records[1:]


def _workbook_rows(data: bytes, sheet: str | None) -> tuple[list[str], list[list[str]]]:
    import pandas as pd  # here, not above: a CSV file's problems are found without loading it

    try:
        with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
            names = [str(n) for n in book.sheet_names]
            if sheet is not None and sheet not in names:
                raise InputError(
                    f"the workbook has no sheet '{sheet}'; its sheets are: {', '.join(names)}."
                )
            frame = book.parse(sheet if sheet is not None else 0, header=None, dtype=object)
    except InputError:
        raise
    except Exception as exc:  # a damaged file can raise any of openpyxl's and zipfile's errors
        raise InputError(
            f"the file could not be read as an Excel workbook ({type(exc).__name__}); save it "
            "again as .xlsx or as 'CSV UTF-8'."
        ) from None
    records = [[_cell_text(v) for v in row] for row in frame.itertuples(index=False)]
    if not records:
        raise InputError(f"the sheet '{sheet or names[0]}' is empty.")
    header = records[0]
    while header and header[-1] == "":  # columns past the header's last name
        header = header[:-1]
    return [cell.strip() for cell in header], records[1:]


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold: 5 not 5.0, blank for empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_frame(header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """The rows under ``header``; a row with a value past the last named column is an error."""
    import pandas as pd  # here, not above: a CSV file's problems are found without loading it

    width = len(header)
    if width == 0 or all(name == "" for name in header):
        raise InputError("the first row is blank: it must hold the column names.", row=1)
    seen: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if name in seen:
            raise InputError(
                f"Row 1: the column name '{name}' is used twice (columns {seen[name]} and "
                f"{number}); give each column its own name.",
                row=1,
            )
        if name:
            seen[name] = number
    # Columns with no name are kept (they may hold notes), named as pandas names them.
    header = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
    while rows and all(cell.strip() == "" for cell in rows[-1]):
        rows = rows[:-1]
    for pos, row in enumerate(rows):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise InputError(
                f"Row {pos + 2}: this row has {len(row)} cells but the header has {width} "
                "columns; check for a comma (or other separator) inside a value that is not in "
                "quotes, or a value to the right of the last column.",
                row=pos + 2,
            )
    cells = [(row + [""] * width)[:width] for row in rows]
    return pd.DataFrame(cells, columns=pd.Index(header), dtype=str)
