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

What HiGHS is given is smaller still, by exact reformulations: the counts are substituted out
(leaving one row per quota bound), candidates of a profile with equal value become one column,
LPs are solved by column generation from the likely columns, and each stage's LP is tried
before its MILP, which is skipped when the LP's counts are whole.  Most runs need no MILP at all.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

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
    members: IntArray = field(init=False)
    """Every application, profile by profile and best first within each: ``by_profile`` joined."""
    starts: IntArray = field(init=False)
    """Where each profile's run in ``members`` starts (and, last, the end)."""

    def __post_init__(self) -> None:
        order = descending_order(self.points, self.secondary, self.draw)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        object.__setattr__(self, "rank", rank)
        n_profiles = self.membership.shape[1]
        prof_sorted = self.profile[order]
        if n_profiles <= np.iinfo(np.uint16).max:
            prof_sorted = prof_sorted.astype(np.uint16)  # numpy sorts these stably by radix
        stable = np.argsort(prof_sorted, kind="stable")
        members = order[stable]
        cuts = np.searchsorted(prof_sorted[stable], np.arange(n_profiles + 1))
        groups = tuple(members[cuts[p] : cuts[p + 1]] for p in range(n_profiles))
        object.__setattr__(self, "by_profile", groups)
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "starts", cuts)

    @cached_property
    def draw_rank(self) -> IntArray:
        """The seeded draw as ranks 1..n: the same order in the smallest whole numbers (kept,
        as every tie-broken solve uses it)."""
        ranks = np.empty(self.n, dtype=np.int64)
        ranks[np.argsort(self.draw, kind="stable")] = np.arange(1, self.n + 1)
        return ranks

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


def descending_order(*keys: IntArray) -> IntArray:
    """Positions sorted by the first key, highest first, then the next, ... then position.

    The same order as ``np.lexsort`` of the negated keys; when the keys' ranges allow, they are
    packed into one integer per position first, which sorts several times faster.
    """
    n = len(keys[0]) if keys else 0
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    packed = np.zeros(n, dtype=np.int64)
    room = 1
    for key in keys:
        top, bottom = int(key.max()), int(key.min())
        room *= top - bottom + 1
        if room >= 2**62:
            return np.lexsort(tuple(-key for key in reversed(keys))).astype(np.int64)
        packed = packed * (top - bottom + 1) + (top - key)
    return np.argsort(packed, kind="stable").astype(np.int64)


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
    tie_break_stopped: str | None = None
    """The tie-break key (``"evidence"`` or ``"draw"``) the solver could not apply, if any: the
    selection then has the best total, and is best by each key before that one."""


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
        model, x, best = full, relaxed.x, round(relaxed.bound)
    while relaxed.counts is None:
        model = _compress(relaxed.fix(full, gap))
        # Only an answer that ends the search needs an 'infeasible' checked (see _milp).
        found = _run(model, _objective(model, pool.points), recheck=not relaxed.fixes_any(gap))
        if found is not None:
            x, best = found, _value(pool, model, pool.points, found)
            if relaxed.bound - best <= gap:
                break
            gap = max(2.0 * gap, relaxed.bound - best + 1.0)
        elif not relaxed.fixes_any(gap):
            return None
        else:
            gap *= 4.0
    basis = _Basis(full, relaxed)
    stopped = None
    if tie_break:
        # Lexicographic tie-break: evidence points, then the seeded draw, each solved over the
        # optimal selections of the stage before.  When that stage's LP bound is attained, its
        # optimal face is described by complementary slackness (fixed columns, tight rows), which
        # keeps the model as easy as the first solve; otherwise a row holds the stage's total.
        # The next stage's LP over that face is solved first: when its counts are whole it is
        # that stage's optimum, and either way it describes the next face.
        values_by_stage = (pool.points, pool.secondary, pool.draw_rank)
        stage_lp: _Relaxation | None = relaxed
        source = full
        held: list[tuple[IntArray, int]] = []
        for stage in (0, 1):
            values = values_by_stage[stage]
            held.append((values, best if stage == 0 else _value(pool, model, values, x)))
            next_values = values_by_stage[stage + 1]
            x_next = None
            next_lp: _Relaxation | None = None
            if stage_lp is not None and _attained(stage_lp.bound, held[-1][1]):
                face = _compress(stage_lp.face(source))
                try:
                    next_lp = _relaxation(face, next_values)
                except SolverStopped:
                    next_lp = None
                if next_lp is not None and next_lp.counts is not None:
                    x_next = next_lp.x
                else:
                    x_next = _stage(face, next_values)
            if x_next is None or not _keeps(pool, face, x_next, held):
                # Bound not attained, or numerically doubtful: a row holds the stage's total.
                face = _with_floor(model, values, held[-1][1])
                next_lp = None
                x_next = _stage(face, next_values)
            if x_next is None or not _keeps(pool, face, x_next, held):
                stopped = TIE_BREAK_KEYS[stage + 1]
                break
            model, x = face, x_next
            stage_lp, source = next_lp, face
            if stage_lp is None and stage == 0:
                try:
                    stage_lp = _relaxation(model, next_values)
                except SolverStopped:
                    stage_lp = None
    selected = _fill(pool, model, x)
    return Solution(
        selected,
        int(pool.points[selected].sum()),
        int(pool.secondary[selected].sum()),
        basis,
        stopped,
    )


