"""Scores are compared exactly, not at the shown 3 decimals, and a shown tie is explained."""

from __future__ import annotations

import pandas as pd

from selection import CRITERIA, SelectionOptions, select


def _apps(scores: dict[str, float], evidence: dict[str, float] | None = None) -> pd.DataFrame:
    """One region; the first three criteria at each score, evidence at ``evidence`` (default
    the score), so the mean is exact as written."""
    evidence = evidence or scores
    return pd.DataFrame(
        {
            "id": list(scores),
            "region": "x",
            **{c: list(scores.values()) for c in CRITERIA[:3]},
            "evidence": [evidence[i] for i in scores],
        }
    )


NO_QUOTA = pd.DataFrame([{"dimension": "region", "category": "x", "min": None, "max": None}])


def _reason(result: object, app: str) -> str:
    decisions = result.decisions.set_index("id")  # type: ignore[attr-defined]
    return str(decisions.loc[app, "reason"])


def test_a_difference_in_the_fourth_decimal_decides_for_every_seed() -> None:
    apps = _apps({"low": 3.0002, "high": 3.0004})
    for seed in range(8):
        result = select(apps, NO_QUOTA, 1, options=SelectionOptions(seed=seed))
        assert result.selected_ids == ["high"]
        assert result.audit["scores_compared"] == "exactly"
        assert result.decisions.set_index("id").loc["low", "score"] == 3.0
        assert _reason(result, "low").endswith(
            "Its score and that of high are both shown as 3.000, but before rounding high "
            "scored higher (3.0004 against 3.0002)."
        )


def test_means_of_whole_reviews_are_compared_as_fractions() -> None:
    # 10/3 (three reviews) is above 3.3333 by 1/30,000: below the shown resolution.
    apps = _apps({"typed": 3.3333, "thirds": 10 / 3})
    for seed in range(8):
        result = select(apps, NO_QUOTA, 1, options=SelectionOptions(seed=seed))
        assert result.selected_ids == ["thirds"]


def test_reviews_give_exact_fractions_too() -> None:
    # a: ratings 3, 3, 4 (mean 10/3); b: 3.3333 on each criterion from one review.
    reviews = pd.DataFrame(
        [
            {"application_id": "a", "reviewer_id": r, **{c: v for c in CRITERIA}}
            for r, v in (("r1", 3), ("r2", 3), ("r3", 4))
        ]
        + [{"application_id": "b", "reviewer_id": "r1", **{c: 3.3333 for c in CRITERIA}}]
    )
    apps = pd.DataFrame({"id": ["a", "b"], "region": "x"})
    for seed in range(6):
        options = SelectionOptions(seed=seed, min_reviews=1)
        assert select(apps, NO_QUOTA, 1, reviews=reviews, options=options).selected_ids == ["a"]


def test_an_exact_tie_says_evidence_decided() -> None:
    apps = _apps({"a": 3.0, "b": 3.0}, evidence={"a": 3.0, "b": 3.0})
    # Equal scores with different evidence: the first three criteria make up the difference.
    apps.loc[1, "evidence"] = 4.0
    apps.loc[1, "difference"] = 2.0
    result = select(apps, NO_QUOTA, 1)
    assert result.selected_ids == ["b"]
    assert _reason(result, "a").endswith(
        "It tied with b on score (3.000), and ties are broken by the evidence score, where b "
        "scored higher."
    )


def test_a_tie_on_score_and_evidence_says_the_seeded_draw_decided() -> None:
    apps = _apps({"a": 3.5, "b": 3.5})
    winners = set()
    for seed in range(10):
        result = select(apps, NO_QUOTA, 1, options=SelectionOptions(seed=seed))
        (winner,) = result.selected_ids
        loser = "b" if winner == "a" else "a"
        winners.add(winner)
        assert _reason(result, loser).endswith(
            f"It tied with {winner} on score (3.500) and on evidence, so the random draw "
            f"(seed {seed}) decided, and it put {winner} first."
        )
    assert winners == {"a", "b"}


def test_a_lottery_band_edge_is_exact() -> None:
    # Cut-off 3.0 (k = 1); a band of 0.0002 takes 2.9998 in and leaves 2.9997 out.
    apps = _apps({"top": 3.0, "inside": 2.9998, "outside": 2.9997})
    result = select(apps, NO_QUOTA, 1, options=SelectionOptions(lottery_band=0.0002))
    drawn = result.decisions.set_index("id")["in_lottery"]
    assert drawn.to_dict() == {"top": True, "inside": True, "outside": False}


def test_scores_with_more_decimals_are_compared_at_the_shown_resolution() -> None:
    apps = _apps({"a": 3.123456, "b": 3.123401})
    result = select(apps, NO_QUOTA, 1)
    assert result.audit["scores_compared"] == "rounded to 3 decimal places"
