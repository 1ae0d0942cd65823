"""The printable rationale for board papers, in a real browser: axe finds nothing at 1280 and
375 px, nothing runs off the screen, and printed (A4) it shows the cover, the staff's change
with who and why, and no buttons or navigation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SelectionDecision, utcnow
from app.staff.runs.decisions import confirm_run, record_override
from app.staff.runs.services import start_run
from tests.app.conftest import PASSWORD
from tests.app.world import build_pool, make_person
from tests.browser.axe import axe_violations
from tests.browser.server import browser_app, serve
from tests.browser.walk import Walk

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/rationale")
REASON = "The trustees asked for a second site in the North"


@dataclass
class Site:
    url: str
    run_id: int
    round_title: str
    staff_email: str
    staff_name: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app = browser_app(tmp_path_factory.mktemp("rationale"))
    with app.app_context():
        pool = build_pool()
        staff = make_person("staff", "Priya Trustee-Clerk")
        now = utcnow()
        run = start_run(db.session, pool.round, staff, now, 7, reserves=2)
        confirm_run(db.session, run, staff, now)
        decided = {
            d.application_id: d.decision
            for d in db.session.scalars(
                select(SelectionDecision).where(SelectionDecision.run_id == run.id)
            )
        }
        out = pool.by_name("England One")
        into = pool.by_name("England Two")
        assert decided[out.id] == "selected" and decided[into.id] != "selected"
        record_override(db.session, run, out.id, into.id, REASON, staff, now)
        db.session.commit()
        found = Site("", run.id, pool.round.title, staff.email, staff.name)
    with serve(app) as url:
        found.url = url
        yield found


def open_rationale(browser: Any, site: Site, width: int) -> Walk:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    walk = Walk(context.new_page(), site.url, check_axe=True)
    walk.goto("/sign-in")
    walk.fill("Email address", site.staff_email)
    walk.fill("Password", PASSWORD)
    walk.click("Sign in")
    walk.goto(f"/staff/runs/{site.run_id}")
    walk.follow("Selection rationale to print for board papers")
    return walk


@pytest.mark.parametrize("width", [1280, 375])
def test_the_printable_rationale_is_accessible_and_prints_on_a4(
    browser: Any, site: Site, width: int
) -> None:
    walk = open_rationale(browser, site, width)
    page = walk.page
    assert page.url.endswith(f"/staff/runs/{site.run_id}/rationale")
    walk.checkpoint(f"rationale at {width} px")  # axe, and no sideways scrolling
    assert walk.problems == {}, walk.problems
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"rationale-{width}.png"), full_page=True)

    page.emulate_media(media="print")
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"rationale-print-{width}.png"), full_page=True)
    # Printed: no navigation, buttons or back link; the cover and the change are there.
    for hidden in ("header.header", ".back-link", ".no-print"):
        assert all(not e.is_visible() for e in page.locator(hidden).all()), hidden
    text = page.locator("main").inner_text()
    assert site.round_title in text
    assert "Changes made by staff" in text and REASON in text and site.staff_name in text
    assert "Technical details" in text
    headings = page.locator("main h2").all_inner_texts()
    assert headings.index("Technical details") == len(headings) - 1
    pdf = page.pdf(format="A4")
    (SHOTS / "rationale.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    page.context.close()