TIE_BREAK_KEYS = ("total score", "evidence", "draw")
"""What each stage of the tie-break maximises; :attr:`Solution.tie_break_stopped` names one."""


def _stage(model: _Model, values: IntArray) -> np.ndarray | None:
    """A tie-break stage's optimum, or None when the solver gives none.

    The stage's model holds an earlier stage's optimum, so it is never truly infeasible: a
    failure here is the solver's, and the caller keeps the earlier stage's selection.
    """
    try:
        return _run(model, _objective(model, values), recheck=True)
    except SolverStopped:
        return None


def _keeps(pool: Pool, model: _Model, x: np.ndarray, held: list[tuple[IntArray, int]]) -> bool:
    """Whether a tie-break stage's answer keeps every earlier stage's total exactly.

    HiGHS meets each row only up to its tolerance; this check in whole numbers makes sure a
    stage can never give up the best total (or evidence) for a better draw.
    """
    return all(_value(pool, model, values, x) == total for values, total in held)


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


def best_total_with(pool: Pool, solution: Solution, i: int, known: int | None = None) -> int | None:
    """The best total of any selection under the pool's bounds that includes application ``i``.

    The LP duals of the original solve still bound every selection, so forcing ``i`` in needs
    only a small MILP over the candidates whose reduced costs are within the gap; the gap is
    guessed and widened until the answer confirms it, as in :func:`solve`.  ``known`` is the
    total of a selection already known to include ``i`` (such as a single swap): when the LP
    bound, rounded down, meets it, no selection can do better and no MILP is needed.
    """
    return _best_total_with(pool, solution, i, known, _FIRST_GAP)[0]


_FIRST_GAP = 8.0
"""The first guess at the gap between an LP bound and the best total (see :func:`solve`)."""


def best_totals_with(
    pool: Pool, solution: Solution, apps: Sequence[int], known: Sequence[int | None]
) -> list[int | None]:
    """:func:`best_total_with` for each of ``apps`` (``known`` likewise, one per application).

    Applications near the cut-off tend to need similar gaps, so each starts from the gap the one
    before needed instead of the first guess: usually one MILP each rather than a guess and a
    wider retry.  The gap only sets how much work confirms the answer, never the answer.
    """
    guess = _FIRST_GAP
    totals: list[int | None] = []
    for i, sure in zip(apps, known, strict=True):
        total, needed = _best_total_with(pool, solution, int(i), sure, guess)
        totals.append(total)
        guess = max(guess, needed)
    return totals


