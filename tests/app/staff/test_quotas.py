"""The quota table: edited in a form, uploaded and downloaded as CSV, checked with the engine."""

from __future__ import annotations

import csv
import io
from typing import Any

from bs4 import BeautifulSoup

from app.extensions import db
from app.models import Round
from tests.app.factories import submitted_application
from tests.app.helpers import Client, check_hygiene, errors_of


def url(round_: Round) -> str:
    return f"/staff/rounds/{round_.id}/quotas"


def upload(client: Client, round_: Round, content: bytes, status: int = 200) -> BeautifulSoup:
    token = client.hidden_fields(url(round_))["csrf_token"]
    response = client.client.post(
        f"{url(round_)}/upload",
        data={"csrf_token": token, "file": (io.BytesIO(content), "quotas.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == status, response.status_code
    if status == 302:
        return BeautifulSoup(b"", "html.parser")
    page = BeautifulSoup(response.data, "html.parser")
    check_hygiene(page)
    return page


def rows_in_form(page: BeautifulSoup) -> list[tuple[str, str, str, str]]:
    rows = []
    for tr in page.select("#quota-rows tbody tr"):
        selected = tr.select_one("select option[selected]")
        values = (
            selected["value"] if selected else "",
            *(i.get("value", "") for i in tr.select("input")),
        )
        if any(values):
            rows.append(values)
    return rows


def stored(round_: Round) -> list[dict[str, Any]]:
    db.session.expire_all()
    return list(db.session.get(Round, round_.id).quotas)


def download(client: Client, round_: Round) -> list[dict[str, str]]:
    response = client.get(f"{url(round_)}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


VALID_CSV = (
    b"dimension,category,min,max\n"
    b"nation,wales,1,3\n"
    b"area_type,rural,2,\n"
    b"led_by,user-led,,4\n"
    b"first_time,yes,1,\n"
)


def test_a_valid_csv_round_trips(staff_client: Client, round_: Round) -> None:
    upload(staff_client, round_, VALID_CSV, status=302)
    assert stored(round_) == [
        {"dimension": "nation", "category": "wales", "min": 1, "max": 3},
        {"dimension": "area_type", "category": "rural", "min": 2, "max": None},
        {"dimension": "led_by", "category": "user-led", "min": None, "max": 4},
        {"dimension": "first_time", "category": "yes", "min": 1, "max": None},
    ]
    uploaded = list(csv.DictReader(io.StringIO(VALID_CSV.decode())))
    assert download(staff_client, round_) == uploaded
    # And the settings page summarises it in words.
    page = staff_client.get_page(f"/staff/rounds/{round_.id}/settings")
    first = [td.get_text(strip=True) for td in page.select("#quota-summary tbody tr")[0]("td")]
    assert first == ["Nation", "Wales", "1", "3"]


def test_a_spreadsheet_export_with_bom_and_windows_line_ends_is_read(
    staff_client: Client, round_: Round
) -> None:
    content = "\ufeffFeature,Value,Min,Max\r\nnation,scotland,1,2\r\n".encode()
    upload(staff_client, round_, content, status=302)
    assert stored(round_) == [{"dimension": "nation", "category": "scotland", "min": 1, "max": 2}]


def test_upload_errors_name_row_and_column_and_keep_everything(
    staff_client: Client, round_: Round
) -> None:
    upload(staff_client, round_, VALID_CSV, status=302)
    before = stored(round_)
    cases = {
        b"dimension,category,min,max\nnation,wales,1,2\ncolour,blue,1,2\n": (
            "Row 3, column 'dimension': 'colour' is not a quota dimension",
            "#q3-dimension",
        ),
        b"dimension,category,min,max\nnation,wales,3,1\n": (
            "Row 2, column 'max': the maximum 1 is below the minimum 3.",
            "#q2-max",
        ),
        b"dimension,category,min,max\nnation,wales,one,2\n": (
            "Row 2, column 'min': 'one' is not a whole number.",
            "#q2-min",
        ),
        b"dimension,category,min,max\nnation,atlantis,1,2\n": (
            "Row 2, column 'category': 'atlantis' is not a category of nation",
            "#q2-category",
        ),
    }
    for content, (message, target) in cases.items():
        page = upload(staff_client, round_, content)
        assert page.select_one("title").get_text().startswith("Error:")
        assert message in errors_of(page), content
        link = page.select_one(f'.error-summary a[href="{target}"]')
        assert link is not None and message in link.get_text(), content
        assert page.select_one(f"{target}-error") is not None
        # The file's rows are in the form to correct; the saved table is unchanged.
        expected = [tuple(r.split(",")) for r in content.decode().strip().split("\n")[1:]]
        assert rows_in_form(page) == expected
        assert stored(round_) == before


def test_a_wrong_header_is_named_and_the_saved_table_kept(
    staff_client: Client, round_: Round
) -> None:
    upload(staff_client, round_, VALID_CSV, status=302)
    page = upload(staff_client, round_, b"group,kind,lowest,highest\nnation,wales,1,2\n")
    message = errors_of(page)
    assert "The quota table has no 'dimension' column" in message
    assert "'dimension,category,min,max'" in message
    assert len(rows_in_form(page)) == 4  # the saved rows, still there
    assert len(stored(round_)) == 4


def test_oversized_binary_and_missing_files_get_a_message(
    staff_client: Client, round_: Round
) -> None:
    page = upload(staff_client, round_, b"dimension,category,min,max\n" + b"x" * 200_000)
    assert errors_of(page) == "The file must be smaller than 100 KB"
    page = upload(staff_client, round_, b"PK\x03\x04\x00\x00binary\xff\xfe")
    assert errors_of(page).startswith("The selected file must be a CSV file")
    page = upload(staff_client, round_, b"")
    assert errors_of(page) in ("The selected file is empty", "Select a CSV file")
    # Larger than the whole request limit: the too-large page, not a crash.
    upload(staff_client, round_, b"x" * 2_000_000, status=413)
    token = staff_client.hidden_fields(url(round_))["csrf_token"]
    response = staff_client.client.post(f"{url(round_)}/upload", data={"csrf_token": token})
    assert errors_of(BeautifulSoup(response.data, "html.parser")) == "Select a CSV file"
    assert stored(round_) == []


def test_rows_edited_in_the_form(staff_client: Client, round_: Round) -> None:
    data = {
        "dimension-0": "nation",
        "category-0": "wales",
        "min-0": "1",
        "max-0": "",
        "dimension-1": "",
        "category-1": "",
        "min-1": "",
        "max-1": "",
        "dimension-2": "region",
        "category-2": "north-west",
        "min-2": "",
        "max-2": "2",
    }
    # "Add more rows" keeps what was typed and saves nothing.
    page = staff_client.submit_page(url(round_), {**data, "action": "add"})
    assert rows_in_form(page)[:2] == [
        ("nation", "wales", "1", ""),
        ("region", "north-west", "", "2"),
    ]
    assert len(page.select("#quota-rows tbody tr")) == 3 + 5
    assert stored(round_) == []

    staff_client.submit(url(round_), {**data, "action": "save"})
    assert stored(round_) == [
        {"dimension": "nation", "category": "wales", "min": 1, "max": None},
        {"dimension": "region", "category": "north-west", "min": None, "max": 2},
    ]
    page = staff_client.get_page(url(round_))
    assert rows_in_form(page) == [("nation", "wales", "1", ""), ("region", "north-west", "", "2")]

    # Errors name the row as numbered on the page (the blank row still counts), values kept.
    bad = {**data, "min-2": "3", "category-0": "Wales!", "action": "save"}
    page = staff_client.submit_page(url(round_), bad)
    messages = errors_of(page).split(" | ")
    assert messages[0].startswith("Row 2, column 'category': 'Wales!' is not a category of nation")
    assert messages[1] == "Row 4, column 'max': the maximum 2 is below the minimum 3."
    assert page.select_one("#q2-category")["value"] == "Wales!"
    assert page.select_one("#q4-min")["value"] == "3"
    assert len(stored(round_)) == 2


def test_a_posted_unknown_dimension_is_refused_and_shown(
    staff_client: Client, round_: Round
) -> None:
    page = staff_client.submit_page(
        url(round_),
        {
            "dimension-0": "colour",
            "category-0": "blue",
            "min-0": "1",
            "max-0": "",
            "action": "save",
        },
    )
    assert errors_of(page).startswith(
        "Row 2, column 'dimension': 'colour' is not a quota dimension"
    )
    assert page.select_one("#q2-dimension option[selected]")["value"] == "colour"


def test_the_saved_table_is_checked_against_the_applications(
    staff_client: Client, round_: Round
) -> None:
    application = submitted_application(round_)  # Wales
    application.screening = "eligible"
    db.session.commit()
    upload(staff_client, round_, b"dimension,category,min,max\nnation,wales,2,\n", status=302)
    page = staff_client.get_page(url(round_))
    check = page.select_one("#pool-check").get_text(" ", strip=True)
    assert "1 of them screened eligible" in check
    # The engine's own words: a minimum of 2 with only 1 eligible Welsh application.
    assert "needs at least 2 sites but only 1 eligible application" in check


def test_categories_are_matched_as_the_engine_matches_them_and_stored_as_codes(
    staff_client: Client, round_: Round
) -> None:
    content = "dimension,category,min,max\nnation, WALES ,1,3\nled_by,User-Led,,4\n"
    upload(staff_client, round_, content.encode(), status=302)
    assert stored(round_) == [
        {"dimension": "nation", "category": "wales", "min": 1, "max": 3},
        {"dimension": "led_by", "category": "user-led", "min": None, "max": 4},
    ]
    # The same in the form.
    form = {"dimension-0": "nation", "category-0": "Scotland", "min-0": "", "max-0": "2"}
    staff_client.submit(url(round_), {**form, "action": "save"})
    assert stored(round_) == [
        {"dimension": "nation", "category": "scotland", "min": None, "max": 2}
    ]
    # Two spellings of one category are the same row given twice, as the engine would say.
    page = upload(
        staff_client, round_, b"dimension,category,min,max\nnation,wales,1,\nnation,Wales,,2\n"
    )
    assert "Row 3: nation 'Wales' is already given on row 2 (as 'wales')." in errors_of(page)
    assert stored(round_) == [
        {"dimension": "nation", "category": "scotland", "min": None, "max": 2}
    ]


def test_a_row_for_a_category_no_application_has_is_a_warning_unless_it_has_a_minimum(
    staff_client: Client, round_: Round
) -> None:
    application = submitted_application(round_)  # Wales
    application.screening = "eligible"
    db.session.commit()
    upload(staff_client, round_, b"dimension,category,min,max\nnation,scotland,0,1\n", status=302)
    check = staff_client.get_page(url(round_)).select_one("#pool-check").get_text(" ", strip=True)
    assert (
        "nation 'scotland' (row 2): no application has this category, so this row changes "
        "nothing; the categories present are: wales."
    ) in check

    upload(staff_client, round_, b"dimension,category,min,max\nnation,scotland,1,\n", status=302)
    check = staff_client.get_page(url(round_)).select_one("#pool-check").get_text(" ", strip=True)
    assert (
        "nation 'scotland' (row 2): no application has this category, but its minimum is 1; "
        "the categories present are: wales."
    ) in check


def test_pressures_and_local_population_are_quota_dimensions(
    staff_client: Client, round_: Round
) -> None:
    for pressures, deprivation in (("struggling", "most-deprived"), ("stable", "not-sure")):
        application = submitted_application(
            round_,
            experience={"pressures": pressures},
            location={"local_deprivation": deprivation},
        )
        application.screening = "eligible"
    db.session.commit()
    content = (
        b"dimension,category,min,max\npressures,struggling,1,\nlocal_deprivation,most-deprived,1,\n"
    )
    upload(staff_client, round_, content, status=302)
    assert stored(round_) == [
        {"dimension": "pressures", "category": "struggling", "min": 1, "max": None},
        {"dimension": "local_deprivation", "category": "most-deprived", "min": 1, "max": None},
    ]
    page = staff_client.get_page(url(round_))
    # Both are offered in the form, and the pool has what the minimums need.
    offered = {o["value"] for o in page.select("#quota-rows tbody tr select")[0]("option")}
    assert {"pressures", "local_deprivation"} <= offered
    assert "needs at least" not in page.select_one("#pool-check").get_text(" ", strip=True)
    summary = staff_client.get_page(f"/staff/rounds/{round_.id}/settings")
    rows = [
        [td.get_text(strip=True) for td in tr("td")]
        for tr in summary.select("#quota-summary tbody tr")
    ]
    assert rows == [
        ["Pressures", "Really struggling", "1", ""],
        ["Local population", "Yes, most live in the most deprived areas", "1", ""],
    ]
