"""Issue 22 points 4, 5 and 7 in a real browser with JavaScript off: what is typed on a question
page survives Back, Return to your application and Save and come back later; Enter still saves
and continues; the pages changed have no axe violations (with the "region" rule: everything,
the Back link too, inside a landmark); screenshots at 375 and 1280 px for a person to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.axe import report
from tests.browser.walk import Walk

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS_DIR", "/tmp/apply-fixes"))
ANSWER = "We would start a carers' café in the library, run with the carers who asked for it."


def regions(page: Any) -> list[str]:
    """axe's best-practice "region" rule: all content sits inside a landmark."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "rule", "values": ["region"]}})
    return [str(node["target"]) for v in results.response["violations"] for node in v["nodes"]]


class Visit(Walk):
    def back(self) -> None:
        """Press the Back button (its name reads "‹ Back": the arrow is the stylesheet's)."""
        self.page.get_by_role("button", name=re.compile(r"^\W*Back$")).click()
        self.page.wait_for_load_state("load")

    def checkpoint(self, name: str) -> None:
        super().checkpoint(name)
        if self.check_axe:
            outside = regions(self.page)
            if outside:
                self.problems.setdefault(name, []).append(f"region: {outside}")
            width = self.page.viewport_size["width"]
            SHOTS.mkdir(parents=True, exist_ok=True)
            slug = name.replace(" ", "-").replace("(", "").replace(")", "")
            self.page.screenshot(path=str(SHOTS / f"{slug}-{width}.png"), full_page=True)


def walk(page: Any, base: str, *, check_axe: bool) -> Visit:
    visit = Visit(page, base, check_axe=check_axe)
    visit.goto("/eligibility/uk_based")
    for question in ("uk based", "adult social care"):
        visit.checkpoint(f"eligibility {question}")
        visit.choose("Yes")
        visit.click("Continue")
    visit.checkpoint("eligibility co-production")
    visit.choose("Not yet, but we want to")
    visit.click("Continue")
    visit.checkpoint("co-production support")
    visit.click("Continue")  # a link that looks like a button (role=button)
    visit.choose("Yes")
    visit.click("Continue")

    # The first page: typed, then Back (no draft yet: Back makes it, with what was typed).
    page.get_by_role("link", name="Your organisation").click()
    visit.checkpoint("organisation")
    visit.fill("Name of your organisation", "Caffi Gofalwyr Bangor")
    visit.choose("Community or voluntary organisation")
    visit.choose("Social enterprise")
    visit.back()
    visit.checkpoint("task list after back")
    visit.goto("/application/organisation")
    assert page.get_by_label("Name of your organisation", exact=True).input_value() == (
        "Caffi Gofalwyr Bangor"
    )
    assert page.get_by_label("Community or voluntary organisation", exact=True).is_checked()
    assert page.get_by_label("Social enterprise", exact=True).is_checked()
    # Enter in a text field saves and continues (the form's default button), not Back.
    page.get_by_label("Name of your organisation", exact=True).press("Enter")
    page.wait_for_load_state("load")
    assert page.url.endswith("/application/leadership"), page.url

    # A question page: typed, then Back to the task list; the answer is there on return.
    visit.goto("/application/difference")
    visit.checkpoint("question page")
    page.locator("textarea").fill(ANSWER)
    visit.back()
    assert page.url.endswith("/application"), page.url
    visit.goto("/application/difference")
    assert page.locator("textarea").input_value() == ANSWER

    # Return to your application, and Save and come back later, keep what was typed too.
    visit.goto("/application/inequalities")
    page.locator("textarea").fill("Half an answer")
    visit.click("Return to your application")
    assert page.url.endswith("/application"), page.url
    visit.goto("/application/inequalities")
    assert page.locator("textarea").input_value() == "Half an answer"
    page.locator("textarea").fill("Half an answer, and a bit more")
    visit.click("Save and come back later")
    visit.checkpoint("saved")
    assert "/resume/" in page.locator("#resume-link .resume-link a").inner_text()
    visit.goto("/application/inequalities")
    assert page.locator("textarea").input_value() == "Half an answer, and a bit more"
    return visit


@pytest.mark.parametrize("width", [375, 1280])
def test_typed_work_survives_back_with_javascript_off(
    browser: Any, live_server: str, width: int
) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": width, "height": 900}
    )
    try:
        visit = walk(context.new_page(), live_server, check_axe=False)
    finally:
        context.close()
    assert visit.checked


@pytest.mark.parametrize("width", [375, 1280])
def test_the_changed_pages_have_no_axe_violations(
    browser: Any, live_server: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        visit = walk(context.new_page(), live_server, check_axe=True)
    finally:
        context.close()
    assert visit.problems == {}, report(visit.problems)
