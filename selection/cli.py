"""``python -m selection``: run a selection from spreadsheet files, for staff who work that way.

Bad input and infeasible quotas exit with status 2 and a message on standard error that names the
file, and the row and column where the problem can be pinned to one cell.  Rows are counted as a
spreadsheet counts them: the header is row 1.

pandas, scipy and the engine take most of a second to import, so they are imported only once the
arguments are parsed and the files are found: ``--help`` and a mistyped file name answer at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from selection.errors import InfeasibleQuotasError, InputError, QuotaError, SelectionError
from selection.options import CRITERIA, __version__

if TYPE_CHECKING:
    import pandas as pd

    from selection.options import SelectionResult

REPORT_CREATED = dt.datetime(1980, 1, 1)
"""The creation date in every XLSX report. A run record holds no clock time (so that a replay
gives the same record), so the date is fixed too, at the earliest a ZIP file can hold: a replay
then gives the same bytes."""

EXIT_OK = 0
EXIT_BAD_INPUT = 2
"""Bad input and infeasible quotas share one status, as argparse uses 2 for bad arguments."""


class InputFileError(Exception):
    """A problem with one input file, already phrased for the person who has to fix it."""


def _whole_number(minimum: int | None = None) -> Callable[[str], int]:
    """An argparse type for whole numbers, at least ``minimum`` when given."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of {minimum} or more")
        return value

    return parse


def _points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of 0 or more")
    return value


