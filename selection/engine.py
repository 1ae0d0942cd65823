"""The entry points: :func:`select` runs a whole selection, :func:`replace` fills withdrawals."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import replace as with_changes
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import scipy
from scipy import sparse

from selection import explain
from selection.categories import Categories, category_codes, category_values, merge_warnings
from selection.errors import InfeasibleQuotasError, InputError, QuotaError
from selection.infeasible import advise
from selection.inputs import (
    normalise_weights,
    parse_eligible,
    parse_ids,
    parse_ratings,
    weighted_score,
)
from selection.optimise import Solution, solve
from selection.options import (
    CRITERIA,
    Replacement,
    SelectionOptions,
    SelectionResult,
    __version__,
)
from selection.pool import Pool, descending_order
from selection.quotas import Labels, QuotaTable, align_quotas, check_quotas, read_quotas
from selection.resolution import Points, to_points
from selection.scoring import compute_scores, flag_text


@dataclass(frozen=True)
class Prepared:
    """A run's clean inputs: one row per application (input order) and the optimiser's pool.

    ``eligible_pos`` maps pool index to row position in ``table``; pool indices follow id order,
    so the result does not depend on the order of rows in the input.
    """

    table: pd.DataFrame
    pool: Pool
    eligible_pos: np.ndarray
    quotas: QuotaTable
    points: Points
    """The eligible applications' points before any lottery band pools them."""
    lottery: np.ndarray
    options: SelectionOptions
    weights: dict[str, float]
    warnings: tuple[str, ...]
    categories: Mapping[str, Categories]


def select(
    applications: pd.DataFrame,
    quotas: QuotaTable | pd.DataFrame,
    k: int,
    *,
    weights: Mapping[str, float] | None = None,
    reviews: pd.DataFrame | None = None,
    options: SelectionOptions | None = None,
    decide_only: bool = False,
    labels: Labels | None = None,
) -> SelectionResult:
    """Choose exactly ``k`` eligible applications with the highest total score under the quotas.

    ``decide_only`` skips the work behind the reasons (points needed, price of balance), as if
    ``options.explain`` and ``options.price_bounds`` were off, while the audit record, its input
    digest included, stays that of ``options``: for replaying a stored run (to find a
    replacement) whose reasons are already kept.  ``labels`` give the words reasons and advice
    use for the quota table's dimensions and categories (the codes themselves when None); they
    change no decision and are not part of the input digest.

    Raises :class:`InputError` for malformed data, :class:`QuotaError` for a quota table that does
    not fit the applications, and :class:`InfeasibleQuotasError` (with advice) when no selection
    can meet every quota.
    """
    options = options or SelectionOptions()
    prepared, problems = checked(applications, quotas, k, weights, reviews, options, labels=labels)
    k = prepared.pool.k
    pool = prepared.pool
    notes = tuple(p.message for p in problems if p.kind == "warning")
    prepared = with_changes(prepared, warnings=prepared.warnings + notes)
    solution = None if any(p.kind == "feasibility" for p in problems) else solve(pool)
    if solution is None:
        advice = advise(pool, prepared.quotas)
        # A minimum for a category no application has is most likely a misspelling: say so.
        absent = [p.message for p in problems if p.absent and p.kind == "feasibility"]
        raise InfeasibleQuotasError(
            [*absent, *advice.sentences], advice.conflicting, advice.changes
        )
    return _result(prepared, solution, applications, reviews, decide_only=decide_only)


