"""The applicant journey, clicked through as a person would: used by the accessibility, small-screen
and page-weight tests."""

from __future__ import annotations

import re
from typing import Any

from tests.app.apply.journey import TEXT
from tests.browser.walk import Walk

REFERENCE = re.compile(r"EOI-\d{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{6}")


class Journey(Walk):
    """From the start page to the confirmation, with every error state on the way. An English
    organisation (nation="England") also answers the region page."""

    def __init__(self, page: Any, base: str, *, check_axe: bool, nation: str = "Wales") -> None:
        super().__init__(page, base, check_axe=check_axe)
        self.nation = nation

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
        self.follow("print the paper form")
        self.checkpoint("paper form")
        page.emulate_media(media="print")
        self.checkpoint("paper form (print)")
        page.emulate_media(media="screen")
        page.goto(self.base + "/")
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
        self.choose("Community or voluntary organisation")
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
        self.choose(self.nation)
        self.fill("Postcode (optional)", "ll57 2pw" if self.nation == "Wales" else "m1 1ae")
        self.choose("Remote rural or island")
        self.click("Save and continue")
        if self.nation == "England":
            self.checkpoint("region")
            self.choose("North West")
            self.click("Save and continue")

        page.get_by_role("link", name="Your interest").click()
        self.checkpoint("interest")
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
