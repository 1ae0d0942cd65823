"""The MILP over profile counts that the optimiser solves: built, reformulated and solved.

Applications with identical quota attributes (a *profile*) are interchangeable, so given how many
are taken from a profile, the best ones are taken.  There is one integer count per profile and one
continuous 0-1 variable per candidate, where only the best ``k`` (and no more than the tightest
maximum) of each profile are candidates.  Quota bounds are rows over the profile counts, built with
sparse matrices.  What HiGHS is given is smaller still, by exact reformulations: the counts are
substituted out (leaving one row per quota bound) and candidates of a profile with equal value
become one column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint

from selection.pool import IntArray, Pool
from selection.solver import milp_solution

_INF = np.inf


@dataclass
class Model:
    """One MILP instance over profile counts and candidate variables."""

    cand: IntArray  # pool index of each candidate column
    cand_profile: IntArray
    integer_cand: np.ndarray  # bool: candidate must be integral (shares an organisation)
    forced: IntArray
    n_profiles: int
    matrix: sparse.csr_array
    row_lo: np.ndarray
    row_hi: np.ndarray
    lb: np.ndarray
    ub: np.ndarray


def with_floor(model: Model, values: IntArray, total: int) -> Model:
    """``model`` plus a row keeping the total of ``values`` at least ``total``."""
    row = sparse.csr_array(objective_over(model, values).reshape(1, -1))
    floor = float(total - int(values[model.forced].sum()))
    return replace(
        model,
        matrix=sparse.csr_array(sparse.vstack([model.matrix, row], format="csr")),
        row_lo=np.append(model.row_lo, floor),
        row_hi=np.append(model.row_hi, _INF),
    )


def compress(model: Model) -> Model:
    """Drop candidate columns fixed at 0 and move those fixed at 1 into the forced set."""
    n_c = len(model.cand)
    fixed = model.lb[:n_c] == model.ub[:n_c]
    if not fixed.any():
        return model
    keep = np.concatenate([~fixed, np.ones(model.n_profiles, dtype=bool)])
    ones = np.zeros(n_c + model.n_profiles)
    ones[:n_c][fixed] = model.lb[:n_c][fixed]
    shift = model.matrix @ ones
    fixed_in = model.cand[fixed & (model.lb[:n_c] > 0.5)]
    return Model(
        cand=model.cand[~fixed],
        cand_profile=model.cand_profile[~fixed],
        integer_cand=model.integer_cand[~fixed],
        forced=np.union1d(model.forced, fixed_in).astype(np.int64),
        n_profiles=model.n_profiles,
        matrix=sparse.csr_array(model.matrix[:, np.flatnonzero(keep)]),
        row_lo=model.row_lo - shift,
        row_hi=model.row_hi - shift,
        lb=model.lb[keep],
        ub=model.ub[keep],
    )


def build_model(
    pool: Pool, lo: np.ndarray, hi: np.ndarray, forced: IntArray, exclude: IntArray
) -> Model | None:
    """The candidate columns and constraint rows, or None when trivially infeasible."""
    k = pool.k
    if len(forced) > k:
        return None
    n_prof = pool.n_profiles
    blocked = np.zeros(pool.n, dtype=bool)
    blocked[exclude] = True
    blocked[forced] = True
    if np.any(pool.org >= 0) and len(forced):
        forced_orgs = pool.org[forced]
        forced_orgs = forced_orgs[forced_orgs >= 0]
        if len(forced_orgs) != len(np.unique(forced_orgs)):
            return None
        blocked |= np.isin(pool.org, forced_orgs)
    forced_per_profile = np.bincount(pool.profile[forced], minlength=n_prof)
    member = pool.membership
    # The tightest maximum over the bounds containing each profile caps how many it can give.
    cap_hi = np.full(n_prof, float(k))
    coo = member.tocoo()
    np.minimum.at(cap_hi, coo.col, hi[coo.row])
    cap = np.maximum(np.minimum(cap_hi, k) - forced_per_profile, 0).astype(np.int64)
    if not np.any(pool.org >= 0):
        # Each profile's best ``cap`` applications that are not blocked, in one pass.
        member_profile = pool.profile[pool.members]
        open_ = ~blocked[pool.members]
        running = np.concatenate([[0], np.cumsum(open_)])
        place = running[1:] - 1 - running[pool.starts[:-1]][member_profile]
        cand = pool.members[open_ & (place < cap[member_profile])]
    else:
        cand = _candidates_with_organisations(pool, cap, blocked)
    cand_profile = pool.profile[cand]
    n_c = len(cand)
    integer_cand = np.zeros(n_c, dtype=bool)
    rows: list[tuple[sparse.csr_array, np.ndarray, np.ndarray]] = []
    # Link rows: sum of a profile's candidate variables minus its count = minus its forced count.
    link = sparse.hstack(
        [
            sparse.csr_array((np.ones(n_c), (cand_profile, np.arange(n_c))), shape=(n_prof, n_c)),
            sparse.csr_array(-sparse.identity(n_prof)),
        ],
        format="csr",
    )
    fixed = -forced_per_profile.astype(float)
    rows.append((link, fixed, fixed))
    total = sparse.hstack([sparse.csr_array((1, n_c)), sparse.csr_array(np.ones((1, n_prof)))])
    rows.append((sparse.csr_array(total), np.array([float(k)]), np.array([float(k)])))
    active = (lo > 0) | np.isfinite(hi)
    if active.any():
        sub = member[np.flatnonzero(active)]
        quota_rows = sparse.hstack([sparse.csr_array((sub.shape[0], n_c)), sub], format="csr")
        rows.append((sparse.csr_array(quota_rows), lo[active], hi[active]))
    if np.any(pool.org >= 0) and n_c:
        orgs = pool.org[cand]
        shared = (orgs >= 0) & _duplicated(orgs, keep_all=True)
        if shared.any():
            integer_cand = shared
            codes, inverse = np.unique(orgs[shared], return_inverse=True)
            cols = np.flatnonzero(shared)
            org_rows = sparse.csr_array(
                (np.ones(len(cols)), (inverse, cols)), shape=(len(codes), n_c + n_prof)
            )
            n_org = len(codes)
            rows.append((org_rows, np.full(n_org, -_INF), np.ones(n_org)))
    lb = np.concatenate([np.zeros(n_c), forced_per_profile.astype(float)])
    sizes = np.bincount(cand_profile, minlength=n_prof)
    ub = np.concatenate([np.ones(n_c), (forced_per_profile + sizes).astype(float)])
    matrix = sparse.csr_array(sparse.vstack([r[0] for r in rows], format="csr"))
    row_lo = np.concatenate([r[1] for r in rows])
    row_hi = np.concatenate([r[2] for r in rows])
    return Model(cand, cand_profile, integer_cand, forced, n_prof, matrix, row_lo, row_hi, lb, ub)


def _candidates_with_organisations(pool: Pool, cap: IntArray, blocked: np.ndarray) -> IntArray:
    """Each profile's candidates when one site per organisation applies."""
    cand_parts: list[IntArray] = []
    for p in range(pool.n_profiles):
        if cap[p] == 0:
            continue
        members = pool.by_profile[p]
        members = members[~blocked[members]]
        orgs = pool.org[members]
        if np.any(orgs >= 0):
            # Applications that share an organisation are not interchangeable with the rest of
            # their profile: keep each organisation's best one, unless cap better applications
            # without an organisation clash are already there to take its place.
            free = orgs < 0
            keep = free | ~_duplicated(orgs)
            better_free = np.cumsum(free) - free
            members = members[
                keep & (free & (better_free < cap[p]) | ~free & (better_free < cap[p]))
            ]
        else:
            members = members[: cap[p]]
        cand_parts.append(members)
    return np.concatenate(cand_parts) if cand_parts else np.zeros(0, dtype=np.int64)


