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

import pandas as pd

from selection.errors import InputError

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
        return _with_header(*_workbook_cells(data, sheet))
    if sheet is not None:
        raise InputError("a CSV file has no sheets: give a sheet only for an .xlsx workbook.")
    return _with_header(*_csv_cells(data))


def _csv_cells(data: bytes) -> tuple[pd.DataFrame, int]:
    """Every row of a CSV file, the header included, and how many cells the header has."""
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
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    if len(header) == 1:
        # One column named "id;region;..." means the file uses a separator that was not found.
        used = [name for sep, name in SEPARATORS.items() if sep != separator and sep in header[0]]
        if used:
            raise InputError(
                f"the header row is one column, '{header[0].strip()}': the file seems to be "
                f"separated by {used[0]} in a way that could not be read; save it from the "
                "spreadsheet as 'CSV UTF-8' (comma separated)."
            )

    def read(names: range | None = None) -> pd.DataFrame:
        return pd.read_csv(
            io.StringIO(text),
            sep=separator,
            header=None,
            names=names,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )

    try:
        try:
            frame = read()
        except pd.errors.ParserError:
            # A row has more cells than the first: read them all, so that row can be named.
            rows = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
            frame = read(range(max(len(row) for row in rows)))
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(f"the file could not be read as CSV ({exc}).") from None
    return frame, len(header)


def _workbook_cells(data: bytes, sheet: str | None) -> tuple[pd.DataFrame, int]:
    """Every row of a workbook's sheet, the header included, and the header's last named cell."""
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
    if frame.empty:
        raise InputError(f"the sheet '{sheet or names[0]}' is empty.")
    frame = frame.map(_cell_text).astype(str)
    named = [i for i, cell in enumerate(frame.iloc[0].tolist()) if cell.strip()]
    return frame, (named[-1] + 1 if named else 0)


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV export would hold: 5 not 5.0, blank for empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _with_header(cells: pd.DataFrame, width: int) -> pd.DataFrame:
    """The rows under the first row, named by its first ``width`` cells.

    A row with a value past the header's last cell is an error naming that row; blank rows at
    the end are dropped.
    """
    cells = cells.fillna("")
    header = [str(name).strip() for name in cells.iloc[0, :width].tolist()]
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
    rows = cells.iloc[1:].reset_index(drop=True)
    last = len(rows)
    while last > 0 and not any(str(cell).strip() for cell in rows.iloc[last - 1].tolist()):
        last -= 1
    rows = rows.iloc[:last]
    beyond = (rows.iloc[:, width:].apply(lambda col: col.str.strip()) != "").to_numpy()
    if beyond.any():
        pos = int(beyond.any(axis=1).nonzero()[0][0])
        count = max(i + 1 for i, cell in enumerate(rows.iloc[pos].tolist()) if str(cell).strip())
        raise InputError(
            f"Row {pos + 2}: this row has {count} cells but the header has {width} columns; "
            "check for a comma (or other separator) inside a value that is not in quotes, or a "
            "value to the right of the last column.",
            row=pos + 2,
        )
    rows = rows.iloc[:, :width]
    # Columns with no name are kept (they may hold notes), named as pandas names them.
    rows.columns = pd.Index([name or f"Unnamed: {i}" for i, name in enumerate(header)])
    return rows
