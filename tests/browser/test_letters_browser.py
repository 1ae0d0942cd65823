"""Outcome letters in a real browser: staff edit a letter (a mistake, a preview, a save), read
the rubric, add feedback for an applicant at moderation, and check the letters before sending
them; axe finds nothing on any page, at 1280 px and at 375 px, and no page scrolls sideways.
Screenshots of each page go to /tmp/letters/ for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AnswerPage, OutboxMessage, utcnow
from app.staff.runs.decisions import confirm_run
from app.staff.runs.services import start_run
from tests.app.world import build_pool, make_person
from tests.browser.axe import report
from tests.browser.server import browser_app, serve
from tests.browser.walk import Walk

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/letters")
WIDTHS = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 800}}


@dataclass
class Site:
    url: str
    app: Flask
    round_id: int
    run_id: int
    application_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app = browser_app(tmp_path_factory.mktemp("letters"))
    with app.app_context():
        pool = build_pool()
        # One applicant asked for post and gave no email: their letter goes to the print queue.
        by_post = pool.applications[7]
        contact = db.session.scalars(
            select(AnswerPage).where(
                AnswerPage.application_id == by_post.id, AnswerPage.page_id == "contact"
            )
        ).one()
        contact.answers = {
            **contact.answers,
            "preferred_contact": "post",
            "email": "",
            "address_line_1": "Tŷ Gwyn, Ffordd y Môr",
            "address_town": "Bangor",
            "address_postcode": "LL57 2PW",
        }
        staff = make_person("staff", "Sam Staff")
        run = start_run(db.session, pool.round, staff, utcnow(), seed=3)
        confirm_run(db.session, run, staff, utcnow())
        db.session.commit()
        ids = (pool.round.id, run.id, pool.applications[5].id)
    with serve(app) as url:
        yield Site(url, app, *ids)


def walk_for(browser: Any, site: Site, size: str) -> tuple[Walk, Any]:
    context = browser.new_context(viewport=WIDTHS[size])
    context.set_default_timeout(10_000)
    walk = Walk(context.new_page(), site.url, check_axe=True)
    walk.goto("/sign-in")
    walk.fill("Email address", "sam.staff@example.org")
    from tests.app.conftest import PASSWORD

    walk.fill("Password", PASSWORD)
    walk.click("Sign in")
    return walk, context


def shot(walk: Walk, name: str, size: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    walk.page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)


@pytest.mark.parametrize("size", list(WIDTHS))
def test_staff_edit_preview_and_check_letters(browser: Any, site: Site, size: str) -> None:
    walk, context = walk_for(browser, site, size)
    page = walk.page
    walk.goto(f"/staff/rounds/{site.round_id}/letters")
    walk.checkpoint("letters")
    shot(walk, "letters", size)

    walk.follow("Not selected letter")
    walk.checkpoint("letter")
    assert page.locator("pre.letter-text").inner_text().startswith("Dear ")
    shot(walk, "letter", size)

    typed = "Dear {{ contact_nam }},\n\nThank you."
    walk.fill("Letter", typed)
    walk.click("Save letter")
    assert walk.errors() == [
        "The letter uses a placeholder that does not exist: “contact_nam”. Use only the "
        "placeholders listed on this page"
    ]
    assert page.get_by_label("Letter", exact=True).input_value() == typed
    walk.checkpoint("letter (mistake)")
    shot(walk, "letter-error", size)

    walk.fill("Letter", "Dear {{ contact_name }},\n\nThank you from {{ centre_contact_name }}.")
    walk.click("Preview")
    assert "Thank you from Priya Shah." in page.locator("pre.letter-text").inner_text()
    walk.checkpoint("letter (preview)")

    walk.goto(f"/staff/rounds/{site.round_id}/rubric")
    walk.checkpoint("rubric (frozen)")
    shot(walk, "rubric", size)

    walk.goto(f"/staff/applications/{site.application_id}/moderation")
    walk.checkpoint("moderation with feedback for the applicant")
    shot(walk, "moderation", size)

    walk.goto(f"/staff/runs/{site.run_id}")
    walk.follow("Check and send outcome letters")
    walk.checkpoint("check the outcome letters")
    shot(walk, "outcomes-check", size)
    if size == "phone":  # the wide walk sends them; this one only looks
        assert walk.problems == {}, report(walk.problems)
        context.close()
        return
    counts = page.locator("#letter-counts tbody tr")
    assert counts.count() >= 2
    walk.click("Send ", exact=False)
    assert any("outcome letters are queued" in n for n in walk.notices())
    walk.checkpoint("run (letters sent)")
    with site.app.app_context():
        sent = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "outcome")
        )
    assert sent == 9  # and one to post

    # The letter by post waits in the print queue and prints on A4, its address in the window.
    walk.goto("/staff/letters")
    walk.checkpoint("letters to post (an outcome letter)")
    row = page.locator("#to-post tbody tr").filter(has_text="Outcome letter")
    assert row.count() == 1
    row.get_by_role("link", name="Print").click()
    page.wait_for_load_state("load")
    letter = page.locator("article.letter")
    assert "LL57 2PW" in letter.locator(".letter__to").inner_text()
    assert "Dear " in letter.inner_text()
    page.emulate_media(media="print")
    walk.checkpoint("an outcome letter (print)")
    box = letter.locator(".letter__to").bounding_box()
    mm = 96 / 25.4
    assert box is not None and abs(box["y"] - 35 * mm) < 2 * mm, box
    pdf = page.pdf(prefer_css_page_size=True)
    # A4 is 595 x 842 points; every page of the PDF is that size.
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert sizes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in sizes)
    shot(walk, "outcome-letter-print", size)
    page.emulate_media(media="screen")
    assert walk.problems == {}, report(walk.problems)
    context.close()
