"""The engine's input, built from the database: one row per application as the engine sees it
(eligibility, mix, criterion means), and the call that runs the engine on a stored snapshot.

Every run stores this snapshot, so its shortlist, mix, exports and any later replacement are
computed from exactly what the engine saw, whatever changes afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from selection import (
    CRITERIA,
    SelectionOptions,
    SelectionResult,
)

if TYPE_CHECKING:  # pandas and scipy load when a selection runs, not as the app starts
    import pandas as pd

    from selection import Labels, QuotaTable

from ...applications.services import sent_applications
from ...labels import FIRST_TIME_LABELS, MIX_LABELS, SCREENING_REASONS
from ...models import (
    Moderation,
    Review,
    ReviewScore,
    Round,
    SelectionRun,
)
from ...rounds import option_label, options

MIX_COLUMNS: tuple[str, ...] = (
    "nation",
    "region",
    "area_type",
    "size_band",
    "led_by",
    "first_time",
    "pressures",
    "local_deprivation",
)
# The round's option list that labels each mix column's categories.
_OPTION_KEYS = {
    "nation": "nation",
    "area_type": "area_type",
    "size_band": "staff_band",
    "led_by": "led_by",
    "pressures": "pressures",
    "local_deprivation": "local_deprivation",
}


def category_label(round_: Round, dimension: str, value: str) -> str:
    """A category as people read it: the round's option label, else the value itself."""
    if value == "":
        return "Not given"
    if dimension == "region":
        label = option_label(round_, "region", value)
        return option_label(round_, "nation", value) if label == value else label
    if dimension in _OPTION_KEYS:
        return option_label(round_, _OPTION_KEYS[dimension], value)
    if dimension == "first_time":
        return FIRST_TIME_LABELS.get(value, value)
    return value


def category_order(round_: Round, dimension: str) -> list[str]:
    """A dimension's category codes in their natural order: the round's option list as staff
    wrote it (smallest size band first, England's regions north to south), "Not given" last."""
    if dimension == "region":
        return [v for v, _ in options(round_, "region")] + [v for v, _ in options(round_, "nation")]
    if dimension in _OPTION_KEYS:
        return [v for v, _ in options(round_, _OPTION_KEYS[dimension])]
    if dimension == "first_time":
        return list(FIRST_TIME_LABELS)
    return []


def engine_labels(round_: Round) -> dict[str, Any]:
    """The words the engine's reasons use for each mix dimension and category, as plain JSON (a
    run stores them with its snapshot, so a replay says the same)."""
    categories: dict[str, dict[str, str]] = {}
    for dimension in MIX_COLUMNS:
        codes = category_order(round_, dimension)
        codes += [
            str(q.get("category") or "")
            for q in round_.quotas or []
            if q.get("dimension") == dimension
        ]
        categories[dimension] = {c: category_label(round_, dimension, c) for c in codes if c}
    return {"dimensions": dict(MIX_LABELS), "categories": categories}


def category_sort_key(round_: Round, dimension: str) -> Any:
    """A sort key putting a dimension's category values in :func:`category_order`."""
    order = {v: n for n, v in enumerate(category_order(round_, dimension))}
    return lambda value: (value == "", order.get(value, len(order)), value)


