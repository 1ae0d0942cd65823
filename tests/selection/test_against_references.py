"""The engine against two references that share none of its code (see :mod:`references`).

Whenever a selection exists the engine must return one with the optimal total (exact, from the
scores as written); when none exists it must say so with advice; it must never refuse otherwise.
A quota row for a category no application has is a warning without a minimum (the optimum is
still reached) and an infeasibility with advice naming the row with one.
``SELECTION_EXAMPLES`` sets how many pools are drawn (default 200; thousands for a long run).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selection import InfeasibleQuotasError, SelectionOptions, select
from tests.selection.references import (
    EXAMPLES,
    Pool,
    exact_points,
    meets,
    names_absent,
    pools,
    reference_best,
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools(), st.booleans())
def test_the_engine_reaches_the_optimum_whenever_one_exists(pool: Pool, explain: bool) -> None:
    pts = exact_points(pool)
    best = reference_best(pool, pts)
    options = SelectionOptions(
        seed=pool.seed, lottery_band=pool.band, explain=explain, price_bounds=explain
    )
    absent = pool.absent_rows()
    try:
        result = select(pool.applications, pool.quotas, pool.k, options=options)
    except InfeasibleQuotasError as error:
        assert best is None, "a feasible input was refused"
        assert error.advice
        for dim, cat, lo in absent:
            if lo > 0:
                assert any(names_absent(line, dim, cat) for line in error.advice)
        return
    assert best is not None
    assert all(lo == 0 for _, _, lo in absent)
    chosen = pool.applications["id"].isin(result.selected_ids).to_numpy().astype(float)
    assert meets(pool, chosen)
    assert int(pts @ chosen) == best
    for dim, cat, _ in absent:
        assert any(names_absent(w, dim, cat) for w in result.warnings)
