"""Each field's validation, as issue 2 and the GOV.UK error-message patterns describe it.

Most tests validate the generated forms on plain data, without HTTP; a few post real pages to check
the error summary, the "Error:" title, the message beside the field and that every value is kept.
Expected messages follow the GOV.UK patterns ("Enter ...", "Select ...", "... must be N characters
or fewer", "Enter an email address in the correct format, like name@example.com").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.applications.forms import PageForm, page_form_class
from app.applications.questions import PAGES
from app.extensions import db
from app.models import AnswerPage, Application, Round, utcnow
from app.rounds import create_round, default_settings
from tests.app.apply.journey import VALID, fill_pages, pass_eligibility
from tests.app.helpers import Client

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"
EMAIL_NEEDED = "Enter an email address, or choose phone or post as the way to contact you"
PHONE_FORMAT = "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
QUESTIONS = {question.id: question for page in PAGES.values() for question in page.questions}


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def validated(
    app: Flask, round_: Round, page_id: str, data: dict[str, Any], **changes: Any
) -> PageForm:
    """The page's form, validated on `data` with `changes` applied (None removes a field)."""
    body = {**data, **changes}
    body = {key: value for key, value in body.items() if value is not None}
    form_class = page_form_class(PAGES[page_id], round_, first_save=False)
    with app.test_request_context(method="POST"):
        form = form_class(formdata=MultiDict(body), meta={"csrf": False})
        form.validate()
    return form


def errors(form: PageForm) -> dict[str, list[str]]:
    return {name: list(messages) for name, messages in form.errors.items()}


@pytest.fixture
def small_round(app: Flask) -> Round:
    """An open round whose settings set a 50-word limit and offer an extra topic."""
    settings = default_settings()
    settings["word_limit"] = 50
    settings["options"]["topics"].insert(-1, ["digital", "Digital care and technology"])
    now = utcnow()
    round_ = create_round(
        db.session,
        slug="small-round",
        title="Small grants 2027",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        settings=settings,
    )
    db.session.commit()
    db.session.expire_all()  # read the settings back from the database
    return round_


# Every valid page passes as given: the baseline the failing cases below change one thing in.


@pytest.mark.parametrize("page_id", list(VALID))
def test_valid_answers_pass(app: Flask, open_round: Round, page_id: str) -> None:
    form = validated(app, open_round, page_id, VALID[page_id])
    assert errors(form) == {}


# Empty required fields.


@pytest.mark.parametrize(
    ("page_id", "field", "message"),
    [
        ("organisation", "organisation_name", "Enter the name of your organisation"),
        ("organisation", "organisation_type", "Select at least one type of organisation"),
        (
            "leadership",
            "led_by",
            "Select whether your organisation is user-led or carer-led",
        ),
        ("leadership", "staff_band", "Select how many paid staff it has"),
        ("leadership", "income_band", "Select its annual income"),
        ("location", "nation", "Select the nation your organisation is based in"),
        ("location", "area_type", "Select the kind of area it mainly serves"),
        ("topics", "topics", "Select at least one topic"),
        ("topics", "work_mode", "Select how you would like to work with us"),
        (
            "experience",
            "prior_participation",
            "Select whether you have taken part in a project before",
        ),
        ("difference", "difference", "Enter what difference it would make"),
        ("inequalities", "inequalities", "Enter which inequalities it would help to tackle"),
        ("resources", "resources", "Enter how you would use scarce resources"),
        ("evidence", "evidence", "Enter the evidence or experience you have"),
        ("contact", "contact_name", "Enter the contact's name"),
        ("contact", "contact_role", "Enter the contact's role"),
        ("contact", "email", EMAIL_NEEDED),
        ("contact", "preferred_contact", "Select how you would prefer us to contact you"),
    ],
)
def test_required_field_left_empty(
    app: Flask, open_round: Round, page_id: str, field: str, message: str
) -> None:
    # A browser sends an empty text box as "" and an unanswered radio or checkbox not at all.
    empty = None if QUESTIONS[field].kind in ("radios", "checkboxes") else ""
    form = validated(app, open_round, page_id, VALID[page_id], **{field: empty})
    assert errors(form) == {field: [message]}