def checked(
    applications: pd.DataFrame,
    quotas: QuotaTable | pd.DataFrame,
    k: int,
    weights: Mapping[str, float] | None,
    reviews: pd.DataFrame | None,
    options: SelectionOptions,
    *,
    labels: Labels | None = None,
) -> tuple[Prepared, list[Any]]:
    """:func:`prepare` after checking ``k``, with the quota table's problems: raises
    :class:`QuotaError` for a table that does not fit the applications. ``labels`` as for
    :func:`select`."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"The number of sites must be a whole number of 1 or more, not {k!r}.")
    k = int(k)
    table_q = read_quotas(quotas, k) if isinstance(quotas, pd.DataFrame) else quotas
    if labels is not None:
        table_q = with_changes(table_q, labels=labels)
    prepared = prepare(applications, table_q, k, weights, reviews, options)
    problems = check_quotas(
        prepared.quotas,
        applications,
        k,
        prepared.table["eligible"].to_numpy(dtype=bool),
        prepared.categories,
    )
    structural = [p.message for p in problems if p.kind == "structure"]
    if structural:
        raise QuotaError(structural)
    return prepared, list(problems)


def prepare(
    applications: pd.DataFrame,
    quotas: QuotaTable,
    k: int,
    weights: Mapping[str, float] | None,
    reviews: pd.DataFrame | None,
    options: SelectionOptions,
) -> Prepared:
    """Check and clean the applications, attach scores, and build the optimiser's pool."""
    if "id" not in applications.columns:
        raise InputError("The applications have no 'id' column.", column="id")
    w = normalise_weights(weights)
    n = len(applications)
    ids = parse_ids(applications["id"])
    table = pd.DataFrame({"id": ids.values})
    if "eligible" in applications.columns:
        table["eligible"] = parse_eligible(applications["eligible"]).to_numpy()
    else:
        table["eligible"] = np.ones(n, dtype=bool)
    eligible = table["eligible"].to_numpy(dtype=bool)
    if "ineligible_reason" in applications.columns:
        table["ineligible_reason"] = category_values(applications["ineligible_reason"]).to_numpy()
    else:
        table["ineligible_reason"] = ""
    warnings: list[str] = []
    if reviews is not None:
        scores = compute_scores(
            reviews, weights=w, min_reviews=options.min_reviews, calibrate=options.calibrate
        )
        warnings.extend(scores.warnings)
        unknown = sorted(set(scores.table.index) - set(table["id"]))
        if unknown:
            raise InputError(
                f"The reviews mention applications that are not in the applications table: "
                f"{', '.join(unknown[:10])}.",
                column="application_id",
            )
        joined = scores.table.reindex(table["id"].to_numpy())
        missing = eligible & joined["n_reviews"].isna().to_numpy()
        if missing.any():
            pos = int(np.flatnonzero(missing)[0])
            raise InputError(
                f"Row {pos + 2}, column 'id': application '{table['id'].iloc[pos]}' is eligible "
                "but has no reviews.",
                row=pos + 2,
                column="id",
            )
        for c in CRITERIA:
            table[c] = joined[c].to_numpy(dtype=float)
        table["n_reviews"] = joined["n_reviews"].to_numpy(dtype=float)
        table["score_raw"] = joined["score_raw"].to_numpy(dtype=float)
        table["flags"] = joined["flags"].fillna("").to_numpy()
        if "score_calibrated" in joined.columns:
            table["score_calibrated"] = joined["score_calibrated"].to_numpy(dtype=float)
    else:
        means = parse_ratings(
            applications.reset_index(drop=True), CRITERIA, eligible, "applications"
        )
        for c in CRITERIA:
            table[c] = means[c].to_numpy()
        table["score_raw"] = weighted_score(means, w)
        if "n_reviews" in applications.columns:
            counts = pd.to_numeric(applications["n_reviews"], errors="coerce").to_numpy(dtype=float)
            table["n_reviews"] = counts
            table["flags"] = flag_text(
                np.nan_to_num(counts, nan=0), np.zeros(n), options.min_reviews
            )
        else:
            table["flags"] = ""
    use_calibrated = "score_calibrated" in table.columns and not np.all(
        np.isnan(table["score_calibrated"].to_numpy(dtype=float))
    )
    table["score"] = table["score_calibrated"] if use_calibrated else table["score_raw"]
    categories = {
        dim: category_codes(applications[dim])
        for dim in quotas.dimensions
        if dim in applications.columns
    }
    for dim, coded in categories.items():
        warnings.extend(merge_warnings(dim, coded))
    # Bounds name categories as the applications spell them, so matching below is exact.
    quotas = align_quotas(quotas, categories)
    if options.one_per_organisation:
        if "organisation" not in applications.columns:
            raise InputError(
                "One site per organisation needs an 'organisation' column.", column="organisation"
            )
        table["organisation"] = category_values(applications["organisation"]).to_numpy()
    pool, positions, lottery, points = _build_pool(
        table, ids.order, quotas, categories, k, options, w, exact=not use_calibrated
    )
    return Prepared(
        table,
        pool,
        positions,
        quotas,
        points,
        lottery,
        options,
        w,
        tuple(warnings),
        categories,
    )


