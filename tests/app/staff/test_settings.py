"""Round settings: title, texts, UK times, sites, weights, reviews needed and the lottery band."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.extensions import db
from app.models import Round
from tests.app.helpers import Client, errors_of

VALID_SETTINGS = {
    "title": "Partner sites 2028",
    "text_who_for": "Care organisations anywhere in the UK.",
    "text_offer": "A facilitator for two years and £30,000.",
    "text_ask": "Co-production and sharing what you learn.",
    "text_time_needed": "about an hour",
    "text_next_steps": "We will write to you within 6 weeks.",
    "text_how_chosen": "We weigh the panel's scores and a spread of places.",
    "text_decisions": "We decide by the end of March.",
    "text_site_time": "Half a day a week for a year.",
    "text_funding_paid": "Paid quarterly; it can cover backfill.",
    "text_match_funding": "No match funding is needed.",
    "text_network_route": "Network members meet each quarter.",
    "text_technology": "Nobody has to use technology they do not want.",
    "text_co_production_support": "We train your staff and pay people for their time.",
    "opens_date": "1/6/2027",
    "opens_time": "09:00",
    "closes_date": "2027-12-24",
    "closes_time": "12:00",
    "sites_wanted": "15",
    "weight_difference": "2",
    "weight_inequalities": "1.5",
    "weight_resources": "1",
    "weight_evidence": "0.5",
    "reviews_required": "3",
    "lottery_band": "",
}


def url(round_: Round) -> str:
    return f"/staff/rounds/{round_.id}/settings"


def test_settings_are_saved_with_uk_times_stored_in_utc(
    staff_client: Client, round_: Round
) -> None:
    staff_client.submit(url(round_), VALID_SETTINGS)
    db.session.expire_all()
    stored = db.session.get(Round, round_.id)
    assert stored.title == "Partner sites 2028"
    # 9am in British Summer Time is 8am UTC; midday on Christmas Eve is midday UTC.
    assert stored.opens_at == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    assert stored.closes_at == datetime(2027, 12, 24, 12, 0, tzinfo=UTC)
    assert stored.sites_wanted == 15
    assert stored.weights == {
        "difference": 2.0,
        "inequalities": 1.5,
        "resources": 1.0,
        "evidence": 0.5,
    }
    assert stored.reviews_required == 3
    assert stored.lottery_band is None
    assert stored.settings["texts"]["offer"] == "A facilitator for two years and £30,000."
    # The option lists are untouched.
    assert stored.settings["options"]["nation"][0] == ["england", "England"]

    page = staff_client.get_page(url(round_))
    assert page.select_one("#opens_date")["value"] == "1/6/2027"
    assert page.select_one("#opens_time")["value"] == "09:00"
    assert page.select_one("#weight_inequalities")["value"] == "1.5"
    assert page.select_one("#text_offer").get_text() == "A facilitator for two years and £30,000."

    staff_client.submit(url(round_), {**VALID_SETTINGS, "lottery_band": "0.25"})
    db.session.expire_all()
    assert db.session.get(Round, round_.id).lottery_band == 0.25


def errors_for(client: Client, round_: Round, **changes: str) -> tuple[str, Any]:
    page = client.submit_page(url(round_), {**VALID_SETTINGS, **changes})
    assert page.select_one("title").get_text().startswith("Error:")
    return errors_of(page), page


def test_closing_must_be_after_opening_and_values_are_kept(
    staff_client: Client, round_: Round
) -> None:
    before = (round_.opens_at, round_.closes_at, round_.title)
    message, page = errors_for(
        staff_client, round_, closes_date="1/6/2027", closes_time="08:59", title="Changed"
    )
    assert message == "The closing time must be after the opening time"
    assert page.select_one("#closes_time")["value"] == "08:59"
    assert page.select_one("#title")["value"] == "Changed"
    assert page.select_one('.error-summary a[href="#closes_time"]') is not None
    db.session.expire_all()
    stored = db.session.get(Round, round_.id)
    assert (stored.opens_at, stored.closes_at, stored.title) == before


def test_weights_must_be_positive_numbers(staff_client: Client, round_: Round) -> None:
    message, page = errors_for(
        staff_client,
        round_,
        weight_difference="0",
        weight_inequalities="-1",
        weight_resources="lots",
        weight_evidence="",
    )
    assert message.split(" | ") == [
        "Enter the weight for Difference as a number more than 0, like 1 or 1.5",
        "Enter the weight for Inequalities as a number more than 0, like 1 or 1.5",
        "Enter the weight for Resources as a number more than 0, like 1 or 1.5",
        "Enter the weight for Evidence",
    ]
    assert page.select_one("#weight_resources")["value"] == "lots"


def test_other_messages(staff_client: Client, round_: Round) -> None:
    cases = [
        ("opens_date", "31/2/2027", "Enter the opening date as day/month/year, like 24/3/2027"),
        (
            "closes_time",
            "25:00",
            "Enter the closing time on the 24-hour clock, like 09:00 or 14:30",
        ),
        ("sites_wanted", "0", "Enter the number of sites as a whole number from 1 to 1000"),
        ("reviews_required", "two", "Enter the number of reviews as a whole number from 1 to 20"),
        ("reviewing_days", "0", "Enter the days for reviewing as a whole number from 1 to 365"),
        ("sites_wanted", "²", "Enter the number of sites as a whole number from 1 to 1000"),
        (
            "lottery_band",
            "-1",
            "Enter the lottery band as a number of points from 0 to 100, like 0.25, or leave it "
            "blank for no lottery",
        ),
        ("title", "", "Enter the round's title"),
        ("closes_date", "1/1/1999", "Enter the closing date as day/month/year, like 24/3/2027"),
        (
            "weight_evidence",
            "nan",
            "Enter the weight for Evidence as a number more than 0, like 1 or 1.5",
        ),
        ("text_offer", "", "Enter the text for ‘What we offer’"),
    ]
    for field, value, expected in cases:
        message, _page = errors_for(staff_client, round_, **{field: value})
        assert message == expected, field


def test_new_texts_reach_the_public_start_page(staff_client: Client, round_: Round) -> None:
    settings = {**VALID_SETTINGS, "opens_date": "1/1/2020", "closes_date": "1/1/2099"}
    staff_client.submit(url(round_), settings)
    start = staff_client.get_page("/")
    assert "A facilitator for two years and £30,000." in start.get_text()
    # The texts on how sites are chosen and what taking part means, on the start page and the
    # paper form.
    for page in (start, staff_client.get_page("/paper-form")):
        text = page.get_text(" ", strip=True)
        assert "We will choose 15 sites. We weigh the panel's scores and a spread of places." in (
            text
        )
        for key in ("decisions", "site_time", "funding_paid", "match_funding", "network_route"):
            assert VALID_SETTINGS[f"text_{key}"] in text
        assert "Nobody has to use technology they do not want." in text


def test_the_reviewing_deadline_is_a_round_setting(staff_client: Client, round_: Round) -> None:
    # Blank keeps the default (28 days after closing); a number sets it.
    staff_client.submit(url(round_), VALID_SETTINGS)
    db.session.expire_all()
    assert db.session.get(Round, round_.id).settings.get("reviewing_days", 28) == 28
    page = staff_client.get_page(url(round_))
    assert page.select_one("#reviewing_days")["value"] == "28"
    staff_client.submit(url(round_), {**VALID_SETTINGS, "reviewing_days": "10"})
    db.session.expire_all()
    assert db.session.get(Round, round_.id).settings["reviewing_days"] == 10
    assert staff_client.get_page(url(round_)).select_one("#reviewing_days")["value"] == "10"