def test_the_region_is_required_for_england(app: Flask, open_round: Round) -> None:
    form = validated(app, open_round, "region", {})
    assert errors(form) == {"region": ["Select the region of England"]}


@pytest.mark.parametrize(
    ("page_id", "field", "message"),
    [
        ("organisation", "organisation_name", "Enter the name of your organisation"),
        ("difference", "difference", "Enter what difference it would make"),
        ("contact", "contact_name", "Enter the contact's name"),
        ("contact", "email", EMAIL_NEEDED),
    ],
)
def test_whitespace_only_is_not_an_answer(
    app: Flask, open_round: Round, page_id: str, field: str, message: str
) -> None:
    form = validated(app, open_round, page_id, VALID[page_id], **{field: "  \t\r\n  "})
    assert errors(form) == {field: [message]}


def test_optional_fields_may_be_left_blank(app: Flask, open_round: Round) -> None:
    organisation = validated(
        app, open_round, "organisation", VALID["organisation"], registered_number=""
    )
    location = validated(app, open_round, "location", VALID["location"], postcode="")
    experience = validated(app, open_round, "experience", VALID["experience"], pressures=None)
    contact = validated(app, open_round, "contact", VALID["contact"], phone="", adjustments="")
    for form in (organisation, location, experience, contact):
        assert errors(form) == {}
    assert organisation.answers()["registered_number"] is None
    assert location.answers()["postcode"] is None
    assert experience.answers()["pressures"] is None
    assert contact.answers()["phone"] is None
    assert contact.answers()["adjustments"] is None


# Too long.


@pytest.mark.parametrize(
    ("page_id", "field", "limit", "message"),
    [
        (
            "organisation",
            "organisation_name",
            200,
            "The name of your organisation must be 200 characters or fewer",
        ),
        (
            "organisation",
            "registered_number",
            50,
            "The registered number must be 50 characters or fewer",
        ),
        ("contact", "contact_name", 100, "The contact's name must be 100 characters or fewer"),
        ("contact", "contact_role", 100, "The contact's role must be 100 characters or fewer"),
        (
            "contact",
            "adjustments",
            2000,
            "The adjustments you need must be 2,000 characters or fewer",
        ),
    ],
)
def test_too_long(
    app: Flask, open_round: Round, page_id: str, field: str, limit: int, message: str
) -> None:
    at_limit = validated(app, open_round, page_id, VALID[page_id], **{field: "a" * limit})
    assert errors(at_limit) == {}
    over = validated(app, open_round, page_id, VALID[page_id], **{field: "a" * (limit + 1)})
    assert errors(over) == {field: [message]}


def test_other_text_too_long(app: Flask, open_round: Round) -> None:
    form = validated(
        app,
        open_round,
        "organisation",
        VALID["organisation"],
        organisation_type="other",
        organisation_type_other="a" * 201,
    )
    assert errors(form) == {
        "organisation_type_other": ["The type of organisation must be 200 characters or fewer"]
    }


def test_email_too_long(app: Flask, open_round: Round) -> None:
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.org"  # 262 characters
    assert len(address) > 254
    form = validated(app, open_round, "contact", VALID["contact"], email=address)
    assert any("must be 254 characters or fewer" in m for m in errors(form)["email"])


def test_a_very_long_answer_to_a_question_is_refused(app: Flask, open_round: Round) -> None:
    # Within the word limit but far too long: one 6,001-character "word".
    form = validated(app, open_round, "difference", {"difference": "a" * 6001})
    assert errors(form) == {
        "difference": ["What difference it would make must be 6,000 characters or fewer"]
    }


# Wrong format.


@pytest.mark.parametrize(
    "address",
    ["name.example.com", "name@example", "name@@example.com", "name @example.com", "@example.com"],
)
def test_email_in_the_wrong_format(app: Flask, open_round: Round, address: str) -> None:
    form = validated(app, open_round, "contact", VALID["contact"], email=address)
    assert errors(form) == {"email": [EMAIL_FORMAT]}


@pytest.mark.parametrize(
    "phone", ["call me", "12345", "01632 960 001 ext 5", "0163296000112345678"]
)
def test_phone_in_the_wrong_format(app: Flask, open_round: Round, phone: str) -> None:
    form = validated(app, open_round, "contact", VALID["contact"], phone=phone)
    assert errors(form) == {"phone": [PHONE_FORMAT]}