def _best_total_with(
    pool: Pool, solution: Solution, i: int, known: int | None, guess: float
) -> tuple[int | None, float]:
    """:func:`best_total_with`, starting from the gap ``guess``; also the gap that confirmed it."""
    basis = solution.basis
    column = np.flatnonzero(basis.model.cand == i) if basis is not None else np.zeros(0)
    if basis is None or len(column) != 1:
        forced = solve(pool, force=[i], tie_break=False)
        return (None if forced is None else forced.total), guess
    col = int(column[0])
    relaxed = basis.relaxation
    ceiling = relaxed.bound - float(relaxed.cost_in[col])
    if known is not None and math.floor(ceiling + 1e-6) <= known:
        return known, guess
    largest = float(max(relaxed.cost_in.max(initial=0.0), relaxed.cost_out.max(initial=0.0)))
    gap = guess
    if known is not None:
        # The known selection survives fixing with this gap (each column it contradicts costs
        # it no more than the gap), so the first MILP reaches at least ``known`` and confirms.
        gap = max(gap, ceiling - known)
    while True:
        fixed = relaxed.fix(basis.model, gap)
        fixed.lb[col] = fixed.ub[col] = 1.0
        model = _compress(fixed)
        x = _run(model, _objective(model, pool.points), recheck=gap > largest)
        if x is not None:
            value = _value(pool, model, pool.points, x)
            if ceiling - value <= gap:
                return value, ceiling - value
            gap = max(2.0 * gap, ceiling - value + 1.0)
        elif gap > largest:
            return None, guess
        else:
            gap *= 4.0


def _solve_directly(pool: Pool, model: _Model, tie_break: bool) -> Solution | None:
    """Small models: one MILP per stage, each stage's optimum held by a row in the next."""
    x = _run(model, _objective(model, pool.points), recheck=True)
    if x is None:
        return None
    stopped = None
    if tie_break:
        stages = (pool.points, pool.secondary, pool.draw_rank)
        held: list[tuple[IntArray, int]] = []
        for stage, (values, next_values) in enumerate(itertools.pairwise(stages)):
            held.append((values, _value(pool, model, values, x)))
            face = _with_floor(model, values, held[-1][1])
            x_next = _stage(face, next_values)
            if x_next is None or not _keeps(pool, face, x_next, held):
                stopped = TIE_BREAK_KEYS[stage + 1]
                break
            model, x = face, x_next
    selected = _fill(pool, model, x)
    return Solution(
        selected,
        int(pool.points[selected].sum()),
        int(pool.secondary[selected].sum()),
        tie_break_stopped=stopped,
    )


def _objective(model: _Model, values: IntArray) -> np.ndarray:
    """An objective vector over the model's columns from per-application values."""
    return np.concatenate([values[model.cand], np.zeros(model.n_profiles)]).astype(float)


def _value(pool: Pool, model: _Model, values: IntArray, x: np.ndarray) -> int:
    """The total of ``values`` over the selection a model solution gives (fixed-in included).

    Counted in whole numbers over the filled selection rather than read from ``x``, whose
    entries are only as exact as the solver's tolerances.  At a stage's optimum the two agree:
    each profile's best are at least as good as any of its members.
    """
    return int(values[_fill(pool, model, x)].sum())


