"""Who may reach each selection-run route: staff and admins; reviewers only a shared shortlist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import SelectionRun, utcnow
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, download
from tests.app.runs.helpers import runs_of
from tests.app.world import Pool

STAFF_PAGES = [
    "/staff/rounds/{round}/runs",
    "/staff/runs/{run}",
    "/staff/rounds/{round}/runs/compare?a={run}&b={run}",
    "/staff/runs/{run}/override",
    "/staff/runs/{run}/replace",
]
DOWNLOADS = ["/staff/runs/{run}/rationale.csv", "/staff/runs/{run}/rationale.xlsx"]


@pytest.fixture
def finished_run(pool: Pool) -> SelectionRun:
    from app.staff.runs.services import start_run

    run = start_run(db.session, pool.round, None, utcnow(), seed=7)
    db.session.commit()
    assert run.status == "done"
    return run


@pytest.mark.parametrize(
    "role, expected", [(None, 302), ("reviewer", 403), ("staff", 200), ("admin", 200)]
)
def test_staff_run_pages_by_role(
    client: Client,
    pool: Pool,
    finished_run: SelectionRun,
    make_user: Any,
    role: str | None,
    expected: int,
) -> None:
    if role:
        sign_in_as(client, make_user(role))
    for pattern, fetch in [(p, Client.get) for p in STAFF_PAGES] + [
        (p, download) for p in DOWNLOADS
    ]:
        url = pattern.format(round=pool.round.id, run=finished_run.id)
        response = fetch(client, url)
        assert response.status_code == expected, url
        if expected == 302:
            assert "/sign-in" in response.headers["Location"]


def test_unknown_runs_and_rounds_are_not_found(client: Client, app: Flask, make_user: Any) -> None:
    sign_in_as(client, make_user("staff"))
    for url in ("/staff/runs/999", "/staff/rounds/999/runs", "/panel/shortlists/999"):
        assert client.get(url).status_code == 404, url
    assert download(client, "/staff/runs/999/rationale.csv").status_code == 404


def test_the_panel_shortlist_needs_a_sign_in(
    client: Client, pool: Pool, finished_run: SelectionRun
) -> None:
    finished_run.shared_with_panel = True
    db.session.commit()
    assert client.get(f"/panel/shortlists/{finished_run.id}").status_code == 302


def test_a_run_left_running_for_over_an_hour_no_longer_blocks_the_round(
    client: Client, pool: Pool, make_user: Any
) -> None:
    db.session.add(
        SelectionRun(
            round_id=pool.round.id,
            status="running",
            parameters={},
            created_at=utcnow() - timedelta(hours=2),
        )
    )
    db.session.commit()
    sign_in_as(client, make_user("staff"))

    client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "0"})

    assert [r.status for r in runs_of(pool.round.id)] == ["failed", "done"]


def test_an_eligible_application_without_reviews_stops_the_run_with_its_reference(
    client: Client, pool: Pool, make_user: Any
) -> None:
    from tests.app.factories import submitted_application

    late = submitted_application(pool.round)
    late.screening = "eligible"
    db.session.commit()
    sign_in_as(client, make_user("staff"))

    response = client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "0"})

    [run] = runs_of(pool.round.id)
    assert run.status == "failed"
    page = client.get_page(response.headers["Location"])
    assert late.reference in page.select_one("#problems").get_text()
