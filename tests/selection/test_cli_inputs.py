"""``python -m selection`` on the input habits of spreadsheet users: category spellings, quota
rows for categories nobody has, XLSX and semicolon files, ragged rows and a fast start."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from tests.selection.test_cli import apps_frame, read_decisions, run_cli, write_apps

COMPOSED = unicodedata.normalize("NFC", "Môn")
DECOMPOSED = unicodedata.normalize("NFD", "Môn")


def with_regions(folder: Path, regions: dict[str, str]) -> pd.DataFrame:
    """apps.csv with the region of some applications changed."""
    frame = apps_frame()
    for app_id, region in regions.items():
        frame.loc[frame["id"] == app_id, "region"] = region
    write_apps(folder, frame)
    return frame


def selected_regions(folder: Path, frame: pd.DataFrame) -> list[str]:
    decisions = read_decisions(folder)
    chosen = decisions.loc[decisions["decision"] == "selected", "id"]
    return frame.set_index("id").loc[chosen, "region"].tolist()


# --- Category spellings -----------------------------------------------------------------------


def test_a_maximum_holds_across_spellings_that_differ_in_case(tmp_path: Path) -> None:
    # A01 and A02, the two best, are "England" and "england": at most one may be chosen.
    frame = with_regions(tmp_path, {"A01": "England", "A02": "england", "A03": "England"})

    done = run_cli(tmp_path, quotas="dimension,category,min,max\nregion,England,,1\n", k=3)

    assert done.returncode == 0, done.stderr
    chosen = selected_regions(tmp_path, frame)
    assert sum(r.casefold() == "england" for r in chosen) == 1
    assert (
        "region: 'England' (2 applications) and 'england' (1 application) are counted as one "
        "category, shown as 'England'."
    ) in done.stdout


def test_composed_and_decomposed_unicode_are_one_category(tmp_path: Path) -> None:
    # The three Welsh applications are written "Môn" two ways; the minimum of 3 needs all three.
    frame = with_regions(tmp_path, {"A09": COMPOSED, "A10": DECOMPOSED, "A11": COMPOSED})

    done = run_cli(tmp_path, quotas=f"dimension,category,min,max\nregion,{DECOMPOSED},3,\n", k=4)

    assert done.returncode == 0, done.stderr
    assert (
        sum(unicodedata.normalize("NFC", r) == COMPOSED for r in selected_regions(tmp_path, frame))
        == 3
    )
    assert f"'{DECOMPOSED}' with its accents stored as separate characters (1 application)" in (
        done.stdout
    )
    assert f"shown as '{COMPOSED}'" in done.stdout


def test_a_minimum_counts_every_spelling_instead_of_claiming_infeasibility(
    tmp_path: Path,
) -> None:
    frame = with_regions(tmp_path, {"A09": "Wales", "A10": " wales ", "A11": "WALES"})

    done = run_cli(tmp_path, quotas="dimension,category,min,max\nregion,wales,3,\n", k=4)

    assert done.returncode == 0, done.stderr
    assert sum(r.strip().casefold() == "wales" for r in selected_regions(tmp_path, frame)) == 3
    # The quota table, in the summary, uses the applications' most common spelling.
    assert "only 1 eligible" not in done.stderr


def test_two_quota_rows_for_one_category_spelled_two_ways_are_refused(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path, quotas="dimension,category,min,max\nregion,Wales,1,\nregion,WALES,,2\n"
    )

    assert done.returncode == 2
    assert "quotas.csv: Row 3: region 'WALES' is already given on row 2 (as 'Wales')." in (
        done.stderr
    )


# --- Quota rows for a category nobody has ----------------------------------------------------


def test_a_quota_row_for_a_category_nobody_has_without_a_minimum_is_a_warning(
    tmp_path: Path,
) -> None:
    for bounds in (",1", "0,1", "0,"):
        quotas = f"dimension,category,min,max\nregion,Wales,1,\nregion,Cornwall,{bounds}\n"

        done = run_cli(tmp_path, quotas=quotas)

        assert done.returncode == 0, (bounds, done.stderr)
        assert (
            "region 'Cornwall' (row 3): no application has this category, so this row changes "
            "nothing; the categories present are: North, South, Wales."
        ) in done.stdout
        assert len(read_decisions(tmp_path).query("decision == 'selected'")) == 6


def test_a_minimum_for_a_category_nobody_has_is_infeasible_with_advice(tmp_path: Path) -> None:
    done = run_cli(tmp_path, quotas="dimension,category,min,max\nregion,Cornwall,1,\n")

    assert done.returncode == 2
    assert done.stderr.startswith("quotas.csv: The quotas cannot all be met.")
    assert "region 'Cornwall' (row 2): no application has this category, but its minimum is 1" in (
        done.stderr
    )
    assert "lower the Cornwall minimum to 0" in done.stderr
