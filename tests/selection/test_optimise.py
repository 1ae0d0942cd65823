"""The selection is exactly optimal, meets every quota, and is reproducible."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from selection import (
    InfeasibleQuotasError,
    QuotaError,
    SelectionOptions,
    optimise,
    select,
)
from tests.selection.pools import (
    Case,
    brute_force,
    cases,
    evidence_points,
    meets,
    points,
    selected_positions,
)

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = SelectionOptions(explain=False, price_bounds=False)


def _run(case: Case, options: SelectionOptions = FAST) -> pd.DataFrame | None:
    """The decisions, or None when the engine reports the quotas infeasible."""
    try:
        return select(case.applications, case.quotas, case.k, options=options).decisions
    except InfeasibleQuotasError:
        return None


@QUICK
@given(cases(), st.booleans())
def test_optimum_equals_brute_force_and_agrees_on_infeasibility(case: Case, via_lp: bool) -> None:
    # Small models are solved directly; the reduced-cost path used for big pools is checked too.
    # Column generation (for big LPs) is switched on for every LP of the LP path.
    limit = 0 if via_lp else optimise.COLUMN_GENERATION_LIMIT
    with (
        patch.object(optimise, "DIRECT_LIMIT", -1 if via_lp else optimise.DIRECT_LIMIT),
        patch.object(optimise, "COLUMN_GENERATION_LIMIT", limit),
    ):
        _check_against_brute_force(case)


def _check_against_brute_force(case: Case) -> None:
    brute = brute_force(case.applications, case.quotas, case.k)
    decisions = _run(case)
    assert (decisions is None) == (not brute.feasible)
    if decisions is None:
        return
    chosen = selected_positions(decisions, case.applications)
    assert len(chosen) == case.k
    assert meets(case.applications, case.quotas, chosen[None, :])[0]
    total = int(points(case.applications)[chosen].sum())
    evidence = int(evidence_points(case.applications)[chosen].sum())
    # Best total first, then the published tie-break: the best evidence total among optimal sets.
    assert (total, evidence) == brute.best_lexicographic()


@FEW
@given(cases(with_orgs=True))
def test_one_site_per_organisation_matches_brute_force(case: Case) -> None:
    options = SelectionOptions(explain=False, price_bounds=False, one_per_organisation=True)
    brute = brute_force(case.applications, case.quotas, case.k, one_per_org=True)
    decisions = _run(case, options)
    assert (decisions is None) == (not brute.feasible)
    if decisions is None:
        return
    chosen = selected_positions(decisions, case.applications)
    orgs = case.applications["organisation"].to_numpy()[chosen]
    assert len(set(orgs)) == case.k
    assert int(points(case.applications)[chosen].sum()) == brute.best


def _plain_milp_total(apps: pd.DataFrame, quotas: pd.DataFrame, k: int, scale: int) -> int:
    """Reference optimum from the textbook model: one binary per application."""
    n = len(apps)
    rows = [np.ones(n)]
    lo, hi = [float(k)], [float(k)]
    for q in quotas.itertuples(index=False):
        rows.append((apps[q.dimension] == q.category).to_numpy(dtype=float))
        lo.append(0.0 if pd.isna(q.min) else float(q.min))
        hi.append(np.inf if pd.isna(q.max) else float(q.max))
    res = milp(
        -points(apps, scale).astype(float),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(np.array(rows), lo, hi),
        options={"mip_rel_gap": 0},
    )
    assert res.status == 0
    return round(-res.fun)


@st.composite
def feasible_large_cases(draw: st.DrawFn) -> Case:
    """Pools of 50-400 with quotas built around a random feasible set, so they can be met."""
    n = draw(st.integers(50, 400))
    k = draw(st.integers(3, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    apps = pd.DataFrame(
        {
            "id": [f"x{i:04d}" for i in range(n)],
            "region": rng.choice(["north", "south", "east", "west"], n),
            "size": rng.choice(["small", "large"], n, p=[0.3, 0.7]),
            "led": rng.choice(["yes", "no"], n, p=[0.2, 0.8]),
        }
    )
    for c in ("difference", "inequalities", "resources", "evidence"):
        apps[c] = rng.integers(3, 16, n) / 3
    witness = rng.choice(n, k, replace=False)
    rows = []
    for dim in ("region", "size", "led"):
        for cat in sorted(apps[dim].unique()):
            count = int((apps[dim].to_numpy()[witness] == cat).sum())
            lo = count - int(rng.integers(0, 2))
            hi = count + int(rng.integers(0, 3))
            rows.append({"dimension": dim, "category": cat, "min": max(lo, 0), "max": hi})
    return Case(apps, pd.DataFrame(rows), k)


@FEW
@given(feasible_large_cases())
def test_larger_pools_meet_quotas_and_match_the_plain_model(case: Case) -> None:
    decisions = _run(case)
    assert decisions is not None
    chosen = selected_positions(decisions, case.applications)
    assert len(chosen) == case.k
    assert meets(case.applications, case.quotas, chosen[None, :])[0]
    # Criterion means are thirds, so scores are whole twelfths, compared exactly.
    assert int(points(case.applications, 12)[chosen].sum()) == _plain_milp_total(
        case.applications, case.quotas, case.k, 12
    )


@FEW
@given(cases(), st.integers(0, 2**31 - 1))
def test_same_inputs_and_seed_give_byte_identical_decisions(case: Case, seed: int) -> None:
    options = SelectionOptions(seed=seed, exact_window=3)
    try:
        first = select(case.applications, case.quotas, case.k, options=options)
    except InfeasibleQuotasError:
        return
    again = select(case.applications.copy(), case.quotas.copy(), case.k, options=options)
    assert first.decisions.to_csv() == again.decisions.to_csv()
    assert first.audit == again.audit
    # Row order of the input does not change any decision either.
    shuffled = case.applications.sample(frac=1.0, random_state=seed % 1000)
    third = select(shuffled, case.quotas, case.k, options=options)
    key = ["id", "decision", "rank", "reason", "reserve_number"]
    a = first.decisions[key].sort_values("id").reset_index(drop=True)
    b = third.decisions[key].sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_exact_ties_are_broken_by_evidence_then_by_the_seeded_draw() -> None:
    apps = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "region": ["x", "x", "x", "x"],
            "difference": [4.0, 3.0, 3.0, 3.0],
            "inequalities": [4.0, 3.0, 3.0, 3.0],
            "resources": [4.0, 5.0, 3.0, 3.0],
            "evidence": [4.0, 3.0, 5.0, 5.0],
        }
    )
    quotas = pd.DataFrame([{"dimension": "region", "category": "x", "min": None, "max": 2}])
    # b, c, d all score 3.5; c and d have the better evidence; the draw settles c versus d.
    picks = set()
    for seed in range(12):
        result = select(apps, quotas, 2, options=SelectionOptions(seed=seed))
        chosen = set(result.selected_ids)
        assert "a" in chosen and "b" not in chosen
        picks |= chosen - {"a"}
    assert picks == {"c", "d"}


def test_ineligible_applications_are_never_selected_and_keep_their_reason() -> None:
    apps = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "region": ["x", "x", "y"],
            "eligible": ["yes", "no", "yes"],
            "ineligible_reason": ["", "Outside the area", ""],
            "difference": [2.0, 5.0, 3.0],
            "inequalities": [2.0, 5.0, 3.0],
            "resources": [2.0, 5.0, 3.0],
            "evidence": [2.0, 5.0, 3.0],
        }
    )
    quotas = pd.DataFrame([{"dimension": "region", "category": "x", "min": 1, "max": None}])
    result = select(apps, quotas, 1)
    row = result.decisions.set_index("id").loc["b"]
    assert row["decision"] == "ineligible"
    assert row["reason"] == "Not eligible: Outside the area."
    assert pd.isna(row["rank"])
    assert result.selected_ids == ["a"]


def test_structural_quota_problems_raise_quota_error() -> None:
    apps = pd.DataFrame(
        {
            "id": ["a", "b"],
            "region": ["x", "y"],
            **{c: [3.0, 3.0] for c in ("difference", "inequalities", "resources", "evidence")},
        }
    )
    quotas = pd.DataFrame([{"dimension": "regoin", "category": "x", "min": 1, "max": None}])
    with pytest.raises(QuotaError) as caught:
        select(apps, quotas, 1)
    assert "regoin" in caught.value.problems[0]


def test_selecting_every_eligible_application_leaves_no_one_to_explain_below_the_cut() -> None:
    apps = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "region": ["x", "y", "x"],
            "eligible": [True, True, False],
            **{c: [3.0, 4.0, 5.0] for c in ("difference", "inequalities", "resources", "evidence")},
        }
    )
    quotas = pd.DataFrame([{"dimension": "region", "category": "x", "min": 1, "max": None}])
    result = select(apps, quotas, 2)
    assert result.decisions["decision"].tolist() == ["selected", "selected", "ineligible"]
    assert result.summary["reserves"] == 0
