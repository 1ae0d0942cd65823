"""The reach page: its counts match a generated pool (counted here, from what was generated),
and its answer to "can the quotas be met yet?" matches a hand-worked shortfall."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, utcnow
from tests.app.factories import make_round, submitted_application
from tests.app.helpers import Client
from tests.app.reach.conftest import make_draft

NATIONS = {"england": "England", "scotland": "Scotland", "wales": "Wales"}
AREAS = {"urban": "Mostly urban", "rural": "Mostly rural", "remote": "Remote rural or island"}


def _table(page: BeautifulSoup, caption: str) -> dict[str, list[str]]:
    """A table's rows by their header cell: the numbers in its cells."""
    table = next(
        t for t in page.select("table") if t.caption and t.caption.get_text(strip=True) == caption
    )
    return {
        row.th.get_text(" ", strip=True): [td.get_text(" ", strip=True) for td in row.select("td")]
        for row in table.select("tbody tr")
    }


def test_counts_match_a_generated_pool(staff_client: Client) -> None:
    round_ = make_round(opens_at=utcnow() - timedelta(days=15))
    draw = random.Random(21)
    sent_nation: Counter[str] = Counter()
    sent_area: Counter[str] = Counter()
    draft_nation: Counter[str] = Counter()
    for _ in range(9):
        nation, area = draw.choice(list(NATIONS)), draw.choice(list(AREAS))
        submitted_application(round_, location={"nation": nation, "area_type": area})
        sent_nation[nation] += 1
        sent_area[area] += 1
    complete = 0
    for i in range(5):
        nation = draw.choice(list(NATIONS))
        whole = i % 2 == 0
        make_draft(
            round_,
            None if whole else ["organisation", "location"],
            location={"nation": nation, "area_type": "urban"},
            region={"region": "london"},
        )
        draft_nation[nation] += 1
        complete += whole
    page = staff_client.get_page(f"/staff/rounds/{round_.id}/reach")
    nations = _table(page, "Nation")
    for code, label in NATIONS.items():
        assert nations[label][:2] == [str(sent_nation[code]), str(draft_nation[code])]
    areas = _table(page, "Rurality")
    for code, label in AREAS.items():
        assert areas[label][0] == str(sent_area[code])
    # The same totals as the database holds.
    in_db = dict(
        db.session.execute(
            select(Application.status, func.count(Application.id))
            .where(Application.round_id == round_.id)
            .group_by(Application.status)
        ).all()
    )
    text = page.get_text(" ", strip=True)
    assert f"So far: {in_db['submitted']} applications sent and {in_db['draft']} drafts" in text
    assert f"{complete} of them complete" in text
    # The map's table and the map's shapes say the same numbers.
    areas_table = _table(page, "Applications by nation and English region")
    assert areas_table["Wales"][0] == str(sent_nation["wales"])
    title = page.select_one("#map-wales title").get_text()
    assert title.startswith(f"Wales: {sent_nation['wales']} application")
    # The trend: every sent application is in this week (week 3 of the round).
    weeks = _table(page, "Applications sent per week since the call opened")
    assert [cells[0] for cells in weeks.values()] == ["0", "0", "9"]


def test_a_known_shortfall_in_plain_words(staff_client: Client) -> None:
    """Five sites; at least 3 from Wales and 2 remote. The pool: 1 Welsh rural application, 1
    Scottish remote one and 6 English urban ones. By hand: Wales needs 2 more (3 - 1) and remote
    1 more (2 - 1); nothing else is short. A complete Welsh remote draft makes it 1 and 0."""
    round_ = make_round(sites_wanted=5)
    round_.quotas = [
        {"dimension": "nation", "category": "wales", "min": 3, "max": None},
        {"dimension": "area_type", "category": "remote", "min": 2, "max": None},
    ]
    db.session.commit()
    submitted_application(round_, location={"nation": "wales", "area_type": "rural"})
    submitted_application(round_, location={"nation": "scotland", "area_type": "remote"})
    for _ in range(6):
        submitted_application(round_, location={"nation": "england", "area_type": "urban"})
    make_draft(round_, location={"nation": "wales", "area_type": "remote"})
    page = staff_client.get_page(f"/staff/rounds/{round_.id}/reach")
    verdicts = [p.get_text(" ", strip=True) for p in page.select(".reach-verdict")]
    assert verdicts[0] == (
        "Not yet: at least 2 more applications from Wales and 1 more in "
        "“Rurality: Remote rural or island” are needed."
    )
    assert verdicts[1] == "Not yet: at least 1 more application from Wales is needed."
    rows = _table(page, "With the 8 sent applications: each quota")
    # No bound is said in words: "None" read as zero (beside "Size (staff): None: run by
    # volunteers").
    assert rows["Nation: Wales"] == ["3", "No maximum", "1", "2"]
    assert rows["Rurality: Remote rural or island"] == ["2", "No maximum", "1", "1"]
    # The combinations: categories apart with " / " ("and" is inside labels like "Mixed urban
    # and rural"; found walking the demo: "England and Mostly urban and User-led and ...").
    combinations = _table(page, "Nation and Rurality")
    assert "Wales / Mostly rural" in combinations, list(combinations)
    assert not [row for row in combinations if " and " in row]


def test_the_quotas_can_be_met(staff_client: Client) -> None:
    round_ = make_round(sites_wanted=2)
    round_.quotas = [{"dimension": "nation", "category": "wales", "min": 1, "max": None}]
    db.session.commit()
    submitted_application(round_, location={"nation": "wales", "area_type": "rural"})
    submitted_application(round_, location={"nation": "england", "area_type": "urban"})
    page = staff_client.get_page(f"/staff/rounds/{round_.id}/reach")
    verdict = page.select_one(".reach-verdict").get_text(" ", strip=True)
    assert verdict == "The quota table can be met."


def test_outreach_export_as_csv_and_xlsx(staff_client: Client) -> None:
    round_ = make_round(sites_wanted=3)
    round_.quotas = [{"dimension": "nation", "category": "wales", "min": 2, "max": None}]
    db.session.commit()
    for nation in ("wales", "england", "england"):
        submitted_application(round_, location={"nation": nation, "area_type": "urban"})
    response = staff_client.get(f"/staff/rounds/{round_.id}/reach.csv")
    assert response.status_code == 200
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Part,Dimension,Category,Minimum,Maximum")
    assert lines[1] == "Shortfalls,Nation,Wales,2,,1,1,1,,,"
    assert "Counts,Nation,England,,,,,,2,0,0" in lines
    response = staff_client.get(f"/staff/rounds/{round_.id}/reach.xlsx")
    assert response.status_code == 200
    assert response.data[:2] == b"PK"