@dataclass(frozen=True)
class _Relaxation:
    """An LP relaxation's bound with reduced costs per column and which rows have a dual."""

    bound: float
    cost_in: np.ndarray
    cost_out: np.ndarray
    row_at_hi: np.ndarray
    row_at_lo: np.ndarray
    tolerance: float
    x: np.ndarray
    """An LP optimum as a point of the model (candidate columns, then profile counts)."""
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

    The LP is solved over the candidates alone.  A profile's count is the sum of its candidate
    variables less a constant (its link row), so substituting it leaves one row per quota bound
    (plus any organisation or floor rows) instead of one more row per profile.  Candidates of one
    profile with the same value and no row of their own are then identical columns, so the LP sees
    each such group as one column bounded by its size; every member has the group's reduced cost.
    Both steps are exact reformulations, so bound, duals and optimal face are those of ``model``.
    """
    n_c, n_p = len(model.cand), model.n_profiles
    objective = values[model.cand].astype(float)
    sub = _substitute(model)
    row_lo, row_hi, tight = sub.row_lo, sub.row_hi, sub.tight
    if n_c == 0:
        return _fixed_point(model, values, sub)
    group, reps, sizes = _identical_columns(model, objective, sub.own_rows == 0)
    rows = sub.rows
    matrix = sparse.csc_array(sparse.csc_array(rows)[:, reps])
    answer = _linear_program(
        matrix,
        row_lo,
        row_hi,
        -objective[reps],
        model.lb[reps] * sizes,
        model.ub[reps] * sizes,
        _column_priority(model, objective, group, reps),
        2 * round(float(model.row_lo[n_p])),  # the total row: sites still to choose
    )
    if answer is None:
        return None
    # Duals of a 0/1 model with whole-number data are fractions with small denominators, so a
    # relative tolerance far above solver noise still separates true zeros from non-zeros.
    tol = 1e-6 * max(1.0, float(np.max(np.abs(objective), initial=0.0)))
    eq = row_lo == row_hi
    at_hi = ~eq & (answer.row_dual < -tol)
    at_lo = ~eq & (answer.row_dual > tol)
    n_rest = len(model.row_lo) - n_p
    # Link rows are equalities and never need a dual; a tight count bound row is the count
    # column's reduced cost in ``model``.
    row_at_hi = np.concatenate([np.zeros(n_p, dtype=bool), at_hi[:n_rest]])
    row_at_lo = np.concatenate([np.zeros(n_p, dtype=bool), at_lo[:n_rest]])
    count_in, count_out = np.zeros(n_p), np.zeros(n_p)
    if len(tight):
        size = np.abs(answer.row_dual[n_rest:])
        count_out[tight] = np.where(at_hi[n_rest:], size, 0.0)
        count_in[tight] = np.where(at_lo[n_rest:], size, 0.0)
    reduced = answer.reduced_cost
    x_cand = answer.x[group] / sizes[group]
    counts = np.bincount(model.cand_profile, x_cand, minlength=n_p) - sub.link_rhs
    whole = np.rint(counts)
    integral = not model.integer_cand.any() and bool(np.all(np.abs(counts - whole) < 1e-7))
    return _Relaxation(
        bound=-answer.fun + float(values[model.forced].sum()),
        cost_in=np.concatenate([np.maximum(reduced, 0.0)[group], count_in]),
        cost_out=np.concatenate([np.maximum(-reduced, 0.0)[group], count_out]),
        row_at_hi=row_at_hi,
        row_at_lo=row_at_lo,
        tolerance=tol,
        x=np.concatenate([x_cand, counts]),
        counts=whole if integral else None,
    )


COLUMN_GENERATION_LIMIT = 400
"""LPs with more columns than this start from the columns likely to matter (see
:func:`_linear_program`); tests lower it to check that path on small pools."""


@dataclass(frozen=True)
class _LpAnswer:
    """An optimal LP solution of ``min cost @ x`` with its duals.

    ``row_dual`` is the change in the optimum per unit rise of each row's active bound (0 or
    less at an upper bound, 0 or more at a lower one); ``reduced_cost`` is ``cost - A.T @
    row_dual`` per column.
    """

    x: np.ndarray
    fun: float
    row_dual: np.ndarray
    reduced_cost: np.ndarray


def _linear_program(
    matrix: sparse.csc_array,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    cost: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    priority: IntArray,
    start: int,
) -> _LpAnswer | None:
    """``min cost @ x`` subject to ``row_lo <= matrix @ x <= row_hi``, ``lb <= x <= ub``.

    Column generation, which is exact: the LP is solved over the columns whose ``priority`` is
    below ``start`` (the others held at their lower bounds), and every other column is priced
    with the duals; while any would improve the optimum (a negative reduced cost), those columns
    join and the LP is solved again.  When none would, the restricted optimum is optimal for the
    whole LP, with the same duals.  While the restricted LP is infeasible, ``start`` doubles.
    """
    n_cols = matrix.shape[1]
    if n_cols <= COLUMN_GENERATION_LIMIT:
        start = n_cols + 1
    start = max(start, 1)
    active = (priority < start) | (lb > 0) | _covering(matrix, row_lo, ub, priority)
    price_tol = 1e-9 * max(1.0, float(np.max(np.abs(cost), initial=0.0)))
    while True:
        cols = np.flatnonzero(active)
        solved = _restricted_lp(
            matrix, row_lo, row_hi, cost, lb, ub, cols, recheck=len(cols) == n_cols
        )
        if solved is None:
            if len(cols) == n_cols:
                return None
            start *= 2
            active |= priority < start
            continue
        x_cols, fun, row_dual = solved
        reduced = cost - matrix.T @ row_dual
        entering = ~active & (reduced < -price_tol)
        if not entering.any():
            x = lb.astype(float).copy()
            x[cols] = x_cols
            return _LpAnswer(x, fun + float(cost[~active] @ lb[~active]), row_dual, reduced)
        active |= entering


def _covering(
    matrix: sparse.csc_array, row_lo: np.ndarray, ub: np.ndarray, priority: IntArray
) -> np.ndarray:
    """For each row with a lower bound above 0, its best columns (by ``priority``) up to twice
    that bound, so that the first restricted LP of column generation is seldom infeasible."""
    chosen = np.zeros(matrix.shape[1], dtype=bool)
    by_row = sparse.csr_array(matrix)
    for r in np.flatnonzero(np.isfinite(row_lo) & (row_lo > 0)).tolist():
        cols = by_row.indices[by_row.indptr[r] : by_row.indptr[r + 1]]
        coef = by_row.data[by_row.indptr[r] : by_row.indptr[r + 1]]
        cols, coef = cols[coef > 0], coef[coef > 0]
        order = np.argsort(priority[cols], kind="stable")
        reach = np.cumsum(coef[order] * ub[cols[order]])
        take = int(np.searchsorted(reach, 2.0 * row_lo[r])) + 1
        chosen[cols[order[:take]]] = True
    return chosen


def _restricted_lp(
    matrix: sparse.csc_array,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    cost: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    cols: IntArray,
    *,
    recheck: bool,
) -> tuple[np.ndarray, float, np.ndarray] | None:
    """One HiGHS LP over ``cols`` (the rest at their lower bounds): x, optimum and row duals;
    ``recheck`` as for :func:`_milp`."""
    rest = np.ones(matrix.shape[1], dtype=bool)
    rest[cols] = False
    held = matrix @ np.where(rest, lb, 0.0)
    sub = sparse.csr_array(matrix[:, cols])
    lo, hi = row_lo - held, row_hi - held
    eq = lo == hi
    upper = ~eq & np.isfinite(hi)
    lower = ~eq & np.isfinite(lo)
    up_rows, low_rows, eq_rows = np.flatnonzero(upper), np.flatnonzero(lower), np.flatnonzero(eq)
    a_ub = sparse.vstack([sub[up_rows], -sub[low_rows]], format="csr")
    b_ub = np.concatenate([hi[upper], -lo[lower]])
    has_ub, has_eq = len(b_ub) > 0, len(eq_rows) > 0
    for presolve in (True, False):  # presolve's answer is checked as in _milp
        res = linprog(
            cost[cols],
            A_ub=a_ub if has_ub else None,
            b_ub=b_ub if has_ub else None,
            A_eq=sub[eq_rows] if has_eq else None,
            b_eq=lo[eq_rows] if has_eq else None,
            bounds=np.column_stack([lb[cols], ub[cols]]),
            method="highs",
            options={"presolve": presolve},
        )
        if res.status == 0 or (res.status == 2 and not recheck):
            break
    if res.status == 2:
        return None
    if res.status != 0:
        raise SolverStopped(f"The solver stopped without an optimal answer: {res.message}")
    row_dual = np.zeros(len(row_lo))
    if has_ub:
        marginals = np.asarray(res.ineqlin.marginals, dtype=float)
        row_dual[up_rows] += marginals[: len(up_rows)]
        row_dual[low_rows] -= marginals[len(up_rows) :]
    if has_eq:
        row_dual[eq_rows] = np.asarray(res.eqlin.marginals, dtype=float)
    return np.asarray(res.x, dtype=float), float(res.fun), row_dual


def _column_priority(
    model: _Model, objective: np.ndarray, group: IntArray, reps: IntArray
) -> np.ndarray:
    """For each grouped LP column, the place of its best member among all candidates by value
    (0 = best): column generation starts from the columns within about twice the number of sites.

    Only a guess, so only speed depends on it: :func:`_linear_program` adds whatever is missing.
    """
    order = np.argsort(-objective, kind="stable")
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    best = np.full(len(reps), len(order), dtype=np.int64)
    np.minimum.at(best, group, place)
    return best


@dataclass(frozen=True)
class _Substituted:
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


def _substitute(model: _Model) -> _Substituted:
    """``model`` without its link rows and count columns (see :class:`_Substituted`)."""
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
    return _Substituted(rows, row_lo, row_hi, link_rhs, tight, own_rows)


def _fixed_point(model: _Model, values: IntArray, sub: _Substituted) -> _Relaxation | None:
    """The "relaxation" of a model with no free candidate: its one point, if it is feasible.

    With no candidates every substituted row (count bounds included) has the value 0.
    """
    n_p = model.n_profiles
    counts = -sub.link_rhs
    eps = 1e-9
    ok = bool(np.all(sub.row_lo <= eps) and np.all(sub.row_hi >= -eps))
    if not ok:
        return None
    rows = len(model.row_lo)
    return _Relaxation(
        bound=float(values[model.forced].sum()),
        cost_in=np.zeros(n_p),
        cost_out=np.zeros(n_p),
        row_at_hi=np.zeros(rows, dtype=bool),
        row_at_lo=np.zeros(rows, dtype=bool),
        tolerance=1e-6,
        x=counts.astype(float),
        counts=np.rint(counts),
    )


def _identical_columns(
    model: _Model, objective: np.ndarray, no_rows: np.ndarray
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
    return _Model(cand, cand_profile, integer_cand, forced, n_prof, matrix, row_lo, row_hi, lb, ub)


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


def _run(
    model: _Model,
    objective: np.ndarray,
    extra: Sequence[LinearConstraint] = (),
    *,
    recheck: bool = False,
) -> np.ndarray | None:
    """Maximise ``objective`` over the model plus ``extra`` rows; the solution vector or None.
    ``recheck`` as for :func:`_milp`.

    When every candidate is interchangeable with the others of its profile and value (no
    organisation or floor rows), the MILP is solved over the substituted model with one integer
    per group of identical candidates: HiGHS finds that form far easier than count variables
    tied to continuous candidates, and the two have the same optima (whole counts are whole
    group amounts once each profile's best are taken, and the reverse).
    """
    n_c = len(model.cand)
    if not extra and n_c and not model.integer_cand.any():
        sub = _substitute(model)
        if not sub.own_rows.any():
            return _run_grouped(model, objective, sub, recheck)
    integrality = np.concatenate(
        [model.integer_cand.astype(int), np.ones(model.n_profiles, dtype=int)]
    )
    return _milp(
        -objective,
        integrality,
        Bounds(model.lb, model.ub),
        [LinearConstraint(model.matrix, model.row_lo, model.row_hi), *extra],
        recheck,
    )


class SolverStopped(SelectionError):
    """HiGHS stopped without an optimal answer or a proof that there is none."""


def _milp(
    cost: np.ndarray,
    integrality: np.ndarray,
    bounds: Bounds,
    constraints: Sequence[LinearConstraint],
    recheck: bool,
) -> np.ndarray | None:
    """HiGHS's exact minimum of ``cost``: its solution vector, or None when there is none.

    HiGHS's presolve can call a feasible model infeasible (seen after a tie-break row, where the
    previous stage's solution met every row), so a failure is asked again without presolve,
    which decides on the model as written.  With ``recheck`` off, an "infeasible" is taken as
    it is: for the searches that only widen their model after one (an "infeasible" that ends
    a search is always rechecked), so a false one costs time, never the answer.
    """
    for presolve in (True, False):
        res = milp(
            cost,
            integrality=integrality,
            bounds=bounds,
            constraints=constraints,
            options={"mip_rel_gap": 0.0, "presolve": presolve},
        )
        if res.status == 0 and res.x is not None:
            return np.asarray(res.x, dtype=float)
        if res.status == 2 and not recheck:
            break
    if res.status == 2:
        return None
    raise SolverStopped(f"The solver stopped without an optimal answer: {res.message}")


def _run_grouped(
    model: _Model, objective: np.ndarray, sub: _Substituted, recheck: bool
) -> np.ndarray | None:
    """:func:`_run` over groups of identical candidates (see there); a point of ``model``."""
    n_c = len(model.cand)
    group, reps, sizes = _identical_columns(model, objective[:n_c], sub.own_rows == 0)
    x = _milp(
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