@pytest.mark.parametrize("postcode", ["12345", "SW1A", "not a postcode", "SW1A 1AAA", "1AA SW1"])
def test_postcode_in_the_wrong_format(app: Flask, open_round: Round, postcode: str) -> None:
    form = validated(app, open_round, "location", VALID["location"], postcode=postcode)
    assert set(errors(form)) == {"postcode"}
    assert errors(form)["postcode"][0] == "Enter a UK postcode, like LS1 1AA"


# Over the word limit: the round's limit, counted on the server.


def test_word_limit_is_300_words_by_default(app: Flask, open_round: Round) -> None:
    for page_id in ("difference", "inequalities", "resources", "evidence"):
        assert errors(validated(app, open_round, page_id, {page_id: words(300)})) == {}
        over = errors(validated(app, open_round, page_id, {page_id: words(301)}))
        [message] = over[page_id]
        assert "must be 300 words or fewer" in message
        assert "301" in message  # says how many words there are now


def test_words_are_counted_across_lines_and_spaces(app: Flask, open_round: Round) -> None:
    # 300 words laid out in paragraphs with double spaces, tabs and blank lines: still 300.
    paragraphs = "\r\n\r\n".join(
        "  ".join(f"co-production{i}\t{j}" for j in range(10)) for i in range(15)
    )
    assert len(paragraphs.split()) == 300
    form = validated(app, open_round, "difference", {"difference": paragraphs})
    assert errors(form) == {}
    form = validated(app, open_round, "difference", {"difference": paragraphs + "\n\nmore"})
    assert "difference" in errors(form)


def test_a_round_can_set_its_own_word_limit(app: Flask, small_round: Round) -> None:
    assert errors(validated(app, small_round, "evidence", {"evidence": words(50)})) == {}
    [message] = errors(validated(app, small_round, "evidence", {"evidence": words(51)}))["evidence"]
    assert "must be 50 words or fewer" in message


def test_the_word_limit_is_shown_as_a_hint(client: Client, app: Flask, small_round: Round) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    page = client.get_page("/application/difference")
    assert "You can enter up to 50 words." in page.select_one("#difference-hint").get_text()


# Option lists come from the round's configuration.


def test_a_round_with_an_extra_topic_offers_and_accepts_it(app: Flask, small_round: Round) -> None:
    form = validated(app, small_round, "topics", VALID["topics"], topics=["digital"])
    assert errors(form) == {}
    assert form.answers()["topics"] == ["digital"]


def test_the_extra_topic_is_not_valid_in_a_round_without_it(app: Flask, open_round: Round) -> None:
    form = validated(app, open_round, "topics", VALID["topics"], topics=["digital"])
    [message] = errors(form)["topics"]
    assert_says_choose_from_the_list(message)


def test_the_topics_page_shows_the_rounds_topics(
    client: Client, app: Flask, small_round: Round
) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    page = client.get_page("/application/topics")
    labels = [label.get_text(strip=True) for label in page.select(".checkboxes__label")]
    assert "Digital care and technology" in labels
    assert "Prevention and well-being" in labels


# "Other" chosen without saying what.


def test_other_organisation_type_needs_its_text(app: Flask, open_round: Round) -> None:
    for blank in ("", "   "):
        form = validated(
            app,
            open_round,
            "organisation",
            VALID["organisation"],
            organisation_type="other",
            organisation_type_other=blank,
        )
        assert errors(form) == {
            "organisation_type_other": ["Enter what type of organisation it is"]
        }
    form = validated(
        app,
        open_round,
        "organisation",
        VALID["organisation"],
        organisation_type="other",
        organisation_type_other="Housing association",
    )
    assert errors(form) == {}
    assert form.answers()["organisation_type_other"] == "Housing association"


def test_other_topic_needs_its_text(app: Flask, open_round: Round) -> None:
    form = validated(app, open_round, "topics", VALID["topics"], topics=["carers", "other"])
    assert errors(form) == {"topics_other": ["Enter the other topic"]}
    form = validated(
        app,
        open_round,
        "topics",
        VALID["topics"],
        topics=["carers", "other"],
        topics_other="Housing with care",
    )
    assert errors(form) == {}
    assert form.answers()["topics_other"] == "Housing with care"


