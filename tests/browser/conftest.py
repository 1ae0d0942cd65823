"""A live server on loopback (SQLite) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.models import utcnow
from app.rounds import create_round
from tests.browser.server import browser_app, serve
from tests.conftest import skip_or_fail

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The applicant's side: one open round."""
    app = browser_app(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        now = utcnow()
        create_round(
            db.session,
            slug="browser",
            title="Partner sites 2027",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
        )
        db.session.commit()
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
