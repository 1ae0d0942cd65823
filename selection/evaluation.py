"""A given selection explained as a run explains its own: :func:`evaluate` is for a run that
staff changed by hand (a swap, a replacement), so its totals, quota table and reasons describe the
sites chosen now rather than the engine's first answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace as with_changes

import numpy as np
import pandas as pd

from selection.engine import _result, checked
from selection.errors import InputError
from selection.optimise import Solution, solve
from selection.options import SelectionOptions, SelectionResult
from selection.quotas import Labels, QuotaTable

HAND_CHANGED_NOTE = (
    "This selection was changed by hand and is not the best the quotas allow with those "
    "changes kept, so the cost of each quota and the points others needed are not given."
)


def evaluate(
    applications: pd.DataFrame,
    quotas: QuotaTable | pd.DataFrame,
    k: int,
    selected_ids: Iterable[str],
    *,
    kept: Iterable[str] = (),
    left_out: Iterable[str] = (),
    weights: Mapping[str, float] | None = None,
    options: SelectionOptions | None = None,
    labels: Labels | None = None,
) -> SelectionResult:
    """Decisions, reasons, quota table and price of balance for exactly ``selected_ids``.

    ``kept`` are the sites staff chose (they stay in every re-solve behind a reason) and
    ``left_out`` the ones staff took out (they stay out, and are no one's reserve). When
    ``selected_ids`` is the best selection the quotas allow with those choices kept, the result
    is the engine's own for that problem, every reason and quota cost included; otherwise (a
    change that breaks a quota, or that another selection would beat) the reasons say only
    what holds for any selection (ranks, who could replace whom) and the costs are left blank.
    The bounds gain a ``met`` column; ``summary["hand_changed"]`` says which case applied.
    ``labels`` give the words for dimensions and categories, as for :func:`select`.
    """
    options = options or SelectionOptions()
    prepared, _ = checked(applications, quotas, k, weights, None, options, labels=labels)
    k = prepared.pool.k
    ids = prepared.table["id"].to_numpy()[prepared.eligible_pos].astype(str)
    index = {v: i for i, v in enumerate(ids.tolist())}

    def positions(values: Iterable[str], what: str) -> np.ndarray:
        chosen = [str(v) for v in values]
        unknown = [v for v in chosen if v not in index]
        if unknown:
            raise InputError(f"{what} must be eligible applications: {', '.join(unknown[:10])}.")
        return np.array(sorted({index[v] for v in chosen}), dtype=np.int64)

    selected = positions(selected_ids, "The selected sites")
    if len(selected) != k:
        raise InputError(f"Exactly {k} different sites must be selected, not {len(selected)}.")
    keep = positions(kept, "The sites staff chose")
    out = positions(left_out, "The sites staff took out")
    if not np.isin(keep, selected).all() or np.isin(out, selected).any():
        raise InputError("The sites staff chose must be selected, and those taken out must not.")
    pool = with_changes(prepared.pool, kept=keep, left_out=out)
    prepared = with_changes(prepared, pool=pool)
    best = solve(pool) if pool.feasible(selected) else None
    exact = best is not None and np.array_equal(np.sort(best.selected), selected)
    if best is not None and exact:
        solution = best
    else:
        solution = Solution(
            selected, int(pool.points[selected].sum()), int(pool.secondary[selected].sum())
        )
        prepared = with_changes(prepared, warnings=(*prepared.warnings, HAND_CHANGED_NOTE))
    result = _result(prepared, solution, applications, None, decide_only=not exact)
    bounds = result.bounds.copy()
    bounds["met"] = [
        (pd.isna(lo) or n >= lo) and (pd.isna(hi) or n <= hi)
        for lo, hi, n in zip(bounds["min"], bounds["max"], bounds["selected"], strict=True)
    ]
    summary = {**result.summary, "hand_changed": not exact}
    return with_changes(result, bounds=bounds, summary=summary)
