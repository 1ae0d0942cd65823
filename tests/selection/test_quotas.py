"""Reading quota tables and the message for each thing that can be wrong with one."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from selection import QuotaBound, QuotaError, QuotaTable, read_quotas, validate_quotas

APPS = pd.DataFrame(
    {
        "id": ["a", "b", "c", "d", "e"],
        "nation": ["England", "England", "Wales", "Wales", "Scotland"],
        "rural": ["yes", "no", "no", "yes", "no"],
        "eligible": [True, True, True, False, True],
    }
)


def _table(*rows: tuple[str, str, int | None, int | None]) -> QuotaTable:
    return QuotaTable(tuple(QuotaBound(d, c, lo, hi) for d, c, lo, hi in rows))


def test_reads_dimension_category_headers_with_blank_meaning_no_bound() -> None:
    table = read_quotas(
        io.StringIO("dimension,category,min,max\nnation,Wales,2,\nrural,yes,,3\n"), 10
    )
    assert table.bounds == (
        QuotaBound("nation", "Wales", 2, None, 2),
        QuotaBound("rural", "yes", None, 3, 3),
    )


def test_reads_the_sortition_header_and_ignores_extra_columns() -> None:
    text = "feature,value,min,max,min_flex,max_flex\nnation,Wales,1,2,0,9\n"
    table = read_quotas(text, 10)
    assert table.bounds == (QuotaBound("nation", "Wales", 1, 2, 2),)


def test_reads_a_path_and_a_dataframe(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "quotas.csv"
    path.write_text("dimension,category,min,max\nnation,Wales,1,2\n")
    assert read_quotas(path, 5).bounds[0].max == 2
    frame = pd.DataFrame(
        {"dimension": ["nation"], "category": ["Wales"], "min": [1.0], "max": [None]}
    )
    assert read_quotas(frame, 5).bounds == (QuotaBound("nation", "Wales", 1, None, 2),)


def test_shares_round_minimum_up_and_maximum_down_and_say_so() -> None:
    text = "dimension,category,min_share,max_share\nnation,Wales,0.3,0.45\nnation,England,25%,50%\n"
    table = read_quotas(text, 12)
    wales, england = table.bounds
    assert (wales.min, wales.max) == (4, 5)  # 3.6 up to 4, 5.4 down to 5
    assert (england.min, england.max) == (3, 6)  # exact, no note
    assert len(table.rounding_notes) == 2
    assert "rounded up to a minimum of 4" in table.rounding_notes[0]
    assert "rounded down to a maximum of 5" in table.rounding_notes[1]


def test_bad_cells_are_reported_together_with_row_and_column() -> None:
    text = "dimension,category,min,max\nnation,Wales,two,\nnation,,1,-3\nnation,Wales,1,2\n"
    with pytest.raises(QuotaError) as caught:
        read_quotas(text, 5)
    problems = caught.value.problems
    assert "Row 2, column 'min': 'two' is not a whole number." in problems
    assert "Row 3, column 'category': the category is blank." in problems
    assert any(p.startswith("Row 3, column 'max'") for p in problems)
    assert "Row 4: nation 'Wales' is already given on row 2." in problems


def test_missing_headers_are_named() -> None:
    with pytest.raises(QuotaError) as caught:
        read_quotas("group,min,max\nx,1,2\n", 5)
    assert "no 'dimension' column" in caught.value.problems[0]


def test_unknown_dimension_column() -> None:
    problems = validate_quotas(_table(("region", "Wales", 1, None)), APPS, 2)
    assert problems == [
        "Quota dimension 'region' is not a column of the applications "
        "(the columns are: id, nation, rural, eligible)."
    ]


def test_a_category_nobody_has_with_no_minimum_is_only_a_warning() -> None:
    for minimum in (None, 0):
        table = _table(("nation", "Walse", minimum, 1))
        assert validate_quotas(table, APPS, 2) == []
        assert validate_quotas(table, APPS, 2, warnings=True) == [
            "nation 'Walse': no application has this category, so this row changes nothing; "
            "the categories present are: England, Scotland, Wales."
        ]


def test_a_category_nobody_has_with_a_minimum_is_infeasible_listing_the_categories() -> None:
    problems = validate_quotas(_table(("nation", "Walse", 1, None)), APPS, 2)
    assert problems == [
        "nation 'Walse': no application has this category, but its minimum is 1; the "
        "categories present are: England, Scotland, Wales."
    ]


def test_minimum_above_maximum() -> None:
    problems = validate_quotas(_table(("nation", "Wales", 3, 1)), APPS, 3)
    assert "nation 'Wales': the minimum 3 is above the maximum 1." in problems


def test_minimums_adding_up_to_more_than_k() -> None:
    problems = validate_quotas(
        _table(("nation", "England", 2, None), ("nation", "Wales", 1, None)), APPS, 2
    )
    assert problems == ["The minimums for nation add up to 3, more than the 2 sites to select."]


def test_fewer_eligible_applications_than_the_minimum() -> None:
    # Wales has two applications but one is ineligible.
    problems = validate_quotas(_table(("nation", "Wales", 2, None)), APPS, 3)
    assert problems == [
        "Wales needs at least 2 sites but only 1 eligible application in Wales exists."
    ]


def test_maximums_that_cannot_reach_k() -> None:
    table = _table(("rural", "yes", None, 1), ("rural", "no", None, 1))
    assert validate_quotas(table, APPS, 3) == [
        "The maximums for rural add up to 2, fewer than the 3 sites to select."
    ]


def test_a_sound_table_has_no_problems() -> None:
    table = read_quotas("dimension,category,min,max\nnation,Wales,1,1\nrural,yes,,2\n", 3)
    assert validate_quotas(table, APPS, 3) == []
    assert table.to_frame()["max"].tolist() == [1, 2]