def parse_weights(text: str) -> dict[str, float]:
    """``difference=2,evidence=1`` as a mapping; criteria not named keep weight 1."""
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, number = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in CRITERIA:
            raise argparse.ArgumentTypeError(
                f"'{part}' is not criterion=number; the criteria are {', '.join(CRITERIA)}"
            )
        try:
            weights[name] = float(number)
        except ValueError:
            raise argparse.ArgumentTypeError(f"the weight in '{part}' is not a number") from None
        if not math.isfinite(weights[name]) or weights[name] < 0:
            raise argparse.ArgumentTypeError(f"the weight in '{part}' must be 0 or more")
    return weights


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m selection",
        description=(
            "Choose the best-scoring set of sites that meets every quota, with a decision and a "
            "reason for every application."
        ),
    )
    files = parser.add_argument_group("files")
    files.add_argument(
        "--applications",
        required=True,
        metavar="APPS.CSV",
        help="id, the quota attribute columns, optional eligible and organisation, and the four "
        "criterion columns (unless --reviews is given); every input file may be CSV (separated "
        "by commas, semicolons or tabs) or an .xlsx workbook",
    )
    files.add_argument(
        "--sheet",
        metavar="NAME",
        help="the sheet of the applications workbook to read (default: the first)",
    )
    files.add_argument(
        "--quotas", required=True, metavar="QUOTAS.CSV", help="dimension,category,min,max"
    )
    files.add_argument(
        "--quotas-sheet",
        metavar="NAME",
        help="the sheet of the quotas workbook to read (default: the first)",
    )
    files.add_argument(
        "--output", required=True, metavar="DECISIONS.CSV", help="decisions file to write"
    )
    files.add_argument(
        "--reviews",
        metavar="REVIEWS.CSV",
        help="application_id, reviewer_id and the four criterion columns, averaged per application",
    )
    files.add_argument(
        "--xlsx",
        metavar="REPORT.XLSX",
        help="also write a workbook report (decisions, mix, parameters), every id exactly as given",
    )
    parser.add_argument(
        "--sites",
        required=True,
        type=_whole_number(1),
        metavar="K",
        help="how many sites to select",
    )
    parser.add_argument(
        "--weights",
        type=parse_weights,
        metavar="NAME=W,...",
        help=f"criterion weights, default equal ({', '.join(CRITERIA)})",
    )
    parser.add_argument(
        "--seed",
        type=_whole_number(),
        default=0,
        metavar="N",
        help="seed for the tie-break draw (default 0)",
    )
    parser.add_argument(
        "--lottery-band",
        type=_points,
        metavar="POINTS",
        help="draw lots among applications this close to the cut-off (off by default)",
    )
    parser.add_argument(
        "--reserves", type=_whole_number(0), default=10, metavar="R", help="reserve list length"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def read_file(path: str, sheet: str | None = None) -> pd.DataFrame:
    """A CSV file or a workbook's sheet as text cells; problems name the file (and the row)."""
    from selection.tables import read_table

    try:
        return read_table(path, sheet)
    except InputError as exc:
        raise InputFileError(describe_input_error(Path(path).name, exc)) from None


def describe_input_error(name: str, error: InputError) -> str:
    """``apps.csv, row 7, column evidence: ...``: where the problem is, then what it is."""
    message = str(error)
    row, column = error.row, error.column
    where = name
    if row is not None:
        where += f", row {row}"
    if column is not None:
        where += f", column {column}"
    # The engine's messages start with their own "Row 7, column 'x': "; the file name replaces it.
    for prefix in (f"Row {row}, column '{column}': ", f"Row {row}: "):
        if row is not None and message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return f"{where}: {message}"


def _fail(message: str) -> NoReturn:
    raise InputFileError(message)


def check_files_exist(args: argparse.Namespace) -> None:
    """Every input file is there, checked before the slow imports so a typo answers at once."""
    for path in filter(None, (args.applications, args.quotas, args.reviews)):
        if not Path(path).is_file():
            _fail(f"{Path(path).name}: file not found ({path}).")


def run(args: argparse.Namespace) -> SelectionResult:
    """Read the files, select, and return the result; problems raise :class:`InputFileError`."""
    from selection import QuotaTable, SelectionOptions, read_quotas, score_reviews, select

    apps_name = Path(args.applications).name
    quotas_name = Path(args.quotas).name
    applications = read_file(args.applications, args.sheet)
    if applications.empty:
        _fail(f"{apps_name}: the file has a header row but no applications under it.")
    reviews = read_file(args.reviews) if args.reviews else None
    try:
        quotas: QuotaTable = read_quotas(read_file(args.quotas, args.quotas_sheet), args.sites)
    except QuotaError as exc:
        _fail("\n".join(f"{quotas_name}: {problem}" for problem in exc.problems))
    if reviews is not None:
        # Scored once here only to pin any problem in the reviews on the reviews file.
        try:
            score_reviews(reviews, weights=args.weights)
        except InputError as exc:
            _fail(describe_input_error(Path(args.reviews).name, exc))
    options = SelectionOptions(
        seed=args.seed, reserves=args.reserves, lottery_band=args.lottery_band
    )
    try:
        return select(
            applications,
            quotas,
            args.sites,
            weights=args.weights,
            reviews=reviews,
            options=options,
        )
    except InputError as exc:
        # A column only the reviews have (application_id, reviewer_id) points at the reviews file.
        in_reviews = reviews is not None and exc.column in reviews.columns
        if in_reviews and exc.column not in applications.columns:
            _fail(describe_input_error(Path(args.reviews).name, exc))
        _fail(describe_input_error(apps_name, exc))
    except QuotaError as exc:
        _fail("\n".join(f"{quotas_name}: {problem}" for problem in exc.problems))


def write_outputs(result: SelectionResult, args: argparse.Namespace) -> None:
    """The decisions CSV and, when asked for, the XLSX report."""
    from selection.report import JOIN_COLUMNS, decisions_table, report_sheets
    from selection.spreadsheets import write_csv, write_xlsx

    for target in map(Path, filter(None, (args.output, args.xlsx))):
        if not target.resolve().parent.is_dir():
            _fail(f"{target.name}: cannot write, the folder {target.parent} does not exist.")
    try:
        write_csv(decisions_table(result), args.output)
        if args.xlsx:
            write_xlsx(args.xlsx, report_sheets(result), created=REPORT_CREATED, exact=JOIN_COLUMNS)
    except OSError as exc:
        _fail(f"cannot write the output: {exc}")


def marked_ids_note(result: SelectionResult, args: argparse.Namespace) -> str | None:
    """What the formula guard did to ids in the decisions CSV, if anything, and how to undo it."""
    from selection.spreadsheets import safe_cell

    marked = [i for i in result.decisions["id"] if safe_cell(i) != i]
    if not marked:
        return None
    some = ", ".join(marked[:3]) + (" and others" if len(marked) > 3 else "")
    exact = f" {args.xlsx} keeps every id exactly as given." if args.xlsx else ""
    return (
        f"Note: {len(marked)} ids start with =, +, - or @ ({some}). "
        f"In {args.output} each of these has an apostrophe (') added in front, so that a "
        "spreadsheet cannot run it as a formula: remove that first character to match the id "
        f"to your applications.{exact}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m selection``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        check_files_exist(args)
        result = run(args)
        write_outputs(result, args)
    except InfeasibleQuotasError as exc:
        print(f"{Path(args.quotas).name}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    except SelectionError as exc:
        print(f"{Path(args.applications).name}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from selection.report import format_summary

    print(format_summary(result))
    print(
        f"\nDecisions written to {args.output}" + (f" and {args.xlsx}" if args.xlsx else "") + "."
    )
    note = marked_ids_note(result, args)
    if note:
        print(note)
    return EXIT_OK
