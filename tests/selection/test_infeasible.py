"""Infeasible quotas: detected, with the smallest relaxation said in words and as data."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from selection import InfeasibleQuotasError, SelectionOptions, select
from tests.selection.pools import Case, brute_force, cases

FAST = SelectionOptions(explain=False, price_bounds=False)


def _apps(nations: list[str]) -> pd.DataFrame:
    n = len(nations)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "nation": nations})
    for c in ("difference", "inequalities", "resources", "evidence"):
        frame[c] = 3.0
    return frame


def test_a_minimum_above_the_eligible_pool_is_explained_in_words() -> None:
    apps = _apps(["England"] * 6 + ["Wales"] * 2)
    quotas = pd.DataFrame([{"dimension": "nation", "category": "Wales", "min": 3, "max": None}])
    with pytest.raises(InfeasibleQuotasError) as caught:
        select(apps, quotas, 5)
    assert caught.value.advice == [
        "Wales needs at least 3 sites but only 2 eligible applications in Wales exist: "
        "lower the Wales minimum to 2."
    ]
    assert caught.value.conflicting == ["at least 3 in Wales"]
    assert caught.value.changes == [
        {"dimension": "nation", "category": "Wales", "side": "min", "old": 3, "new": 2}
    ]


def test_raising_a_maximum_is_preferred_to_lowering_a_small_minimum() -> None:
    apps = _apps(["England"] * 6 + ["Wales"] * 3)
    quotas = pd.DataFrame(
        [
            {"dimension": "nation", "category": "Wales", "min": 2, "max": None},
            {"dimension": "nation", "category": "England", "min": 4, "max": 4},
        ]
    )
    with pytest.raises(InfeasibleQuotasError) as caught:
        select(apps, quotas, 5)
    # Lowering the minimum of 2 would leave Wales less protected than lowering England's 4.
    assert caught.value.advice == ["Lower the England minimum from 4 to 3."]
    maxima = pd.DataFrame(
        [
            {"dimension": "nation", "category": "Wales", "min": None, "max": 1},
            {"dimension": "nation", "category": "England", "min": None, "max": 2},
        ]
    )
    with pytest.raises(InfeasibleQuotasError) as caught:
        select(apps, maxima, 4)
    assert len(caught.value.advice) == 1 and caught.value.advice[0].startswith("Raise the ")
    assert sorted(caught.value.conflicting) == ["at most 1 in Wales", "at most 2 in England"]


def test_too_few_eligible_applications_for_k() -> None:
    with pytest.raises(
        InfeasibleQuotasError, match="Only 3 eligible applications exist for 4 sites"
    ):
        select(
            _apps(["England"] * 3), pd.DataFrame(columns=["dimension", "category", "min", "max"]), 4
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_n=14))
def test_applying_the_advice_makes_the_quotas_feasible(case: Case) -> None:
    try:
        select(case.applications, case.quotas, case.k, options=FAST)
        return
    except InfeasibleQuotasError as error:
        changes = error.changes
        if len(case.applications) < case.k:
            return
    relaxed = case.quotas.copy().astype(object)
    for change in changes:
        row = (relaxed["dimension"] == change["dimension"]) & (
            relaxed["category"] == change["category"]
        )
        relaxed.loc[row, change["side"]] = change["new"]
    assert brute_force(case.applications, relaxed, case.k).feasible
    select(case.applications, relaxed, case.k, options=FAST)
