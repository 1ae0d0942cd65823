"""LP relaxations of the optimiser's model: bounds, reduced costs and optimal faces.

A relaxation's reduced costs fix the columns that are in (or out of) every optimal selection, so
the MILPs that follow see only the few that are not; its optimal face describes every optimal
selection for the next tie-break stage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from selection.model import Model, Substituted, identical_columns, substitute
from selection.pool import IntArray
from selection.solver import linear_program


@dataclass(frozen=True)
class Relaxation:
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

    def fix(self, model: Model, gap: float) -> Model:
        """A copy of ``model`` with every column whose reduced cost exceeds ``gap`` fixed."""
        lb, ub = model.lb.copy(), model.ub.copy()
        out, inside = self.cost_in > gap, self.cost_out > gap
        ub[out] = lb[out]
        lb[inside] = ub[inside]
        return replace(model, lb=lb, ub=ub)

    def face(self, model: Model) -> Model:
        """``model`` restricted to the LP's optimal face (valid when the LP bound is attained)."""
        fixed = self.fix(model, self.tolerance)
        row_lo, row_hi = fixed.row_lo.copy(), fixed.row_hi.copy()
        row_lo[self.row_at_hi] = row_hi[self.row_at_hi]
        row_hi[self.row_at_lo] = row_lo[self.row_at_lo]
        return replace(fixed, row_lo=row_lo, row_hi=row_hi)


def lp_relaxation(model: Model, values: IntArray) -> Relaxation | None:
    """Solve the LP relaxation maximising the total of ``values``; None when it is infeasible.

    The bound counts the applications already fixed in, so it compares with
    :func:`selection.model.total_over`.
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
    sub = substitute(model)
    row_lo, row_hi, tight = sub.row_lo, sub.row_hi, sub.tight
    if n_c == 0:
        return _fixed_point(model, values, sub)
    group, reps, sizes = identical_columns(model, objective, sub.own_rows == 0)
    rows = sub.rows
    matrix = sparse.csc_array(sparse.csc_array(rows)[:, reps])
    answer = linear_program(
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
    return Relaxation(
        bound=-answer.fun + float(values[model.forced].sum()),
        cost_in=np.concatenate([np.maximum(reduced, 0.0)[group], count_in]),
        cost_out=np.concatenate([np.maximum(-reduced, 0.0)[group], count_out]),
        row_at_hi=row_at_hi,
        row_at_lo=row_at_lo,
        tolerance=tol,
        x=np.concatenate([x_cand, counts]),
        counts=whole if integral else None,
    )


def _fixed_point(model: Model, values: IntArray, sub: Substituted) -> Relaxation | None:
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
    return Relaxation(
        bound=float(values[model.forced].sum()),
        cost_in=np.zeros(n_p),
        cost_out=np.zeros(n_p),
        row_at_hi=np.zeros(rows, dtype=bool),
        row_at_lo=np.zeros(rows, dtype=bool),
        tolerance=1e-6,
        x=counts.astype(float),
        counts=np.rint(counts),
    )


def _column_priority(
    model: Model, objective: np.ndarray, group: IntArray, reps: IntArray
) -> np.ndarray:
    """For each grouped LP column, the place of its best member among all candidates by value
    (0 = best): column generation starts from the columns within about twice the number of sites.

    Only a guess, so only speed depends on it: :func:`selection.solver.linear_program` adds
    whatever is missing.
    """
    order = np.argsort(-objective, kind="stable")
    place = np.empty(len(order), dtype=np.int64)
    place[order] = np.arange(len(order))
    best = np.full(len(reps), len(order), dtype=np.int64)
    np.minimum.at(best, group, place)
    return best
