"""A true reason for every decision, the price of each binding quota, and the reserve list.

Every claim is backed by a solve: "selected to meet the Wales minimum" means the re-solve without
that minimum leaves the site out; "needed 0.25 more points" comes from a re-solve that forces the
application in.  Those exact re-solves are done for the applications nearest the cut-off; the rest
get a cheaper statement that is still true (the lowest selected site they could have replaced).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from selection.errors import SelectionError
from selection.optimise import Solution, best_totals_with, solve
from selection.options import TOP_SCORE, SelectionOptions
from selection.pool import Pool
from selection.quotas import QuotaTable

_NAMED_SITES = 5
"""How many replaceable sites a reserve's reason names before saying "and N others"."""


@dataclass(frozen=True)
class Explained:
    """Per pool application (id order): decision, reason code and sentence, reserve number."""

    decision: np.ndarray
    reason_code: np.ndarray
    reason: np.ndarray
    reserve_number: np.ndarray  # 0 where not a reserve
    points_needed: np.ndarray
    can_replace: np.ndarray
    bounds: pd.DataFrame
    notes: tuple[str, ...] = ()
    """Warnings about reasons that could not be worked out in full."""


def explain(
    pool: Pool,
    solution: Solution,
    quotas: QuotaTable,
    options: SelectionOptions,
    scale: int,
    ids: np.ndarray,
    scores: np.ndarray,
    real_points: np.ndarray | None = None,
) -> Explained:
    """Decisions and reasons for the eligible applications of one solved run.

    ``scale`` is points per unit of score; ``real_points`` the points before a lottery band
    pooled them (``pool.points`` when None).
    """
    k, n = pool.k, pool.n
    decimals = options.score_decimals
    real_points = pool.points if real_points is None else real_points
    unrounded = scores
    # Rounded once, so every sentence shows the same figure as the decisions' score column.
    scores = np.round(scores, decimals)
    selected = np.zeros(n, dtype=bool)
    selected[solution.selected] = True
    in_top = pool.rank < k
    in_bound = pool.membership.toarray() > 0  # bounds x profiles

    def member(b: int, i: int) -> bool:
        return bool(in_bound[b, pool.profile[i]])

    counts = pool.counts(solution.selected)
    priced = price_bounds(pool, solution, quotas, options)
    notes = list(priced.notes)
    at_min, at_max = priced.at_min, priced.at_max
    # Claims about single quotas are only made when the re-solves used the published tie-break.
    without = priced.without if options.explain else {}

    def label(b: int) -> str:
        return quotas.label(quotas.bounds[b])

    decision = filled_text(n, "not_selected")
    decision[selected] = "selected"
    code = filled_text(n, "")
    reason = filled_text(n, "")
    ordinal = pool.rank + 1
    points_needed = np.full(n, np.nan)
    can_replace = filled_text(n, "")
    sel_scores = np.where(selected, scores, np.inf)

    for i in np.flatnonzero(selected & in_top).tolist():
        code[i] = "selected_merit"
        reason[i] = (
            f"Selected on merit: ranked {ordinal[i]} of {n} eligible applications, inside the top "
            f"{k} that would be chosen with no quotas."
        )
    for i in np.flatnonzero(selected & ~in_top).tolist():
        mins = [b for b in without if at_min[b] and member(b, i) and not without[b][i]]
        maxes = [b for b in without if at_max[b] and not member(b, i) and not without[b][i]]
        if mins:
            b = mins[0]
            code[i] = "selected_minimum"
            reason[i] = (
                f"Selected to meet the minimum of {_sites(quotas.bounds[b].min)} for {label(b)}: "
                f"it ranked {ordinal[i]} of {n}, outside the top {k}, and would not be chosen "
                "without that minimum."
            )
        elif maxes:
            b = maxes[0]
            code[i] = "selected_balance"
            reason[i] = (
                f"Selected because the maximum of {_sites(quotas.bounds[b].max)} for {label(b)} "
                f"was reached: it ranked {ordinal[i]} of {n}, outside the top {k}, and would not "
                "be chosen without that maximum."
            )
        else:
            code[i] = "selected_quotas"
            reason[i] = (
                f"Selected to meet the quotas: it ranked {ordinal[i]} of {n}, outside the top "
                f"{k} that would be chosen with no quotas."
            )

    org_holder = _organisation_holders(pool, selected)
    for i in np.flatnonzero(~selected & in_top).tolist():
        maxes = [b for b in without if at_max[b] and member(b, i) and without[b][i]]
        mins = [b for b in without if at_min[b] and not member(b, i) and without[b][i]]
        if maxes:
            b = maxes[0]
            lowest = float(np.min(np.where(in_bound[b, pool.profile], sel_scores, np.inf)))
            code[i] = "max_reached"
            if quotas.bounds[b].max == 0:
                reason[i] = (
                    f"Not selected: the quotas allow no sites for {label(b)} "
                    f"(maximum of 0 sites for {label(b)})."
                )
                continue
            reason[i] = (
                f"Not selected: the maximum of {_sites(quotas.bounds[b].max)} for {label(b)} was "
                f"reached; the lowest selected score in {label(b)} was {lowest:.{decimals}f} "
                f"and this application scored {scores[i]:.{decimals}f}."
            )
        elif pool.org[i] >= 0 and org_holder.get(int(pool.org[i]), -1) >= 0:
            code[i] = "organisation"
            reason[i] = (
                "Not selected: only one site per organisation can be chosen, and "
                f"{ids[org_holder[int(pool.org[i])]]} from the same organisation was selected."
            )
        elif mins:
            b = mins[0]
            code[i] = "displaced_by_minimum"
            reason[i] = (
                f"Not selected: it ranked {ordinal[i]} of {n}, inside the top {k}, but its place "
                f"went to meet the minimum of {_sites(quotas.bounds[b].min)} for {label(b)}."
            )

    swaps = _swap_table(pool, counts)
    reserve_number = np.zeros(n, dtype=np.int64)
    by_rank = np.empty(n, dtype=np.int64)
    by_rank[pool.rank] = np.arange(n)  # ranks are a permutation: this is its inverse
    sel_idx = np.flatnonzero(selected)
    left_out = set(pool.left_out.tolist())
    n_reserves = 0
    for place in range(n):
        if n_reserves >= options.reserves:
            break
        i = int(by_rank[place])
        if selected[i] or i in left_out:  # staff took it out: it is no one's reserve
            continue
        partners = _partners(pool, i, sel_idx, swaps, org_holder)
        if len(partners) == 0:
            continue
        n_reserves += 1
        decision[i] = "reserve"
        reserve_number[i] = n_reserves
        code[i] = "reserve"
        by_place = partners[np.argsort(pool.rank[partners])]
        names = [str(ids[j]) for j in by_place]
        can_replace[i] = ";".join(names)
        if len(partners) == k:
            which = "any of the selected sites"
        elif len(names) > _NAMED_SITES:
            which = (
                ", ".join(names[:_NAMED_SITES])
                + f" or {len(names) - _NAMED_SITES} other selected sites"
            )
        else:
            which = " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
        why = str(reason[i]).replace("Not selected: ", "", 1)
        if not why and in_top[i]:
            why = (
                f"it ranked {ordinal[i]} of {n}, inside the top {k}, but the quotas taken "
                "together left no place for it: the selected sites are the highest-scoring set "
                "that meets every quota."
            )
        elif not why:
            lowest = int(by_place[-1])
            why = (
                f"it scored {scores[i]:.{decimals}f} and ranked {ordinal[i]} of {n}, outside the "
                f"top {k}; the lowest-scoring selected site it could replace scored "
                f"{scores[lowest]:.{decimals}f} ({ids[lowest]})."
            )
        above = "" if n_reserves == 1 else " and no reserve above it can take that place"
        reason[i] = (
            f"Reserve {n_reserves}: not selected because {why} It comes in if a selected site "
            f"withdraws{above}: it can take the place of {which} while keeping every quota."
        )

    window_size = options.exact_window if options.explain else 0
    unexplained = by_rank[~selected[by_rank] & (code[by_rank] == "")]
    window = unexplained[:window_size]
    # The best single swap is a selection that includes the application: when the LP bound meets
    # its total, that total is the exact answer without a re-solve.
    swap_with = _lowest_partners(pool, window, sel_idx, swaps, org_holder)
    known = [
        None if j < 0 else solution.total - int(pool.points[j]) + int(pool.points[i])
        for i, j in zip(window.tolist(), swap_with.tolist(), strict=True)
    ]
    try:
        forced = best_totals_with(pool, solution, window.tolist(), known)
    except SelectionError:  # the solver stopped: these get the cheaper statement below
        notes.append(
            "The solver could not work out exactly how many more points the applications "
            "nearest the cut-off needed; their reasons name the lowest selected site they "
            "could have replaced instead."
        )
        window, forced = window[:0], []
    for i, forced_total in zip(window.tolist(), forced, strict=True):
        if forced_total is None:
            code[i] = "cannot_fit"
            reason[i] = "Not selected: no selection that includes it can meet every quota."
            continue
        # The lowest shown score above its own plus the points it lacked: strictly above, as
        # a tie at that total goes to the selected sites.
        lacked = int(real_points[i]) + solution.total - forced_total
        enough = (lacked * 10**decimals // scale + 1) / 10**decimals
        points_needed[i] = round(enough - scores[i], decimals)
        code[i] = "below_cutoff_exact"
        if enough > TOP_SCORE and not options.calibrate:
            # A score no one can be given is not a useful target: say so instead.
            reason[i] = (
                f"Not selected: it scored {scores[i]:.{decimals}f} and cannot get in on score "
                f"alone: even the highest possible score, {TOP_SCORE:.{decimals}f}, would not be "
                "enough with the quotas as they are."
            )
            continue
        reason[i] = (
            f"Not selected: it scored {scores[i]:.{decimals}f} and would have needed "
            f"{points_needed[i]:.{decimals}f} more points (a score of at least "
            f"{enough:.{decimals}f}) to be selected."
        )
    rest = np.flatnonzero(code == "")
    partner = _lowest_partners(pool, rest, sel_idx, swaps, org_holder)
    code[rest] = "below_cutoff"
    # Applications with the same score and the same partner get the same sentence, and there
    # are few such pairs: each sentence is written once (at 100,000 applications a sentence per
    # application is the slow part).
    reason[rest] = _below_cutoff_sentences(scores, rest, partner, ids, decimals)
    # Where a shown score ties with the selected site it could have replaced, say what decided.
    behind = np.flatnonzero(np.isin(code, ("reserve", "below_cutoff", "below_cutoff_exact")))
    ahead = _lowest_partners(pool, behind, sel_idx, swaps, org_holder)
    tied = ahead >= 0
    behind, ahead = behind[tied], ahead[tied]
    tied = scores[behind] == scores[ahead]
    for i, j in zip(behind[tied].tolist(), ahead[tied].tolist(), strict=True):
        why = _tie_sentence(pool, solution, options, i, j, ids, unrounded)
        if why:
            reason[i] = f"{reason[i]} {why}"
    return Explained(
        decision,
        code,
        reason,
        reserve_number,
        points_needed,
        can_replace,
        priced.table,
        tuple(notes),
    )


@dataclass(frozen=True)
class PricedBounds:
    """The quota table with pool and selected counts, which bounds bind, and what each costs.

    ``without[b]`` marks the selection re-solved with binding bound ``b`` dropped (when that
    re-solve applied the whole tie-break); ``notes`` say what could not be priced.
    """

    table: pd.DataFrame
    at_min: np.ndarray
    at_max: np.ndarray
    without: dict[int, np.ndarray]
    notes: tuple[str, ...] = ()


def price_bounds(
    pool: Pool, solution: Solution, quotas: QuotaTable, options: SelectionOptions
) -> PricedBounds:
    """Re-solve without each binding bound: the points it costs and who would be chosen then."""
    counts = pool.counts(solution.selected)
    in_bound = pool.membership.toarray() > 0
    pool_counts = in_bound.astype(np.int64) @ np.bincount(pool.profile, minlength=pool.n_profiles)
    at_min = np.array(
        [
            b.min is not None and b.min > 0 and c == b.min
            for b, c in zip(quotas.bounds, counts, strict=True)
        ],
        dtype=bool,
    )
    at_max = np.array(
        [b.max is not None and c == b.max for b, c in zip(quotas.bounds, counts, strict=True)],
        dtype=bool,
    )
    binding = at_min | at_max
    cost = np.full(len(quotas.bounds), np.nan)
    without: dict[int, np.ndarray] = {}
    unpriced: list[str] = []
    if options.price_bounds or options.explain:
        for b in np.flatnonzero(binding).tolist():
            lo, hi = pool.lo.copy(), pool.hi.copy()
            if at_min[b]:
                lo[b] = 0.0
            if at_max[b]:
                hi[b] = np.inf
            try:
                relaxed = solve(pool, lo=lo, hi=hi, tie_break=options.explain)
            except SelectionError:  # the solver stopped: this bound goes unpriced, the run goes on
                relaxed = None
            if relaxed is None:  # dropping a bound only enlarges the feasible set
                unpriced.append(quotas.label(quotas.bounds[b]))
                continue
            cost[b] = relaxed.total - solution.total
            if relaxed.tie_break_stopped is None:  # claims need the published tie-break
                mask = np.zeros(pool.n, dtype=bool)
                mask[relaxed.selected] = True
                without[b] = mask
    table = quotas.to_frame()
    table["pool"] = pool_counts.astype(np.int64)
    table["selected"] = counts.astype(np.int64)
    table["binding"] = binding
    table["cost"] = cost
    notes: tuple[str, ...] = ()
    if unpriced:
        notes = (
            "The solver could not work out what these quotas cost, so their cost is left blank: "
            + "; ".join(unpriced)
            + ". The selection itself is not affected.",
        )
    return PricedBounds(table, at_min, at_max, without, notes)


def _tie_sentence(
    pool: Pool,
    solution: Solution,
    options: SelectionOptions,
    i: int,
    j: int,
    ids: np.ndarray,
    scores: np.ndarray,
) -> str:
    """How not-selected ``i`` came behind selected ``j`` when their shown scores are the same.

    The keys are the optimiser's own (a lottery band pools scores and drops evidence), and
    ``i`` could take ``j``'s place, so the published order put ``j`` first.
    """
    decimals = options.score_decimals
    shown = f"{scores[j]:.{decimals}f}"
    if pool.points[i] < pool.points[j]:
        places = next(
            (p for p in range(decimals + 1, 16) if f"{scores[i]:.{p}f}" != f"{scores[j]:.{p}f}"),
            16,
        )
        return (
            f"Its score and that of {ids[j]} are both shown as {shown}, but before rounding "
            f"{ids[j]} scored higher ({scores[j]:.{places}f} against {scores[i]:.{places}f})."
        )
    if pool.points[i] != pool.points[j]:
        return ""
    if solution.tie_break_stopped == "evidence":
        return (
            f"It tied with {ids[j]} on score ({shown}); the tie-break could not be finished "
            "(see the warnings)."
        )
    if pool.secondary[i] < pool.secondary[j]:
        return (
            f"It tied with {ids[j]} on score ({shown}), and ties are broken by the evidence "
            f"score, where {ids[j]} scored higher."
        )
    if pool.secondary[i] != pool.secondary[j]:
        return ""
    if solution.tie_break_stopped == "draw":
        return (
            f"It tied with {ids[j]} on score ({shown}) and on evidence; the tie-break could not "
            "be finished (see the warnings)."
        )
    return (
        f"It tied with {ids[j]} on score ({shown}) and on evidence, so the random draw (seed "
        f"{options.seed}) decided, and it put {ids[j]} first."
    )


def filled_text(n: int, value: str) -> np.ndarray:
    """An object array of ``n`` copies of ``value``.

    ``np.full`` would convert the text to a new string object for every element (slow at
    100,000 rows); ``fill`` stores the one object.
    """
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _sites(count: int | None) -> str:
    """ "1 site", "3 sites"."""
    return f"{count} site" if count == 1 else f"{count} sites"


def _below_cutoff_sentences(
    scores: np.ndarray, apps: np.ndarray, partner: np.ndarray, ids: np.ndarray, decimals: int
) -> np.ndarray:
    """The "below the cut-off" sentence for each of ``apps`` given its lowest partner (or -1)."""
    # Grouped by hashing (pandas.factorize), which needs no sort; groups are numbered in order
    # of first appearance, so a group's first member is where the running maximum rises.
    own, distinct = pd.factorize(scores[apps], use_na_sentinel=False)
    key = own.astype(np.int64) * (len(scores) + 1) + (partner + 1)
    which = pd.factorize(key)[0]
    if len(which) == 0:
        return np.zeros(0, dtype=object)
    running = np.maximum.accumulate(which)
    first = np.flatnonzero(np.concatenate([[True], running[1:] > running[:-1]]))
    text: list[str] = []
    for o, j in zip(own[first].tolist(), partner[first].tolist(), strict=True):
        mine = f"{distinct[o]:.{decimals}f}"
        if j < 0:
            text.append(
                f"Not selected: it scored {mine}, below the cut-off, and it could not take the "
                "place of any single selected site without breaking a quota."
            )
        else:
            text.append(
                f"Not selected: it scored {mine}, below the cut-off; the lowest-scoring selected "
                f"site it could have replaced while keeping every quota scored "
                f"{scores[j]:.{decimals}f} ({ids[j]})."
            )
    return np.asarray(np.array(text, dtype=object)[which], dtype=object)


def _organisation_holders(pool: Pool, selected: np.ndarray) -> dict[int, int]:
    """For each organisation with a selected site (when one per organisation applies), that site."""
    holders: dict[int, int] = {}
    for j in np.flatnonzero(selected & (pool.org >= 0)):
        holders[int(pool.org[j])] = int(j)
    return holders


@dataclass(frozen=True)
class _Swaps:
    """Which single swaps keep every bound, worked out per *signature*: the set of full and
    short bounds a profile belongs to.  Profiles with the same signature swap alike, and a run
    has few signatures, so the table stays small however many profiles there are.

    ``ok[a, b]``: whether an application of signature ``a`` can take the place of a selected one
    of signature ``b``.
    """

    signature: np.ndarray  # per profile
    ok: np.ndarray  # signatures x signatures, bool

    def allowed(self, q: int, profiles: np.ndarray) -> np.ndarray:
        """Whether a profile-``q`` application can replace selected members of ``profiles``."""
        return np.asarray(self.ok[self.signature[q], self.signature[profiles]])


def _swap_table(pool: Pool, counts: np.ndarray) -> _Swaps:
    """Which one-for-one swaps keep every bound.

    A swap breaks a bound only if it adds to a category already at its maximum (q in, p not) or
    takes from one at its minimum (p in, q not).
    """
    m = pool.membership.toarray() > 0  # bounds x profiles
    full = m[counts >= pool.hi].T  # profiles x full bounds
    short = m[counts <= pool.lo].T
    keys = np.concatenate([full, short], axis=1)
    if keys.shape[1] == 0:
        return _Swaps(np.zeros(pool.n_profiles, dtype=np.int64), np.ones((1, 1), dtype=bool))
    unique, signature = np.unique(keys, axis=0, return_inverse=True)
    f, h = unique[:, : full.shape[1]], unique[:, full.shape[1] :]
    # in (a) adds to a full bound out (b) does not leave; out (b) leaves a short bound in lacks.
    breaks = (f[:, None, :] & ~f[None, :, :]).any(axis=2) | (h[None, :, :] & ~h[:, None, :]).any(
        axis=2
    )
    return _Swaps(np.asarray(signature, dtype=np.int64).reshape(-1), ~breaks)


def _partners(
    pool: Pool, i: int, sel_idx: np.ndarray, swaps: _Swaps, holders: dict[int, int]
) -> np.ndarray:
    """The selected applications whose place application ``i`` could take."""
    ok = swaps.allowed(int(pool.profile[i]), pool.profile[sel_idx])
    if pool.org[i] >= 0 and int(pool.org[i]) in holders:
        ok &= sel_idx == holders[int(pool.org[i])]
    return np.asarray(sel_idx[ok])


def _lowest_partners(
    pool: Pool, apps: np.ndarray, sel_idx: np.ndarray, swaps: _Swaps, holders: dict[int, int]
) -> np.ndarray:
    """For each of ``apps``, the lowest-scoring selected application whose place it could take
    (-1 if none), worked out once per signature rather than once per application."""
    n_sig = swaps.ok.shape[0]
    # The lowest-scoring selected application of each signature (the worst-ranked among equals).
    lowest = np.full(n_sig, -1, dtype=np.int64)
    sel_sig = swaps.signature[pool.profile[sel_idx]]
    worst = np.full(n_sig, -1, dtype=np.int64)
    np.maximum.at(worst, sel_sig, pool.rank[sel_idx])
    is_worst = pool.rank[sel_idx] == worst[sel_sig]
    lowest[sel_sig[is_worst]] = sel_idx[is_worst]
    has = lowest >= 0
    worth = np.where(has, pool.points[np.maximum(lowest, 0)], np.iinfo(np.int64).max)
    tie = np.where(has, -pool.rank[np.maximum(lowest, 0)], 0)
    order = np.lexsort((tie, worth))  # signatures from the cheapest selected site upwards
    ok_sorted = swaps.ok[:, order] & has[order][None, :]
    first = np.argmax(ok_sorted, axis=1)
    best_for = np.where(ok_sorted.any(axis=1), lowest[order][first], -1)
    result = best_for[swaps.signature[pool.profile[apps]]]
    # Where one site per organisation applies and the organisation already has a site, that
    # site is the only one it could replace.
    if holders:
        holder_of = np.full(int(pool.org.max()) + 1, -1, dtype=np.int64)
        holder_of[np.fromiter(holders.keys(), dtype=np.int64)] = np.fromiter(
            holders.values(), dtype=np.int64
        )
        org = pool.org[apps]
        holder = np.where(org >= 0, holder_of[np.maximum(org, 0)], -1)
        tied = holder >= 0
        safe_holder = np.maximum(holder, 0)
        can = swaps.ok[
            swaps.signature[pool.profile[apps]], swaps.signature[pool.profile[safe_holder]]
        ]
        result = np.where(tied, np.where(can, holder, -1), result)
    return np.asarray(result, dtype=np.int64)