def test_other_text_is_dropped_when_other_is_not_chosen(app: Flask, open_round: Round) -> None:
    form = validated(
        app,
        open_round,
        "organisation",
        VALID["organisation"],
        organisation_type="care-provider",
        organisation_type_other="left over from an earlier choice",
    )
    assert errors(form) == {}
    assert form.answers()["organisation_type_other"] is None


# A choice that is not on the list (a tampered form).


@pytest.mark.parametrize(
    ("page_id", "field", "value"),
    [
        ("organisation", "organisation_type", "bank"),
        ("leadership", "income_band", "1bn"),
        ("location", "nation", "france"),
        ("topics", "topics", ["carers", "bitcoin"]),
        ("experience", "pressures", "fine"),
        ("contact", "preferred_contact", "pigeon"),
    ],
)
def test_a_value_that_is_not_an_option_is_refused(
    app: Flask, open_round: Round, page_id: str, field: str, value: Any
) -> None:
    form = validated(app, open_round, page_id, VALID[page_id], **{field: value})
    [message] = errors(form)[field]
    assert set(errors(form)) == {field}
    assert_says_choose_from_the_list(message)


def assert_says_choose_from_the_list(message: str) -> None:
    """No GOV.UK wording exists for a tampered choice; it must still say what to do."""
    assert message.startswith("Select ") and message.endswith("from the list"), message


# Odd but valid input.


@pytest.mark.parametrize(
    "name",
    [
        "Cwmni Dŵr a Thŷ'r Bobl Cyf.",
        "Gofalwyr Sir Gâr",
        "St John's Carers & Friends (Ynys Môn)",
        "Côr Cymunedol Llanrwst – Cymdeithas",
        "O'Neill's Community Care CIC",
    ],
)
def test_organisation_names_with_apostrophes_and_welsh_characters(
    app: Flask, open_round: Round, name: str
) -> None:
    form = validated(app, open_round, "organisation", VALID["organisation"], organisation_name=name)
    assert errors(form) == {}
    assert form.answers()["organisation_name"] == name


@pytest.mark.parametrize(
    "name", ["Siân O'Brien", "Rhŷs ap Gwŵr", "Dafydd ap Siôn-Ŷr", "Zoë D'Arcy"]
)
def test_contact_names_with_apostrophes_and_welsh_characters(
    app: Flask, open_round: Round, name: str
) -> None:
    form = validated(app, open_round, "contact", VALID["contact"], contact_name=name)
    assert errors(form) == {}
    assert form.answers()["contact_name"] == name


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        (" cf10 1aa ", "CF10 1AA"),
        ("ll58  8yb", "LL58 8YB"),
        ("m11ae", "M1 1AE"),
        ("bt11aa", "BT1 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("w1a0ax", "W1A 0AX"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_postcodes_in_any_uk_format(app: Flask, open_round: Round, typed: str, stored: str) -> None:
    form = validated(app, open_round, "location", VALID["location"], postcode=typed)
    assert errors(form) == {}
    assert form.answers()["postcode"] == stored


@pytest.mark.parametrize(
    "phone",
    ["+44 808 157 0192", "+447700900982", "07700 900982", "(01632) 960 001", "+353 1 234 5678"],
)
def test_phone_numbers_in_common_formats(app: Flask, open_round: Round, phone: str) -> None:
    form = validated(app, open_round, "contact", VALID["contact"], phone=phone)
    assert errors(form) == {}
    assert form.answers()["phone"] == phone


@pytest.mark.parametrize(
    "address", ["o'brien@example.org", "name+eoi@example.co.uk", "First.Last@sub.example.org"]
)
def test_unusual_but_valid_email_addresses(app: Flask, open_round: Round, address: str) -> None:
    form = validated(app, open_round, "contact", VALID["contact"], email=address)
    assert errors(form) == {}


def test_answers_keep_line_breaks_and_welsh_text(app: Flask, open_round: Round) -> None:
    answer = "Bydd gofalwyr yn cael cymorth.\r\n\r\nCarers' well-being matters – a lot."
    form = validated(app, open_round, "difference", {"difference": answer})
    assert errors(form) == {}
    assert form.answers()["difference"] == answer


# Through HTTP: the error summary, the title, the message beside the field, every value kept.


def _summary_links(page: BeautifulSoup) -> dict[str, str]:
    return {a.get_text(strip=True): a["href"] for a in page.select(".error-summary a")}


def _draft_with_first_page(client: Client) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])


