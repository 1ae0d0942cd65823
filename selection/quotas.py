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
from dataclasses import dataclass, field, replace
from typing import IO, Literal

import numpy as np
import pandas as pd

from selection.categories import Categories, category_codes, category_key, spelling
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


@dataclass(frozen=True, eq=False)
class Labels:
    """The words people read for the quota table's dimensions and categories, so reasons and
    advice say "Nation: Wales" rather than the stored code "wales".

    ``categories`` maps each dimension to its category codes and their words; a code is matched
    as categories are (:func:`~selection.categories.category_key`). A code with no words is shown
    as it is, and a blank one as ``blank``.
    """

    dimensions: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    blank: str = "Not given"

    def category(self, dimension: str, category: str) -> str:
        """The words for one category of ``dimension``."""
        if category.strip() == "":
            return self.blank
        words = self.categories.get(dimension, {})
        if category in words:
            return words[category]
        key = category_key(category)
        return next((w for code, w in words.items() if category_key(code) == key), category)

    def bound(self, dimension: str, category: str) -> str:
        """A bound's group in words, quoted: “Nation: Wales”."""
        name = self.dimensions.get(dimension, dimension)
        return f"“{name}: {self.category(dimension, category)}”"


@dataclass(frozen=True)
class QuotaTable:
    """An ordered set of quota bounds, plus notes on how any share bounds were rounded.

    ``labels`` (optional) give the words that reasons and advice use for each bound.
    """

    bounds: tuple[QuotaBound, ...]
    rounding_notes: tuple[str, ...] = ()
    labels: Labels | None = field(default=None, compare=False)

    @property
    def dimensions(self) -> list[str]:
        """The dimension columns named by the bounds, in first-appearance order."""
        return list(dict.fromkeys(b.dimension for b in self.bounds))

    def label(self, bound: QuotaBound) -> str:
        """A short readable name for a bound's category: its words when the table has labels,
        else the category alone when unambiguous."""
        if self.labels is not None:
            return self.labels.bound(bound.dimension, bound.category)
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
    Categories are compared by :func:`~selection.categories.category_key`, so "Wales" and
    "wales" on two rows of one dimension are the same row given twice.
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
    seen: dict[tuple[str, str], QuotaBound] = {}
    for offset, record in enumerate(frame.to_dict("records")):
        row = offset + 2  # spreadsheet numbering: the header is row 1
        cells = {str(c): str(v) for c, v in record.items()}
        if all(v.strip() == "" for v in cells.values()):
            continue
        dimension, category = cells["dimension"].strip(), spelling(cells["category"])
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
            key = (dimension, category_key(category))
            if key in seen:
                first = seen[key]
                spelled = "" if first.category == category else f" (as '{first.category}')"
                problems.append(
                    f"Row {row}: {dimension} '{category}' is already given on row "
                    f"{first.row}{spelled}."
                )
                continue
            seen[key] = QuotaBound(dimension, category, lo, hi, row)
            bounds.append(seen[key])
    if problems:
        raise QuotaError(problems)
    return QuotaTable(tuple(bounds), tuple(notes))


ProblemKind = Literal["structure", "feasibility", "warning"]


@dataclass(frozen=True)
class QuotaProblem:
    """One thing wrong with a quota table; ``structure`` problems make it unusable as written,
    ``feasibility`` problems mean no selection can meet it, and a ``warning`` is worth reading
    but changes nothing (a row for a category no application has, with no minimum)."""

    kind: ProblemKind
    message: str
    bound: QuotaBound | None = None
    absent: bool = False
    """True when the problem is that no application has the bound's category."""


def check_quotas(
    quotas: QuotaTable,
    applications: pd.DataFrame,
    k: int,
    eligible: Iterable[bool] | None = None,
    categories: Mapping[str, Categories] | None = None,
) -> list[QuotaProblem]:
    """Every problem with ``quotas`` for this pool, structural ones first.

    Categories are matched by :func:`~selection.categories.category_key` against all applications
    (so a typo is caught even if the only matching applications are ineligible); minimums are
    checked against eligible ones only.  A row for a category no application has is a warning
    when it has no minimum, and an infeasible minimum otherwise.
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
    # Per dimension: the distinct categories (by key) and, for each, how many applications (all
    # and eligible) have it, found once with factorize rather than by comparing per bound.
    present: dict[str, dict[str, tuple[int, int]]] = {}
    shown: dict[str, list[str]] = {}
    for d in quotas.dimensions:
        if d in columns:
            coded = (
                categories[d] if categories and d in categories else category_codes(applications[d])
            )
            codes, keys = coded.codes, list(coded.shown())
            every = np.bincount(codes, minlength=len(keys))
            eligible_only = np.bincount(codes[mask], minlength=len(keys))
            present[d] = {
                key: (int(a), int(e)) for key, a, e in zip(keys, every, eligible_only, strict=True)
            }
            shown[d] = sorted(label for label in coded.shown().values() if label)
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
        if category_key(b.category) not in present[b.dimension]:
            # Without a minimum the row changes nothing; with one, no selection can meet it.
            cats = ", ".join(shown[b.dimension]) or "(none)"
            effect = f"but its minimum is {b.min}" if b.min else "so this row changes nothing"
            problems.append(
                QuotaProblem(
                    "feasibility" if b.min else "warning",
                    f"{b.dimension} '{b.category}'{_row(b)}: no application has this category, "
                    f"{effect}; the categories present are: {cats}.",
                    b,
                    absent=True,
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
            covered = {category_key(b.category) for b in dim_bounds}
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
        absent = b.dimension in present and category_key(b.category) not in present[b.dimension]
        if b.dimension in present and b.min and not absent:
            count = present[b.dimension].get(category_key(b.category), (0, 0))[1]
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


def align_quotas(quotas: QuotaTable, categories: Mapping[str, Categories]) -> QuotaTable:
    """The table with each category spelled as the applications most often spell it.

    Rows for a category no application has keep their own spelling.  After this, the engine
    matches bounds to applications by exact text, and its outputs show one spelling throughout.
    """
    shown = {dim: coded.shown() for dim, coded in categories.items()}
    bounds = []
    for b in quotas.bounds:
        label = shown.get(b.dimension, {}).get(category_key(b.category), b.category)
        bounds.append(b if label == b.category else replace(b, category=label))
    return QuotaTable(tuple(bounds), quotas.rounding_notes, quotas.labels)


def validate_quotas(
    quotas: QuotaTable | pd.DataFrame,
    applications: pd.DataFrame,
    k: int,
    *,
    warnings: bool = False,
) -> list[str]:
    """Plain-English problems with ``quotas`` for this pool and ``k``; an empty list means none.

    Eligibility is read from an ``eligible`` column when present.  Problems found are: a dimension
    that is not a column, a minimum above its maximum, minimums that add up to more than k, and
    fewer eligible applications in a category than its minimum.  Some infeasible combinations are
    only found by solving.  With ``warnings=True`` the list also says which rows name a category
    no application has (with the categories present): rows that change nothing.
    """
    table = read_quotas(quotas, k) if isinstance(quotas, pd.DataFrame) else quotas
    eligible = None
    if "eligible" in applications.columns:
        eligible = parse_eligible(applications["eligible"]).tolist()
    return [
        p.message
        for p in check_quotas(table, applications, k, eligible)
        if warnings or p.kind != "warning"
    ]