def _build_pool(
    table: pd.DataFrame,
    id_order: np.ndarray,
    quotas: QuotaTable,
    categories: Mapping[str, Categories],
    k: int,
    options: SelectionOptions,
    weights: Mapping[str, float],
    *,
    exact: bool,
) -> tuple[Pool, np.ndarray, np.ndarray, Points]:
    """The optimiser's view of the eligible applications, in id order, and their points."""
    eligible = table["eligible"].to_numpy(dtype=bool)
    positions = id_order[eligible[id_order]]
    exact_points = to_points(
        table[list(CRITERIA)].to_numpy(dtype=float)[positions],
        np.array([weights[c] for c in CRITERIA], dtype=float),
        table["score"].to_numpy(dtype=float)[positions],
        table["evidence"].to_numpy(dtype=float)[positions],
        options.score_decimals,
        exact=exact,
    )
    points, secondary = exact_points.points, exact_points.evidence
    rng = np.random.default_rng(options.seed)
    draw = rng.permutation(len(positions)).astype(np.int64)
    lottery = np.zeros(len(positions), dtype=bool)
    if options.lottery_band is not None and len(points) >= k:
        # Applications too close to tell apart at the cut-off share one score for the optimiser,
        # and the seeded draw orders them: the evidence tie-break is switched off among them.
        cut = int(np.sort(points)[::-1][k - 1])
        # The band in points, exactly: the shortest decimal that gives the band's float.
        band = math.floor(Fraction(repr(float(options.lottery_band))) * exact_points.scale)
        lottery = np.abs(points - cut) <= band
        points = np.where(lottery, cut, points)
        secondary = np.where(lottery, 0, secondary)
    profile, membership, lo, hi = quota_profiles(quotas, categories, positions)
    org = np.full(len(positions), -1, dtype=np.int64)
    if options.one_per_organisation and "organisation" in table.columns:
        org = shared_organisations(table["organisation"].to_numpy(dtype=str)[positions])
    pool = Pool(points, secondary, draw, profile, org, membership, lo, hi, k)
    return pool, positions, lottery, exact_points


def quota_profiles(
    quotas: QuotaTable, categories: Mapping[str, Categories], positions: np.ndarray
) -> tuple[np.ndarray, sparse.csr_array, np.ndarray, np.ndarray]:
    """The applications at ``positions`` as the optimiser balances them: each one's profile,
    the (bounds x profiles) membership matrix and the bounds (0 and infinity where absent).
    ``quotas`` must spell categories as the applications do (:func:`align_quotas`)."""
    dims = [d for d in quotas.dimensions if d in categories]
    profile, profile_codes = _profiles([categories[d] for d in dims], positions)
    n_prof = profile_codes.shape[0]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for b, bound in enumerate(quotas.bounds):
        if bound.dimension in dims:
            j = dims.index(bound.dimension)
            labels = categories[bound.dimension].labels
            hits = np.flatnonzero(labels[profile_codes[:, j]] == bound.category)
            rows.append(np.full(len(hits), b, dtype=np.int64))
            cols.append(hits.astype(np.int64))
    row_idx = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col_idx = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    membership = sparse.csr_array(
        (np.ones(len(row_idx)), (row_idx, col_idx)), shape=(len(quotas.bounds), n_prof)
    )
    lo = np.array([float(b.min or 0) for b in quotas.bounds])
    hi = np.array([float(b.max) if b.max is not None else np.inf for b in quotas.bounds])
    return profile, membership, lo, hi


def shared_organisations(names: np.ndarray) -> np.ndarray:
    """Numbers for organisations named on more than one application (-1 for the rest)."""
    _, inverse, counts = np.unique(names, return_inverse=True, return_counts=True)
    shared = (counts[inverse] > 1) & (names != "")
    return np.where(shared, inverse, -1).astype(np.int64)


