"""Category text as it is matched: one rule for the engine and the web application.

Spreadsheets spell one category several ways: "England" and "england", "North  West" with two
spaces, or "Môn" with the accent as its own character (decomposed Unicode) or as part of the
letter (composed).  :func:`category_key` is the text two spellings are compared on; within a
column, the most common spelling is the one shown, and :func:`merge_warnings` lists the others.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd


def category_key(text: str) -> str:
    """The text a category is matched on: Unicode NFC, case folded, spaces trimmed and collapsed.

    Case folding can leave text that is not NFC (it expands some letters), so the result is
    normalised again; any run of whitespace, non-breaking spaces included, counts as one space.
    """
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return " ".join(folded.split())


def spelling(text: str) -> str:
    """A spelling as it is shown: Unicode NFC with spaces trimmed and collapsed, case kept."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@dataclass(frozen=True)
class Merged:
    """One category written more than one way in a column: the spelling shown, and every
    spelling found (as written, trimmed) with how many rows use it, most used first."""

    shown: str
    spellings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Categories:
    """A column as codes into its distinct categories, each shown by its most common spelling."""

    codes: np.ndarray
    labels: np.ndarray
    raw_codes: np.ndarray | None = None
    """For a text column with no missing values: each row's value, uncleaned, is
    ``raw_text[raw_codes]`` (as numpy text), so the audit digest need not convert it again."""
    raw_text: np.ndarray | None = None
    keys: np.ndarray | None = None
    """Each label's :func:`category_key`, sorted (the labels are in this order)."""
    merged: tuple[Merged, ...] = ()
    """The categories that were written more than one way, for a warning."""

    @property
    def values(self) -> np.ndarray:
        """The shown spelling of every row's category."""
        return np.asarray(self.labels[self.codes], dtype=object)

    def shown(self) -> dict[str, str]:
        """Each category's key and the spelling shown for it."""
        keys = self.keys if self.keys is not None else self.labels
        return dict(zip(map(str, keys.tolist()), map(str, self.labels.tolist()), strict=True))


def category_codes(column: pd.Series) -> Categories:
    """Code a column by :func:`category_key` (blank for missing), once per distinct value so this
    stays fast on large pools; each category is labelled with its most common spelling."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    text = [cell_text(v) for v in uniques.tolist()] + [""]
    keys, remap = np.unique(
        np.asarray([category_key(t) for t in text], dtype=object), return_inverse=True
    )
    rows = np.bincount(np.where(codes < 0, len(text) - 1, codes), minlength=len(text))
    found: list[Counter[str]] = [Counter() for _ in keys]
    for t, where, count in zip(text, remap.tolist(), rows.tolist(), strict=True):
        if count:
            found[where][t] += count
    labels = np.empty(len(keys), dtype=object)
    merged: list[Merged] = []
    for where, written in enumerate(found):
        shown: Counter[str] = Counter()
        for t, count in written.items():
            shown[spelling(t)] += count
        # The most common spelling; a tie goes to the first in code-point order (capitals first),
        # so the label does not depend on the order of the rows.
        labels[where] = min(shown, key=lambda s: (-shown[s], s)) if shown else str(keys[where])
        if len(written) > 1:
            ordered = sorted(written.items(), key=lambda item: (-item[1], item[0]))
            merged.append(Merged(str(labels[where]), tuple(ordered)))
    raw_codes = raw_text = None
    if isinstance(column.dtype, pd.StringDtype) and len(codes) and codes.min() >= 0:
        # Distinct strings are distinct values, so the codes keep every row's exact text.
        raw_codes, raw_text = codes, np.asarray(uniques.to_numpy(dtype=str))
    return Categories(
        np.asarray(remap[codes], dtype=np.int64),
        labels,
        raw_codes,
        raw_text,
        np.asarray(keys, dtype=object),
        tuple(merged),
    )


def category_values(column: pd.Series) -> pd.Series:
    """Every row's category as its most common spelling in the column (blank for missing)."""
    return pd.Series(category_codes(column).values, index=column.index, dtype=object)


def cell_text(value: object) -> str:
    """A cell as trimmed text: blank for missing, whole-number floats without ".0"."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def merge_warnings(dimension: str, categories: Categories) -> list[str]:
    """A sentence for each category of ``dimension`` that was written more than one way."""
    out = []
    for merged in categories.merged:
        parts = [_described(w, merged.shown, count) for w, count in merged.spellings]
        out.append(
            f"{dimension}: {' and '.join([', '.join(parts[:-1]), parts[-1]])} are counted as one "
            f"category, shown as '{merged.shown}'. Categories are matched ignoring differences "
            "of case, spacing and Unicode form."
        )
    return out


def _described(written: str, shown: str, count: int) -> str:
    """``'england' (1 application)``, saying how a spelling that looks the same differs."""
    rows = f"{count} {'application' if count == 1 else 'applications'}"
    if written != shown and spelling(written) == shown:
        if unicodedata.normalize("NFC", written) != written:
            return f"'{written}' with its accents stored as separate characters ({rows})"
        return f"'{written}' with extra spaces ({rows})"
    return f"'{written}' ({rows})"
