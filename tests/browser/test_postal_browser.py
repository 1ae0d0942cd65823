"""An organisation with no email address applies online and asks for post (issue 22 point 1),
at 375 and 1280 px; then staff open the print queue, a printable letter (as
printed) and mark it posted. axe-core (WCAG 2.2 A and AA) must find nothing on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.models import utcnow
from app.rounds import create_round
from tests.app.apply.journey import TEXT
from tests.app.conftest import PASSWORD
from tests.app.world import make_person
from tests.browser.applicant_journey import REFERENCE
from tests.browser.axe import report
from tests.browser.server import browser_app, serve
from tests.browser.walk import Walk

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/post-route")


@dataclass(frozen=True)
class Site:
    url: str
    round_id: int
    staff_email: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    app = browser_app(tmp_path_factory.mktemp("postal"))
    with app.app_context():
        now = utcnow()
        round_ = create_round(
            db.session,
            slug="postal",
            title="Partner sites 2027",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
        )
        staff = make_person("staff", "Sam Staff")
        db.session.commit()
        round_id, email = round_.id, staff.email
    with serve(app) as url:
        yield Site(url, round_id, email)


def apply_by_post(walk: Walk, organisation: str) -> str:
    """The whole online journey, asking for post and giving no email address."""
    page = walk.page
    walk.goto("/")
    page.get_by_role("button", name="Start now").click()
    for _ in range(4):
        walk.choose("Yes")
        walk.click("Continue")
    walk.follow("Your organisation")
    walk.fill("Name of your organisation", organisation)
    walk.choose("Community or voluntary organisation")
    walk.click("Save and continue")
    walk.choose("Carer-led")
    walk.choose("1 to 9")
    walk.choose("£10,000 to £100,000")
    walk.click("Save and continue")
    walk.follow("Where you work")
    walk.choose("Wales")
    walk.choose("Remote rural or island")
    walk.click("Save and continue")
    walk.follow("Your interest")
    walk.choose("Carers' health and well-being")
    walk.choose("Joining a local network")
    walk.click("Save and continue")
    walk.choose("Never")
    walk.click("Save and continue")
    walk.follow("The four questions")
    for text in TEXT.values():
        page.locator("textarea").fill(text)
        walk.click("Save and continue")

    walk.follow("Contact and access")
    walk.checkpoint("contact")
    walk.fill("Contact name", "Gwenllian ap Rhys")
    walk.fill("Their role in the organisation", "Chair")
    walk.choose("Post")
    walk.click("Save and continue")
    assert walk.errors() == [
        "Enter the first line of the postal address, so we can post letters to you",
        "Enter the town or city of the postal address",
        "Enter a UK postcode, like LS1 1AA",
    ]
    walk.checkpoint("contact (post chosen, no address: errors)")
    walk.fill("Postal address: line 1", "Tŷ Gwyn, Ffordd y Môr")
    walk.fill("Postal address: town or city", "Bangor")
    walk.fill("Postal address: postcode", "ll57 2pw")
    walk.click("Save and continue")
    assert not walk.errors(), walk.errors()

    page.get_by_role("button", name="Check your answers").click()
    walk.checkpoint("check answers (post)")
    walk.choose("The information I have given is correct to the best of my knowledge")
    walk.choose("I have read the privacy notice")
    walk.click("Send expression of interest")
    walk.checkpoint("confirmation (post)")
    assert "We will post a letter" in page.locator("main").inner_text()
    reference = str(page.locator(".reference").inner_text())
    assert REFERENCE.fullmatch(reference), reference
    return reference


@pytest.mark.parametrize("width", [375, 1280])
def test_a_postal_applicant_reaches_a_reference_and_staff_print_and_post_the_letter(
    browser: Any, site: Site, width: int
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewport = {"width": width, "height": 900}
    organisation = f"Bangor Carers' Circle {width}"
    # JavaScript on: axe runs in the page. (The journey without JavaScript is walked by
    # tests/app/apply/test_post_and_phone.py; the script only counts words.)
    applicant = browser.new_context(viewport=viewport)
    staff = browser.new_context(viewport=viewport)
    try:
        walk = Walk(applicant.new_page(), site.url, check_axe=True)
        reference = apply_by_post(walk, organisation)

        office = Walk(staff.new_page(), site.url, check_axe=True)
        page = office.page
        office.goto("/sign-in")
        office.fill("Email address", site.staff_email)
        office.fill("Password", PASSWORD)
        office.click("Sign in")
        office.follow("Letters to post")
        office.checkpoint("letters to post")
        page.screenshot(path=str(SHOTS / f"letters-{width}.png"), full_page=True)
        row = page.locator("#to-post tbody tr").filter(has_text=reference)
        assert "Gwenllian ap Rhys" in row.inner_text()

        row.get_by_role("link", name="Print").click()
        page.wait_for_load_state("load")
        office.checkpoint("a printable letter")
        page.screenshot(path=str(SHOTS / f"letter-{width}.png"), full_page=True)
        letter = page.locator("article.letter")
        assert letter.count() == 1
        address = letter.locator(".letter__to").inner_text()
        assert "Tŷ Gwyn, Ffordd y Môr" in address and "LL57 2PW" in address
        assert TEXT["difference"] in letter.inner_text()
        page.emulate_media(media="print")
        office.checkpoint("a printable letter (print)")
        # The address sits in an envelope's window: 20 mm from the left, 50 mm down the A4
        # sheet (page margins 20 mm and 15 mm; 96 CSS px to the inch).
        box = letter.locator(".letter__to").bounding_box()
        mm = 96 / 25.4
        assert abs(box["x"] - 0) < 2 * mm and abs(box["y"] - 35 * mm) < 2 * mm, box
        assert not page.locator(".header").is_visible()
        page.screenshot(path=str(SHOTS / f"letter-print-{width}.png"), full_page=True)
        page.pdf(path=str(SHOTS / f"letter-{width}.pdf"), prefer_css_page_size=True)
        page.emulate_media(media="screen")

        office.goto("/staff/letters/print")
        office.checkpoint("print every letter")
        office.goto("/staff/letters")
        page.locator("#to-post tbody tr").filter(has_text=reference).get_by_role(
            "button", name="Mark as posted"
        ).click()
        page.wait_for_load_state("load")
        office.checkpoint("letters to post (one posted)")
        assert reference in page.locator("#posted").inner_text()

        office.goto(f"/staff/rounds/{site.round_id}/assisted")
        office.checkpoint("enter an application received by post")
        office.fill("When was it received?", "31/2/2026")
        office.click("Start entering answers")
        office.checkpoint("enter an application received by post (errors)")
    finally:
        applicant.close()
        staff.close()
    assert walk.problems == {}, report(walk.problems)
    assert office.problems == {}, report(office.problems)
