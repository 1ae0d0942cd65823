"""A person clicking through the service in Playwright, checking every page state on the way."""

from __future__ import annotations

from typing import Any

from tests.browser.axe import axe_violations


class Walk:
    """Fill fields and press buttons by their visible names; `checkpoint` each page state.

    A checkpoint waits for the page to load, runs axe (when asked) and checks that the page does
    not scroll sideways; axe findings are collected in `problems` so one run reports them all.
    """

    def __init__(self, page: Any, base: str, *, check_axe: bool) -> None:
        self.page, self.base, self.check_axe = page, base, check_axe
        self.problems: dict[str, list[str]] = {}
        self.checked: list[str] = []

    def checkpoint(self, name: str) -> None:
        # A click returns once the next page starts; measure it only when its stylesheet is in.
        self.page.wait_for_load_state("load")
        self.checked.append(name)
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

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def click(self, name: str, *, exact: bool = False) -> None:
        """Press a button and wait for whatever page it leads to (a click only waits for the
        next page to start arriving)."""
        self.page.get_by_role("button", name=name, exact=exact).click()
        self.page.wait_for_load_state("load")

    def follow(self, name: str, *, exact: bool = False) -> None:
        self.page.get_by_role("link", name=name, exact=exact).click()
        self.page.wait_for_load_state("load")

    def choose(self, label: str) -> None:
        self.page.get_by_label(label, exact=True).check()

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)

    def errors(self) -> list[str]:
        """The error summary's messages (empty when there is none)."""
        return [text.strip() for text in self.page.locator(".error-summary li").all_inner_texts()]

    def notices(self) -> list[str]:
        return [text.strip() for text in self.page.locator(".notice").all_inner_texts()]
