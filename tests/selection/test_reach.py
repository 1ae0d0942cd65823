"""selection.quota_reach: whether the quota table can be met by the applications so far, and the
smallest shortfall per quota, on pools small enough to work out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from selection import QuotaError, quota_reach, read_quotas


def _apps(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["nation", "area_type"])


def _quotas(rows: list[dict[str, object]], k: int) -> object:
    return read_quotas(pd.DataFrame(rows, columns=["dimension", "category", "min", "max"]), k)


WALES_3_REMOTE_2 = [
    {"dimension": "nation", "category": "wales", "min": 3, "max": None},
    {"dimension": "area_type", "category": "remote", "min": 2, "max": None},
]


def test_a_table_that_can_be_met() -> None:
    apps = _apps(("wales", "remote"), ("wales", "urban"), ("wales", "remote"), ("england", "urban"))
    reach = quota_reach(apps, _quotas(WALES_3_REMOTE_2, 4), 4)
    assert reach.feasible
    assert reach.shortfalls == ()
    assert reach.available == (3, 2)


def test_the_shortfall_per_quota() -> None:
    """1 Welsh and 1 remote application against minimums of 3 and 2: 2 and 1 more needed."""
    apps = _apps(("wales", "rural"), ("scotland", "remote"), *[("england", "urban")] * 6)
    reach = quota_reach(apps, _quotas(WALES_3_REMOTE_2, 5), 5)
    assert not reach.feasible
    assert reach.more_in_all == 0
    assert [(s.bound.category, s.side, s.more, s.available) for s in reach.shortfalls] == [
        ("wales", "min", 2, 1),
        ("remote", "min", 1, 1),
    ]
    assert reach.advice  # the engine's own advice, for relaxing the table instead


def test_a_maximum_that_others_cannot_fill() -> None:
    """At most 1 English site of 4, with 1 Scottish application: 2 more from outside England."""
    apps = _apps(("scotland", "urban"), *[("england", "urban")] * 5)
    table = _quotas([{"dimension": "nation", "category": "england", "min": None, "max": 1}], 4)
    reach = quota_reach(apps, table, 4)
    assert [(s.side, s.more) for s in reach.shortfalls] == [("max", 2)]


def test_too_few_applications_in_all_says_which_kinds_must_be_among_them() -> None:
    """3 applications for 5 sites (2 more in all); 1 Welsh of the 3 needed, no remote one of 2."""
    apps = _apps(("wales", "rural"), ("england", "urban"), ("england", "urban"))
    reach = quota_reach(apps, _quotas(WALES_3_REMOTE_2, 5), 5)
    assert reach.more_in_all == 2
    assert [(s.bound.category, s.more) for s in reach.shortfalls] == [("wales", 2), ("remote", 2)]


def test_no_applications_yet() -> None:
    reach = quota_reach(_apps(), _quotas(WALES_3_REMOTE_2, 5), 5)
    assert reach.more_in_all == 5
    assert [(s.bound.category, s.more) for s in reach.shortfalls] == [("wales", 3), ("remote", 2)]


def test_categories_match_whatever_their_case() -> None:
    apps = _apps(("Wales", "Remote"), ("wales", "remote"), ("WALES", "urban"))
    assert quota_reach(apps, _quotas(WALES_3_REMOTE_2, 3), 3).feasible


def test_a_table_naming_a_column_the_applications_lack_is_refused() -> None:
    table = _quotas([{"dimension": "size_band", "category": "none", "min": 1, "max": None}], 2)
    with pytest.raises(QuotaError):
        quota_reach(_apps(("wales", "urban")), table, 2)
