"""The engine against two references that share none of its code: brute force over every set of k
applications (small pools) and a plain MILP with one 0/1 variable per application and a row per
quota, no tie-break (larger pools).  Equal scores, few distinct scores, scores that differ only in
the 4th decimal, lottery bands, min = max, k = n, k = 1 and infeasible tables are all drawn.

Whenever a selection exists the engine must return one with the optimal total (exact, from the
scores as written); when none exists it must say so with advice; it must never refuse otherwise.
``SELECTION_EXAMPLES`` sets how many pools are drawn (default 200; thousands for a long run).
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from selection import CRITERIA, InfeasibleQuotasError, SelectionOptions, select

EXAMPLES = int(os.environ.get("SELECTION_EXAMPLES", "200"))
MAX_SUBSETS = 3000
UNIT = 4 * 10**4  # every score drawn below is a multiple of 1 / UNIT (mean of 4 x 0.0001)


@dataclass(frozen=True)
class Pool:
    """Applications, quotas, k, an optional lottery band and a seed."""

    applications: pd.DataFrame
    quotas: pd.DataFrame
    k: int
    band: float | None
    seed: int


@st.composite
def pools(draw: st.DrawFn) -> Pool:
    """Pools of 1-30 applications over two dimensions, with scores of one of four kinds."""
    kind = draw(st.sampled_from(["equal", "tied", "fourth decimal", "spread"]))
    event(f"scores: {kind}")
    n = draw(st.integers(1, 30))
    k = draw(st.one_of(st.just(1), st.just(n), st.integers(1, n)))
    dims = {"region": ["north", "south", "west"][: draw(st.integers(2, 3))], "size": ["s", "l"]}
    level = draw(st.sampled_from([1.0, 3.0, 3.5, 5.0, 3.0002]))
    rows = []
    for i in range(n):
        if kind == "equal":
            value, evidence = level, level
        elif kind == "tied":
            value, evidence = draw(st.sampled_from([3.0, 4.0])), draw(st.sampled_from([3.0, 4.0]))
        elif kind == "fourth decimal":
            value = 3 + draw(st.integers(0, 6)) / 10**4
            evidence = 3 + draw(st.integers(0, 2)) / 10**4
        else:
            value, evidence = draw(st.integers(10, 50)) / 10, draw(st.integers(10, 50)) / 10
        row: dict[str, object] = {"id": f"a{i:02d}"}
        for dim, cats in dims.items():
            row[dim] = draw(st.sampled_from(cats))
        row.update({c: value for c in CRITERIA[:3]})
        row["evidence"] = evidence
        rows.append(row)
    apps = pd.DataFrame(rows)
    quota_rows = []
    for dim, cats in dims.items():
        for cat in cats:
            if not (apps[dim] == cat).any() or not draw(st.booleans()):
                continue
            lo = draw(st.one_of(st.none(), st.integers(0, min(4, k))))
            hi = draw(st.one_of(st.none(), st.just(lo), st.integers(lo or 0, k)))
            quota_rows.append({"dimension": dim, "category": cat, "min": lo, "max": hi})
    quotas = pd.DataFrame(quota_rows, columns=["dimension", "category", "min", "max"])
    band = draw(st.one_of(st.none(), st.sampled_from([0.0, 0.25, 1.0])))
    return Pool(apps, quotas, k, band, draw(st.integers(0, 2**31 - 1)))


def exact_points(pool: Pool) -> np.ndarray:
    """Each score in whole 1 / UNIT, from the decimals as written; a lottery band gives every
    score within the band of the k-th best score that score, as the options describe."""
    scores = [
        sum(Fraction(repr(float(v))) for v in row) / 4
        for row in pool.applications[list(CRITERIA)].itertuples(index=False)
    ]
    if pool.band is not None:
        cut = sorted(scores, reverse=True)[pool.k - 1]
        band = Fraction(repr(pool.band))
        scores = [cut if abs(s - cut) <= band else s for s in scores]
    whole = [s * UNIT for s in scores]
    assert all(w.denominator == 1 for w in whole)
    return np.array([int(w) for w in whole], dtype=np.int64)


def membership(pool: Pool) -> list[tuple[np.ndarray, float, float]]:
    """Each quota row as (0/1 membership per application, min, max)."""
    out = []
    for q in pool.quotas.itertuples(index=False):
        member = (pool.applications[q.dimension] == q.category).to_numpy().astype(float)
        lo = -np.inf if q.min is None or pd.isna(q.min) else float(q.min)
        hi = np.inf if q.max is None or pd.isna(q.max) else float(q.max)
        out.append((member, lo, hi))
    return out


def meets(pool: Pool, chosen: np.ndarray) -> bool:
    """Whether the 0/1 vector ``chosen`` has k members and meets every quota row."""
    return int(chosen.sum()) == pool.k and all(
        lo <= member @ chosen <= hi for member, lo, hi in membership(pool)
    )


def brute_force_best(pool: Pool, pts: np.ndarray) -> int | None:
    """The best total over every feasible set of k, or None when there is none."""
    n = len(pts)
    best = None
    for combo in itertools.combinations(range(n), pool.k):
        chosen = np.zeros(n)
        chosen[list(combo)] = 1
        if meets(pool, chosen):
            total = int(pts[list(combo)].sum())
            best = total if best is None else max(best, total)
    return best


def milp_best(pool: Pool, pts: np.ndarray) -> int | None:
    """The best total by a plain MILP (one 0/1 variable per application), or None."""
    n = len(pts)
    rows = [(np.ones(n), pool.k, pool.k), *membership(pool)]
    res = milp(
        -pts.astype(float),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(
            np.array([r[0] for r in rows]), [r[1] for r in rows], [r[2] for r in rows]
        ),
        options={"mip_rel_gap": 0},
    )
    assert res.status in (0, 2), res.message
    return None if res.status == 2 else round(-res.fun)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools(), st.booleans())
def test_the_engine_reaches_the_optimum_whenever_one_exists(pool: Pool, explain: bool) -> None:
    pts = exact_points(pool)
    small = math.comb(len(pts), pool.k) <= MAX_SUBSETS
    event("brute force" if small else "plain MILP")
    best = brute_force_best(pool, pts) if small else milp_best(pool, pts)
    event("infeasible" if best is None else "feasible")
    options = SelectionOptions(
        seed=pool.seed, lottery_band=pool.band, explain=explain, price_bounds=explain
    )
    try:
        result = select(pool.applications, pool.quotas, pool.k, options=options)
    except InfeasibleQuotasError as error:
        assert best is None, "a feasible input was refused"
        assert error.advice
        return
    assert best is not None
    chosen = pool.applications["id"].isin(result.selected_ids).to_numpy().astype(float)
    assert meets(pool, chosen)
    assert int(pts @ chosen) == best
