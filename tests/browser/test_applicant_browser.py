"""The applicant journey in a real browser: JavaScript off, keyboard, small screens, and axe-core
(WCAG 2.0, 2.1 and 2.2, A and AA) on every page in every state."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.applicant_journey import Journey
from tests.browser.axe import report

pytestmark = pytest.mark.browser


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
    assert journey.problems == {}, report(journey.problems)


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
