"""The outreach export: for the team that contacts networks in under-represented places, what
is still needed for each quota and the counts so far, by dimension. No personal data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...labels import MIX_LABELS
from ...models import Round
from .services import Entry, combination_counts, dimension_counts, feasibility

if TYPE_CHECKING:
    import pandas as pd

SHORTFALL_COLUMNS = [
    "Dimension",
    "Category",
    "Minimum",
    "Maximum",
    "Eligible sent so far",
    "More needed now",
    "More needed counting complete drafts",
]
COUNT_COLUMNS = ["Dimension", "Category", "Sent", "Drafts in progress", "Complete drafts"]


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _more(row_more: int, side: str, label: str) -> str:
    if not row_more:
        return "0"
    return str(row_more) if side == "min" else f"{row_more} from outside {label}"


def outreach_frames(round_: Round, entries: list[Entry]) -> dict[str, pd.DataFrame]:
    """Two tables: the quota rows with what each still needs, and the counts by dimension (and
    by the quota table's combinations)."""
    import pandas as pd

    now = feasibility(round_, entries, with_complete_drafts=False)
    drafts = feasibility(round_, entries, with_complete_drafts=True)
    shortfalls = [
        [
            row.dimension,
            row.label,
            _cell(row.minimum),
            _cell(row.maximum),
            str(row.available),
            _more(row.more, row.side, row.label),
            _more(later.more, later.side, later.label),
        ]
        for row, later in zip(now.rows, drafts.rows, strict=True)
    ]
    for label, pool in (("More needed now", now), ("Counting complete drafts", drafts)):
        if pool.more_in_all:
            shortfalls.append(["Any", f"{label}: in all", "", "", "", str(pool.more_in_all), ""])
    counts = []
    tables = dimension_counts(round_, entries)
    both = combination_counts(round_, entries)
    for table in [*tables, *([both] if both else [])]:
        for r in table.rows:
            counts.append(
                [
                    MIX_LABELS.get(table.dimension, table.label),
                    r.label or "Not given",
                    r.sent,
                    r.drafts,
                    r.complete,
                ]
            )
    return {
        "Shortfalls": pd.DataFrame(shortfalls, columns=SHORTFALL_COLUMNS),
        "Counts": pd.DataFrame(counts, columns=COUNT_COLUMNS),
    }


def one_table(sheets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The two tables as one, for the CSV: a "Part" column says which each row belongs to."""
    import pandas as pd

    columns = ["Part", *dict.fromkeys([*SHORTFALL_COLUMNS, *COUNT_COLUMNS])]
    parts = [frame.astype(object).assign(Part=part) for part, frame in sheets.items()]
    return pd.concat(parts, ignore_index=True).reindex(columns=columns).astype(object).fillna("")
