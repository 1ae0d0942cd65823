"""Exact optimal selection under quotas with ``scipy.optimize.milp`` (HiGHS).

The model is kept small by one observation: applications with identical quota attributes (a
*profile*) are interchangeable, so given how many are taken from a profile, the best ones are taken.
There is one integer count per profile and one continuous 0-1 variable per candidate, where only
the best ``k`` (and no more than the tightest maximum) of each profile are candidates.  Quota bounds
are rows over the profile counts, built with sparse matrices.

Scores are whole *points*, so the optimum is exact.  Ties are broken by further solves, never by
jitter or large weights: the second solve keeps the best total and maximises the total evidence
points, the third keeps both and maximises the seeded draw.  The winning profile counts are then
filled by the best applications of each profile in that same order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from selection.errors import SelectionError

IntArray = np.ndarray
"""A one-dimensional numpy array of integers (kept simple for readability in signatures)."""

_INF = np.inf

DIRECT_LIMIT = 300
"""Models with at most this many candidates skip the LP pass, which costs more than it saves.
Tests lower it to 0 to check the LP path on small pools too."""


@dataclass(frozen=True)
class Pool:
    """The eligible applications as the optimiser sees them, in canonical (id) order.

    ``rank`` is each application's place in the published order (points, then evidence points,
    then the seeded draw; 0 is best), so "the best n of a profile" is "the n smallest ranks".
    ``membership`` is a sparse (bounds x profiles) 0/1 matrix; ``lo``/``hi`` the bounds (0 and
    infinity where absent).  ``org`` numbers organisations with several applications (-1 for none)
    when one site per organisation is required.
    """

    points: IntArray
    secondary: IntArray
    draw: IntArray
    profile: IntArray
    org: IntArray
    membership: sparse.csr_array
    lo: np.ndarray
    hi: np.ndarray
    k: int
    rank: IntArray = field(init=False)
    by_profile: tuple[IntArray, ...] = field(init=False)

    def __post_init__(self) -> None:
        order = np.lexsort((-self.draw, -self.secondary, -self.points))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        object.__setattr__(self, "rank", rank)
        n_profiles = self.membership.shape[1]
        prof_sorted = self.profile[order]
        stable = np.argsort(prof_sorted, kind="stable")
        members = order[stable]
        cuts = np.searchsorted(prof_sorted[stable], np.arange(n_profiles + 1))
        groups = tuple(members[cuts[p] : cuts[p + 1]] for p in range(n_profiles))
        object.__setattr__(self, "by_profile", groups)

    @property
    def n(self) -> int:
        """Number of eligible applications."""
        return len(self.points)

    @property
    def n_profiles(self) -> int:
        """Number of distinct quota-attribute profiles."""
        return int(self.membership.shape[1])

    def counts(self, selected: IntArray) -> np.ndarray:
        """How many of ``selected`` fall in each bound's category."""
        per_profile = np.bincount(self.profile[selected], minlength=self.n_profiles)
        return np.asarray(self.membership @ per_profile, dtype=np.int64)

    def feasible(self, selected: IntArray) -> bool:
        """Whether a set of applications has exactly k members and meets every bound."""
        if len(selected) != self.k or len(np.unique(selected)) != self.k:
            return False
        c = self.counts(selected)
        if np.any(c < self.lo) or np.any(c > self.hi):
            return False
        if np.any(self.org >= 0):
            orgs = self.org[selected]
            orgs = orgs[orgs >= 0]
            if len(orgs) != len(np.unique(orgs)):
                return False
        return True


@dataclass(frozen=True)
class Solution:
    """An optimal selection: the chosen indices (into the pool) and its totals.

    ``basis`` keeps the model and its LP relaxation (when one was solved) so that follow-up
    questions such as "the best selection that includes i" can reuse the LP's reduced costs.
    """

    selected: IntArray
    total: int
    secondary_total: int
    basis: _Basis | None = field(default=None, repr=False, compare=False)


@dataclass
class _Model:
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


