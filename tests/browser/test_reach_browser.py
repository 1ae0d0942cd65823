"""The reach page in a real browser, on a phone and a desktop width: axe (WCAG 2.2 AA) finds
nothing, the page never scrolls sideways, and screenshots are kept for a person to look at
(REACH_SCREENSHOTS, default /tmp/reach)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.models import utcnow
from tests.app.conftest import PASSWORD
from tests.app.factories import make_round, submitted_application
from tests.app.reach.conftest import make_draft
from tests.app.world import make_person
from tests.browser.axe import report
from tests.browser.server import browser_app, serve
from tests.browser.walk import Walk

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("REACH_SCREENSHOTS", "/tmp/reach"))
PLACES = [
    ("wales", "rural", None),
    ("wales", "remote", None),
    ("scotland", "remote", None),
    ("northern-ireland", "urban", None),
    ("england", "urban", "london"),
    ("england", "urban", "london"),
    ("england", "mixed", "north-west"),
    ("england", "rural", "south-west"),
    ("england", "urban", "yorkshire-humber"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    app = browser_app(tmp_path_factory.mktemp("reach"))
    with app.app_context():
        round_ = make_round("reach", opens_at=utcnow() - timedelta(days=20), sites_wanted=6)
        round_.quotas = [
            {"dimension": "nation", "category": "wales", "min": 3, "max": None},
            {"dimension": "area_type", "category": "remote", "min": 2, "max": None},
            {"dimension": "nation", "category": "england", "min": None, "max": 4},
        ]
        db.session.commit()
        for nation, area, region in PLACES:
            extra = {"region": {"region": region}} if region else {}
            submitted_application(round_, location={"nation": nation, "area_type": area}, **extra)
        make_draft(round_, location={"nation": "wales", "area_type": "remote"})
        make_draft(round_, ["organisation", "location"], location={"nation": "scotland"})
        staff = make_person("staff", "Sam Staff")
        email, round_id = staff.email, round_.id
    with serve(app) as url:
        yield url, round_id, email


@pytest.mark.parametrize("width", [375, 1280])
def test_the_reach_page_passes_axe_at_phone_and_desktop_widths(
    browser: Any, site: tuple[str, int, str], width: int
) -> None:
    url, round_id, email = site
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        walk = Walk(context.new_page(), url, check_axe=True)
        walk.goto("/sign-in")
        walk.fill("Email address", email)
        walk.fill("Password", PASSWORD)
        walk.click("Sign in")
        walk.page.wait_for_load_state("load")
        walk.goto(f"/staff/rounds/{round_id}/reach")
        walk.checkpoint(f"reach at {width} px")
        assert walk.problems == {}, report(walk.problems)
        text = walk.page.inner_text("main")
        assert "Not yet: at least 1 more application from Wales is needed." in text
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        walk.page.screenshot(path=str(SCREENSHOTS / f"reach-{width}.png"), full_page=True)
        walk.page.screenshot(path=str(SCREENSHOTS / f"reach-{width}-top.png"))
        walk.page.locator(".reach-map").screenshot(path=str(SCREENSHOTS / f"map-{width}.png"))
    finally:
        context.close()
