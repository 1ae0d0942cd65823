"""Issue 22 point 4, for staff: the co-production answer on the application's page, a filter on
it in the applications list, and the support note as a round text they can change."""

from __future__ import annotations

from bs4 import BeautifulSoup

from app.extensions import db
from app.models import Application, Round
from tests.app.factories import submitted_application
from tests.app.helpers import Client
from tests.app.staff.test_settings import VALID_SETTINGS


def sent(round_: Round, name: str, co_production: str | None) -> Application:
    application = submitted_application(round_, organisation={"organisation_name": name})
    application.eligibility = {"co_production": co_production} if co_production else {}
    db.session.commit()
    return application


def key_value(page: BeautifulSoup, key: str) -> str:
    for row in page.select("#status dt"):
        if row.get_text(strip=True) == key:
            return row.find_next_sibling("dd").get_text(strip=True)
    raise AssertionError(f"no {key!r} on the page")


def test_the_application_page_shows_the_co_production_answer(
    staff_client: Client, round_: Round
) -> None:
    new = sent(round_, "Starting Out", "not-yet")
    seasoned = sent(round_, "Old Hands", "yes")
    by_staff = sent(round_, "By Phone", None)
    shown = {
        a.id: key_value(staff_client.get_page(f"/staff/applications/{a.id}"), "Co-production")
        for a in (new, seasoned, by_staff)
    }
    assert shown == {
        new.id: "Not yet, wants support to start",
        seasoned.id: "Willing to co-produce",
        by_staff.id: "Not asked",
    }


def test_the_list_filters_on_the_co_production_answer(staff_client: Client, round_: Round) -> None:
    sent(round_, "Starting Out", "not-yet")
    sent(round_, "Old Hands", "yes")
    sent(round_, "By Phone", None)
    base = f"/staff/rounds/{round_.id}/applications"

    def names(query: str) -> list[str]:
        page = staff_client.get_page(f"{base}?{query}")
        return sorted(
            td.get_text(strip=True) for td in page.select("#applications td.organisation")
        )

    page = staff_client.get_page(base)
    offered = [o["value"] for o in page.select("select[name=co_production] option")]
    assert offered == ["", "yes", "not-yet"]
    assert names("co_production=not-yet") == ["Starting Out"]
    assert names("co_production=yes") == ["Old Hands"]
    assert names("") == ["By Phone", "Old Hands", "Starting Out"]
    assert names("co_production=bogus") == ["By Phone", "Old Hands", "Starting Out"]


def test_staff_can_change_the_support_note(staff_client: Client, round_: Round) -> None:
    url = f"/staff/rounds/{round_.id}/settings"
    page = staff_client.get_page(url)
    assert page.select_one("label[for=text_co_production_support]").get_text(strip=True) == (
        "Support for services new to co-production"
    )
    staff_client.submit(url, {**VALID_SETTINGS, "text_co_production_support": "A mentor."})
    db.session.expire_all()
    stored = db.session.get(Round, round_.id)
    assert stored.settings["texts"]["co_production_support"] == "A mentor."