def _duplicated(values: IntArray, keep_all: bool = False) -> np.ndarray:
    """Which entries repeat an earlier value (or, with ``keep_all``, occur more than once)."""
    _, first, inverse, counts = np.unique(
        values, return_index=True, return_inverse=True, return_counts=True
    )
    if keep_all:
        return np.asarray(counts[inverse] > 1)
    dup = np.ones(len(values), dtype=bool)
    dup[first] = False
    return dup


@dataclass(frozen=True)
class Substituted:
    """A model's rows over its candidates alone, the profile counts substituted out.

    A profile's count is the sum of its candidates less ``link_rhs`` (its link row), so every
    other row becomes a row over candidates with shifted bounds.  A count's own bounds become a
    row too, for the profiles in ``tight`` where they are tighter than its candidates' bounds
    imply; those rows come last.  ``own_rows`` counts each candidate's entries outside the link
    rows (organisation or floor rows): candidates without any are interchangeable within their
    profile.
    """

    rows: sparse.csr_array
    row_lo: np.ndarray
    row_hi: np.ndarray
    link_rhs: np.ndarray
    tight: IntArray
    own_rows: IntArray


def substitute(model: Model) -> Substituted:
    """``model`` without its link rows and count columns (see :class:`Substituted`)."""
    n_c, n_p = len(model.cand), model.n_profiles
    link_rhs = model.row_lo[:n_p]  # sum of profile p's candidates - count_p = link_rhs[p]
    link = sparse.csr_array((np.ones(n_c), (model.cand_profile, np.arange(n_c))), shape=(n_p, n_c))
    rest = sparse.csr_array(model.matrix[n_p:])
    on_counts = sparse.csr_array(rest[:, n_c:])
    on_cand = sparse.csr_array(rest[:, :n_c])
    shift = on_counts @ link_rhs
    rows = sparse.csr_array(on_cand + on_counts @ link)
    row_lo = model.row_lo[n_p:] + shift
    row_hi = model.row_hi[n_p:] + shift
    count_lb, count_ub = model.lb[n_c:], model.ub[n_c:]
    implied_lo = np.bincount(model.cand_profile, model.lb[:n_c], minlength=n_p) - link_rhs
    implied_hi = np.bincount(model.cand_profile, model.ub[:n_c], minlength=n_p) - link_rhs
    tight = np.flatnonzero((count_lb > implied_lo + 1e-9) | (count_ub < implied_hi - 1e-9))
    if len(tight):
        rows = sparse.csr_array(sparse.vstack([rows, link[tight]], format="csr"))
        row_lo = np.concatenate([row_lo, count_lb[tight] + link_rhs[tight]])
        row_hi = np.concatenate([row_hi, count_ub[tight] + link_rhs[tight]])
    own_rows = np.bincount(on_cand.indices, minlength=n_c)
    return Substituted(rows, row_lo, row_hi, link_rhs, tight, own_rows)


