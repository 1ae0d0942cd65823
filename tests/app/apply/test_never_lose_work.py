"""Issue 22 point 5, never lose typed work: Back, Return to your application and Save and come
back later are buttons of the question page's form; each keeps what was typed as a draft, even
when it is not yet right, and the page is not complete until it is saved with Save and
continue."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from app.applications.questions import UNCHECKED
from app.extensions import db
from app.models import AnswerPage, Application, Round
from tests.app.apply.journey import VALID, complete_application, fill_pages, pass_eligibility
from tests.app.helpers import Client, check_hygiene

LONG = " ".join(["word"] * 350)  # over the 300-word limit: not valid, but kept


def started(client: Client) -> None:
    """Eligibility passed and the first page saved: a draft exists."""
    pass_eligibility(client)
    fill_pages(client, ["organisation"])


def leave(client: Client, url: str, go: str, data: dict[str, Any]) -> str:
    """Press one of the page's buttons (`go`) with `data` typed; returns where it leads."""
    response = client.submit(url, {**data, "go": go})
    return str(response.headers["Location"])


def stored(page_id: str) -> dict[str, Any] | None:
    db.session.expire_all()
    return db.session.scalars(
        select(AnswerPage.answers).where(AnswerPage.page_id == page_id)
    ).first()


def buttons(page: BeautifulSoup) -> dict[str, str]:
    form = page.select_one("main form#page-form")
    return {
        button.get_text(" ", strip=True): button.get("value", "")
        for button in form.select("button[type=submit]")
        if not button.has_attr("hidden")
    }


