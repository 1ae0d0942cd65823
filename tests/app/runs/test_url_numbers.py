"""Numbers in links are read one way: ASCII digits only. A superscript "²" (which str.isdigit()
takes and int() refuses) gave a 500; Arabic-Indic "٣" (which int() reads as 3) must not stand
for a record either. Each case is a 404 or the page without a choice, never an error."""

from __future__ import annotations

from typing import Any

import pytest

from app.staff.runs import shortlist as runs
from app.urls import whole_number_or_none
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, press
from tests.app.runs.helpers import decisions, run_id_from
from tests.app.world import Pool

# Digits that are not ASCII: superscript two, Arabic-Indic and full-width digits.
NOT_ASCII = {ord(a): b for a, b in zip("0123456789", "٠١٢٣٤٥٦٧٨٩", strict=True)}
BAD = ["%C2%B2", "1%C2%B2", "%EF%BC%91", "-1", "1.0", "1e3", "0x1", "9" * 30, ""]


def arabic(number: int) -> str:
    return str(number).translate(NOT_ASCII)


@pytest.fixture
def staff(client: Client, make_user: Any) -> Any:
    user = make_user("staff")
    sign_in_as(client, user)
    return user


def start(client: Client, pool: Pool) -> int:
    response = client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"})
    return run_id_from(response.headers["Location"])


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("7", 7),
        (" 12 ", 12),
        ("123456789", 123456789),
        ("²", None),
        ("٣", None),
        ("３", None),
        ("1234567890", None),
        ("+1", None),
        ("1_000", None),
        (None, None),
    ],
)
def test_only_ascii_digits_are_a_whole_number(text: str | None, number: int | None) -> None:
    assert whole_number_or_none(text) == number


def test_comparing_runs_named_by_anything_but_ascii_digits_is_not_found(
    client: Client, pool: Pool, staff: Any
) -> None:
    first, second = start(client, pool), start(client, pool)
    url = f"/staff/rounds/{pool.round.id}/runs/compare"
    client.get_page(f"{url}?a={first}&b={second}")
    for bad in [*BAD, arabic(first)]:
        assert client.get(f"{url}?a={bad}&b={second}").status_code == 404, bad
        assert client.get(f"{url}?a={first}&b={bad}").status_code == 404, bad


def test_an_override_link_with_a_number_that_is_not_one_shows_the_choice_again(
    client: Client, pool: Pool, staff: Any
) -> None:
    run_id = start(client, pool)
    stored = decisions(run_id)
    out = next(a for a in pool.applications if stored[a.id].decision == "selected")
    into = next(a for a in pool.applications if stored[a.id].decision != "selected")
    url = f"/staff/runs/{run_id}/override"
    assert client.get_page(f"{url}?remove={out.id}&add={into.id}").select_one("#effect")
    for bad in [*BAD, arabic(out.id)]:
        page = client.get_page(f"{url}?remove={bad}&add={into.id}")
        assert page.select_one("#effect") is None, bad
        assert page.select_one("select#remove"), bad
    page = client.get_page(f"{url}?remove={out.id}&add={arabic(into.id)}")
    assert page.select_one("#effect") is None


def test_a_replacement_link_with_a_number_that_is_not_one_shows_the_choice_again(
    client: Client, pool: Pool, staff: Any
) -> None:
    run_id = start(client, pool)
    assert (
        press(client, f"/staff/runs/{run_id}/confirm", f"/staff/runs/{run_id}/confirm").status_code
        == 302
    )
    stored = decisions(run_id)
    gone = next(a for a in pool.applications if stored[a.id].decision == "selected")
    url = f"/staff/runs/{run_id}/replace"
    assert client.get_page(f"{url}?withdrawn={gone.id}").select_one("#proposal")
    for bad in [*BAD, arabic(gone.id)]:
        page = client.get_page(f"{url}?withdrawn={bad}")
        assert page.select_one("#proposal") is None, bad
        assert page.select_one("select#withdrawn"), bad


def test_a_page_number_that_is_not_ascii_digits_shows_the_first_page(
    client: Client, pool: Pool, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "SHORTLIST_PER_PAGE", 3)
    run_id = start(client, pool)

    def shown(page: str) -> list[str]:
        found = client.get_page(f"/staff/runs/{run_id}?page={page}")
        return [row["data-reference"] for row in found.select("#decision-table tbody tr")]

    first, second = shown("1"), shown("2")
    assert first != second
    for bad in ["%C2%B2", arabic(2), "%EF%BC%92"]:
        assert shown(bad) == first, bad