def clean(value: Any) -> Any:
    """A value as plain JSON: numpy scalars unwrapped, NaN and NA as None."""
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): clean(v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


def _review_scores(
    session: Session, ids: list[int]
) -> tuple[dict[int, dict[str, list[int]]], dict[int, dict[str, float]]]:
    """Submitted reviews' scores and the latest moderated score, by application and criterion."""
    scores: dict[int, dict[str, list[int]]] = {i: {c: [] for c in CRITERIA} for i in ids}
    moderated: dict[int, dict[str, float]] = {i: {} for i in ids}
    if not ids:
        return scores, moderated
    for app_id, criterion, score in session.execute(
        select(Review.application_id, ReviewScore.criterion, ReviewScore.score)
        .join(ReviewScore, ReviewScore.review_id == Review.id)
        .where(Review.application_id.in_(ids), Review.status == "submitted")
    ):
        if score is not None and criterion in CRITERIA:
            scores[app_id][criterion].append(int(score))
    for moderation in session.scalars(
        select(Moderation)
        .where(Moderation.application_id.in_(ids))
        .order_by(Moderation.at, Moderation.id)
    ):
        if moderation.criterion in CRITERIA:
            moderated[moderation.application_id][moderation.criterion] = float(moderation.score)
    return scores, moderated


def _criterion_value(given: list[int], moderated: dict[str, float], criterion: str) -> float | None:
    if criterion in moderated:
        return moderated[criterion]
    return sum(given) / len(given) if given else None


def criterion_scores(session: Session, ids: list[int]) -> dict[int, dict[str, float | None]]:
    """Each application's criterion values as the engine would read them now."""
    scores, moderated = _review_scores(session, ids)
    return {i: {c: _criterion_value(scores[i][c], moderated[i], c) for c in CRITERIA} for i in ids}


def input_rows(session: Session, round_: Round) -> list[dict[str, Any]]:
    """One row per application as the engine sees it: id, eligibility, mix, criterion means.

    A criterion's value is the mean of the submitted reviews' scores, or the moderated score when
    staff moderated that criterion (the latest moderation wins).
    """
    applications = sent_applications(session, round_)
    ids = [a.id for a in applications]
    scores, moderated = _review_scores(session, ids)
    counts: dict[int, int] = dict.fromkeys(ids, 0)
    if ids:
        for app_id, n in session.execute(
            select(Review.application_id, func.count(Review.id))
            .where(Review.application_id.in_(ids), Review.status == "submitted")
            .group_by(Review.application_id)
        ):
            counts[app_id] = int(n)
    rows = []
    for a in applications:
        eligible = a.screening == "eligible"
        if a.screening == "ineligible":
            code = a.screening_reason or ""
            why = SCREENING_REASONS.get(code, code)
        elif not eligible:
            why = "not screened yet"
        else:
            why = ""
        row: dict[str, Any] = {
            "id": a.reference or str(a.id),
            "application_id": a.id,
            "eligible": eligible,
            "ineligible_reason": why,
            "organisation": a.organisation_name or "",
        }
        for column in MIX_COLUMNS:
            value = getattr(a, column)
            if column == "first_time":
                row[column] = "" if value is None else ("yes" if value else "no")
            else:
                row[column] = value or ""
        spread = 0
        for c in CRITERIA:
            given = scores[a.id][c]
            row[c] = _criterion_value(given, moderated[a.id], c)
            if given:
                spread = max(spread, max(given) - min(given))
        row["n_reviews"] = counts[a.id]
        row["spread"] = spread
        row["moderated"] = ";".join(c for c in CRITERIA if c in moderated[a.id])
        flags = []
        if eligible and counts[a.id] < round_.reviews_required:
            flags.append("too_few_reviews")
        if spread >= 2:
            flags.append("disagreement")
        if row["moderated"]:
            flags.append("moderated")
        row["flags"] = ";".join(flags)
        rows.append(row)
    return rows


def _engine_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    columns = ["id", "eligible", "ineligible_reason", "organisation", *MIX_COLUMNS, *CRITERIA]
    frame = pd.DataFrame(rows, columns=[*columns, "n_reviews"])
    for c in CRITERIA:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    frame["n_reviews"] = pd.to_numeric(frame["n_reviews"]).astype(float)
    return frame


def _quota_table(quotas: list[dict[str, Any]], k: int) -> QuotaTable:
    import pandas as pd

    from selection import QuotaTable, read_quotas

    if not quotas:
        return QuotaTable(())
    return read_quotas(pd.DataFrame(quotas), k)


def snapshot(run: SelectionRun) -> dict[int, dict[str, Any]]:
    """The run's stored input rows by application id: what the engine saw."""
    return {int(r["application_id"]): r for r in run.parameters.get("applications", [])}


def evaluate_engine(
    parameters: Mapping[str, Any],
    rows: list[dict[str, Any]],
    selected: list[str],
    kept: list[str],
    left_out: list[str],
) -> SelectionResult:
    """The engine's account of a stored run whose selection staff changed: ``selected`` by
    reference, ``kept`` the sites staff put in and ``left_out`` those they took out."""
    from selection import evaluate

    k = int(parameters["k"])
    return evaluate(
        _engine_frame(rows),
        _quota_table(parameters["quotas"], k),
        k,
        selected,
        kept=kept,
        left_out=left_out,
        weights=parameters["weights"] or None,
        options=SelectionOptions(**parameters["options"]),
        labels=_labels(parameters),
    )


def _labels(parameters: Mapping[str, Any]) -> Labels | None:
    """The words the run's reasons use, as stored with its snapshot (None: the codes)."""
    from selection import Labels

    words = parameters.get("labels")
    return Labels(words["dimensions"], words["categories"]) if words else None


def run_engine(
    parameters: Mapping[str, Any], rows: list[dict[str, Any]], *, decide_only: bool = False
) -> SelectionResult:
    """Run the engine on a stored snapshot (also used to replay a run for replacements, with
    ``decide_only``: the stored run already holds its reasons)."""
    from selection import select as select_sites

    k = int(parameters["k"])
    return select_sites(
        _engine_frame(rows),
        _quota_table(parameters["quotas"], k),
        k,
        weights=parameters["weights"] or None,
        options=SelectionOptions(**parameters["options"]),
        decide_only=decide_only,
        labels=_labels(parameters),
    )
