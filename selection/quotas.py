"""Quota tables: reading them from CSV or a DataFrame, and checking them against a pool.

Two header styles are accepted: ``dimension,category,min,max`` and the sortition style
``feature,value,min,max``.  Optional ``min_share,max_share`` give bounds as a share of k, converted
with ceiling (minimum) and floor (maximum) and the rounding reported.  A blank cell means no bound.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Literal

import numpy as np
import pandas as pd

from selection.errors import QuotaError
from selection.inputs import parse_eligible

_HEADER_ALIASES = {"feature": "dimension", "value": "category"}
_BOUND_COLUMNS = ("min", "max", "min_share", "max_share")


@dataclass(frozen=True)
class QuotaBound:
    """Minimum and maximum counts of selected sites whose ``dimension`` column equals ``category``.

    ``None`` means no bound on that side.  ``row`` is the spreadsheet row it came from (the header
    is row 1), kept so messages can point back to the file.
    """

    dimension: str
    category: str
    min: int | None = None
    max: int | None = None
    row: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The (dimension, category) pair that identifies this bound."""
        return (self.dimension, self.category)


@dataclass(frozen=True)
class QuotaTable:
    """An ordered set of quota bounds, plus notes on how any share bounds were rounded."""

    bounds: tuple[QuotaBound, ...]
    rounding_notes: tuple[str, ...] = ()

    @property
    def dimensions(self) -> list[str]:
        """The dimension columns named by the bounds, in first-appearance order."""
        return list(dict.fromkeys(b.dimension for b in self.bounds))

    def label(self, bound: QuotaBound) -> str:
        """A short readable name for a bound's category: the category alone when unambiguous."""
        same = [b for b in self.bounds if b.category == bound.category]
        if len(same) == 1 and bound.category.lower() not in _VAGUE_CATEGORIES:
            return bound.category
        return f"{bound.dimension} {bound.category}"

    def to_frame(self) -> pd.DataFrame:
        """The bounds as a ``dimension,category,min,max`` table (missing bounds as NA)."""
        return pd.DataFrame(
            {
                "dimension": [b.dimension for b in self.bounds],
                "category": [b.category for b in self.bounds],
                "min": pd.array([b.min for b in self.bounds], dtype="Int64"),
                "max": pd.array([b.max for b in self.bounds], dtype="Int64"),
            }
        )


_VAGUE_CATEGORIES = {"yes", "no", "true", "false", "y", "n", "0", "1", "other", "unknown", "none"}


