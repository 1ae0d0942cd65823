"""``python -m selection`` on the input habits of spreadsheet users: category spellings, quota
rows for categories nobody has, XLSX and semicolon files, ragged rows and a fast start."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from tests.selection.test_cli import (
    QUOTAS,
    ROOT,
    apps_frame,
    read_decisions,
    run_cli,
    write_apps,
)

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


# --- Spreadsheet habits ----------------------------------------------------------------------


def decisions_of(folder: Path) -> list[tuple[str, str, str]]:
    frame = read_decisions(folder)
    return sorted(zip(frame["id"], frame["decision"], frame["reason"], strict=True))


def test_xlsx_workbooks_are_read_from_the_first_or_the_named_sheet(tmp_path: Path) -> None:
    expected_folder = tmp_path / "csv"
    expected_folder.mkdir()
    assert run_cli(expected_folder).returncode == 0
    quotas = pd.read_csv(io.StringIO(QUOTAS))
    with pd.ExcelWriter(tmp_path / "apps.xlsx", engine="openpyxl") as book:
        apps_frame().to_excel(book, sheet_name="Applications", index=False)
    with pd.ExcelWriter(tmp_path / "round.xlsx", engine="openpyxl") as book:
        pd.DataFrame({"note": ["made up"]}).to_excel(book, sheet_name="Notes", index=False)
        quotas.to_excel(book, sheet_name="Quotas", index=False)
    write_apps(tmp_path)  # run_cli's quotas.csv is not used: the arguments below replace it

    done = run_cli(
        tmp_path,
        "--applications",
        "apps.xlsx",
        "--quotas",
        "round.xlsx",
        "--quotas-sheet",
        "Quotas",
    )

    assert done.returncode == 0, done.stderr
    assert decisions_of(tmp_path) == decisions_of(expected_folder)

    wrong = run_cli(tmp_path, "--quotas", "round.xlsx", "--quotas-sheet", "Quota")
    assert wrong.returncode == 2
    assert wrong.stderr == (
        "round.xlsx: the workbook has no sheet 'Quota'; its sheets are: Notes, Quotas.\n"
    )


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(tmp_path: Path, separator: str) -> None:
    expected_folder = tmp_path / "csv"
    expected_folder.mkdir()
    assert run_cli(expected_folder).returncode == 0
    apps_frame().to_csv(tmp_path / "apps.csv", index=False, sep=separator)

    done = run_cli(tmp_path, quotas=QUOTAS.replace(",", separator))

    assert done.returncode == 0, done.stderr
    assert decisions_of(tmp_path) == decisions_of(expected_folder)


def test_a_row_with_more_cells_than_the_header_is_named(tmp_path: Path) -> None:
    lines = apps_frame().to_csv(index=False).splitlines()
    # An organisation-style value with an unquoted comma on the first application's row.
    lines[1] = lines[1].replace("North", "North, East", 1)
    (tmp_path / "apps.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    done = run_cli(tmp_path)

    assert done.returncode == 2
    assert done.stderr.startswith(
        "apps.csv, row 2: this row has 8 cells but the header has 7 columns;"
    )


def test_a_header_only_file_says_there_are_no_applications(tmp_path: Path) -> None:
    (tmp_path / "apps.csv").write_text(",".join(apps_frame().columns) + "\n", encoding="utf-8")

    done = run_cli(tmp_path)

    assert done.returncode == 2
    assert done.stderr == "apps.csv: the file has a header row but no applications under it.\n"


def test_a_reason_never_cites_a_score_above_the_highest_possible(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        [
            ("A1", "North", "urban", 5, 5, 5, 5),
            ("A2", "North", "urban", 5, 5, 5, 5),
            ("A3", "South", "urban", 1, 1, 1, 1.5),
        ],
        columns=apps_frame().columns,
    )
    write_apps(tmp_path, frame)

    done = run_cli(
        tmp_path, "--reserves", "0", quotas="dimension,category,min,max\nregion,South,,1\n", k=2
    )

    assert done.returncode == 0, done.stderr
    reason = read_decisions(tmp_path).set_index("id").loc["A3", "reason"]
    assert "a score of at least" not in reason
    assert reason == (
        "Not selected: it scored 1.125 and cannot get in on score alone: even the highest "
        "possible score, 5.000, would not be enough with the quotas as they are."
    )


# --- Start-up ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--applications", "nope.csv", "--quotas", "q.csv", "--sites", "2", "--output", "d.csv"],
    ],
)
def test_help_and_a_missing_file_answer_without_loading_pandas_or_scipy(
    tmp_path: Path, argv: list[str]
) -> None:
    code = (
        "import sys\n"
        "from selection.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'numpy', 'pandas', 'scipy', 'openpyxl', 'xlsxwriter'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )

    assert done.stderr.splitlines()[-1] == "[]"
    assert "usage:" in done.stdout or "nope.csv: file not found" in done.stderr


def test_the_public_api_still_works_when_loaded_on_first_use() -> None:
    import selection

    assert selection.category_key(" Ynys  MÔN ") == "ynys môn"
    assert selection.select is __import__("selection.engine").engine.select
    with pytest.raises(AttributeError):
        _ = selection.not_a_name
