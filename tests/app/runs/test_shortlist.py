"""The ranked shortlist, its mix summary and chart, comparing runs, and sharing with the panel."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.models import Conflict, SelectionRun
from app.staff.runs import shortlist as runs
from tests.app.conftest import sign_in_as, sign_out
from tests.app.helpers import Client, download, press
from tests.app.runs.helpers import decisions, every_page, run_id_from
from tests.app.world import QUOTAS, Pool


@pytest.fixture
def staff(client: Client, make_user: Any) -> Any:
    user = make_user("staff")
    sign_in_as(client, user)
    return user


def start(client: Client, pool: Pool) -> int:
    response = client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"})
    return run_id_from(response.headers["Location"])


def numbers(row: Any) -> list[str]:
    return [td.get_text(strip=True) for td in row.select("td")]


def test_the_shortlist_shows_every_application_ranked_and_the_mix_numbers(
    client: Client, pool: Pool, staff: Any
) -> None:
    run_id = start(client, pool)
    stored = decisions(run_id)

    page = client.get_page(f"/staff/runs/{run_id}")

    rows = page.select("#decision-table tbody tr")
    assert len(rows) == len(pool.applications)
    references = [r["data-reference"] for r in rows]
    by_score = sorted(pool.applications, key=pool.score, reverse=True)
    assert references[0] == by_score[0].reference  # rank 1 is the best score
    assert {r["data-decision"] for r in rows} >= {"selected", "not_selected"}
    header = [th.get_text(strip=True) for th in page.select("#decision-table thead th")]
    # The decision and its reason come straight after the application's name (issue 19).
    assert header[:4] == ["Rank", "Application", "Decision", "Reason"]
    # Every row links to its application's page.
    for row in rows:
        link = row.select_one("td.application a")
        reference = row["data-reference"]
        app_id = next(a.id for a in pool.applications if a.reference == reference)
        assert link["href"] == f"/staff/applications/{app_id}"
        assert link.get_text(strip=True) == reference
    # The summary: every selected site, then the reserves in order.
    chosen_refs = {a.reference for a in pool.applications if stored[a.id].decision == "selected"}
    summary_refs = {r["data-reference"] for r in page.select("#selected-sites tbody tr")}
    assert summary_refs == chosen_refs
    reserve_refs = [r["data-reference"] for r in page.select("#reserve-list tbody tr")]
    by_number = sorted(
        (a for a in pool.applications if stored[a.id].decision == "reserve"),
        key=lambda a: stored[a.id].reserve_number,
    )
    assert reserve_refs == [a.reference for a in by_number]
    # Mix by nation: selected, the quota's bounds, and the pool, computed here from the database.
    for nation in ("wales", "scotland", "england"):
        in_pool = [a for a in pool.applications if a.nation == nation]
        chosen = [a for a in in_pool if stored[a.id].decision == "selected"]
        row = page.select_one(f'#mix-nation tr[data-category="{nation}"]')
        cells = numbers(row)
        assert cells[0] == str(len(chosen))
        quota = next((q for q in QUOTAS if q["category"] == nation), None)
        assert cells[1] == (str(quota["min"]) if quota and quota["min"] is not None else "None")
        assert cells[2] == (str(quota["max"]) if quota and quota["max"] is not None else "None")
        assert cells[3] == str(len(in_pool))
    chart = page.select_one("svg[role=img]")
    assert chart is not None and chart.select_one("title").get_text(strip=True)
    assert page.select("script") == page.select("script[src]")  # no inline script
    price = float(page.select_one("#price-of-balance").get_text())
    unconstrained = float(page.select_one("#unconstrained-total").get_text())
    chosen_total = float(page.select_one("#chosen-total").get_text())
    top = sorted((pool.score(a) for a in pool.applications), reverse=True)[:5]
    assert unconstrained == pytest.approx(sum(top), abs=1e-3)
    assert price == pytest.approx(unconstrained - chosen_total, abs=1e-3)
    assert price > 0  # the Wales maximum costs points in this pool
    assert page.select("#binding-bounds tbody tr")


def test_the_shortlist_can_be_filtered_by_decision_and_nation(
    client: Client, pool: Pool, staff: Any
) -> None:
    run_id = start(client, pool)
    stored = decisions(run_id)

    page = client.get_page(f"/staff/runs/{run_id}?decision=selected&nation=scotland")

    shown = {r["data-reference"] for r in page.select("#decision-table tbody tr")}
    expected = {
        a.reference
        for a in pool.applications
        if a.nation == "scotland" and stored[a.id].decision == "selected"
    }
    assert shown == expected and shown


def reference_and_reason(row: Any) -> tuple[str, str]:
    return row["data-reference"], row.select_one("td.reason").get_text(strip=True)


def test_the_shortlist_comes_a_page_at_a_time_and_every_row_can_be_reached(
    client: Client, pool: Pool, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "SHORTLIST_PER_PAGE", 3)
    run_id = start(client, pool)
    stored = decisions(run_id)
    by_reference = {a.reference: a for a in pool.applications}

    pages = every_page(client, f"/staff/runs/{run_id}")

    seen: list[tuple[str, str]] = []
    for page in pages:
        rows = page.select("#decision-table tbody tr")
        assert 0 < len(rows) <= 3
        seen += [reference_and_reason(r) for r in rows]
        # The summary, the price of balance and the mix are on every page.
        assert page.select_one("#price-of-balance") and page.select_one("#mix-nation")
        counts = page.select_one("#decision-counts").get_text(strip=True)
        assert counts.startswith(f"{len(pool.applications)} applications")
    assert len(pages) == 4  # 10 applications, 3 a page
    assert sorted(reference for reference, _ in seen) == sorted(by_reference)  # each once
    ranks = [stored[by_reference[reference].id].rank for reference, _ in seen]
    assert ranks == sorted(ranks)  # best rank first, across the pages
    for reference, reason in seen:
        assert reason == stored[by_reference[reference].id].reason


def test_paging_keeps_the_filter_and_the_counts_cover_the_whole_run(
    client: Client, pool: Pool, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "SHORTLIST_PER_PAGE", 2)
    run_id = start(client, pool)
    stored = decisions(run_id)
    not_selected = sorted(
        (a for a in pool.applications if stored[a.id].decision == "not_selected"),
        key=lambda a: stored[a.id].rank,
    )
    assert len(not_selected) == 3  # 10 applications, 5 selected, 2 reserves

    page = client.get_page(f"/staff/runs/{run_id}?decision=not_selected&page=2")

    shown = [reference_and_reason(r)[0] for r in page.select("#decision-table tbody tr")]
    assert shown == [a.reference for a in not_selected[2:]]
    assert page.select_one("#shortlist-count").get_text(strip=True) == (
        "Applications 3 to 3 of 3, best rank first."
    )
    previous = page.select_one("nav.pagination a[rel=prev]")["href"]
    assert "decision=not_selected" in previous and "page=1" in previous
    assert not page.select("nav.pagination a[rel=next]")
    counts = page.select_one("#decision-counts").get_text(" ", strip=True)
    assert counts == "10 applications: 5 selected, 2 reserve, 3 not selected, 0 not eligible."
    # A page past the end shows the last one; a page that is not a number, the first.
    past = client.get_page(f"/staff/runs/{run_id}?decision=not_selected&page=99")
    assert [r["data-reference"] for r in past.select("#decision-table tbody tr")] == shown
    wrong = client.get_page(f"/staff/runs/{run_id}?decision=not_selected&page=two")
    first = [a.reference for a in not_selected[:2]]
    assert [r["data-reference"] for r in wrong.select("#decision-table tbody tr")] == first


def test_comparing_two_runs_lists_changed_decisions_with_both_reasons(
    client: Client, pool: Pool, staff: Any
) -> None:
    first = start(client, pool)
    pool.round.quotas = []
    db.session.commit()
    second = start(client, pool)
    one, two = decisions(first), decisions(second)
    changed = {a.reference for a in pool.applications if one[a.id].decision != two[a.id].decision}
    assert changed  # without quotas the Welsh sites come back

    listing = client.get_page(f"/staff/rounds/{pool.round.id}/runs")
    assert len(listing.select("main table tbody tr")) == 2
    form = listing.select_one(f'form[action="/staff/rounds/{pool.round.id}/runs/compare"]')
    assert form.select_one("select[name=a]") and form.select_one("select[name=b]")
    page = client.get_page(f"/staff/rounds/{pool.round.id}/runs/compare?a={first}&b={second}")

    rows = page.select("#changes tbody tr")
    assert {r["data-reference"] for r in rows} == changed
    for row in rows:
        cells = numbers(row)
        assert cells[3] and cells[5]  # both reasons


def test_the_panel_sees_a_shortlist_only_once_it_is_shared(
    client: Client, pool: Pool, staff: Any, make_user: Any
) -> None:
    run_id = start(client, pool)
    reviewer = make_user("reviewer")
    sign_out(client)
    sign_in_as(client, reviewer)
    client.get_page(f"/panel/shortlists/{run_id}", status=404)
    assert not client.get_page("/panel/shortlists").select("#shared-shortlists a")
    client.get_page(f"/staff/runs/{run_id}", status=403)
    sign_out(client)
    sign_in_as(client, staff)

    response = press(
        client, f"/staff/runs/{run_id}", f"/staff/runs/{run_id}/share", {"shared": "yes"}
    )
    assert response.status_code == 302
    assert db.session.get(SelectionRun, run_id).shared_with_panel

    sign_out(client)
    sign_in_as(client, reviewer)
    listed = client.get_page("/panel/shortlists").select("#shared-shortlists a")
    assert [a["href"] for a in listed] == [f"/panel/shortlists/{run_id}"]
    page = client.get_page(f"/panel/shortlists/{run_id}")
    assert len(page.select("#decision-table tbody tr")) == len(pool.applications)
    assert not page.select("main form[method=post]")  # read only
    assert download(client, f"/staff/runs/{run_id}/rationale.xlsx").status_code == 403
    sign_out(client)
    sign_in_as(client, staff)
    press(client, f"/staff/runs/{run_id}", f"/staff/runs/{run_id}/share", {"shared": "no"})
    sign_out(client)
    sign_in_as(client, reviewer)
    client.get_page(f"/panel/shortlists/{run_id}", status=404)


def test_a_reviewer_does_not_see_an_application_they_are_conflicted_with(
    client: Client, pool: Pool, staff: Any, make_user: Any
) -> None:
    run_id = start(client, pool)
    run = db.session.get(SelectionRun, run_id)
    run.shared_with_panel = True
    reviewer = make_user("reviewer")
    conflicted = pool.by_name("England Two")
    db.session.add(Conflict(application_id=conflicted.id, reviewer_id=reviewer.id, note="Trustee"))
    db.session.commit()
    sign_out(client)
    sign_in_as(client, reviewer)

    page = client.get_page(f"/panel/shortlists/{run_id}")

    shown = {r["data-reference"] for r in page.select("#decision-table tbody tr")}
    assert shown == {a.reference for a in pool.applications} - {conflicted.reference}
    assert conflicted.organisation_name not in page.get_text()
    counted = page.select_one("#shortlist-count").get_text(strip=True)
    assert counted == f"{len(pool.applications) - 1} applications shown."


def test_the_panel_shortlist_comes_a_page_at_a_time_too(
    client: Client, pool: Pool, staff: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "SHORTLIST_PER_PAGE", 4)
    run_id = start(client, pool)
    db.session.get(SelectionRun, run_id).shared_with_panel = True
    db.session.commit()
    sign_out(client)
    sign_in_as(client, make_user("reviewer"))

    pages = every_page(client, f"/panel/shortlists/{run_id}")

    seen = [r["data-reference"] for page in pages for r in page.select("#decision-table tbody tr")]
    assert len(pages) == 3  # 10 applications, 4 a page
    assert sorted(seen) == sorted(a.reference for a in pool.applications)
