"""The solver's short cuts give exactly what the plain re-solves give.

Column generation must reach the whole LP's optimum and duals; the MILP over groups of identical
candidates must reach the model's optimum; a "points needed" figure settled by the LP bound and
the best single swap must equal the forced re-solve.  Each is checked against the plain way (and
the forced totals against brute force) on random small pools.
"""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import LinearConstraint

from selection import SelectionOptions, engine, explain, optimise
from selection.quotas import read_quotas
from tests.selection.pools import SCALE, Case, brute_force, cases

SOME = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = SelectionOptions(explain=False, price_bounds=False)


def _prepared(case: Case) -> engine.Prepared:
    table = read_quotas(case.quotas, case.k)
    return engine.prepare(case.applications, table, case.k, None, None, FAST)


@SOME
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=1, max_value=8))
def test_column_generation_reaches_the_whole_lp_optimum_and_its_duals(seed: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    matrix = sparse.csc_array((rng.random((m, n)) < 0.4).astype(float))
    point = (rng.random(n) < 0.3).astype(float)
    value = matrix @ point  # a feasible point exists, so the LP is feasible
    row_lo = np.where(rng.random(m) < 0.5, value - rng.integers(0, 2, m), -np.inf)
    row_hi = np.where(rng.random(m) < 0.5, value + rng.integers(0, 2, m), np.inf)
    eq = rng.random(m) < 0.2
    row_lo[eq] = row_hi[eq] = value[eq]
    cost = -rng.integers(0, 20, n).astype(float)
    lb, ub = np.zeros(n), rng.integers(1, 3, n).astype(float)
    priority = rng.permutation(n)
    with patch.object(optimise, "COLUMN_GENERATION_LIMIT", 0):
        generated = optimise._linear_program(matrix, row_lo, row_hi, cost, lb, ub, priority, 2)
    whole = optimise._linear_program(matrix, row_lo, row_hi, cost, lb, ub, priority, n + 1)
    assert generated is not None and whole is not None
    assert abs(generated.fun - whole.fun) < 1e-6
    # The duals prove optimality: complementary slackness, and the dual objective equals the LP's.
    tol = 1e-7
    d, y, x = generated.reduced_cost, generated.row_dual, generated.x
    rows = matrix @ x
    assert np.all(x >= lb - tol) and np.all(x <= ub + tol)
    assert np.all(rows >= row_lo - tol) and np.all(rows <= row_hi + tol)
    assert np.all(np.abs(x[d > tol] - lb[d > tol]) < tol)
    assert np.all(np.abs(x[d < -tol] - ub[d < -tol]) < tol)
    assert np.all(np.abs(rows[y < -tol] - row_hi[y < -tol]) < tol)
    assert np.all(np.abs(rows[y > tol] - row_lo[y > tol]) < tol)
    dual = float(np.sum(np.where(y < 0, y * np.where(y < 0, row_hi, 0), 0)))
    dual += float(np.sum(np.where(y > 0, y * np.where(y > 0, row_lo, 0), 0)))
    dual += float(np.sum(np.where(d > 0, d * lb, d * ub)))
    assert abs(dual - generated.fun) < 1e-6


@SOME
@given(cases(max_n=18))
def test_milp_over_groups_of_identical_candidates_has_the_models_optimum(case: Case) -> None:
    prepared = _prepared(case)
    pool = prepared.pool
    model = optimise._build(pool, pool.lo, pool.hi, np.zeros(0, np.int64), np.zeros(0, np.int64))
    if model is None or len(model.cand) == 0:
        return
    objective = optimise._objective(model, pool.points)
    grouped = optimise._run(model, objective)
    # Any extra row sends the model, count variables and all, to HiGHS as it is.
    no_op = LinearConstraint(np.zeros((1, len(objective))), -np.inf, np.inf)
    plain = optimise._run(model, objective, (no_op,))
    assert (grouped is None) == (plain is None)
    if grouped is None or plain is None:
        return
    assert round(float(objective @ grouped)) == round(float(objective @ plain))
    counts = grouped[len(model.cand) :]
    assert np.allclose(counts, np.rint(counts))
    chosen = optimise._fill(pool, model, grouped)
    assert pool.feasible(chosen)
    assert int(pool.points[chosen].sum()) == round(float(objective @ plain))


@SOME
@given(cases(max_n=16))
def test_points_needed_settled_by_a_swap_equals_the_forced_re_solve(case: Case) -> None:
    prepared = _prepared(case)
    pool = prepared.pool
    with (
        patch.object(optimise, "DIRECT_LIMIT", -1),
        patch.object(optimise, "COLUMN_GENERATION_LIMIT", 0),
    ):
        solution = optimise.solve(pool)
        if solution is None:
            return
        selected = np.zeros(pool.n, dtype=bool)
        selected[solution.selected] = True
        swaps = explain._swap_table(pool, pool.counts(solution.selected))
        holders = explain._organisation_holders(pool, selected)
        others = np.flatnonzero(~selected)
        partner = explain._lowest_partners(pool, others, solution.selected, swaps, holders)
        brute = brute_force(case.applications, case.quotas, case.k)
        position = {a: i for i, a in enumerate(case.applications["id"].astype(str))}
        ids = prepared.table["id"].to_numpy()[prepared.eligible_pos]
        for i, j in zip(others.tolist(), partner.tolist(), strict=True):
            known = None if j < 0 else solution.total - int(pool.points[j]) + int(pool.points[i])
            settled = optimise.best_total_with(pool, solution, i, known)
            forced = optimise.solve(pool, force=[i], tie_break=False)
            assert settled == (None if forced is None else forced.total)
            best = brute.best_with(position[str(ids[i])])
            # The pool's points are exact scores at its own scale; the brute force's at SCALE.
            assert (settled is None) == (best is None)
            if settled is not None and best is not None:
                assert settled * SCALE == best * prepared.points.scale
            event("settled by the swap" if known is not None and settled == known else "re-solved")
