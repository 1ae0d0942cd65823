"""The Welsh side of the applicant pages (issue 20, the foundation): the per-round switch, the
language link that keeps the page, <html lang>, the draft's language, and a complete catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Application, Round
from tests.app.apply.journey import VALID, pass_eligibility
from tests.app.helpers import Client

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = ROOT / "app" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
TEMPLATE = ROOT / "app" / "translations" / "messages.pot"


@pytest.fixture
def welsh_round(open_round: Round) -> Round:
    open_round.settings = {**open_round.settings, "welsh_offered": True}
    db.session.commit()
    return open_round


def switch_link(page: BeautifulSoup) -> dict[str, str]:
    link = page.select_one(".header__language a")
    assert link is not None, "no language link"
    return {"text": link.get_text(strip=True), "lang": link["lang"], "href": link["href"]}


def html_lang(page: BeautifulSoup) -> str:
    return str(page.select_one("html")["lang"])


def test_no_switch_unless_the_round_offers_welsh(client: Client, open_round: Round) -> None:
    page = client.get_page("/")
    assert page.select_one(".header__language") is None
    assert "Cymraeg" not in page.get_text()
    assert html_lang(page) == "en-GB"


def test_switching_keeps_the_page_and_sets_html_lang(client: Client, welsh_round: Round) -> None:
    page = client.get_page("/privacy")
    assert html_lang(page) == "en-GB"
    link = switch_link(page)
    assert (link["text"], link["lang"]) == ("Cymraeg", "cy")
    response = client.get(link["href"])
    assert response.status_code == 302 and response.headers["Location"] == "/privacy"
    page = client.get_page("/privacy")
    assert html_lang(page) == "cy"
    assert page.select_one(".skip-link").get_text(strip=True) == "Neidio i’r prif gynnwys"
    back = switch_link(page)
    assert (back["text"], back["lang"]) == ("English", "en")
    assert client.get(back["href"]).headers["Location"] == "/privacy"
    assert html_lang(client.get_page("/privacy")) == "en-GB"


def test_the_start_page_in_welsh(client: Client, welsh_round: Round) -> None:
    client.get("/language/cy?next=/")
    page = client.get_page("/")
    assert page.select_one("a.button--start").get_text(strip=True) == "Dechrau nawr"
    # The round's own title is English only (staff write it): marked so.
    heading = page.select_one("h1")
    assert heading.get_text(strip=True) == welsh_round.title and heading["lang"] == "en"
    assert "Start now" not in page.get_text()
    assert "(amser y DU)" in page.get_text()


def test_staff_pages_stay_english(client: Client, welsh_round: Round) -> None:
    client.get("/language/cy?next=/")
    page = client.get_page("/sign-in")
    assert html_lang(page) == "en-GB"
    assert page.select_one(".skip-link").get_text(strip=True) == "Skip to main content"
    assert page.select_one(".header__language") is None


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "",
    ],
)
def test_the_switch_never_leaves_the_site(client: Client, welsh_round: Round, target: str) -> None:
    response = client.get("/language/cy", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_an_unknown_language_is_not_found(client: Client, welsh_round: Round) -> None:
    assert client.get("/language/fr?next=/").status_code == 404


def test_switching_on_a_question_page_saves_what_was_typed(
    client: Client, welsh_round: Round
) -> None:
    pass_eligibility(client)
    page = client.get_page("/application/organisation")
    button = page.select_one(".header__language button")
    assert button is not None and button["form"] == "page-form"
    assert (button["name"], button["value"], button["lang"]) == ("language", "cy", "cy")
    typed = {**VALID["organisation"], "registered_number": ""}
    response = client.submit("/application/organisation", {**typed, "language": "cy"})
    assert response.headers["Location"] == "/application/organisation"
    page = client.get_page("/application/organisation")
    assert html_lang(page) == "cy"
    assert page.select_one("[name=organisation_name]")["value"] == typed["organisation_name"]
    application = db.session.scalars(select(Application)).one()
    assert application.language == "cy"


def test_a_resume_link_opens_in_the_drafts_language(
    app: Flask, client: Client, welsh_round: Round
) -> None:
    client.get("/language/cy?next=/")
    pass_eligibility(client)
    response = client.submit("/application/organisation", VALID["organisation"])
    assert response.status_code == 302
    application = db.session.scalars(select(Application)).one()
    assert application.language == "cy"
    token = re.search(r"/resume/([^/\s\"]+)", client.get_page("/application").decode())
    assert token is not None
    elsewhere = Client(app.test_client())  # another device: English until the link is opened
    assert html_lang(elsewhere.get_page("/")) == "en-GB"
    assert elsewhere.get(f"/resume/{token.group(1)}").status_code == 302
    assert html_lang(elsewhere.get_page("/application")) == "cy"


def test_an_english_draft_is_recorded_as_english(client: Client, welsh_round: Round) -> None:
    pass_eligibility(client)
    client.submit("/application/organisation", VALID["organisation"])
    assert db.session.scalars(select(Application.language)).one() == "en"


def test_every_message_in_the_catalogue_has_welsh() -> None:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    assert "DRAFT FOR REVIEW BY A PROFESSIONAL TRANSLATOR" in catalogue.header_comment
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    expected = {message.id for message in template if message.id}
    found = {message.id: message for message in catalogue if message.id}
    assert expected == set(found), "run `make extract-messages` and translate what is new"
    for msgid, message in found.items():
        assert message.string and message.string.strip(), f"no Welsh for {msgid!r}"
        assert not message.fuzzy, f"fuzzy Welsh for {msgid!r}"
        assert message.string != msgid or msgid in {"English", "Cymraeg"}, msgid
        # Every placeholder of the English is in the Welsh, and no other.
        placeholders = re.compile(r"%\((\w+)\)s")
        assert set(placeholders.findall(message.string)) == set(placeholders.findall(msgid))


@pytest.mark.parametrize(
    ("utc", "english", "welsh"),
    [
        # Midday on Friday 5 February 2027 (GMT), and 9:30am in British Summer Time.
        (
            (2027, 2, 5, 12, 0),
            "midday on Friday 5 February 2027",
            "hanner dydd ar ddydd Gwener 5 Chwefror 2027",
        ),
        (
            (2027, 6, 1, 8, 30),
            "9:30am on Tuesday 1 June 2027",
            "9:30am ar ddydd Mawrth 1 Mehefin 2027",
        ),
        (
            (2027, 3, 24, 17, 0),
            "5pm on Wednesday 24 March 2027",
            "5pm ar ddydd Mercher 24 Mawrth 2027",
        ),
    ],
)
def test_dates_in_welsh_on_welsh_pages_only(
    app: Flask, utc: tuple[int, ...], english: str, welsh: str
) -> None:
    from datetime import UTC, datetime

    from app.rounds import format_london

    moment = datetime(*utc, tzinfo=UTC)
    with app.test_request_context("/"):
        assert format_london(moment) == english
    with app.test_request_context("/"):
        from flask import session

        session["language"] = "cy"
        assert format_london(moment) == welsh
    with app.test_request_context("/staff/"):  # staff pages stay English
        from flask import session

        session["language"] = "cy"
        assert format_london(moment) == english
    with app.app_context():  # an email composed by the mail worker
        assert format_london(moment) == english
