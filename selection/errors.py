"""The errors raised by the selection engine: one base class, three specific kinds."""

from __future__ import annotations

from collections.abc import Sequence


class SelectionError(Exception):
    """Base class for every error the selection engine raises on purpose."""


class InputError(SelectionError):
    """The applications, reviews or options are malformed.

    ``row`` is the spreadsheet row (the header is row 1) and ``column`` the column name, when the
    problem can be pinned to one cell, so a caller can name the file as well.
    """

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.column = column


class QuotaError(SelectionError):
    """The quota table cannot be used as written; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("The quota table has problems:\n" + "\n".join(f"- {p}" for p in problems))


class InfeasibleQuotasError(SelectionError):
    """No set of exactly k eligible applications meets every quota.

    ``advice`` holds plain-English sentences describing the smallest relaxation that would work;
    ``conflicting`` names a minimal set of bounds that cannot all hold together, if one was found;
    ``changes`` gives the same relaxation as data: dicts with ``dimension``, ``category``, ``side``
    ("min" or "max"), ``old`` and ``new``.
    """

    def __init__(
        self,
        advice: Sequence[str],
        conflicting: Sequence[str] = (),
        changes: Sequence[dict[str, object]] = (),
    ) -> None:
        self.advice: list[str] = list(advice)
        self.conflicting: list[str] = list(conflicting)
        self.changes: list[dict[str, object]] = list(changes)
        lines = ["The quotas cannot all be met.", *self.advice]
        if self.conflicting:
            lines.append("These bounds conflict: " + "; ".join(self.conflicting) + ".")
        super().__init__("\n".join(lines))
