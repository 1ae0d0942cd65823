"""Scores from reviews: means, weights, flags, calibration, and input errors that name the cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from selection import CRITERIA, InputError, SelectionOptions, score_reviews, select


def _reviews(rows: list[tuple[str, str, float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["application_id", "reviewer_id", *CRITERIA])


def test_means_weighted_score_and_flags() -> None:
    reviews = _reviews(
        [
            ("a", "r1", 4, 4, 4, 4),
            ("a", "r2", 2, 4, 4, 4),  # difference spread 2: reviewers disagree
            ("b", "r1", 3, 3, 3, 5),  # one review only
        ]
    )
    table = score_reviews(reviews, weights={"evidence": 3}).set_index("id")
    assert table.loc["a", "difference"] == 3.0
    assert table.loc["a", "n_reviews"] == 2
    # Weights 1,1,1,3 over (3,4,4,4) and (3,3,3,5).
    assert table.loc["a", "score_raw"] == pytest.approx((3 + 4 + 4 + 12) / 6)
    assert table.loc["b", "score_raw"] == pytest.approx((3 + 3 + 3 + 15) / 6)
    assert table.loc["a", "flags"] == "disagreement"
    assert table.loc["b", "flags"] == "too_few_reviews"


def test_calibration_removes_reviewer_bias_when_reviewers_are_linked() -> None:
    rng = np.random.default_rng(4)
    quality = rng.uniform(2.0, 4.0, 30)
    bias = np.array([-0.8, -0.4, 0.0, 0.0, 0.4, 0.8])
    rows = []
    for a in range(30):
        for v in ((a + s) % 6 for s in (0, 1, 3)):
            value = float(quality[a] + bias[v])
            rows.append((f"a{a:02d}", f"r{v}", value, value, value, value))
    table = score_reviews(_reviews(rows), calibrate=True).set_index("id")
    offset = table["score_calibrated"].to_numpy() - quality
    assert np.ptp(offset) < 0.05  # quality recovered up to one common shift
    raw_offset = table["score_raw"].to_numpy() - quality
    assert np.ptp(raw_offset) > 0.5  # the raw means do carry the reviewers' biases
    assert table.attrs["warnings"] == []


def test_calibration_is_refused_with_a_warning_when_reviewers_form_separate_groups() -> None:
    reviews = _reviews(
        [
            ("a", "r1", 4, 4, 4, 4),
            ("b", "r1", 3, 3, 3, 3),
            ("c", "r2", 2, 2, 2, 2),
            ("d", "r2", 5, 5, 5, 5),
        ]
    )
    table = score_reviews(reviews, calibrate=True)
    assert table["score_calibrated"].isna().all()
    assert "2 separate groups" in table.attrs["warnings"][0]
    apps = pd.DataFrame({"id": list("abcd"), "nation": ["x"] * 4})
    quotas = pd.DataFrame([{"dimension": "nation", "category": "x", "min": 1, "max": None}])
    result = select(apps, quotas, 2, reviews=reviews, options=SelectionOptions(calibrate=True))
    assert result.selected_ids == ["d", "a"]  # raw scores used
    assert "Raw scores are used" in result.warnings[0]


def test_review_errors_name_row_and_column() -> None:
    bad = _reviews([("a", "r1", 4, 4, 6, 4)])
    with pytest.raises(InputError) as caught:
        score_reviews(bad)
    assert str(caught.value) == "Row 2, column 'resources': the value '6' is not between 1 and 5."
    assert (caught.value.row, caught.value.column) == (2, "resources")
    twice = _reviews([("a", "r1", 4, 4, 4, 4), ("a", "r1", 3, 3, 3, 3)])
    with pytest.raises(
        InputError, match="Row 3: reviewer 'r1' has already reviewed application 'a'"
    ):
        score_reviews(twice)


def test_application_errors_name_row_and_column() -> None:
    quotas = pd.DataFrame([{"dimension": "nation", "category": "x", "min": None, "max": 1}])
    apps = pd.DataFrame(
        {
            "id": ["a", "b"],
            "nation": ["x", "x"],
            "eligible": ["yes", "no"],
            "difference": [3.0, None],  # missing is fine for the ineligible row
            "inequalities": [3.0, 2.0],
            "resources": ["x", 2.0],
            "evidence": [3.0, 2.0],
        }
    )
    with pytest.raises(InputError) as caught:
        select(apps, quotas, 1)
    assert (
        str(caught.value) == "Row 2, column 'resources': the value 'x' is missing or not a number."
    )
    dup = apps.assign(id=["a", "a"])
    with pytest.raises(InputError, match=r"Row 3, column 'id': id 'a' is already used on row 2\."):
        select(dup, quotas, 1)
    maybe = apps.assign(eligible=["yes", "perhaps"], resources=[3.0, 2.0])
    with pytest.raises(
        InputError, match=r"Row 3, column 'eligible': 'perhaps' is not true or false\."
    ):
        select(maybe, quotas, 1)
    with pytest.raises(InputError, match="Unknown criterion 'impact'"):
        select(apps.assign(resources=[3.0, 2.0]), quotas, 1, weights={"impact": 2})


def test_a_calibrated_run_reports_raw_and_calibrated_scores_side_by_side() -> None:
    # r2 is two points harsher than r1 on the applications they share; b was only seen by r2.
    reviews = _reviews(
        [
            ("a", "r1", 4, 4, 4, 4),
            ("a", "r2", 2, 2, 2, 2),
            ("c", "r1", 3, 3, 3, 3),
            ("c", "r2", 1, 1, 1, 1),
            ("b", "r2", 3, 3, 3, 3),
        ]
    )
    apps = pd.DataFrame({"id": ["a", "b", "c"], "nation": ["x", "x", "x"]})
    quotas = pd.DataFrame([{"dimension": "nation", "category": "x", "min": None, "max": 3}])
    options = SelectionOptions(calibrate=True, min_reviews=1)
    result = select(apps, quotas, 1, reviews=reviews, options=options)
    d = result.decisions.set_index("id")
    assert d.loc["a", "score_raw"] == 3.0 and d.loc["b", "score_raw"] == 3.0
    # Raw scores tie a and b; calibrated, b's 3 from the harsh reviewer beats a.
    assert d.loc["b", "score_calibrated"] > d.loc["a", "score_calibrated"]
    assert d.loc["b", "score"] == round(d.loc["b", "score_calibrated"], 3)
    assert result.selected_ids == ["b"]
