"""Issue 19 in a real browser: the shortlist a meeting reads, the run and its confirm check page,
the application's page with its decision, and the reviewer's worklist and review page, at
1280 px and at 375 px. At 1280 px the shortlist's Decision and Reason headers are in the window;
at 375 px nothing is wider than the screen; axe finds nothing at either width.

Set SHOTS_DIR to keep a full-page screenshot of every page at both widths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Application, Round, SelectionDecision, User, utcnow
from app.staff.runs.services import set_shared, start_run
from tests.browser.axe import axe_violations
from tests.browser.server import browser_app, serve
from tests.browser.workspace_seed import Person, Workspace, seed_workspace

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


@dataclass
class Site:
    url: str
    data: Workspace
    run_id: int
    selected_id: int  # an application the run selected
    review_id: int  # the application the reviewer is assigned


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app = browser_app(tmp_path_factory.mktemp("shortlist"))
    with app.app_context():
        data = seed_workspace()
        staff = db.session.scalars(select(User).where(User.email == data.staff.email)).one()
        round_ = db.session.get(Round, data.round_id)
        run = start_run(db.session, round_, staff, utcnow(), seed=2027, reserves=3)
        assert run.status == "done", run.message
        set_shared(db.session, run, True, staff)
        db.session.commit()
        selected_id = db.session.scalars(
            select(SelectionDecision.application_id).where(
                SelectionDecision.run_id == run.id, SelectionDecision.decision == "selected"
            )
        ).first()
        review_id = db.session.scalars(
            select(Application.id).where(Application.reference == data.to_review)
        ).one()
        run_id = run.id
    with serve(app) as url:
        yield Site(url, data, run_id, int(selected_id), int(review_id))


def _signed_in(browser: Any, site: Site, person: Person, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(site.url + "/sign-in")
    page.get_by_label("Email address", exact=True).fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    return page


def _look(page: Any, site: Site, path: str, name: str, problems: dict[str, list[str]]) -> None:
    """Open a page; note axe's findings and anything wider than the window."""
    response = page.goto(site.url + path)
    assert response is not None and response.status == 200, (path, response)
    page.wait_for_load_state("load")
    width = page.viewport_size["width"]
    state = f"{name} at {width} px"
    found = axe_violations(page)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width:
        wide = page.evaluate(
            "Array.from(document.querySelectorAll('body *'))"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth)"
            ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 5)"
        )
        found.append(f"the page is {scroll} px wide: {wide}")
    if found:
        problems[state] = found
    shots = os.environ.get("SHOTS_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        height = page.viewport_size["height"]
        total = page.evaluate("document.documentElement.scrollHeight")
        for screen in range(min(8, -(-total // height))):
            page.evaluate(f"window.scrollTo(0, {screen * height})")
            page.screenshot(path=str(Path(shots) / f"{name}-{width}-{screen}.png"))
        page.evaluate("window.scrollTo(0, 0)")


def _headers_in_window(page: Any, table: str) -> None:
    for column in ("Decision", "Reason"):
        header = page.locator(f"{table} thead th", has_text=column).first
        box = header.bounding_box()
        assert box is not None, column
        assert box["x"] >= 0 and box["x"] + box["width"] < 1280, (column, box)


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "375"])
def test_staff_pages_for_the_meeting(browser: Any, site: Site, viewport: dict[str, int]) -> None:
    page = _signed_in(browser, site, site.data.staff, viewport)
    problems: dict[str, list[str]] = {}
    run = f"/staff/runs/{site.run_id}"
    _look(page, site, run, "run", problems)
    if viewport is WIDE:
        _headers_in_window(page, "#decision-table")
    # Every row of the full table links to its application.
    rows = page.locator("#decision-table tbody tr")
    assert rows.count() > 0
    assert rows.locator("td.application a").count() == rows.count()
    _look(page, site, f"{run}/confirm", "confirm-check", problems)
    assert page.get_by_role("button", name="Confirm as the decision").is_visible()
    _look(page, site, f"/staff/applications/{site.selected_id}", "application", problems)
    assert "Selected" in page.locator("#decision").inner_text()
    _look(page, site, f"/panel/shortlists/{site.run_id}", "panel-shortlist-staff", problems)
    if viewport is WIDE:
        _headers_in_window(page, "#decision-table")
    page.context.close()
    assert problems == {}, problems


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "375"])
def test_reviewer_pages(browser: Any, site: Site, viewport: dict[str, int]) -> None:
    page = _signed_in(browser, site, site.data.reviewer, viewport)
    problems: dict[str, list[str]] = {}
    _look(page, site, "/panel/", "worklist", problems)
    assert page.locator("h3").first.inner_text().startswith("To do (")
    review = f"/panel/applications/{site.review_id}/review"
    _look(page, site, review, "review", problems)
    # The action stays in reach: the submit button is on screen before any scrolling, and
    # still after scrolling half-way down the page.
    button = page.get_by_role("button", name="Submit review")
    for fraction in (0, 0.5):
        page.evaluate(f"window.scrollTo(0, document.body.scrollHeight * {fraction})")
        box = button.bounding_box()
        assert box is not None and 0 <= box["y"] <= viewport["height"] - box["height"], box
    _look(page, site, f"/panel/shortlists/{site.run_id}", "panel-shortlist", problems)
    if viewport is WIDE:
        _headers_in_window(page, "#decision-table")
    page.context.close()
    assert problems == {}, problems
