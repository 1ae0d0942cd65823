"""The page an applicant sees once staff have withdrawn their draft, in a real browser: no axe
violations, no sideways scrolling at 320 CSS px."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from app.applications.services import save_page, start_application
from app.extensions import db
from app.models import Application, utcnow
from tests.app.apply.journey import VALID
from tests.app.factories import make_round
from tests.browser.axe import axe_violations
from tests.browser.server import browser_app, serve


@pytest.fixture(scope="module")
def withdrawn_link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The private link of a draft that staff have withdrawn, on a live server."""
    app = browser_app(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        now = utcnow()
        round_ = make_round("closed")
        draft, token = start_application(db.session, round_, {"uk_based": "yes"}, now)
        save_page(db.session, draft, "organisation", VALID["organisation"], now)
        db.session.execute(update(Application.__table__).values(status="withdrawn"))
        db.session.commit()
    with serve(app) as url:
        yield f"{url}/resume/{token}"


@pytest.mark.parametrize("width", [1024, 320])
def test_a_withdrawn_application_says_so_accessibly(
    browser: Any, withdrawn_link: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.goto(withdrawn_link)
        assert page.locator("h1").inner_text() == "This expression of interest is closed"
        assert "has withdrawn this expression of interest" in page.locator("main").inner_text()
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