def solve(
    pool: Pool,
    *,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
    force: Sequence[int] | IntArray = (),
    exclude: Sequence[int] | IntArray = (),
    tie_break: bool = True,
) -> Solution | None:
    """The optimal selection under the given bounds, or None when none exists.

    ``lo``/``hi`` override the pool's bounds (for "what if this bound were dropped" re-solves);
    ``force`` lists applications that must be selected and ``exclude`` ones that may not be.
    With ``tie_break`` the result is the unique published optimum; without it, any optimum.
    """
    lo = pool.lo if lo is None else lo
    hi = pool.hi if hi is None else hi
    forced = np.unique(np.asarray(force, dtype=np.int64))
    excluded = np.unique(np.asarray(exclude, dtype=np.int64))
    full = _build(pool, lo, hi, forced, excluded)
    if full is None:
        return None
    if len(full.cand) <= DIRECT_LIMIT:
        return _solve_directly(pool, full, tie_break)
    relaxed = _relaxation(full, pool.points)
    if relaxed is None:
        return None
    # Reduced-cost fixing: a candidate whose LP reduced cost exceeds the gap between the LP bound
    # and the optimum is in (or out of) every optimal selection, so the MILP need not see it.
    # The gap is not known in advance: guess, and widen the guess until the answer confirms it.
    gap = max(8.0, 1e-9 * abs(relaxed.bound))
    if relaxed.counts is not None:
        # The LP optimum already has whole profile counts, so it is an optimal selection.
        model = full
        x = np.concatenate([np.zeros(len(full.cand)), relaxed.counts])
        best = round(relaxed.bound)
    while relaxed.counts is None:
        model = _compress(relaxed.fix(full, gap))
        found = _run(model, _objective(model, pool.points))
        if found is not None:
            x, best = found, _value(model, pool.points, found)
            if relaxed.bound - best <= gap:
                break
            gap = max(2.0 * gap, relaxed.bound - best + 1.0)
        elif not relaxed.fixes_any(gap):
            return None
        else:
            gap *= 4.0
    basis = _Basis(full, relaxed)
    if tie_break:
        # Lexicographic tie-break: evidence points, then the seeded draw, each solved over the
        # optimal selections of the stage before.  When that stage's LP bound is attained, its
        # optimal face is described by complementary slackness (fixed columns, tight rows), which
        # keeps the model as easy as the first solve; otherwise a row holds the stage's total.
        values_by_stage = (pool.points, pool.secondary, _draw_rank(pool))
        stage_lp: _Relaxation | None = relaxed
        source = full
        for stage in (0, 1):
            values = values_by_stage[stage]
            value = best if stage == 0 else _value(model, values, x)
            if stage > 0:
                stage_lp, source = _relaxation(model, values), model
            next_values = values_by_stage[stage + 1]
            x_next = None
            if stage_lp is not None and _attained(stage_lp.bound, value):
                face = _compress(stage_lp.face(source))
                x_next = _run(face, _objective(face, next_values))
            if x_next is None:  # bound not attained, or numerically doubtful: hold the total
                face = _with_floor(model, values, value)
                x_next = _run(face, _objective(face, next_values))
            if x_next is None:
                raise SelectionError("The tie-break lost the optimum; please report this input.")
            model, x = face, x_next
    selected = _fill(pool, model, x)
    return Solution(
        selected, int(pool.points[selected].sum()), int(pool.secondary[selected].sum()), basis
    )


def _attained(bound: float, value: int) -> bool:
    """Whether an LP bound equals a whole-number optimum up to solver noise.

    A fractional LP optimum sits at least a small fraction (typically 1/2 or 1/3) above the
    integer one, far more than the tolerance here.
    """
    return abs(bound - value) <= 1e-3 + 1e-9 * abs(value)


@dataclass(frozen=True)
class _Basis:
    """A full model with its LP relaxation, reusable for questions about the same bounds."""

    model: _Model
    relaxation: _Relaxation


def best_total_with(pool: Pool, solution: Solution, i: int) -> int | None:
    """The best total of any selection under the pool's bounds that includes application ``i``.

    The LP duals of the original solve still bound every selection, so forcing ``i`` in needs
    only a small MILP over the candidates whose reduced costs are within the gap; the gap is
    guessed and widened until the answer confirms it, as in :func:`solve`.
    """
    basis = solution.basis
    column = np.flatnonzero(basis.model.cand == i) if basis is not None else np.zeros(0)
    if basis is None or len(column) != 1:
        forced = solve(pool, force=[i], tie_break=False)
        return None if forced is None else forced.total
    col = int(column[0])
    relaxed = basis.relaxation
    ceiling = relaxed.bound - float(relaxed.cost_in[col])
    largest = float(max(relaxed.cost_in.max(initial=0.0), relaxed.cost_out.max(initial=0.0)))
    gap = 8.0
    while True:
        fixed = relaxed.fix(basis.model, gap)
        fixed.lb[col] = fixed.ub[col] = 1.0
        model = _compress(fixed)
        x = _run(model, _objective(model, pool.points))
        if x is not None:
            value = _value(model, pool.points, x)
            if ceiling - value <= gap:
                return value
            gap = max(2.0 * gap, ceiling - value + 1.0)
        elif gap > largest:
            return None
        else:
            gap *= 4.0


