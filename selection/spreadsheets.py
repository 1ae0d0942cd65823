"""Spreadsheet files for people: CSV and XLSX, every text cell through the one formula guard.

The command line and the web application's downloads both write through here, so one guard and
one XLSX writer serve both. XLSX files are written with XlsxWriter in constant-memory mode: each
row goes to a temporary file as soon as the next one starts, and XlsxWriter deletes the file when
the workbook is closed.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import os
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import IO, Any, BinaryIO

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet may run a text cell starting with one of these as a formula (OWASP list)."""

MAX_WIDTH = 60
"""Widest column in characters: longer text wraps in the cell rather than running off the page."""

_WIDTH_SAMPLE = 200  # rows read to size each column


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def safe_cell(value: object) -> object:
    """``value``, made inert if a spreadsheet could read it as a formula.

    Text starting with = + - @ TAB or CR gets a leading single quote, unless it is a genuine
    (finite) number such as ``-3`` or ``+4.5``. Values that are not text pass through unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _is_number(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to every text cell and header."""
    out = frame.copy()
    out.columns = pd.Index([safe_cell(c) for c in out.columns])
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(safe_cell).astype(object)
    return out


def write_csv(frame: pd.DataFrame, target: str | os.PathLike[str] | IO[str]) -> None:
    """Write ``frame`` as UTF-8 CSV with formula-like cells neutralised.

    Lines end in CRLF as RFC 4180 says, which also makes the writer quote any cell holding a
    carriage return, so such a cell cannot split a row.
    """
    safe_frame(frame).to_csv(target, index=False, lineterminator="\r\n")


def xlsx_text(text: str, *, exact: bool = False) -> str:
    """``text`` as it goes into an XLSX cell: through :func:`safe_cell` unless ``exact``.

    A text cell is never a formula in the file, so ``exact`` text (ids people join back on) is
    kept as given. Only one kind gets a leading quote even then: text that starts with ``<r>`` and
    ends with ``</r>``, which XlsxWriter would copy into the file as raw XML (its own rich-string
    markup) and so could add cells, formulas included.
    """
    if text.startswith("<r>") and text.endswith("</r>"):
        return "'" + text
    return text if exact else str(safe_cell(text))


def _text(value: Any) -> str | None:
    """The text shown for a value that is not a number or true/false; None for no cell."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else str(value)  # infinities, shown as text
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _value(value: Any) -> Any:
    """A plain Python value: numpy scalars, decimals and fractions become int, float or bool."""
    if type(value) in (str, int, float, bool):
        return value
    if hasattr(value, "item") and not isinstance(value, dt.date):  # a numpy scalar
        return value.item()
    if isinstance(value, Decimal | numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def _width(name: str, values: Iterable[Any]) -> float:
    """Characters wide: the longest of the header and the sampled cells as shown, plus 2."""
    shown = (len(str(safe_cell("" if v is None else v))) for v in values)
    return min(max([len(str(safe_cell(name))), *shown]) + 2, MAX_WIDTH)


def write_xlsx(
    target: str | os.PathLike[str] | BinaryIO,
    sheets: Mapping[str, pd.DataFrame],
    *,
    created: dt.datetime,
    exact: Collection[str] = (),
) -> None:
    """Write one worksheet per entry of ``sheets`` as an XLSX file.

    Numbers and true/false stay numbers and booleans; missing values are empty cells; dates are
    ISO text; other values are text through :func:`xlsx_text`, kept exactly in the columns named
    in ``exact``. Each sheet has a bold header row kept in view, columns sized to their first
    rows (at most :data:`MAX_WIDTH`) and long text wrapped. ``created`` (UTC when naive) is the
    workbook's creation date: with it, the same sheets give the same bytes every time. Sheet
    names follow Excel's rules, or XlsxWriter raises ``InvalidWorksheetName``.
    """
    # Imported here so that importing `selection` does not load XlsxWriter.
    import xlsxwriter

    if created.tzinfo is not None:
        created = created.astimezone(dt.UTC).replace(tzinfo=None)
    with xlsxwriter.Workbook(target, {"constant_memory": True}) as workbook:
        workbook.set_properties({"created": created})
        header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        body = workbook.add_format({"text_wrap": True, "valign": "top"})
        for name, frame in sheets.items():
            sheet = workbook.add_worksheet(name)
            sheet.freeze_panes(1, 0)
            columns = [frame[c].tolist() for c in frame.columns]  # plain values, column by column
            keep = [c in exact for c in frame.columns]
            for number, (title, values) in enumerate(zip(frame.columns, columns, strict=True)):
                width = _width(str(title), values[:_WIDTH_SAMPLE])
                # Only text wraps: a number column needs no format on each of its cells.
                numeric = pd.api.types.is_numeric_dtype(frame.dtypes.iloc[number])
                sheet.set_column(number, number, width, None if numeric else body)
                sheet.write_string(0, number, xlsx_text(str(title)), header)
            for row, cells in enumerate(zip(*columns, strict=True), start=1):
                for column, cell in enumerate(cells):
                    value = _value(cell)
                    if type(value) is bool:
                        sheet.write_boolean(row, column, value)
                    elif type(value) in (int, float) and math.isfinite(value):
                        sheet.write_number(row, column, value)
                    elif (text := _text(value)) is not None:
                        sheet.write_string(row, column, xlsx_text(text, exact=keep[column]))
