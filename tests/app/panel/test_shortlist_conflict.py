"""A reviewer with a conflict of interest reads a shared shortlist: nothing on the page tells
them how the application they are conflicted with fared, not its row, its reference or score
quoted in another row's reason, nor a gap in the ranks or reserve numbers, nor the mix counts.

The pool (tests/app/world.py) asks for five sites with at most two in Wales; Wales Two
is the second-best site and selected, so the run's own reasons quote it: the reserves "can take
the place of" it and the third Welsh site was left out because "the lowest selected score in
wales was" its score.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup

from app.extensions import db
from app.models import Conflict, SelectionRun
from tests.app.conftest import sign_in_as, sign_out
from tests.app.helpers import Client
from tests.app.runs.helpers import run_id_from
from tests.app.world import Pool, build_pool


def shared_run(client: Client, make_user: Any) -> tuple[Pool, int]:
    pool = build_pool(make_user)
    sign_in_as(client, make_user("staff"))
    response = client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"})
    run_id = run_id_from(response.headers["Location"])
    db.session.get(SelectionRun, run_id).shared_with_panel = True
    db.session.commit()
    sign_out(client, f"/staff/runs/{run_id}")
    return pool, run_id


def column(page: BeautifulSoup, header: str) -> list[str]:
    headers = [th.get_text(strip=True) for th in page.select("#decision-table thead th")]
    at = headers.index(header)
    return [
        row.select("td")[at].get_text(" ", strip=True)
        for row in page.select("#decision-table tbody tr")
    ]


def numbered_from_one(numbers: list[int]) -> bool:
    return numbers == list(range(1, len(numbers) + 1))


def test_a_conflicted_reviewer_learns_nothing_about_the_hidden_application(
    client: Client, make_user: Any
) -> None:
    pool, run_id = shared_run(client, make_user)
    hidden = pool.by_name("Wales Two")
    hidden_score = f"{pool.score(hidden):.3f}"  # 4.750, from the pool's review scores
    assert sum(f"{pool.score(a):.3f}" == hidden_score for a in pool.applications) == 1
    reviewer = make_user("reviewer")
    db.session.add(Conflict(application_id=hidden.id, reviewer_id=reviewer.id, note="Trustee"))
    db.session.commit()
    total_score = str(db.session.get(SelectionRun, run_id).summary["total_score"])

    # Another reviewer, with no conflict, sees what the run says about it.
    other = make_user("reviewer")
    sign_in_as(client, other)
    full = client.get_page(f"/panel/shortlists/{run_id}")
    full_text = full.get_text(" ")
    assert hidden.reference in " ".join(column(full, "Reason"))
    assert hidden_score in full_text and total_score in full_text
    assert [int(r) for r in column(full, "Rank")] == list(range(1, 11))
    sign_out(client)

    sign_in_as(client, reviewer)
    page = client.get_page(f"/panel/shortlists/{run_id}")
    text = page.get_text(" ")

    shown = [r["data-reference"] for r in page.select("#decision-table tbody tr")]
    assert sorted(shown) == sorted(a.reference for a in pool.applications if a is not hidden)
    assert hidden.reference not in str(page)
    assert hidden.organisation_name not in text
    assert hidden_score not in text  # not quoted as "the lowest selected score in wales"
    # No ranks (a gap would show where it stands), so no Rank column at all; reserve numbers,
    # where shown, run 1, 2, 3... over the rows shown.
    assert "Rank" not in [th.get_text(strip=True) for th in page.select("#decision-table thead th")]
    reserves = [int(n) for n in re.findall(r"Reserve (\d+)", " ".join(column(page, "Decision")))]
    assert numbered_from_one(reserves)
    # No sentence counts it among the eligible applications ("ranked 1 of 10").
    assert not re.search(r"\bof 10\b", text)
    # No total that includes its points, and no mix counts that include it.
    assert total_score not in text
    for nation in ("wales", "scotland", "england"):
        row = page.select_one(f'#mix-nation tr[data-category="{nation}"]')
        if row is None:
            continue
        cells = [td.get_text(strip=True) for td in row.select("td")]
        visible = [a for a in pool.applications if a.nation == nation and a is not hidden]
        chosen = [
            r
            for r in page.select("#decision-table tbody tr[data-decision=selected]")
            if r["data-reference"] in {a.reference for a in visible}
        ]
        assert cells[:2] == [str(len(visible)), str(len(chosen))]
    assert page.select_one("#conflict-notice")


def test_a_conflicted_reviewer_gets_no_count_by_decision(client: Client, make_user: Any) -> None:
    """ "9 applications: 4 selected" when the round wants 5 sites would say the hidden
    application was selected: a reviewer with a conflict gets no count by decision, and cannot
    filter the table by decision to count it either."""
    pool, run_id = shared_run(client, make_user)
    hidden = pool.by_name("Wales Two")  # selected
    wanted = db.session.get(SelectionRun, run_id).parameters["k"]
    reviewer = make_user("reviewer")
    db.session.add(Conflict(application_id=hidden.id, reviewer_id=reviewer.id, note="Trustee"))
    db.session.commit()
    others = len(pool.applications) - 1

    # A reviewer without a conflict reads the counts.
    sign_in_as(client, make_user("reviewer"))
    counts = client.get_page(f"/panel/shortlists/{run_id}").select_one("#decision-counts")
    assert counts is not None and f"{wanted} selected" in counts.get_text()
    sign_out(client)

    sign_in_as(client, reviewer)
    page = client.get_page(f"/panel/shortlists/{run_id}")
    assert page.select_one("#decision-counts") is None
    assert page.select_one("#filter-decision") is None
    table = page.select_one("#decision-table")
    table.decompose()  # each row's decision is in the table; no count of them outside it
    text = page.get_text(" ")
    assert not re.search(r"\d+\s+(selected|reserve|not selected|not eligible)\b", text, re.I)
    assert "how many applications had each decision" in page.select_one("#conflict-notice").text

    # A decision in the address does not filter the table: every row they may see is there.
    filtered = client.get_page(f"/panel/shortlists/{run_id}?decision=selected")
    rows = filtered.select("#decision-table tbody tr")
    assert len(rows) == others
    assert {r["data-decision"] for r in rows} > {"selected"}
    count = filtered.select_one("#shortlist-count").get_text(" ", strip=True)
    assert count == f"{others} applications shown."
