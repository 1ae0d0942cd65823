"""Exact optimal selection under quotas with ``scipy.optimize.milp`` (HiGHS).

Scores are whole *points*, so the optimum is exact.  Ties are broken by further solves, never by
jitter or large weights: the second solve keeps the best total and maximises the total evidence
points, the third keeps both and maximises the seeded draw.  The winning profile counts are then
filled by the best applications of each profile in that same order.

The model and its exact reformulations are in :mod:`selection.model`, LP relaxations in
:mod:`selection.relaxation`, and every call to HiGHS in :mod:`selection.solver`.  Each stage's LP
is tried before its MILP, which is skipped when the LP's counts are whole, so most runs need no
MILP at all.  :func:`best_totals_with` answers "the best selection that includes i" from the same
LP, for the reasons given to applications that were not selected.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from selection.model import (
    Model,
    build_model,
    compress,
    fill,
    objective_over,
    solve_model,
    total_over,
    with_floor,
)
from selection.pool import IntArray, Pool
from selection.relaxation import Relaxation, lp_relaxation
from selection.solver import SolverStopped

DIRECT_LIMIT = 300
"""Models with at most this many candidates skip the LP pass, which costs more than it saves.
Tests lower it to 0 to check the LP path on small pools too."""


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
    ``force`` lists applications that must be selected and ``exclude`` ones that may not be
    (besides the pool's own ``kept`` and ``left_out``).
    With ``tie_break`` the result is the unique published optimum; without it, any optimum.
    """
    lo = pool.lo if lo is None else lo
    hi = pool.hi if hi is None else hi
    forced = np.union1d(np.asarray(force, dtype=np.int64), pool.kept)
    excluded = np.union1d(np.asarray(exclude, dtype=np.int64), pool.left_out)
    full = build_model(pool, lo, hi, forced, excluded)
    if full is None:
        return None
    if len(full.cand) <= DIRECT_LIMIT:
        return _solve_directly(pool, full, tie_break)
    relaxed = lp_relaxation(full, pool.points)
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
        model = compress(relaxed.fix(full, gap))
        # Only an answer that ends the search needs an 'infeasible' checked (see solver).
        ends = not relaxed.fixes_any(gap)
        found = solve_model(model, objective_over(model, pool.points), recheck=ends)
        if found is not None:
            x, best = found, total_over(pool, model, pool.points, found)
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
        stage_lp: Relaxation | None = relaxed
        source = full
        held: list[tuple[IntArray, int]] = []
        for stage in (0, 1):
            values = values_by_stage[stage]
            held.append((values, best if stage == 0 else total_over(pool, model, values, x)))
            next_values = values_by_stage[stage + 1]
            x_next = None
            next_lp: Relaxation | None = None
            if stage_lp is not None and _attained(stage_lp.bound, held[-1][1]):
                face = compress(stage_lp.face(source))
                try:
                    next_lp = lp_relaxation(face, next_values)
                except SolverStopped:
                    next_lp = None
                if next_lp is not None and next_lp.counts is not None:
                    x_next = next_lp.x
                else:
                    x_next = _stage(face, next_values)
            if x_next is None or not _keeps(pool, face, x_next, held):
                # Bound not attained, or numerically doubtful: a row holds the stage's total.
                face = with_floor(model, values, held[-1][1])
                next_lp = None
                x_next = _stage(face, next_values)
            if x_next is None or not _keeps(pool, face, x_next, held):
                stopped = TIE_BREAK_KEYS[stage + 1]
                break
            model, x = face, x_next
            stage_lp, source = next_lp, face
            if stage_lp is None and stage == 0:
                try:
                    stage_lp = lp_relaxation(model, next_values)
                except SolverStopped:
                    stage_lp = None
    selected = fill(pool, model, x)
    return Solution(
        selected,
        int(pool.points[selected].sum()),
        int(pool.secondary[selected].sum()),
        basis,
        stopped,
    )


TIE_BREAK_KEYS = ("total score", "evidence", "draw")
"""What each stage of the tie-break maximises; :attr:`Solution.tie_break_stopped` names one."""


def _stage(model: Model, values: IntArray) -> np.ndarray | None:
    """A tie-break stage's optimum, or None when the solver gives none.

    The stage's model holds an earlier stage's optimum, so it is never truly infeasible: a
    failure here is the solver's, and the caller keeps the earlier stage's selection.
    """
    try:
        return solve_model(model, objective_over(model, values), recheck=True)
    except SolverStopped:
        return None


def _keeps(pool: Pool, model: Model, x: np.ndarray, held: list[tuple[IntArray, int]]) -> bool:
    """Whether a tie-break stage's answer keeps every earlier stage's total exactly.

    HiGHS meets each row only up to its tolerance; this check in whole numbers makes sure a
    stage can never give up the best total (or evidence) for a better draw.
    """
    return all(total_over(pool, model, values, x) == total for values, total in held)


def _attained(bound: float, value: int) -> bool:
    """Whether an LP bound equals a whole-number optimum up to solver noise.

    A fractional LP optimum sits at least a small fraction (typically 1/2 or 1/3) above the
    integer one, far more than the tolerance here.
    """
    return abs(bound - value) <= 1e-3 + 1e-9 * abs(value)


@dataclass(frozen=True)
class _Basis:
    """A full model with its LP relaxation, reusable for questions about the same bounds."""

    model: Model
    relaxation: Relaxation


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
        model = compress(fixed)
        x = solve_model(model, objective_over(model, pool.points), recheck=gap > largest)
        if x is not None:
            value = total_over(pool, model, pool.points, x)
            if ceiling - value <= gap:
                return value, ceiling - value
            gap = max(2.0 * gap, ceiling - value + 1.0)
        elif gap > largest:
            return None, guess
        else:
            gap *= 4.0


def _solve_directly(pool: Pool, model: Model, tie_break: bool) -> Solution | None:
    """Small models: one MILP per stage, each stage's optimum held by a row in the next."""
    x = solve_model(model, objective_over(model, pool.points), recheck=True)
    if x is None:
        return None
    stopped = None
    if tie_break:
        stages = (pool.points, pool.secondary, pool.draw_rank)
        held: list[tuple[IntArray, int]] = []
        for stage, (values, next_values) in enumerate(itertools.pairwise(stages)):
            held.append((values, total_over(pool, model, values, x)))
            face = with_floor(model, values, held[-1][1])
            x_next = _stage(face, next_values)
            if x_next is None or not _keeps(pool, face, x_next, held):
                stopped = TIE_BREAK_KEYS[stage + 1]
                break
            model, x = face, x_next
    selected = fill(pool, model, x)
    return Solution(
        selected,
        int(pool.points[selected].sum()),
        int(pool.secondary[selected].sum()),
        tie_break_stopped=stopped,
    )