def _solve_directly(pool: Pool, model: _Model, tie_break: bool) -> Solution | None:
    """Small models: one MILP per stage, each stage's optimum held by a row in the next."""
    x = _run(model, _objective(model, pool.points))
    if x is None:
        return None
    if tie_break:
        stages = (pool.points, pool.secondary, _draw_rank(pool))
        for values, next_values in itertools.pairwise(stages):
            model = _with_floor(model, values, _value(model, values, x))
            x_next = _run(model, _objective(model, next_values))
            if x_next is None:
                raise SelectionError("The tie-break lost the optimum; please report this input.")
            x = x_next
    selected = _fill(pool, model, x)
    return Solution(selected, int(pool.points[selected].sum()), int(pool.secondary[selected].sum()))


def _draw_rank(pool: Pool) -> IntArray:
    """The seeded draw as ranks 1..n: the same order in the smallest whole numbers."""
    ranks = np.empty(pool.n, dtype=np.int64)
    ranks[np.argsort(pool.draw, kind="stable")] = np.arange(1, pool.n + 1)
    return ranks


def _objective(model: _Model, values: IntArray) -> np.ndarray:
    """An objective vector over the model's columns from per-application values."""
    return np.concatenate([values[model.cand], np.zeros(model.n_profiles)]).astype(float)


def _value(model: _Model, values: IntArray, x: np.ndarray) -> int:
    """The total of ``values`` over a model solution, counting the applications fixed in."""
    return round(float(_objective(model, values) @ x)) + int(values[model.forced].sum())


@dataclass(frozen=True)
class _Relaxation:
    """An LP relaxation's bound with reduced costs per column and which rows have a dual."""

    bound: float
    cost_in: np.ndarray
    cost_out: np.ndarray
    row_at_hi: np.ndarray
    row_at_lo: np.ndarray
    tolerance: float
    counts: np.ndarray | None = None
    """The LP's profile counts when they are whole numbers (then the LP optimum is a selection)."""

    def fixes_any(self, gap: float) -> bool:
        """Whether fixing with this gap removes any column at all."""
        return bool(np.any(self.cost_in > gap) or np.any(self.cost_out > gap))

    def fix(self, model: _Model, gap: float) -> _Model:
        """A copy of ``model`` with every column whose reduced cost exceeds ``gap`` fixed."""
        lb, ub = model.lb.copy(), model.ub.copy()
        out, inside = self.cost_in > gap, self.cost_out > gap
        ub[out] = lb[out]
        lb[inside] = ub[inside]
        return replace(model, lb=lb, ub=ub)

    def face(self, model: _Model) -> _Model:
        """``model`` restricted to the LP's optimal face (valid when the LP bound is attained)."""
        fixed = self.fix(model, self.tolerance)
        row_lo, row_hi = fixed.row_lo.copy(), fixed.row_hi.copy()
        row_lo[self.row_at_hi] = row_hi[self.row_at_hi]
        row_hi[self.row_at_lo] = row_lo[self.row_at_lo]
        return replace(fixed, row_lo=row_lo, row_hi=row_hi)