def identical_columns(
    model: Model, objective: np.ndarray, no_rows: np.ndarray
) -> tuple[IntArray, IntArray, np.ndarray]:
    """Group candidate columns that are interchangeable in the LP: same profile, same objective,
    free 0-1 bounds, and (``no_rows``) no entry outside their profile's link row.

    Returns each candidate's group, each group's first column and each group's size.
    """
    n_c = len(model.cand)
    alone = ~model.integer_cand & no_rows & (model.lb[:n_c] == 0) & (model.ub[:n_c] == 1)
    profile_key = np.where(alone, model.cand_profile, -1 - np.arange(n_c))
    value_key = np.where(alone, objective, 0.0)
    order = np.lexsort((value_key, profile_key))
    new_group = np.ones(n_c, dtype=bool)
    new_group[1:] = (np.diff(profile_key[order]) != 0) | (np.diff(value_key[order]) != 0)
    group = np.empty(n_c, dtype=np.int64)
    group[order] = np.cumsum(new_group) - 1
    reps = order[new_group]
    sizes = np.bincount(group, minlength=len(reps)).astype(float)
    return group, reps.astype(np.int64), sizes


def solve_model(
    model: Model,
    objective: np.ndarray,
    extra: Sequence[LinearConstraint] = (),
    *,
    recheck: bool = False,
) -> np.ndarray | None:
    """Maximise ``objective`` over the model plus ``extra`` rows; the solution vector or None.
    ``recheck`` as for :func:`selection.solver.milp_solution`.

    When every candidate is interchangeable with the others of its profile and value (no
    organisation or floor rows), the MILP is solved over the substituted model with one integer
    per group of identical candidates: HiGHS finds that form far easier than count variables
    tied to continuous candidates, and the two have the same optima (whole counts are whole
    group amounts once each profile's best are taken, and the reverse).
    """
    n_c = len(model.cand)
    if not extra and n_c and not model.integer_cand.any():
        sub = substitute(model)
        if not sub.own_rows.any():
            return _run_grouped(model, objective, sub, recheck)
    integrality = np.concatenate(
        [model.integer_cand.astype(int), np.ones(model.n_profiles, dtype=int)]
    )
    return milp_solution(
        -objective,
        integrality,
        Bounds(model.lb, model.ub),
        [LinearConstraint(model.matrix, model.row_lo, model.row_hi), *extra],
        recheck,
    )