def _profiles(coded: list[Categories], positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the attribute profiles of the applications at ``positions``.

    Returns each application's profile (profiles numbered in the order of their category codes,
    dimension by dimension) and, per profile, its category code in each dimension.
    """
    n = len(positions)
    if not coded:
        return np.zeros(n, dtype=np.int64), np.zeros((1, 0), dtype=np.int64)
    codes = [c.codes[positions] for c in coded]
    radix = [len(c.labels) + 1 for c in coded]
    if math.prod(radix) <= max(4 * n, 1 << 16):
        # Few possible profiles: one mixed-radix number per application, counted by a table.
        key = np.zeros(n, dtype=np.int64)
        for code, base in zip(codes, radix, strict=True):
            key = key * base + code
        present = np.zeros(math.prod(radix), dtype=bool)
        present[key] = True
        number = np.cumsum(present) - 1
        profile = number[key].astype(np.int64)
        keys = np.flatnonzero(present)
    else:
        # Many: combine one dimension at a time, renumbering to keep the numbers small.
        key = np.zeros(n, dtype=np.int64)
        for code, base in zip(codes, radix, strict=True):
            key = np.unique(key * base + code, return_inverse=True)[1].astype(np.int64)
        keys, first, profile = np.unique(key, return_index=True, return_inverse=True)
        return profile.astype(np.int64), np.column_stack([c[first] for c in codes])
    digits = np.empty((len(keys), len(coded)), dtype=np.int64)
    for j in range(len(coded) - 1, -1, -1):
        keys, digits[:, j] = np.divmod(keys, radix[j])
    return profile, digits


def _result(
    prepared: Prepared,
    solution: Solution,
    applications: pd.DataFrame,
    reviews: pd.DataFrame | None,
    *,
    decide_only: bool = False,
) -> SelectionResult:
    """Assemble decisions, bounds, summary and audit from a solved problem."""
    options = prepared.options
    table = prepared.table
    ids = table["id"].to_numpy()[prepared.eligible_pos]
    pool_scores = table["score"].to_numpy(dtype=float)[prepared.eligible_pos]
    reasons = with_changes(options, explain=False, price_bounds=False) if decide_only else options
    explained = explain.explain(
        prepared.pool,
        solution,
        prepared.quotas,
        reasons,
        prepared.points.scale,
        ids,
        pool_scores,
        prepared.points.points,
    )
    n = len(table)
    pos = prepared.eligible_pos
    decision = explain.filled_text(n, "ineligible")
    decision[pos] = explained.decision
    reason_code = explain.filled_text(n, "ineligible")
    reason = np.empty(n, dtype=object)
    screened_out = np.flatnonzero(~table["eligible"].to_numpy(dtype=bool))
    reason[screened_out] = [
        f"Not eligible: {r}." if r else "Not eligible at screening."
        for r in table["ineligible_reason"].to_numpy()[screened_out].tolist()
    ]
    reason_code[pos] = explained.reason_code
    reason[pos] = explained.reason
    reserve_values = np.zeros(n, dtype=np.int64)
    reserve_values[pos] = explained.reserve_number
    reserve = pd.arrays.IntegerArray(reserve_values, reserve_values == 0)
    # Rank 1 is the best score among eligible applications (evidence, then the draw, break ties).
    scores = table["score"].to_numpy(dtype=float)[pos]
    scale = prepared.points.scale
    rank_values = np.zeros(n, dtype=np.int64)
    if options.lottery_band is None:
        rank_values[pos] = prepared.pool.rank + 1  # the pool ranks by this very order
    else:  # the pool's points are pooled within the band; ranks use the scores themselves
        order = descending_order(
            prepared.points.points, prepared.points.evidence, prepared.pool.draw
        )
        rank_values[pos[order]] = np.arange(1, len(order) + 1)
    rank = pd.arrays.IntegerArray(rank_values, rank_values == 0)
    out = pd.DataFrame({"id": table["id"], "decision": decision, "rank": rank})
    out["score"] = table["score"].round(options.score_decimals)
    out["reason_code"] = reason_code
    out["reason"] = reason
    out["reserve_number"] = reserve
    needed = np.full(n, np.nan)
    needed[pos] = explained.points_needed
    out["points_needed"] = needed
    replaces = explain.filled_text(n, "")
    replaces[pos] = explained.can_replace
    out["can_replace"] = replaces
    for c in CRITERIA:
        out[c] = table[c].round(6)
    for extra in ("score_raw", "score_calibrated", "n_reviews"):
        if extra in table.columns and (extra != "score_raw" or "score_calibrated" in table.columns):
            out[extra] = table[extra].round(6)
    out["flags"] = table["flags"]
    lottery_col = np.zeros(n, dtype=bool)
    lottery_col[pos] = prepared.lottery
    if options.lottery_band is not None:
        out["in_lottery"] = lottery_col
    bounds = explained.bounds.copy()
    bounds["cost"] = bounds["cost"] / scale
    sel_scores = scores[solution.selected]
    top_total = float(_top(scores, prepared.pool.k).sum())
    total = float(sel_scores.sum())
    summary: dict[str, Any] = {
        "k": prepared.pool.k,
        "total_score": round(total, options.score_decimals),
        "unconstrained_total_score": round(top_total, options.score_decimals),
        "price_of_balance": round(top_total - total, options.score_decimals),
        "mean_selected_score": round(total / prepared.pool.k, options.score_decimals),
        "applications": n,
        "eligible": len(pos),
        "selected": int((decision == "selected").sum()),
        "reserves": int((decision == "reserve").sum()),
        "not_selected": int((decision == "not_selected").sum()),
        "ineligible": int((decision == "ineligible").sum()),
        "binding_bounds": int(bounds["binding"].sum()),
    }
    audit: dict[str, Any] = {
        "seed": options.seed,
        "inputs_sha256": inputs_digest(
            applications,
            prepared.quotas,
            prepared.pool.k,
            prepared.weights,
            reviews,
            options,
            prepared.categories,
        ),
        "weights": dict(prepared.weights),
        "k": prepared.pool.k,
        "options": options.as_dict(),
        "lottery_band": options.lottery_band,
        "lottery_members": int(prepared.lottery.sum()),
        "version": __version__,
        "scipy_version": scipy.__version__,
        "score_resolution": 1 / scale,
        "scores_compared": (
            "exactly"
            if prepared.points.exact
            else f"rounded to {options.score_decimals} decimal places"
        ),
        "tie_break": "total score, then total evidence mean, then a draw seeded by 'seed'",
        "rounding_notes": list(prepared.quotas.rounding_notes),
    }
    if solution.tie_break_stopped is not None:
        audit["tie_break_stopped_before"] = solution.tie_break_stopped
    warnings = (*prepared.warnings, *_tie_break_note(solution), *explained.notes)
    context = _Context(prepared, solution)
    return SelectionResult(out, bounds, summary, audit, warnings, context)


def _tie_break_note(solution: Solution) -> tuple[str, ...]:
    """A warning when the solver could not finish the tie-break (see :func:`solve`)."""
    if solution.tie_break_stopped == "evidence":
        return (
            "The tie-break stopped early. This selection has the highest total score possible "
            "under the quotas, but the solver could not finish choosing between selections with "
            "that same total by their evidence scores and the seeded draw.",
        )
    if solution.tie_break_stopped == "draw":
        return (
            "The tie-break stopped early. This selection has the highest total score possible "
            "under the quotas and, among those, the highest total evidence score, but the solver "
            "could not finish choosing between selections with those same totals by the seeded "
            "draw.",
        )
    return ()


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest values, largest first (as ``np.sort(values)[::-1][:k]``, faster)."""
    if k < len(values):
        values = np.partition(values, len(values) - k)[len(values) - k :]
    return np.sort(values)[::-1][:k]