def _relaxation(model: _Model, values: IntArray) -> _Relaxation | None:
    """Solve the LP relaxation maximising the total of ``values``; None when it is infeasible.

    The bound counts the applications already fixed in, so it compares with :func:`_value`.
    ``cost_in`` is how much the bound drops per unit a column rises above its lower bound,
    ``cost_out`` per unit it falls below its upper bound: reduced costs, 0 or more.

    Candidates of one profile with the same value are identical columns, so the LP sees each such
    group as one column bounded by its size; the reduced costs are the same for every member.
    """
    objective = _objective(model, values)
    group, reps, sizes = _identical_columns(model, objective)
    columns = np.concatenate([reps, len(model.cand) + np.arange(model.n_profiles)])
    matrix = sparse.csr_array(model.matrix[:, columns])
    lb = np.concatenate([model.lb[reps] * sizes, model.lb[len(model.cand) :]])
    ub = np.concatenate([model.ub[reps] * sizes, model.ub[len(model.cand) :]])
    eq = model.row_lo == model.row_hi
    upper = ~eq & np.isfinite(model.row_hi)
    lower = ~eq & np.isfinite(model.row_lo)
    up_rows, low_rows = np.flatnonzero(upper), np.flatnonzero(lower)
    a_ub = sparse.vstack([matrix[up_rows], -matrix[low_rows]], format="csr")
    b_ub = np.concatenate([model.row_hi[upper], -model.row_lo[lower]])
    has_ub = len(b_ub) > 0
    res = linprog(
        -objective[columns],
        A_ub=a_ub if has_ub else None,
        b_ub=b_ub if has_ub else None,
        A_eq=matrix[np.flatnonzero(eq)],
        b_eq=model.row_lo[eq],
        bounds=np.column_stack([lb, ub]),
        method="highs",
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise SelectionError(f"The solver stopped without an optimal answer: {res.message}")
    # Duals of a 0/1 model with whole-number data are fractions with small denominators, so a
    # relative tolerance far above solver noise still separates true zeros from non-zeros.
    tol = 1e-6 * max(1.0, float(np.max(np.abs(objective), initial=0.0)))
    duals = np.asarray(res.ineqlin.marginals) if has_ub else np.zeros(0)
    row_at_hi = np.zeros(len(model.row_lo), dtype=bool)
    row_at_lo = np.zeros(len(model.row_lo), dtype=bool)
    row_at_hi[up_rows] = np.abs(duals[: len(up_rows)]) > tol
    row_at_lo[low_rows] = np.abs(duals[len(up_rows) :]) > tol
    # Back from grouped columns to one entry per model column.
    expand = np.concatenate([group, len(reps) + np.arange(model.n_profiles)])
    counts = np.asarray(res.x[len(reps) :], dtype=float)
    whole = np.rint(counts)
    integral = not model.integer_cand.any() and bool(np.all(np.abs(counts - whole) < 1e-7))
    return _Relaxation(
        bound=-float(res.fun) + float(values[model.forced].sum()),
        cost_in=np.maximum(np.asarray(res.lower.marginals), 0.0)[expand],
        cost_out=np.maximum(-np.asarray(res.upper.marginals), 0.0)[expand],
        row_at_hi=row_at_hi,
        row_at_lo=row_at_lo,
        tolerance=tol,
        counts=whole if integral else None,
    )


def _identical_columns(
    model: _Model, objective: np.ndarray
) -> tuple[IntArray, IntArray, np.ndarray]:
    """Group candidate columns that are interchangeable in the LP: same profile, same objective,
    free 0-1 bounds, and no entry outside their profile's link row.

    Returns each candidate's group, each group's first column and each group's size.
    """
    n_c = len(model.cand)
    entries = np.diff(sparse.csc_array(model.matrix[:, :n_c]).indptr)
    alone = ~model.integer_cand & (entries == 1) & (model.lb[:n_c] == 0) & (model.ub[:n_c] == 1)
    profile_key = np.where(alone, model.cand_profile, -1 - np.arange(n_c))
    value_key = np.where(alone, objective[:n_c], 0.0)
    order = np.lexsort((value_key, profile_key))
    new_group = np.ones(n_c, dtype=bool)
    new_group[1:] = (np.diff(profile_key[order]) != 0) | (np.diff(value_key[order]) != 0)
    group = np.empty(n_c, dtype=np.int64)
    group[order] = np.cumsum(new_group) - 1
    reps = order[new_group]
    sizes = np.bincount(group, minlength=len(reps)).astype(float)
    return group, reps.astype(np.int64), sizes


def _with_floor(model: _Model, values: IntArray, total: int) -> _Model:
    """``model`` plus a row keeping the total of ``values`` at least ``total``."""
    row = sparse.csr_array(_objective(model, values).reshape(1, -1))
    floor = float(total - int(values[model.forced].sum()))
    return replace(
        model,
        matrix=sparse.csr_array(sparse.vstack([model.matrix, row], format="csr")),
        row_lo=np.append(model.row_lo, floor),
        row_hi=np.append(model.row_hi, _INF),
    )


def _compress(model: _Model) -> _Model:
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
    return _Model(
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


def _build(
    pool: Pool, lo: np.ndarray, hi: np.ndarray, forced: IntArray, exclude: IntArray
) -> _Model | None:
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
    cand_parts: list[IntArray] = []
    for p in range(n_prof):
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
    cand = np.concatenate(cand_parts) if cand_parts else np.zeros(0, dtype=np.int64)
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
    return _Model(cand, cand_profile, integer_cand, forced, n_prof, matrix, row_lo, row_hi, lb, ub)


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


def _run(
    model: _Model, objective: np.ndarray, extra: Sequence[LinearConstraint] = ()
) -> np.ndarray | None:
    """Maximise ``objective`` over the model plus ``extra`` rows; the solution vector or None."""
    integrality = np.concatenate(
        [model.integer_cand.astype(int), np.ones(model.n_profiles, dtype=int)]
    )
    res = milp(
        -objective,
        integrality=integrality,
        bounds=Bounds(model.lb, model.ub),
        constraints=[LinearConstraint(model.matrix, model.row_lo, model.row_hi), *extra],
        options={"mip_rel_gap": 0.0, "presolve": True},
    )
    if res.status == 2:
        return None
    if res.status != 0 or res.x is None:
        raise SelectionError(f"The solver stopped without an optimal answer: {res.message}")
    return np.asarray(res.x, dtype=float)


def _fill(pool: Pool, model: _Model, x: np.ndarray) -> IntArray:
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