def _run_grouped(
    model: Model, objective: np.ndarray, sub: Substituted, recheck: bool
) -> np.ndarray | None:
    """:func:`solve_model` over groups of identical candidates (see there); a point of ``model``."""
    n_c = len(model.cand)
    group, reps, sizes = identical_columns(model, objective[:n_c], sub.own_rows == 0)
    x = milp_solution(
        -objective[reps],
        np.ones(len(reps), dtype=np.uint8),
        Bounds(model.lb[reps] * sizes, model.ub[reps] * sizes),
        [LinearConstraint(sparse.csc_array(sub.rows)[:, reps], sub.row_lo, sub.row_hi)],
        recheck,
    )
    if x is None:
        return None
    x_cand = x[group] / sizes[group]
    counts = np.bincount(model.cand_profile, x_cand, minlength=model.n_profiles) - sub.link_rhs
    return np.concatenate([x_cand, np.rint(counts)])


def objective_over(model: Model, values: IntArray) -> np.ndarray:
    """An objective vector over the model's columns from per-application values."""
    return np.concatenate([values[model.cand], np.zeros(model.n_profiles)]).astype(float)


def total_over(pool: Pool, model: Model, values: IntArray, x: np.ndarray) -> int:
    """The total of ``values`` over the selection a model solution gives (fixed-in included).

    Counted in whole numbers over the filled selection rather than read from ``x``, whose
    entries are only as exact as the solver's tolerances.  At a stage's optimum the two agree:
    each profile's best are at least as good as any of its members.
    """
    return int(values[fill(pool, model, x)].sum())


def fill(pool: Pool, model: Model, x: np.ndarray) -> IntArray:
    """The selected applications: forced ones, integral ones, then each profile's best."""
    n_c = len(model.cand)
    counts = np.rint(x[n_c:]).astype(np.int64)
    chosen: list[IntArray] = [model.forced]
    taken = np.bincount(pool.profile[model.forced], minlength=model.n_profiles)
    if model.integer_cand.any():
        ints = np.flatnonzero(model.integer_cand & (x[:n_c] > 0.5))
        chosen.append(model.cand[ints])
        taken = taken + np.bincount(model.cand_profile[ints], minlength=model.n_profiles)
    free = ~model.integer_cand
    free_cand = model.cand[free]
    free_prof = model.cand_profile[free]
    # Candidates are stored profile by profile in rank order, so the first m of each are the best.
    need = counts - taken
    starts = np.searchsorted(free_prof, np.arange(model.n_profiles), side="left")
    ends = np.searchsorted(free_prof, np.arange(model.n_profiles), side="right")
    for p in np.flatnonzero(need > 0):
        chosen.append(free_cand[starts[p] : min(ends[p], starts[p] + need[p])])
    return np.sort(np.concatenate(chosen)).astype(np.int64)