def _as_frame(source: str | os.PathLike[str] | IO[str] | pd.DataFrame) -> pd.DataFrame:
    """Load the quota source as an all-text DataFrame with blanks as empty strings."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        for col in frame.columns:
            frame[col] = [
                "" if (v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA) else v
                for v in frame[col]
            ]
        return frame.astype(str)
    if isinstance(source, str) and "\n" in source:
        source = io.StringIO(source)
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise QuotaError([f"The quota table could not be read: {exc}"]) from exc


def _parse_count(text: str, row: int, column: str, problems: list[str]) -> int | None:
    """A non-negative whole number, or None for a blank cell; problems name row and column."""
    text = text.strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"Row {row}, column '{column}': '{text}' is not a whole number.")
        return None
    if not value.is_integer() or value < 0:
        problems.append(
            f"Row {row}, column '{column}': '{text}' is not a whole number of 0 or more."
        )
        return None
    return int(value)


def _parse_share(text: str, row: int, column: str, problems: list[str]) -> float | None:
    """A share of k between 0 and 1 (a trailing % is accepted), or None for a blank cell."""
    text = text.strip()
    if text == "":
        return None
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1].strip(), 0.01
    try:
        value = float(text) * scale
    except ValueError:
        problems.append(f"Row {row}, column '{column}': '{text}' is not a share between 0 and 1.")
        return None
    if not 0.0 <= value <= 1.0:
        problems.append(f"Row {row}, column '{column}': {value:g} is not a share between 0 and 1.")
        return None
    return value


def read_quotas(source: str | os.PathLike[str] | IO[str] | pd.DataFrame, k: int) -> QuotaTable:
    """Read a quota table; ``k`` is needed to turn share bounds into counts.

    A ``str`` containing a newline is taken as CSV text, otherwise as a path.  Every problem found
    is collected and raised together as a :class:`QuotaError` naming the row and column.
    """
    frame = _as_frame(source)
    frame.columns = [
        _HEADER_ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in frame.columns
    ]
    problems: list[str] = []
    for needed in ("dimension", "category"):
        if needed not in frame.columns:
            problems.append(
                f"The quota table has no '{needed}' column (expected headers "
                "'dimension,category,min,max' or 'feature,value,min,max')."
            )
    if not any(c in frame.columns for c in _BOUND_COLUMNS):
        problems.append(
            "The quota table has none of the columns 'min', 'max', 'min_share', 'max_share'."
        )
    if problems:
        raise QuotaError(problems)

    bounds: list[QuotaBound] = []
    notes: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for offset, record in enumerate(frame.to_dict("records")):
        row = offset + 2  # spreadsheet numbering: the header is row 1
        cells = {str(c): str(v) for c, v in record.items()}
        if all(v.strip() == "" for v in cells.values()):
            continue
        dimension, category = cells["dimension"].strip(), cells["category"].strip()
        if dimension == "":
            problems.append(f"Row {row}, column 'dimension': the dimension is blank.")
        if category == "":
            problems.append(f"Row {row}, column 'category': the category is blank.")
        lo = _parse_count(cells.get("min", ""), row, "min", problems)
        hi = _parse_count(cells.get("max", ""), row, "max", problems)
        lo_share = _parse_share(cells.get("min_share", ""), row, "min_share", problems)
        hi_share = _parse_share(cells.get("max_share", ""), row, "max_share", problems)
        name = f"{dimension} {category}"
        if lo_share is not None:
            exact = lo_share * k
            count = math.ceil(exact - 1e-9)
            if not math.isclose(exact, count, abs_tol=1e-9):
                notes.append(
                    f"Row {row} ({name}): min_share {lo_share:g} of {k} sites is {exact:.2f}, "
                    f"rounded up to a minimum of {count}."
                )
            lo = count if lo is None else max(lo, count)
        if hi_share is not None:
            exact = hi_share * k
            count = math.floor(exact + 1e-9)
            if not math.isclose(exact, count, abs_tol=1e-9):
                notes.append(
                    f"Row {row} ({name}): max_share {hi_share:g} of {k} sites is {exact:.2f}, "
                    f"rounded down to a maximum of {count}."
                )
            hi = count if hi is None else min(hi, count)
        if dimension and category:
            if (dimension, category) in seen:
                problems.append(
                    f"Row {row}: {dimension} '{category}' is already given on row "
                    f"{seen[(dimension, category)]}."
                )
                continue
            seen[(dimension, category)] = row
            bounds.append(QuotaBound(dimension, category, lo, hi, row))
    if problems:
        raise QuotaError(problems)
    return QuotaTable(tuple(bounds), tuple(notes))


ProblemKind = Literal["structure", "feasibility"]


@dataclass(frozen=True)
class QuotaProblem:
    """One thing wrong with a quota table; ``structure`` problems make it unusable as written,
    ``feasibility`` problems mean no selection can meet it."""

    kind: ProblemKind
    message: str
    bound: QuotaBound | None = None


@dataclass(frozen=True)
class Categories:
    """A column as codes into its distinct values, cleaned to the text they are matched on."""

    codes: np.ndarray
    labels: np.ndarray
    raw_codes: np.ndarray | None = None
    """For a text column with no missing values: each row's value, uncleaned, is
    ``raw_text[raw_codes]`` (as numpy text), so the audit digest need not convert it again."""
    raw_text: np.ndarray | None = None

    @property
    def values(self) -> np.ndarray:
        """The cleaned text of every row."""
        return np.asarray(self.labels[self.codes], dtype=object)


def category_codes(column: pd.Series) -> Categories:
    """Attribute values as stripped text (blank for missing), coded once per distinct value so
    this stays fast on large pools."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    text = np.asarray([_cell_text(v) for v in uniques.tolist()] + [""], dtype=object)
    labels, remap = np.unique(text, return_inverse=True)  # merges "Wales" and " Wales"
    raw_codes = raw_text = None
    if isinstance(column.dtype, pd.StringDtype) and len(codes) and codes.min() >= 0:
        # Distinct strings are distinct values, so the codes keep every row's exact text.
        raw_codes, raw_text = codes, np.asarray(uniques.to_numpy(dtype=str))
    return Categories(
        np.asarray(remap[codes], dtype=np.int64),
        np.asarray(labels, dtype=object),
        raw_codes,
        raw_text,
    )


def category_values(column: pd.Series) -> pd.Series:
    """Attribute values as the text they are matched on: stripped strings, blanks for missing."""
    return pd.Series(category_codes(column).values, index=column.index, dtype=object)