@dataclass(frozen=True)
class _Context:
    """What :func:`replace` needs from a run."""

    prepared: Prepared
    solution: Solution


def inputs_digest(
    applications: pd.DataFrame,
    quotas: QuotaTable,
    k: int,
    weights: Mapping[str, float],
    reviews: pd.DataFrame | None,
    options: SelectionOptions,
    coded: Mapping[str, Categories] | None = None,
) -> str:
    """SHA-256 of the inputs in a canonical form: rows sorted by id, columns by name.

    Each frame contributes, column by column in name order: the name, byte 0x1d, the values
    (numbers as little-endian float64, anything else as the fixed-width UTF-32 text numpy makes
    of it, preceded by that dtype's name, such as ``<U7``), byte 0x1e.  Then the settings as
    JSON with sorted keys.  Stored runs compare this digest, so the format must not change.
    ``coded`` may pass columns of ``applications`` already coded by
    :func:`~selection.quotas.category_codes`, to save converting their text again.
    """
    digest = hashlib.sha256()

    def add_frame(
        frame: pd.DataFrame, key: list[str], coded: Mapping[str, Categories] | None = None
    ) -> None:
        # Rows in key order, columns by name; numbers as float64 bytes, everything else as text.
        present = [c for c in key if c in frame.columns]
        order = None
        if present:
            keys = frame[present].reset_index(drop=True)
            order = keys.sort_values(present, kind="stable").index.to_numpy()
        for name in sorted(map(str, frame.columns)):
            column = frame[name]
            digest.update(name.encode() + b"\x1d")
            # Arrays are hashed through their buffers: the same bytes as tobytes(), uncopied.
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                numbers = column.to_numpy(dtype="<f8", na_value=np.nan)
                digest.update(np.ascontiguousarray(_rows(numbers, order)).data)
                digest.update(b"\x1e")
                continue
            known = coded.get(name) if coded is not None else None
            if (
                known is not None
                and known.raw_codes is not None
                and known.raw_text is not None
                and len(known.raw_codes) == len(column)
                and isinstance(column.dtype, pd.StringDtype)
            ):
                text = known.raw_text[_rows(known.raw_codes, order)]
            else:
                text = _rows(column.to_numpy(dtype=str), order)
            text = np.ascontiguousarray(text)
            digest.update(str(text.dtype).encode())
            digest.update(text.data)
            digest.update(b"\x1e")

    add_frame(applications, ["id"], coded)
    add_frame(quotas.to_frame(), ["dimension", "category"])
    if reviews is not None:
        add_frame(reviews, ["application_id", "reviewer_id"])
    settings = {"k": k, "weights": dict(weights), "options": options.as_dict()}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def _rows(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """``values`` in ``order`` (or as they are)."""
    return values if order is None else values[order]


def replace(result: SelectionResult, withdrawn_ids: Iterable[str]) -> Replacement:
    """The best replacements for withdrawn sites, keeping every quota and every other site.

    Replacements are chosen by the same rule as the run itself (best total, then evidence, then
    the seeded draw), among eligible applications that were not selected.
    """
    context = result.context
    if not isinstance(context, _Context):
        raise InputError("This result does not carry the data needed to find replacements.")
    prepared, solution = context.prepared, context.solution
    ids = prepared.table["id"].to_numpy()[prepared.eligible_pos].astype(str)
    index = {v: i for i, v in enumerate(ids)}
    withdrawn = [str(w) for w in withdrawn_ids]
    chosen = set(solution.selected.tolist())
    for w in withdrawn:
        if w not in index or index[w] not in chosen:
            raise InputError(f"'{w}' is not one of the selected applications.")
    out = np.array(sorted(index[w] for w in withdrawn), dtype=np.int64)
    keep = np.setdiff1d(solution.selected, out)
    new = solve(prepared.pool, force=keep, exclude=out)
    if new is None:
        advice = [
            "No eligible application can replace "
            + ", ".join(withdrawn)
            + " while keeping every quota and every other selected site."
        ]
        raise InfeasibleQuotasError(advice)
    incoming = np.setdiff1d(new.selected, keep)
    order = np.argsort(prepared.pool.rank[incoming])
    incoming_ids = tuple(str(ids[i]) for i in incoming[order])
    scores = prepared.table["score"].to_numpy(dtype=float)[prepared.eligible_pos]
    reasons = tuple(
        f"{rid} (score {scores[i]:.{prepared.options.score_decimals}f}) is the best eligible "
        "application that keeps every quota with the other selected sites."
        for rid, i in zip(incoming_ids, incoming[order], strict=True)
    )
    selected = tuple(
        str(ids[i]) for i in new.selected[np.argsort(prepared.pool.rank[new.selected])]
    )
    return Replacement(
        withdrawn=tuple(withdrawn),
        replacements=incoming_ids,
        selected=selected,
        total_score=round(float(scores[new.selected].sum()), prepared.options.score_decimals),
        reasons=reasons,
    )
