"""Every call the engine makes to HiGHS (through scipy), in one place: MILPs, and the LPs of
column generation.  Each is asked again without presolve when presolve fails it (see
:func:`milp_solution`), so no part of the engine can refuse a feasible input for that reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from selection.errors import SelectionError
from selection.pool import IntArray


class SolverStopped(SelectionError):
    """HiGHS stopped without an optimal answer or a proof that there is none."""


def milp_solution(
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


COLUMN_GENERATION_LIMIT = 400
"""LPs with more columns than this start from the columns likely to matter (see
:func:`linear_program`); tests lower it to check that path on small pools."""


@dataclass(frozen=True)
class LpAnswer:
    """An optimal LP solution of ``min cost @ x`` with its duals.

    ``row_dual`` is the change in the optimum per unit rise of each row's active bound (0 or
    less at an upper bound, 0 or more at a lower one); ``reduced_cost`` is ``cost - A.T @
    row_dual`` per column.
    """

    x: np.ndarray
    fun: float
    row_dual: np.ndarray
    reduced_cost: np.ndarray


def linear_program(
    matrix: sparse.csc_array,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    cost: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    priority: IntArray,
    start: int,
) -> LpAnswer | None:
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
            return LpAnswer(x, fun + float(cost[~active] @ lb[~active]), row_dual, reduced)
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
    ``recheck`` as for :func:`milp_solution`."""
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
    for presolve in (True, False):  # presolve's answer is checked as in milp_solution
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