def _stored_pages() -> dict[str, dict[str, Any]]:
    db.session.expire_all()
    application = db.session.scalars(select(Application)).one()
    return application.answers


def test_errors_on_a_page_are_summarised_linked_and_shown_beside_each_field(
    client: Client, open_round: Round
) -> None:
    _draft_with_first_page(client)
    before = _stored_pages()
    typed = {
        "contact_name": "Siân O'Brien",
        "contact_role": "",
        "email": "sian.example.org",
        "phone": "+44 29 2000 0000 x",
        "adjustments": "Meetings after 10am, please.\r\nLarge print.",
    }
    page = client.submit_page("/application/contact", typed)

    assert page.select_one("title").get_text().startswith("Error:")
    links = _summary_links(page)
    assert links == {
        "Enter the contact's role": "#contact_role",
        EMAIL_FORMAT: "#email",
        PHONE_FORMAT: "#phone",
        "Select how you would prefer us to contact you": "#preferred_contact-0",
    }
    for message, href in links.items():
        target = page.select_one(href)
        assert target is not None, f"{href} is not on the page"
        beside = page.select_one(f"#{href[1:].removesuffix('-0')}-error")
        assert beside is not None and message in beside.get_text(), message
    # Every value is kept, exactly as typed.
    assert page.select_one("#contact_name")["value"] == "Siân O'Brien"
    assert page.select_one("#email")["value"] == "sian.example.org"
    assert page.select_one("#phone")["value"] == "+44 29 2000 0000 x"
    kept = page.select_one("#adjustments").get_text().replace("\r\n", "\n")
    assert kept == typed["adjustments"].replace("\r\n", "\n")
    # Nothing was saved.
    assert _stored_pages() == before
    assert "contact" not in before


def test_checked_radios_and_checkboxes_are_kept_on_error(client: Client, open_round: Round) -> None:
    _draft_with_first_page(client)
    page = client.submit_page(
        "/application/topics",
        {"topics": ["carers", "workforce", "other"], "topics_other": "", "work_mode": "network"},
    )
    assert page.select_one("title").get_text().startswith("Error:")
    assert _summary_links(page) == {"Enter the other topic": "#topics_other"}
    checked = {box["value"] for box in page.select("input[name=topics][checked]")}
    assert checked == {"carers", "workforce", "other"}
    radios = [radio["value"] for radio in page.select("input[name=work_mode][checked]")]
    assert radios == ["network"]
    assert "topics" not in _stored_pages()


def test_a_long_answer_over_the_word_limit_is_kept_in_full(
    client: Client, open_round: Round
) -> None:
    _draft_with_first_page(client)
    answer = words(320)
    page = client.submit_page("/application/difference", {"difference": answer})
    assert page.select_one("title").get_text().startswith("Error:")
    [(message, href)] = _summary_links(page).items()
    assert "must be 300 words or fewer" in message
    assert href == "#difference"
    assert page.select_one("#difference-error")
    assert page.select_one("textarea#difference").get_text() == answer
    assert "difference" not in _stored_pages()


