"""``python -m selection`` run as staff would run it: files in, files and messages out."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CRITERIA = ["difference", "inequalities", "resources", "evidence"]

# 14 applications: region North/South/Wales, rurality urban/rural. Welsh and rural ones score
# lower, so the quotas below change who is chosen.
APPS = [
    ("A01", "North", "urban", 5, 5, 5, 5),
    ("A02", "North", "urban", 5, 4, 5, 5),
    ("A03", "North", "urban", 4, 5, 4, 5),
    ("A04", "North", "rural", 4, 4, 4, 4),
    ("A05", "South", "urban", 5, 5, 4, 4),
    ("A06", "South", "urban", 4, 4, 5, 4),
    ("A07", "South", "rural", 3, 4, 3, 4),
    ("A08", "South", "rural", 3, 3, 3, 3),
    ("A09", "Wales", "urban", 3, 3, 4, 3),
    ("A10", "Wales", "rural", 2, 3, 3, 2),
    ("A11", "Wales", "rural", 2, 2, 3, 2),
    ("A12", "North", "urban", 4.5, 4, 4, 4.5),
    ("A13", "South", "urban", 3.5, 4, 4, 3),
    ("A14", "North", "rural", 2, 2, 2, 2.5),
]
QUOTAS = "dimension,category,min,max\nregion,Wales,2,\nregion,North,,3\nrurality,rural,2,\n"
K = 6


def apps_frame() -> pd.DataFrame:
    return pd.DataFrame(APPS, columns=["id", "region", "rurality", *CRITERIA])


def write_apps(folder: Path, frame: pd.DataFrame | None = None, name: str = "apps.csv") -> Path:
    path = folder / name
    # CRLF line ends make pandas quote cells that hold a carriage return, as spreadsheets do.
    (apps_frame() if frame is None else frame).to_csv(path, index=False, lineterminator="\r\n")
    return path


def run_cli(
    folder: Path, *extra: str, quotas: str = QUOTAS, k: int = K
) -> subprocess.CompletedProcess[str]:
    """Run the command line in ``folder`` with apps.csv, quotas.csv and decisions.csv there."""
    if not (folder / "apps.csv").exists():
        write_apps(folder)
    (folder / "quotas.csv").write_text(quotas, encoding="utf-8")
    args = ["--applications", "apps.csv", "--quotas", "quotas.csv", "--sites", str(k)]
    args += ["--output", "decisions.csv", *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "selection", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_decisions(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "decisions.csv", dtype={"id": str})


def meets_quotas(chosen: pd.DataFrame) -> bool:
    return (
        (chosen["region"] == "Wales").sum() >= 2
        and (chosen["region"] == "North").sum() <= 3
        and (chosen["rurality"] == "rural").sum() >= 2
    )


def brute_force_best_total() -> float:
    apps = apps_frame()
    apps["score"] = apps[CRITERIA].mean(axis=1)
    best = -1.0
    for combo in itertools.combinations(range(len(apps)), K):
        chosen = apps.iloc[list(combo)]
        if meets_quotas(chosen):
            best = max(best, float(chosen["score"].sum()))
    return best


def test_selects_exactly_k_sites_that_meet_every_quota_at_the_best_total(tmp_path: Path) -> None:
    done = run_cli(tmp_path)

    assert done.returncode == 0, done.stderr
    decisions = read_decisions(tmp_path)
    assert {"id", "decision", "rank", "score", "reason"} <= set(decisions.columns)
    assert list(decisions.columns[:5]) == ["id", "decision", "rank", "score", "reason"]
    assert sorted(decisions["id"]) == sorted(a[0] for a in APPS)
    assert set(decisions["decision"]) <= {"selected", "reserve", "not_selected", "ineligible"}
    assert decisions["reason"].notna().all()
    selected = decisions[decisions["decision"] == "selected"]
    assert len(selected) == K
    chosen = apps_frame().set_index("id").loc[selected["id"]]
    assert meets_quotas(chosen)
    total = chosen[CRITERIA].mean(axis=1).sum()
    assert total == pytest.approx(brute_force_best_total())
    best_first = decisions.sort_values("score", ascending=False)
    assert best_first["rank"].iloc[0] == 1


def test_summary_shows_totals_price_of_balance_and_the_quota_table(tmp_path: Path) -> None:
    done = run_cli(tmp_path)

    assert done.returncode == 0, done.stderr
    out = done.stdout.lower()
    assert "selected" in out
    assert "price of balance" in out
    for heading in ("dimension", "category", "pool", "selected", "binding"):
        assert heading in out
    assert "wales" in out


def test_ineligible_rows_are_kept_and_marked(tmp_path: Path) -> None:
    frame = apps_frame()
    frame["eligible"] = ["yes"] * len(frame)
    frame.loc[0, "eligible"] = "no"  # the best application
    frame.loc[1, "eligible"] = "FALSE"
    write_apps(tmp_path, frame)

    done = run_cli(tmp_path)

    assert done.returncode == 0, done.stderr
    decisions = read_decisions(tmp_path).set_index("id")
    assert decisions.loc["A01", "decision"] == "ineligible"
    assert decisions.loc["A02", "decision"] == "ineligible"
    assert (decisions["decision"] == "selected").sum() == K


def test_a_bad_rating_is_reported_with_file_row_and_column(tmp_path: Path) -> None:
    frame = apps_frame().astype({"evidence": object})
    frame.loc[5, "evidence"] = "high"  # data row 6 = spreadsheet row 7 (the header is row 1)
    write_apps(tmp_path, frame)

    done = run_cli(tmp_path)

    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.startswith("apps.csv, row 7, column evidence:")
    assert "'high'" in message
    assert not (tmp_path / "decisions.csv").exists()


def test_an_out_of_range_rating_is_reported_with_row_and_column(tmp_path: Path) -> None:
    frame = apps_frame()
    frame.loc[0, "difference"] = 7
    write_apps(tmp_path, frame)

    done = run_cli(tmp_path)

    assert done.returncode == 2
    assert done.stderr.startswith("apps.csv, row 2, column difference:")


def test_a_bad_eligible_value_is_reported_with_row_and_column(tmp_path: Path) -> None:
    frame = apps_frame()
    frame["eligible"] = "yes"
    frame.loc[3, "eligible"] = "perhaps"
    write_apps(tmp_path, frame)

    done = run_cli(tmp_path)

    assert done.returncode == 2
    assert done.stderr.startswith("apps.csv, row 5, column eligible:")
    assert "perhaps" in done.stderr


def test_a_duplicate_id_is_reported_with_row(tmp_path: Path) -> None:
    frame = apps_frame()
    frame.loc[4, "id"] = "A01"
    write_apps(tmp_path, frame)

    done = run_cli(tmp_path)

    assert done.returncode == 2
    assert done.stderr.startswith("apps.csv, row 6, column id:")


def test_a_missing_criterion_column_names_the_file_and_column(tmp_path: Path) -> None:
    write_apps(tmp_path, apps_frame().drop(columns="resources"))

    done = run_cli(tmp_path)

    assert done.returncode == 2
    assert "apps.csv" in done.stderr
    assert "resources" in done.stderr


@pytest.mark.parametrize(
    ("quotas", "fragments"),
    [
        ("dimension,category,min,max\nregion,Wales,two,\n", ["Row 2", "'min'", "'two'"]),
        # an unknown dimension is named together with the columns that do exist
        ("dimension,category,min,max\nnation,Wales,1,\n", ["nation", "region", "rurality"]),
        ("feature,value,min,max\nregion,Cornwall,1,\n", ["Cornwall", "North, South, Wales"]),
    ],
)
def test_a_bad_quota_table_names_the_quota_file_and_the_problem(
    tmp_path: Path, quotas: str, fragments: list[str]
) -> None:
    done = run_cli(tmp_path, quotas=quotas)

    assert done.returncode == 2
    assert done.stderr.startswith("quotas.csv: ")
    for fragment in fragments:
        assert fragment in done.stderr


def test_infeasible_quotas_exit_2_with_relaxation_advice_on_stderr(tmp_path: Path) -> None:
    # Each bound is possible alone, but two of the three Welsh applications are rural.
    quotas = "dimension,category,min,max\nregion,Wales,3,\nrurality,rural,,1\n"

    done = run_cli(tmp_path, quotas=quotas, k=4)

    assert done.returncode == 2
    assert done.stdout == ""
    assert "cannot all be met" in done.stderr
    assert any(word in done.stderr.lower() for word in ("lower", "raise"))
    assert not (tmp_path / "decisions.csv").exists()


def test_a_minimum_above_the_eligible_pool_exits_2_naming_the_category(tmp_path: Path) -> None:
    done = run_cli(tmp_path, quotas="dimension,category,min,max\nregion,Wales,4,\n")

    assert done.returncode == 2
    assert "only 3 eligible" in done.stderr
    assert "Wales minimum to 3" in done.stderr


def test_reviews_are_averaged_and_their_problems_name_the_reviews_file(tmp_path: Path) -> None:
    rows = []
    for app_id, *_, d, i, r, e in APPS:
        for reviewer in ("R1", "R2"):
            rows.append((app_id, reviewer, d, i, r, e))
    reviews = pd.DataFrame(rows, columns=["application_id", "reviewer_id", *CRITERIA])
    write_apps(tmp_path, apps_frame().drop(columns=CRITERIA))
    reviews.to_csv(tmp_path / "reviews.csv", index=False)

    done = run_cli(tmp_path, "--reviews", "reviews.csv")

    assert done.returncode == 0, done.stderr
    selected = read_decisions(tmp_path).query("decision == 'selected'")
    assert len(selected) == K
    chosen = apps_frame().set_index("id").loc[selected["id"]]
    assert chosen[CRITERIA].mean(axis=1).sum() == pytest.approx(brute_force_best_total())

    reviews = reviews.astype({"inequalities": object})
    reviews.loc[9, "inequalities"] = "n/a"
    reviews.to_csv(tmp_path / "reviews.csv", index=False)
    done = run_cli(tmp_path, "--reviews", "reviews.csv")

    assert done.returncode == 2
    assert done.stderr.startswith("reviews.csv, row 11, column inequalities:")

    reviews.loc[9, "inequalities"] = 4
    reviews.loc[len(reviews)] = ["Z99", "R1", 3, 3, 3, 3]
    reviews.to_csv(tmp_path / "reviews.csv", index=False)
    done = run_cli(tmp_path, "--reviews", "reviews.csv")

    assert done.returncode == 2
    assert done.stderr.startswith("reviews.csv, column application_id:")
    assert "Z99" in done.stderr


def test_weights_change_the_scores_and_bad_weights_are_refused(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--weights", "difference=3,evidence=1")

    assert done.returncode == 0, done.stderr
    scores = read_decisions(tmp_path).set_index("id")["score"]
    a12 = dict(zip(CRITERIA, APPS[11][3:], strict=True))
    weighted = (
        3 * a12["difference"] + a12["inequalities"] + a12["resources"] + a12["evidence"]
    ) / 6
    assert scores["A12"] == pytest.approx(weighted, abs=1e-3)

    done = run_cli(tmp_path, "--weights", "quality=2")
    assert done.returncode == 2
    assert "quality" in done.stderr


def test_the_same_seed_gives_a_byte_identical_decisions_file(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "--seed", "7", "--lottery-band", "0.5", "--reserves", "3")
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "decisions.csv").read_bytes()

    again = run_cli(tmp_path, "--seed", "7", "--lottery-band", "0.5", "--reserves", "3")

    assert again.returncode == 0, again.stderr
    assert (tmp_path / "decisions.csv").read_bytes() == before
    reserves = read_decisions(tmp_path).query("decision == 'reserve'")
    assert len(reserves) == 3


def test_a_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["--applications", "nope.csv", "--quotas", "quotas.csv", "--sites", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "selection", *args, "--output", "d.csv"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 2
    assert "nope.csv" in done.stderr


def test_a_spreadsheet_bom_and_trailing_blank_lines_are_accepted(tmp_path: Path) -> None:
    text = apps_frame().to_csv(index=False) + "\n,,,,,,\n\n"
    (tmp_path / "apps.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    done = run_cli(tmp_path, quotas="\ufeff" + QUOTAS + ",,,\n")

    assert done.returncode == 0, done.stderr
    assert len(read_decisions(tmp_path)) == len(APPS)


def test_ids_are_kept_exactly_in_the_xlsx_and_the_output_says_how_the_csv_marks_them(
    tmp_path: Path,
) -> None:
    # Ids are stripped of surrounding white space on reading, so TAB and CR cannot reach here.
    formulas = ["=1+2", "+SUM(A1:A2)", "-2+3", "@cmd"]
    frame = apps_frame()
    frame["id"] = [*formulas, "-5", *(f"B{i}" for i in range(len(frame) - len(formulas) - 1))]
    write_apps(tmp_path, frame)

    done = run_cli(tmp_path, "--xlsx", "report.xlsx")

    assert done.returncode == 0, done.stderr
    # The CSV cannot mark a cell as text: formula-like ids get an apostrophe in front ...
    ids = read_csv_column(tmp_path / "decisions.csv", "id")
    assert {"'" + text for text in formulas} <= set(ids)
    assert "-5" in ids  # a genuine number is left as it is
    # ... and the output says so, and how to undo it.
    assert f"Note: {len(formulas)} ids start with =, +, - or @" in done.stdout
    assert "apostrophe (') added in front" in done.stdout
    assert "report.xlsx keeps every id exactly as given" in done.stdout
    # The workbook holds every id exactly as given, as text: never a formula.
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    decisions = book["Decisions"]
    assert decisions["A1"].value == "id"
    assert sorted(c.value for c in decisions["A"][1:]) == sorted(frame["id"])
    assert all(c.data_type == "s" for c in decisions["A"])
    assert xlsx_text_cells(tmp_path / "report.xlsx")  # and no formula anywhere


def test_plain_ids_get_no_note(tmp_path: Path) -> None:
    done = run_cli(tmp_path)

    assert done.returncode == 0, done.stderr
    assert "apostrophe" not in done.stdout


def test_the_xlsx_report_is_the_same_bytes_on_replay(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "--xlsx", "first.xlsx", "--seed", "3")
    second = run_cli(tmp_path, "--xlsx", "second.xlsx", "--seed", "3")

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert (tmp_path / "first.xlsx").read_bytes() == (tmp_path / "second.xlsx").read_bytes()
    # Dated by the run record, which holds no clock time: the fixed date, not the time written.
    book = openpyxl.load_workbook(tmp_path / "first.xlsx")
    assert book.properties.created == dt.datetime(1980, 1, 1)


def read_csv_column(path: Path, column: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def xlsx_text_cells(path: Path) -> set[str]:
    """Every text cell of the workbook; fails if any cell was stored as a formula."""
    book = openpyxl.load_workbook(path)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    return {c.value for c in cells if isinstance(c.value, str)}


def test_the_xlsx_report_has_decisions_mix_and_parameters(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--xlsx", "report.xlsx", "--seed", "3")

    assert done.returncode == 0, done.stderr
    sheets = pd.read_excel(tmp_path / "report.xlsx", sheet_name=None)
    assert list(sheets) == ["Decisions", "Mix", "Parameters"]
    assert len(sheets["Decisions"]) == len(APPS)
    assert {"dimension", "category", "pool", "selected", "binding"} <= set(sheets["Mix"].columns)
    parameters = dict(
        zip(sheets["Parameters"]["parameter"], sheets["Parameters"]["value"], strict=True)
    )
    assert any("seed" in str(name) for name in parameters)
