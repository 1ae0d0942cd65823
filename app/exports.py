"""CSV and XLSX downloads, built in memory on request and never kept on disk.

Every cell goes through the selection engine's formula-injection guard (``safe_cell``, which
``selection.report.write_csv`` applies too), so there is one guard for the command line and the
web application. XLSX files are written here, row by row, as the few XML parts of a SpreadsheetML
package (ECMA-376): a workbook of 10,000 applications' rationale is about 300,000 cells, which
openpyxl or XlsxWriter take seconds to write one Python object at a time.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import numbers
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

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
    from selection.report import write_csv

    text = io.StringIO()
    write_csv(frame, text)
    return _download(("\ufeff" + text.getvalue()).encode("utf-8"), CSV_TYPE, filename)


def xlsx_response(sheets: Mapping[str, pd.DataFrame], filename: str) -> Response:
    """One worksheet per entry of ``sheets``, as an XLSX download."""
    data = io.BytesIO()
    write_workbook(data, sheets)
    return _download(data.getvalue(), XLSX_TYPE, filename)


def csv_stream_response(chunks: Iterable[pd.DataFrame], filename: str) -> Response:
    """Like ``csv_response``, but sent a chunk of rows at a time, for a long export: each frame
    goes through the same writer; the header is sent once.

    The download is read after the view has returned, so each chunk is made inside an application
    context of its own, opened and closed around it: a chunk may query through ``db.session``
    (afresh each time: keep no cursor open between chunks), and a download left unread holds no
    context or connection open.
    """
    from selection.report import write_csv

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


# --- XLSX -------------------------------------------------------------------------------------

MAX_WIDTH = 60
"""Widest column in characters: long reasons wrap in the cell rather than run off the page."""
_WIDTH_SAMPLE = 200  # rows read to size each column
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# Characters XML 1.0 cannot hold at all: shown as U+FFFD rather than refusing the download.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel reads _xHHHH_ in text as an escaped character: each underscore that starts one is written
# as _x005F_ (an escaped underscore), so such text reads back as typed, even "_x005F_x0041_".
_EXCEL_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Two cell formats: 0 the default, 1 bold (the header row).
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _column_letters(count: int) -> list[str]:
    """A, B, ... Z, AA, AB ...: the first ``count`` column names."""
    letters = []
    for number in range(1, count + 1):
        name = ""
        while number:
            number, rest = divmod(number - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _xml_text(text: str) -> str:
    """Text as the content of an XML element, kept exactly as Excel will show it."""
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub("_x005F_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")  # a bare CR would be read back as LF


def _text_cell(ref: str, value: str, style: str = "") -> str:
    from selection.report import safe_cell

    text = _xml_text(str(safe_cell(value)))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _cell(ref: str, value: Any) -> str:
    """One cell: numbers as numbers, true/false as booleans, anything else as guarded text;
    missing values (None, NaN, NA) as no cell at all."""
    import pandas as pd

    kind = type(value)
    if kind is str:
        return _text_cell(ref, value)
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is int:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind is float:
        if math.isfinite(value):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return "" if math.isnan(value) else _text_cell(ref, str(value))
    if isinstance(value, dt.date):
        return _text_cell(ref, value.isoformat())
    if hasattr(value, "item"):  # a numpy scalar left in an object column
        return _cell(ref, value.item())
    if isinstance(value, Decimal | numbers.Real):  # e.g. a NUMERIC column, a Fraction
        return _cell(ref, float(value))
    return _text_cell(ref, str(value))


def _width(values: Iterable[Any]) -> float:
    from selection.report import safe_cell

    longest = max((len("" if v is None else str(safe_cell(v))) for v in values), default=0)
    return min(longest + 2, MAX_WIDTH)


def _worksheet(frame: pd.DataFrame, first: bool) -> Iterator[str]:
    """The worksheet XML in pieces: header row in bold and frozen, column widths sized to the
    header and the first rows, then one row element per row of ``frame``."""
    columns = [frame[c].tolist() for c in frame.columns]  # plain Python values, column by column
    letters = _column_letters(len(columns))
    last = f"{letters[-1]}{len(frame) + 1}" if letters else "A1"
    selected = ' tabSelected="1"' if first else ""
    yield (
        f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}"><dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView workbookViewId="0"{selected}>'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
    )
    if letters:
        yield "<cols>"
        for number, (name, values) in enumerate(zip(frame.columns, columns, strict=True), 1):
            width = _width([name, *values[:_WIDTH_SAMPLE]])
            yield f'<col min="{number}" max="{number}" width="{width}" customWidth="1"/>'
        yield "</cols>"
    yield '<sheetData><row r="1">'
    yield "".join(
        _text_cell(f"{letter}1", str(name), ' s="1"')
        for letter, name in zip(letters, frame.columns, strict=True)
    )
    yield "</row>"
    for number, row in enumerate(zip(*columns, strict=True), start=2):
        cells = "".join(
            [_cell(f"{letter}{number}", v) for letter, v in zip(letters, row, strict=True)]
        )
        yield f'<row r="{number}">{cells}</row>'
    yield "</sheetData></worksheet>"


def write_workbook(target: IO[bytes], sheets: Mapping[str, pd.DataFrame]) -> None:
    """Write one worksheet per entry of ``sheets`` as an XLSX file, every cell guarded.

    Numbers and booleans stay numbers and booleans; text goes through ``safe_cell``; dates are
    written as ISO text. Sheet names must follow Excel's rules (at most 31 characters, none of
    ``[]:*?/\\``).
    """
    names = list(sheets)
    for name in names:
        if not name or len(name) > 31 or _SHEET_NAME_BAD.search(name):
            raise ValueError(f"not a worksheet name Excel accepts: {name!r}")
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    content_types = (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>'
        f"{sheet_types}</Types>"
    )
    package_rels = (
        f'{_HEAD}<Relationships xmlns="{_PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        '<bookViews><workbookView activeTab="0"/></bookViews><sheets>'
        + "".join(
            f'<sheet name="{_xml_text(name).replace(chr(34), "&quot;")}" sheetId="{i}" '
            f'r:id="rId{i}"/>'
            for i, name in enumerate(names, start=1)
        )
        + "</sheets></workbook>"
    )
    workbook_rels = (
        f'{_HEAD}<Relationships xmlns="{_PACKAGE_RELS}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        )
        + f'<Relationship Id="rId{len(names) + 1}" Type="{_RELS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )
    # Level 1 compression: a little larger than the default level, several times quicker.
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", content_types)
        package.writestr("_rels/.rels", package_rels)
        package.writestr("xl/workbook.xml", workbook)
        package.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        package.writestr("xl/styles.xml", _STYLES)
        for i, name in enumerate(names, start=1):
            with package.open(f"xl/worksheets/sheet{i}.xml", "w") as part:
                buffer: list[str] = []
                size = 0
                for piece in _worksheet(sheets[name], first=i == 1):
                    buffer.append(piece)
                    size += len(piece)
                    if size > 1 << 20:
                        part.write("".join(buffer).encode("utf-8"))
                        buffer, size = [], 0
                part.write("".join(buffer).encode("utf-8"))
