"""``evaluate``: a selection staff changed, explained as the engine explains its own."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from selection import InputError, SelectionOptions, evaluate, select

# Wales scores best; the quotas want two Scottish sites and at most two Welsh ones.
POOL = [
    ("W1", "wales", 4.75),
    ("W2", "wales", 4.75),
    ("W3", "wales", 4.5),
    ("W4", "wales", 4.25),
    ("S1", "scotland", 3.875),
    ("S2", "scotland", 3.375),
    ("S3", "scotland", 2.5),
    ("E1", "england", 4.25),
    ("E2", "england", 3.25),
    ("E3", "england", 2.25),
]
QUOTAS = pd.DataFrame(
    [
        {"dimension": "nation", "category": "scotland", "min": 2, "max": None},
        {"dimension": "nation", "category": "wales", "min": None, "max": 2},
    ]
)
K = 5
OPTIONS = SelectionOptions(reserves=2, seed=3)
SCORE = {i: s for i, _, s in POOL}
NATION = {i: n for i, n, _ in POOL}


def frame() -> pd.DataFrame:
    # Every criterion the same, so the score is the number in POOL.
    return pd.DataFrame(
        [
            {
                "id": i,
                "nation": n,
                "difference": s,
                "inequalities": s,
                "resources": s,
                "evidence": s,
            }
            for i, n, s in POOL
        ]
    )


def best(keep: set[str], out: set[str]) -> set[str]:
    """The best selection meeting the quotas with ``keep`` in and ``out`` out (brute force)."""
    found, top = set(), -1.0
    for chosen in itertools.combinations([i for i, _, _ in POOL if i not in out], K):
        nations = [NATION[i] for i in chosen]
        if keep <= set(chosen) and nations.count("scotland") >= 2 and nations.count("wales") <= 2:
            total = sum(SCORE[i] for i in chosen)
            if total > top + 1e-9:
                found, top = set(chosen), total
    return found


def test_the_engines_own_selection_evaluates_to_the_engines_own_answer() -> None:
    engine = select(frame(), QUOTAS, K, options=OPTIONS)

    again = evaluate(frame(), QUOTAS, K, engine.selected_ids, options=OPTIONS)

    assert again.summary["hand_changed"] is False
    pd.testing.assert_frame_equal(again.decisions, engine.decisions)
    assert again.bounds.drop(columns="met").equals(engine.bounds)
    assert {k: v for k, v in again.summary.items() if k != "hand_changed"} == dict(engine.summary)


def test_a_swap_keeping_the_quotas_is_explained_with_staffs_choices_kept() -> None:
    engine = select(frame(), QUOTAS, K, options=OPTIONS)
    assert set(engine.selected_ids) == best(set(), set())
    chosen = (set(engine.selected_ids) - {"E1"}) | {"E2"}
    assert chosen == best({"E2"}, {"E1"})  # the best selection with the swap kept

    result = evaluate(
        frame(), QUOTAS, K, sorted(chosen), kept=["E2"], left_out=["E1"], options=OPTIONS
    )

    d = result.decisions.set_index("id")
    assert set(d.index[d["decision"] == "selected"]) == chosen
    top = sum(sorted(SCORE.values(), reverse=True)[:K])
    total = sum(SCORE[i] for i in chosen)
    assert result.summary["total_score"] == pytest.approx(total)
    assert result.summary["price_of_balance"] == pytest.approx(top - total)
    assert result.summary["hand_changed"] is False
    bounds = result.bounds.set_index("category")
    assert bounds.loc["scotland", "selected"] == 2 and bounds.loc["wales", "selected"] == 2
    assert bounds["met"].all()
    # The site taken out is no one's reserve, and no reason names it as a selected site.
    assert d.loc["E1", "decision"] == "not_selected"
    assert "E1" not in " ".join(d["can_replace"])
    assert not [r for r in d["reason"] if "(E1)" in r]


def test_a_swap_breaking_a_quota_makes_no_claim_that_needs_a_best_selection() -> None:
    chosen = ["W1", "W2", "W3", "E1", "S2"]  # Wales over its maximum, Scotland under its minimum

    result = evaluate(frame(), QUOTAS, K, chosen, kept=["W3"], left_out=["S1"], options=OPTIONS)

    assert result.summary["hand_changed"] is True
    bounds = result.bounds.set_index("category")
    assert not bounds.loc["scotland", "met"] and not bounds.loc["wales", "met"]
    assert bounds.loc["scotland", "selected"] == 1 and bounds.loc["wales", "selected"] == 3
    assert bounds["cost"].isna().all()
    assert result.decisions["points_needed"].isna().all()
    reasons = " ".join(result.decisions["reason"])
    assert "re-solving" not in reasons and "would not be chosen without" not in reasons
    assert any("changed by hand" in w for w in result.warnings)
    assert result.decisions.set_index("id").loc["S1", "decision"] == "not_selected"


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        (["W1", "W2", "S1", "S2"], "Exactly 5"),
        (["W1", "W2", "S1", "S2", "XX"], "eligible applications"),
    ],
)
def test_a_selection_of_the_wrong_size_or_with_unknown_sites_is_refused(
    chosen: list[str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        evaluate(frame(), QUOTAS, K, chosen, options=OPTIONS)


def test_a_kept_site_must_be_selected_and_a_left_out_one_must_not() -> None:
    chosen = ["W1", "W2", "S1", "S2", "E1"]
    with pytest.raises(InputError, match="must be selected"):
        evaluate(frame(), QUOTAS, K, chosen, kept=["E2"], options=OPTIONS)
    with pytest.raises(InputError, match="must be selected"):
        evaluate(frame(), QUOTAS, K, chosen, left_out=["E1"], options=OPTIONS)
