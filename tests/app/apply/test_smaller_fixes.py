"""Issue 22 point 7, smaller fixes seen in the browser: organisation type is "select all that
apply", user-led asked once, assets-based explained, the reference's year is the round's, a UK
postcode example, phone and email as links, the declaration said once with the privacy notice
inside it, and the Back link inside the main landmark."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AnswerPage, Application, Round, utcnow
from app.rounds import LONDON, create_round
from tests.app.apply.journey import VALID, complete_application, pass_eligibility, send
from tests.app.helpers import Client

ORGANISATION = "/application/organisation"


def test_several_organisation_types_can_be_chosen_stored_and_shown(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    page = client.get_page(ORGANISATION)
    boxes = page.select("input[name=organisation_type]")
    assert boxes and {box["type"] for box in boxes} == {"checkbox"}
    assert "Select all that apply" in page.select_one("#organisation_type-hint").get_text()

    client.submit(
        ORGANISATION,
        {**VALID["organisation"], "organisation_type": ["care-provider", "social-enterprise"]},
    )
    stored = db.session.scalars(
        select(AnswerPage.answers).where(AnswerPage.page_id == "organisation")
    ).one()
    assert stored["organisation_type"] == ["care-provider", "social-enterprise"]
    page = client.get_page(ORGANISATION)
    ticked = [tag["value"] for tag in page.select("input[name=organisation_type][checked]")]
    assert ticked == ["care-provider", "social-enterprise"]


def test_check_answers_lists_every_organisation_type_chosen(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    page = client.get_page("/application/check-answers")
    row = next(
        row
        for row in page.select(".summary-list__row")
        if row.select_one("dt").get_text(strip=True) == "What type of organisation is it?"
    )
    shown = row.select_one(".summary-list__value").get_text("|", strip=True).split("|")
    assert shown == ["Community or voluntary organisation", "Social enterprise"]


def test_user_led_is_asked_once_and_defined_where_it_is_asked(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    organisation = client.get_page(ORGANISATION)
    types = [label.get_text(strip=True) for label in organisation.select(".checkboxes__label")]
    assert not [label for label in types if "led" in label.lower()], types
    client.submit(ORGANISATION, VALID["organisation"])
    leadership = client.get_page("/application/leadership")
    hint = leadership.select_one("#led_by-hint").get_text(" ", strip=True)
    assert "User-led means" in hint and "Carer-led means" in hint


def test_assets_based_is_explained_beside_the_topics(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    client.submit(ORGANISATION, VALID["organisation"])
    page = client.get_page("/application/topics")
    hint = page.select_one("#topics-hint").get_text(" ", strip=True)
    assert "Assets-based care" in hint
    assert "already have" in hint


def test_the_postcode_message_gives_a_uk_example(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    client.submit(ORGANISATION, VALID["organisation"])
    page = client.submit_page(
        "/application/location", {**VALID["location"], "postcode": "not a postcode"}
    )
    assert page.select_one("#postcode-error").get_text(" ", strip=True) == (
        "Error: Enter a UK postcode, like LS1 1AA"
    )


@pytest.fixture
def round_from_last_year(app: Flask) -> Round:
    """Opened in an earlier year than today's (UK time), still open."""
    now = utcnow()
    last_year = now.astimezone(LONDON).year - 1
    round_ = create_round(
        db.session,
        slug="long-round",
        title="A round that runs over the new year",
        opens_at=datetime(last_year, 12, 1, 9, tzinfo=LONDON),
        closes_at=now + timedelta(days=30),
    )
    db.session.commit()
    return round_


def test_the_reference_carries_the_rounds_year_not_todays(
    client: Client, round_from_last_year: Round
) -> None:
    complete_application(client)
    send(client)
    reference = db.session.scalars(select(Application.reference)).one()
    assert reference is not None
    assert reference.startswith(f"EOI-{round_from_last_year.opens_at.year}-")
    assert not reference.startswith(f"EOI-{utcnow().astimezone(LONDON).year}-")


def _links(page: BeautifulSoup, app: Flask) -> tuple[list[str], list[str]]:
    tel = [a["href"] for a in page.select("a[href^='tel:']")]
    mail = [a["href"] for a in page.select("a[href^='mailto:']")]
    return tel, mail


@pytest.mark.parametrize("url", ["/", "/accessibility", "/privacy"])
def test_the_centres_phone_and_email_are_links(
    client: Client, app: Flask, open_round: Round, url: str
) -> None:
    page = client.get_page(url)
    tel, mail = _links(page, app)
    digits = "".join(ch for ch in app.config["CENTRE_PHONE"] if ch.isdigit())
    assert f"tel:{digits}" in tel
    assert f"mailto:{app.config['CENTRE_EMAIL']}" in mail
    # The words people read are unchanged.
    linked = page.select_one(f"a[href='tel:{digits}']")
    assert linked.get_text() == app.config["CENTRE_PHONE"]


def test_the_declaration_is_said_once_and_holds_the_privacy_notice_link(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    page = client.get_page("/application/check-answers")
    main = page.select_one("main")
    declarations = [
        tag
        for tag in main.select("h1, h2, h3, legend")
        if tag.get_text(strip=True) == "Declaration"
    ]
    assert len(declarations) == 1
    form = main.select_one("form[action='/application/check-answers']")
    privacy = form.select_one("fieldset a[href='/privacy']")
    assert privacy is not None and privacy.get_text(strip=True) == "privacy notice"


@pytest.mark.parametrize(
    "url", ["/eligibility/adult_social_care", ORGANISATION, "/application/check-answers"]
)
def test_the_back_link_is_inside_the_main_landmark(
    client: Client, open_round: Round, url: str
) -> None:
    complete_application(client)
    page = client.get_page(url)
    back = page.select_one(".back-link")
    assert back is not None
    assert back.find_parent("main") is not None