def test_an_invalid_first_page_creates_no_draft_and_keeps_the_values(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    page = client.submit_page(
        "/application/organisation",
        {
            "organisation_name": "Gofalwyr Sir Gâr",
            "organisation_type": "other",
            "organisation_type_other": "",
            "registered_number": "x" * 51,
        },
    )
    assert page.select_one("title").get_text().startswith("Error:")
    assert _summary_links(page) == {
        "Enter what type of organisation it is": "#organisation_type_other",
        "The registered number must be 50 characters or fewer": "#registered_number",
    }
    assert page.select_one("#organisation_name")["value"] == "Gofalwyr Sir Gâr"
    assert page.select_one("#registered_number")["value"] == "x" * 51
    assert page.select_one("input[name=organisation_type][checked]")["value"] == "other"
    assert db.session.scalar(select(func.count(Application.id))) == 0
    assert db.session.scalar(select(func.count(AnswerPage.id))) == 0


def test_odd_but_valid_answers_are_stored_and_shown_as_typed(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    fill_pages(
        client,
        ["organisation", "location", "contact"],
        organisation={"organisation_name": "Cwmni Dŵr a Thŷ'r Bobl Cyf."},
        location={"postcode": "sw1a1aa"},
        contact={"contact_name": "Rhŷs ap Gwŵr", "phone": "+44 808 157 0192"},
    )
    stored = _stored_pages()
    assert stored["organisation"]["organisation_name"] == "Cwmni Dŵr a Thŷ'r Bobl Cyf."
    assert stored["location"]["postcode"] == "SW1A 1AA"
    assert stored["contact"]["contact_name"] == "Rhŷs ap Gwŵr"
    assert stored["contact"]["phone"] == "+44 808 157 0192"
    text = client.get_page("/application/check-answers").get_text(" ", strip=True)
    for shown in ("Cwmni Dŵr a Thŷ'r Bobl Cyf.", "SW1A 1AA", "Rhŷs ap Gwŵr", "+44 808 157 0192"):
        assert shown in text
    page = client.get_page("/application/location")
    assert page.select_one("#postcode")["value"] == "SW1A 1AA"


# --- Contact by email, phone or post -------------------------------------------------------

NO_EMAIL = {
    "email": "",
    "phone": "",
    "address_line_1": "",
    "address_town": "",
    "address_postcode": "",
}
ADDRESS = {
    "address_line_1": "Unit 4, Mill Lane",
    "address_line_2": "",
    "address_town": "Pontypridd",
    "address_postcode": "cf37 1aa",
}


def test_post_preferred_needs_a_postal_address_and_no_email(app: Flask, open_round: Round) -> None:
    form = validated(
        app, open_round, "contact", VALID["contact"], preferred_contact="post", **NO_EMAIL
    )
    assert errors(form) == {
        "address_line_1": [
            "Enter the first line of the postal address, so we can post letters to you"
        ],
        "address_town": ["Enter the town or city of the postal address"],
        "address_postcode": ["Enter a UK postcode, like LS1 1AA"],
    }
    form = validated(
        app,
        open_round,
        "contact",
        VALID["contact"],
        preferred_contact="post",
        **{**NO_EMAIL, **ADDRESS},
    )
    assert errors(form) == {}
    answers = form.answers()
    assert answers["email"] is None and answers["address_line_2"] is None
    assert answers["address_postcode"] == "CF37 1AA"


@pytest.mark.parametrize("postcode", ["LS1", "12345", "SW1A 1AAA", "not a postcode"])
def test_a_postal_address_needs_a_uk_postcode(app: Flask, open_round: Round, postcode: str) -> None:
    form = validated(
        app,
        open_round,
        "contact",
        VALID["contact"],
        preferred_contact="post",
        **{**ADDRESS, "address_postcode": postcode},
    )
    assert errors(form) == {"address_postcode": ["Enter a UK postcode, like LS1 1AA"]}


def test_phone_preferred_needs_a_number(app: Flask, open_round: Round) -> None:
    form = validated(
        app, open_round, "contact", VALID["contact"], preferred_contact="phone", phone=""
    )
    assert errors(form) == {
        "phone": ["Enter a phone number, like 01632 960 001, so we can call you"]
    }
    # With no email address either, letters go by post: an address is needed too.
    form = validated(
        app,
        open_round,
        "contact",
        VALID["contact"],
        preferred_contact="phone",
        **{**NO_EMAIL, "phone": "01632 960 001"},
    )
    assert set(errors(form)) == {"address_line_1", "address_town", "address_postcode"}
    form = validated(
        app,
        open_round,
        "contact",
        VALID["contact"],
        preferred_contact="phone",
        **{**NO_EMAIL, **ADDRESS, "phone": "01632 960 001"},
    )
    assert errors(form) == {}


def test_email_preferred_needs_no_phone_or_address(app: Flask, open_round: Round) -> None:
    form = validated(
        app, open_round, "contact", VALID["contact"], phone="", **{k: "" for k in ADDRESS}
    )
    assert errors(form) == {}
