"""The eligibility check ("check a service is suitable"): every "no" explains why and what else
the organisation can do; all "yes" leads to the application; the answers go with the draft."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, Round
from tests.app.apply.journey import ELIGIBILITY_IDS, VALID, pass_eligibility
from tests.app.helpers import Client

# What each "no" must explain, in the words of issue 2's eligibility questions.
REASONS = {
    "uk_based": "england, scotland, wales or northern ireland",
    "adult_social_care": "adult social care",
    "co_production": "co-produc",
    "share_learning": "shar",
}


def answer_yes_until(client: Client, question_id: str) -> None:
    for earlier in ELIGIBILITY_IDS[: ELIGIBILITY_IDS.index(question_id)]:
        client.submit(f"/eligibility/{earlier}", {"answer": "yes"})


@pytest.mark.parametrize("question_id", ELIGIBILITY_IDS)
def test_no_leads_to_a_page_that_explains_why_and_what_else_to_do(
    client: Client, app: Flask, open_round: Round, question_id: str
) -> None:
    answer_yes_until(client, question_id)
    response = client.submit(f"/eligibility/{question_id}", {"answer": "no"})
    assert response.headers["Location"].endswith(f"/eligibility/{question_id}/not-suitable")

    page = client.get_page(f"/eligibility/{question_id}/not-suitable")
    main = page.select_one("main")
    text = main.get_text(" ", strip=True)
    heading = main.select_one("h1")
    why = heading.get_text(" ", strip=True) + " " + heading.find_next("p").get_text(" ", strip=True)
    assert REASONS[question_id] in why.lower()
    assert "What you can do" in text
    assert app.config["CENTRE_PHONE"] in text  # talk it through by phone or email
    assert app.config["CENTRE_EMAIL"] in text
    # Not a dead end: a way back to change the answer, in the page and as the Back link.
    change = [a for a in main.select("a") if "change" in a.get_text().lower()]
    assert change and change[0]["href"] == f"/eligibility/{question_id}"
    assert page.select_one(".back-link")["href"] == f"/eligibility/{question_id}"


@pytest.mark.parametrize("question_id", ELIGIBILITY_IDS)
def test_after_a_no_the_application_cannot_be_started(
    client: Client, open_round: Round, question_id: str
) -> None:
    answer_yes_until(client, question_id)
    client.submit(f"/eligibility/{question_id}", {"answer": "no"})
    for later in ELIGIBILITY_IDS[ELIGIBILITY_IDS.index(question_id) + 1 :]:
        client.submit(f"/eligibility/{later}", {"answer": "yes"})
    for url in ("/application", "/application/organisation"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/eligibility/" in response.headers["Location"]
    response = client.client.post(
        "/application/organisation",
        data={**client.hidden_fields(f"/eligibility/{question_id}"), **VALID["organisation"]},
    )
    assert response.status_code == 302 and "/eligibility/" in response.headers["Location"]
    assert db.session.scalar(select(func.count(Application.id))) == 0


def test_changing_a_no_to_yes_carries_on(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    client.submit("/eligibility/co_production", {"answer": "no"})
    page = client.get_page("/eligibility/co_production/not-suitable")
    change = page.select_one("main a[href='/eligibility/co_production']")
    form = client.get_page(change["href"])
    assert form.select_one("input[name=answer][value=no]").has_attr("checked")
    response = client.submit("/eligibility/co_production", {"answer": "yes"})
    assert response.headers["Location"].endswith("/eligibility/share_learning")
    response = client.submit("/eligibility/share_learning", {"answer": "yes"})
    assert response.headers["Location"].endswith("/application")
    client.get_page("/application")


@pytest.mark.parametrize("question_id", ELIGIBILITY_IDS)
def test_no_answer_is_an_error(client: Client, open_round: Round, question_id: str) -> None:
    page = client.submit_page(f"/eligibility/{question_id}", {})
    assert page.select_one("title").get_text().startswith("Error:")
    [link] = page.select(".error-summary a")
    message = link.get_text(strip=True)
    assert message.startswith("Select yes if ")  # GOV.UK wording for a yes/no question
    assert link["href"] == "#answer-0"
    assert page.select_one("#answer-0")
    assert message in page.select_one("#answer-error").get_text()


def test_a_value_other_than_yes_or_no_is_an_error(client: Client, open_round: Round) -> None:
    page = client.submit_page("/eligibility/uk_based", {"answer": "maybe"})
    assert page.select_one("title").get_text().startswith("Error:")
    assert page.select(".error-summary a")
    assert not page.select("input[name=answer][checked]")


def test_all_yes_leads_to_the_task_list(client: Client, open_round: Round) -> None:
    for index, question_id in enumerate(ELIGIBILITY_IDS):
        response = client.submit(f"/eligibility/{question_id}", {"answer": "yes"})
        following = (
            f"/eligibility/{ELIGIBILITY_IDS[index + 1]}"
            if index + 1 < len(ELIGIBILITY_IDS)
            else "/application"
        )
        assert response.headers["Location"].endswith(following)
    page = client.get_page("/application")
    assert page.select(".task-list__item")


def test_eligibility_answers_are_stored_on_the_draft(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    client.submit("/application/organisation", VALID["organisation"])
    application = db.session.scalars(select(Application)).one()
    assert application.eligibility == dict.fromkeys(ELIGIBILITY_IDS, "yes")


def test_each_question_has_a_back_link(client: Client, open_round: Round) -> None:
    backs = [
        client.get_page(f"/eligibility/{question_id}").select_one(".back-link")["href"]
        for question_id in ELIGIBILITY_IDS
    ]
    assert backs == ["/", *(f"/eligibility/{q}" for q in ELIGIBILITY_IDS[:-1])]


def test_an_unknown_question_is_not_found(client: Client, open_round: Round) -> None:
    client.get_page("/eligibility/is_a_bank", status=404)
    client.get_page("/eligibility/is_a_bank/not-suitable", status=404)
