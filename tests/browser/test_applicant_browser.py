"""The applicant journey in a real browser: JavaScript off, keyboard, small screens, and axe-core
(WCAG 2.0, 2.1 and 2.2, A and AA) on every page in every state."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.app.apply.journey import TEXT

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
REFERENCE = re.compile(r"EOI-\d{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{6}")


def axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
        f"{[node['target'] for node in v['nodes']][:3]})"
        for v in results.response["violations"]
    ]


class Journey:
    """Clicks through the service as a person would, checking each page as it goes."""

    def __init__(self, page: Any, base: str, *, check_axe: bool) -> None:
        self.page, self.base, self.check_axe = page, base, check_axe
        self.problems: dict[str, list[str]] = {}

    def checkpoint(self, name: str) -> None:
        # A click returns once the next page starts; measure it only when its stylesheet is in.
        self.page.wait_for_load_state("load")
        if self.check_axe:
            violations = axe_violations(self.page)
            if violations:
                self.problems[name] = violations
        width = self.page.evaluate("document.documentElement.scrollWidth")
        viewport = self.page.viewport_size["width"]
        if width > viewport:
            widest = self.page.evaluate(
                "Array.from(document.querySelectorAll('body *'))"
                ".filter(e => e.getBoundingClientRect().right > window.innerWidth)"
                ".map(e => e.tagName + '.' + e.className)"
                ".slice(0, 5)"
            )
            raise AssertionError(
                f"{name}: page scrolls sideways ({width} > {viewport} px): {widest}"
            )

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name).click()

    def choose(self, label: str) -> None:
        self.page.get_by_label(label, exact=True).check()

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)

    def save_with_errors(self, name: str) -> None:
        """Save an empty page: the error summary must appear; then check the page."""
        self.click("Save and continue")
        assert self.page.title().startswith("Error:"), f"{name}: title must start with Error:"
        assert self.page.locator(".error-summary").is_visible()
        self.checkpoint(f"{name} (errors)")

    def run(self) -> str:
        page = self.page
        page.goto(self.base + "/")
        self.checkpoint("start")
        page.get_by_role("button", name="Start now").click()

        for index in range(4):
            self.checkpoint(f"eligibility {index + 1}")
            if index == 0:
                self.click("Continue")
                self.checkpoint("eligibility 1 (errors)")
            self.choose("Yes")
            self.click("Continue")

        self.checkpoint("task list (not started)")
        page.get_by_role("link", name="Your organisation").click()
        self.checkpoint("organisation")
        self.save_with_errors("organisation")
        self.fill("Name of your organisation", "Ysbyty Gwynedd Carers' Circle")
        self.choose("Carer-led organisation")
        self.click("Save and continue")

        self.checkpoint("leadership")
        self.save_with_errors("leadership")
        self.choose("Carer-led")
        self.choose("1 to 9")
        self.choose("£10,000 to £100,000")
        self.click("Save and continue")

        self.checkpoint("task list (in progress)")
        page.get_by_role("link", name="Where you work").click()
        self.checkpoint("location")
        self.choose("Wales")
        self.fill("Postcode (optional)", "ll57 2pw")
        self.choose("Remote rural or island")
        self.click("Save and continue")

        page.get_by_role("link", name="Your interest").click()
        self.choose("Carers' health and well-being")
        self.choose("Joining a local network")
        self.click("Save and continue")
        self.checkpoint("experience")
        self.choose("Never")
        self.click("Save and continue")

        page.get_by_role("link", name="The four questions").click()
        for index, (key, text) in enumerate(TEXT.items()):
            self.checkpoint(f"question {key}")
            if index == 0:
                self.save_with_errors(f"question {key}")
            page.locator("textarea").fill(text)
            self.click("Save and continue")

        page.get_by_role("link", name="Contact and access").click()
        self.checkpoint("contact")
        self.fill("Contact name", "Gwenllian ap Rhys")
        self.fill("Their role in the organisation", "Chair")
        self.fill("Email address", "not-an-email")
        self.click("Save and continue")
        assert page.title().startswith("Error:")
        assert page.get_by_label("Contact name", exact=True).input_value() == "Gwenllian ap Rhys"
        self.checkpoint("contact (errors)")
        self.fill("Email address", "gwen@example.org")
        self.choose("Email")
        self.click("Save and continue")

        self.checkpoint("task list (completed)")
        page.get_by_role("button", name="Check your answers").click()
        self.checkpoint("check answers")
        self.click("Send expression of interest")
        self.checkpoint("check answers (errors)")
        self.choose("The information I have given is correct to the best of my knowledge")
        self.choose("I have read the privacy notice")
        self.click("Send expression of interest")

        self.checkpoint("confirmation")
        reference = page.locator(".reference").inner_text()
        assert REFERENCE.fullmatch(reference), reference
        page.goto(self.base + "/eligibility/co_production")
        self.choose("No")
        self.click("Continue")
        self.checkpoint("not suitable")
        for path in ("/privacy", "/accessibility", "/no-such-page"):
            page.goto(self.base + path)
            self.checkpoint(path)
        return reference


def test_whole_journey_with_javascript_off_at_320px(browser: Any, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 320, "height": 640})
    try:
        reference = Journey(context.new_page(), live_server, check_axe=False).run()
    finally:
        context.close()
    assert reference


def test_every_page_state_has_no_axe_violations(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        journey = Journey(context.new_page(), live_server, check_axe=True)
        journey.run()
    finally:
        context.close()
    assert journey.problems == {}, "\n".join(
        f"{page}: {problem}" for page, problems in journey.problems.items() for problem in problems
    )


def test_text_zoomed_to_200_percent_does_not_scroll_sideways(
    browser: Any, live_server: str
) -> None:
    # 200% text zoom on a 640 px wide window is equivalent to 320 CSS px of room.
    context = browser.new_context(viewport={"width": 640, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        for path in ("/", "/eligibility/uk_based", "/privacy"):
            page.goto(live_server + path)
            page.add_style_tag(content="html { font-size: 200% !important; }")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 640, f"{path} scrolls sideways at 200% text ({width} px)"
    finally:
        context.close()


def test_keyboard_focus_moves_to_the_error_summary(browser: Any, live_server: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(live_server + "/eligibility/uk_based")
        page.keyboard.press("Tab")  # skip link
        focused = page.evaluate("document.activeElement.className")
        assert "skip-link" in focused
        page.get_by_role("button", name="Continue").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # follows the first error link to its field
        assert page.evaluate("location.hash") == "#answer-0"
    finally:
        context.close()