def test_every_question_page_offers_back_return_and_save_for_later_as_buttons(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    for page_id in VALID:
        page = client.get_page(f"/application/{page_id}")
        assert buttons(page) == {
            "Back": "back",
            "Save and continue": "continue",
            "Save and come back later": "later",
            "Return to your application": "application",
        }, page_id
        # Enter in a field saves and continues: the form's first button is that one.
        first = page.select_one("main form#page-form button[type=submit]")
        assert first["value"] == "continue"
        assert not page.select("main a.back-link")  # no plain link that drops what was typed


def test_back_keeps_an_answer_that_is_not_yet_right(client: Client, open_round: Round) -> None:
    started(client)
    url = "/application/difference"
    assert leave(client, url, "back", {"difference": LONG}).endswith("/application")
    saved = stored("difference")
    assert saved == {"difference": LONG, UNCHECKED: True}
    page = client.get_page(url)
    assert page.select_one("#difference").get_text() == LONG
    assert not page.select(".error-summary")  # coming back is not an error


def test_back_goes_to_the_previous_page_with_the_answers_kept(
    client: Client, open_round: Round
) -> None:
    started(client)
    typed = {"led_by": "user-led", "staff_band": "", "income_band": "under-10k"}
    assert leave(client, "/application/leadership", "back", typed).endswith(
        "/application/organisation"
    )
    page = client.get_page("/application/leadership")
    assert page.select_one("input[name=led_by][checked]")["value"] == "user-led"
    assert page.select_one("input[name=income_band][checked]")["value"] == "under-10k"
    assert page.select_one("input[name=staff_band][checked]") is None


def test_return_to_your_application_keeps_what_was_typed(client: Client, open_round: Round) -> None:
    started(client)
    url = "/application/location"
    typed = {"nation": "scotland", "postcode": "EH1 not a postcode", "area_type": ""}
    assert leave(client, url, "application", typed).endswith("/application")
    page = client.get_page(url)
    assert page.select_one("#postcode")["value"] == "EH1 not a postcode"
    assert page.select_one("input[name=nation][checked]")["value"] == "scotland"


def test_ticked_boxes_keep_their_state_when_saved_part_done(
    client: Client, open_round: Round
) -> None:
    started(client)
    url = "/application/topics"
    # No way of working chosen yet: not valid, but the two ticks are kept.
    leave(client, url, "back", {"topics": ["prevention", "workforce"], "work_mode": ""})
    page = client.get_page(url)
    ticked = [tag["value"] for tag in page.select("input[name=topics][checked]")]
    assert ticked == ["prevention", "workforce"]
    # Unticking every box and leaving again keeps that too.
    leave(client, url, "back", {})
    page = client.get_page(url)
    assert page.select("input[name=topics][checked]") == []


def test_save_and_come_back_later_saves_then_says_how_to_come_back(
    client: Client, open_round: Round
) -> None:
    started(client)
    location = leave(client, "/application/evidence", "later", {"evidence": "Half an answer"})
    assert location.endswith("/application/saved")
    assert stored("evidence") == {"evidence": "Half an answer"}  # valid, so complete
    page = client.get_page("/application/saved")
    assert page.select_one("h1").get_text(strip=True) == "Your answers have been saved"
    link = page.select_one("#resume-link .resume-link a")["href"]
    assert "/resume/" in link
    # The link opens the same draft in another browser, with the answer kept.
    other = Client(client.client.application.test_client())
    other.client.get(link[link.index("/resume/") :])
    assert other.get_page("/application/evidence").select_one("#evidence").get_text() == (
        "Half an answer"
    )


def test_a_page_saved_unchecked_is_not_complete_until_saved_and_continued(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    url = "/application/resources"
    leave(client, url, "back", {"resources": LONG})
    task_list = client.get_page("/application")
    assert task_list.select_one("#status-questions").get_text(strip=True) == "In progress"
    # It cannot be sent with the answer over the limit.
    page = client.get_page("/application/check-answers")
    assert "You cannot send it yet" in page.select_one("main").get_text()
    assert not page.select("form[action='/application/check-answers']")
    # Save and continue shows the real error; put right, the page is complete again.
    page = client.submit_page(url, {"resources": LONG})
    assert "300 words or fewer" in page.select_one(".error-summary").get_text()
    client.submit(url, VALID["resources"])
    assert stored("resources") == VALID["resources"]
    task_list = client.get_page("/application")
    assert task_list.select_one("#status-questions").get_text(strip=True) == "Completed"


def test_a_valid_page_left_with_back_is_saved_as_complete(
    client: Client, open_round: Round
) -> None:
    started(client)
    leave(client, "/application/leadership", "back", VALID["leadership"])
    assert stored("leadership") == VALID["leadership"]


def test_what_is_kept_is_cleaned(client: Client, open_round: Round) -> None:
    """Without its checks, the page still keeps only text without control characters and the
    choices offered."""
    started(client)
    leave(
        client,
        "/application/topics",
        "back",
        {"topics": ["carers", "bitcoin"], "work_mode": "pigeon", "topics_other": "x\x00y"},
    )
    assert stored("topics") == {
        "topics": ["carers"],
        "work_mode": None,
        "topics_other": None,  # "Other" was not ticked
        UNCHECKED: True,
    }
    leave(client, "/application/difference", "back", {"difference": "a\x07b\nc\td"})
    assert stored("difference") == {"difference": "ab\nc\td", UNCHECKED: True}


def test_back_from_the_first_page_makes_the_draft_with_what_was_typed(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    url = "/application/organisation"
    assert leave(client, url, "back", {"organisation_name": "Gofal Cymru"}).endswith("/application")
    assert db.session.scalar(select(func.count(Application.id))) == 1
    page = client.get_page(url)
    check_hygiene(page)
    assert page.select_one("#organisation_name")["value"] == "Gofal Cymru"


def test_leaving_a_page_with_nothing_typed_makes_and_changes_nothing(
    client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    leave(client, "/application/organisation", "back", {})
    assert db.session.scalar(select(func.count(Application.id))) == 0
    fill_pages(client, ["organisation"])
    leave(client, "/application/leadership", "application", {})
    assert stored("leadership") is None  # not started, so still "Not started"


@pytest.mark.parametrize("go", ["back", "application", "later"])
def test_leaving_without_a_valid_csrf_token_keeps_the_page_and_saves_nothing(
    client: Client, open_round: Round, go: str
) -> None:
    started(client)
    url = "/application/difference"
    response = client.client.post(url, data={"difference": "Typed words", "go": go})
    assert response.status_code == 200
    page = BeautifulSoup(response.data, "html.parser")
    assert page.select_one("#difference").get_text() == "Typed words"
    assert stored("difference") is None
