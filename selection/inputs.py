"""Checking raw input columns and turning them into clean, typed values.

Every error names the spreadsheet row (the header is row 1, so the first application is row 2)
and the column, because staff fix these problems in a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from selection.errors import InputError
from selection.options import CRITERIA

_TRUE = {"true", "t", "yes", "y", "1", "eligible"}
_FALSE = {"false", "f", "no", "n", "0", "ineligible"}


def parse_eligible(column: pd.Series) -> pd.Series:
    """The ``eligible`` column as booleans; text such as yes/no/true/false/1/0 is accepted."""
    if pd.api.types.is_bool_dtype(column) and not column.isna().any():
        return column.astype(bool)
    out: list[bool] = []
    for pos, value in enumerate(column.tolist()):
        if isinstance(value, bool | np.bool_):
            out.append(bool(value))
            continue
        text = "" if value is None or value is pd.NA else str(value).strip().lower()
        if isinstance(value, float) and np.isnan(value):
            text = ""
        if text in _TRUE:
            out.append(True)
        elif text in _FALSE:
            out.append(False)
        else:
            raise InputError(
                f"Row {pos + 2}, column 'eligible': '{value}' is not true or false.",
                row=pos + 2,
                column="eligible",
            )
    return pd.Series(out, index=column.index, dtype=bool)


@dataclass(frozen=True)
class Ids:
    """Clean ids in input order, as text objects, and the row positions that sort them."""

    values: np.ndarray
    order: np.ndarray


def parse_ids(column: pd.Series, name: str = "id") -> Ids:
    """Ids as stripped text; blank or duplicated ids are errors naming the row.

    Duplicates are found by sorting, which also gives the id order the optimiser works in.
    """
    text = np.strings.strip(column.to_numpy(dtype=str))
    missing = column.isna().to_numpy()
    if missing.any():
        text = np.where(missing, "", text)
    blank = text == ""
    if blank.any():
        pos = int(np.flatnonzero(blank)[0])
        raise InputError(
            f"Row {pos + 2}, column '{name}': the id is blank.", row=pos + 2, column=name
        )
    order = np.argsort(text, kind="stable")
    ordered = text[order]
    if np.any(ordered[1:] == ordered[:-1]):
        ids = pd.Series(text.astype(object), dtype=object)
        pos = int(np.flatnonzero(ids.duplicated(keep="first").to_numpy())[0])
        first = int(np.flatnonzero(text == text[pos])[0])
        raise InputError(
            f"Row {pos + 2}, column '{name}': id '{text[pos]}' is already used on row {first + 2}.",
            row=pos + 2,
            column=name,
        )
    return Ids(text.astype(object), order)


def parse_ratings(
    frame: pd.DataFrame, columns: tuple[str, ...], required: np.ndarray, what: str
) -> pd.DataFrame:
    """Numeric 1-5 ratings; a missing value is allowed only where ``required`` is False."""
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        if col not in frame.columns:
            raise InputError(f"The {what} have no '{col}' column.", column=col)
        values = pd.to_numeric(frame[col], errors="coerce").astype(float).to_numpy()
        bad = np.isnan(values) & required
        out_of_range = ~np.isnan(values) & ((values < 1) | (values > 5))
        for mask, why in (
            (bad, "is missing or not a number"),
            (out_of_range, "is not between 1 and 5"),
        ):
            if mask.any():
                pos = int(np.flatnonzero(mask)[0])
                raw = frame[col].iloc[pos]
                if isinstance(raw, np.generic):
                    raw = raw.item()  # as tolist() gives it: 'nan', not 'np.float64(nan)'
                raise InputError(
                    f"Row {pos + 2}, column '{col}': the value '{raw}' {why}.",
                    row=pos + 2,
                    column=col,
                )
        out[col] = values
    return out


def normalise_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Weights for every criterion (missing ones count 1, as in the default of equal weights)."""
    result = dict.fromkeys(CRITERIA, 1.0)
    if weights is None:
        return result
    for name, value in weights.items():
        if name not in CRITERIA:
            raise InputError(
                f"Unknown criterion '{name}' in the weights; "
                f"the criteria are {', '.join(CRITERIA)}."
            )
        w = float(value)
        if not np.isfinite(w) or w < 0:
            raise InputError(f"The weight for '{name}' must be a number of 0 or more, not {value}.")
        result[name] = w
    if sum(result.values()) <= 0:
        raise InputError("At least one criterion weight must be above 0.")
    return result


def weighted_score(means: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """The weighted mean of the criterion means: the score the optimiser maximises."""
    w = np.array([weights[c] for c in CRITERIA], dtype=float)
    values = means[list(CRITERIA)].to_numpy(dtype=float)
    return np.asarray(values @ w / w.sum(), dtype=float)