def _cell_text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_quotas(
    quotas: QuotaTable,
    applications: pd.DataFrame,
    k: int,
    eligible: Iterable[bool] | None = None,
    categories: Mapping[str, Categories] | None = None,
) -> list[QuotaProblem]:
    """Every problem with ``quotas`` for this pool, structural ones first.

    Categories are matched as text against all applications (so a typo is caught even if the only
    matching applications are ineligible); minimums are checked against eligible ones only.
    ``categories`` may pass the dimension columns already coded, to save doing it twice.
    """
    problems: list[QuotaProblem] = []
    columns = [str(c) for c in applications.columns]
    if eligible is None:
        mask = np.ones(len(applications), dtype=bool)
    elif isinstance(eligible, np.ndarray):
        mask = eligible.astype(bool)
    else:
        mask = np.array(list(eligible), dtype=bool)
    n_eligible = int(mask.sum())
    for dim in quotas.dimensions:
        if dim not in columns:
            problems.append(
                QuotaProblem(
                    "structure",
                    f"Quota dimension '{dim}' is not a column of the applications "
                    f"(the columns are: {', '.join(columns)}).",
                )
            )
    # Per dimension: the distinct categories and, for each, how many applications (all and
    # eligible) have it, found once with factorize rather than by comparing per bound.
    present: dict[str, dict[str, tuple[int, int]]] = {}
    for d in quotas.dimensions:
        if d in columns:
            coded = (
                categories[d] if categories and d in categories else category_codes(applications[d])
            )
            codes, uniques = coded.codes, coded.labels
            every = np.bincount(codes, minlength=len(uniques))
            eligible_only = np.bincount(codes[mask], minlength=len(uniques))
            present[d] = {
                str(u): (int(a), int(e))
                for u, a, e in zip(uniques, every, eligible_only, strict=True)
            }
    for b in quotas.bounds:
        if b.min is not None and b.max is not None and b.min > b.max:
            problems.append(
                QuotaProblem(
                    "structure",
                    f"{b.dimension} '{b.category}'{_row(b)}: the minimum {b.min} is above the "
                    f"maximum {b.max}.",
                    b,
                )
            )
        if b.dimension not in present:
            continue
        if b.category not in present[b.dimension]:
            cats = sorted(set(present[b.dimension]) - {""})
            problems.append(
                QuotaProblem(
                    "structure",
                    f"{b.dimension} '{b.category}'{_row(b)}: no application has this category; "
                    f"the categories present are: {', '.join(cats) if cats else '(none)'}.",
                    b,
                )
            )
    for dim in quotas.dimensions:
        dim_bounds = [b for b in quotas.bounds if b.dimension == dim]
        total_min = sum(b.min or 0 for b in dim_bounds)
        if total_min > k:
            problems.append(
                QuotaProblem(
                    "feasibility",
                    f"The minimums for {dim} add up to {total_min}, "
                    f"more than the {k} sites to select.",
                )
            )
        if dim in present and all(b.max is not None for b in dim_bounds):
            covered = {b.category for b in dim_bounds}
            uncovered = [c for c, (_, e) in present[dim].items() if e > 0 and c not in covered]
            if not uncovered:
                total_max = sum(b.max or 0 for b in dim_bounds)
                if total_max < k:
                    problems.append(
                        QuotaProblem(
                            "feasibility",
                            f"The maximums for {dim} add up to {total_max}, fewer than the {k} "
                            "sites to select.",
                        )
                    )
    for b in quotas.bounds:
        if b.dimension in present and b.min:
            count = present[b.dimension].get(b.category, (0, 0))[1]
            if count < b.min:
                label = quotas.label(b)
                problems.append(
                    QuotaProblem(
                        "feasibility",
                        f"{label} needs at least {b.min} sites but only {count} eligible "
                        f"{'application' if count == 1 else 'applications'} in {label} "
                        f"{'exists' if count == 1 else 'exist'}.",
                        b,
                    )
                )
    if n_eligible < k:
        problems.append(
            QuotaProblem(
                "feasibility",
                f"Only {n_eligible} eligible applications for {k} sites: select at most "
                f"{n_eligible} sites.",
            )
        )
    return problems


def _row(bound: QuotaBound) -> str:
    return f" (row {bound.row})" if bound.row is not None else ""


def validate_quotas(
    quotas: QuotaTable | pd.DataFrame, applications: pd.DataFrame, k: int
) -> list[str]:
    """Plain-English problems with ``quotas`` for this pool and ``k``; an empty list means none.

    Eligibility is read from an ``eligible`` column when present.  Problems found are: a dimension
    that is not a column, a category no application has (with the categories present), a minimum
    above its maximum, minimums that add up to more than k, and fewer eligible applications in a
    category than its minimum.  Some infeasible combinations are only found by solving.
    """
    table = read_quotas(quotas, k) if isinstance(quotas, pd.DataFrame) else quotas
    eligible = None
    if "eligible" in applications.columns:
        eligible = parse_eligible(applications["eligible"]).tolist()
    return [p.message for p in check_quotas(table, applications, k, eligible)]
