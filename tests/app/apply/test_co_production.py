"""Issue 22 point 4: a way in for services without co-production experience. The co-production
question has a third answer, "Not yet, but we want to", that goes on with a note of the support
offered (a round text staff can change)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Application, Round
from app.rounds import DEFAULT_SETTINGS
from tests.app.apply.journey import ELIGIBILITY_IDS, fill_pages
from tests.app.helpers import Client

QUESTION = "/eligibility/co_production"


def answer_up_to_co_production(client: Client) -> None:
    for question_id in ELIGIBILITY_IDS[: ELIGIBILITY_IDS.index("co_production")]:
        client.submit(f"/eligibility/{question_id}", {"answer": "yes"})


def labels(client: Client, url: str) -> list[str]:
    page = client.get_page(url)
    return [label.get_text(strip=True) for label in page.select(".radios__label")]


def test_co_production_offers_not_yet_and_the_others_stay_yes_or_no(
    client: Client, open_round: Round
) -> None:
    assert labels(client, QUESTION) == ["Yes", "Not yet, but we want to", "No"]
    assert labels(client, "/eligibility/uk_based") == ["Yes", "No"]


def test_not_yet_goes_on_with_the_support_offered_and_reaches_the_application(
    client: Client, open_round: Round
) -> None:
    answer_up_to_co_production(client)
    response = client.submit(QUESTION, {"answer": "not-yet"})
    support_url = response.headers["Location"]
    assert support_url.endswith("/eligibility/co_production/support")
    page = client.get_page(support_url)
    assert page.select_one("h1").get_text(strip=True) == "We can help you start"
    default = DEFAULT_SETTINGS["texts"]["co_production_support"]
    assert page.select_one("#support").get_text(strip=True) == default
    assert "Error" not in page.select_one("title").get_text()
    go_on = page.select_one("main a.button")
    assert go_on["href"] == "/eligibility/share_learning"

    client.submit("/eligibility/share_learning", {"answer": "yes"})
    assert client.get_page("/application").select_one("h1").get_text(strip=True) == (
        "Your expression of interest"
    )
    fill_pages(client, ["organisation"])
    draft = db.session.scalars(select(Application)).one()
    assert draft.eligibility["co_production"] == "not-yet"


def test_the_support_note_is_the_rounds_own_text(client: Client, open_round: Round) -> None:
    settings = dict(open_round.settings)
    settings["texts"] = {**settings["texts"], "co_production_support": "A mentor, and £500."}
    open_round.settings = settings
    db.session.commit()
    page = client.get_page("/eligibility/co_production/support")
    assert page.select_one("#support").get_text(strip=True) == "A mentor, and £500."
    # And on the paper form, beside the question.
    paper = client.get_page("/paper-form").select_one("main").get_text(" ", strip=True)
    assert "Not yet, but we want to" in paper
    assert "A mentor, and £500." in paper


def test_no_still_stops_and_only_co_production_has_a_support_page(
    client: Client, app: Flask, open_round: Round
) -> None:
    answer_up_to_co_production(client)
    response = client.submit(QUESTION, {"answer": "no"})
    assert response.headers["Location"].endswith("/eligibility/co_production/not-suitable")
    client.get_page("/eligibility/uk_based/support", status=404)
    client.get_page("/eligibility/nonsense/support", status=404)
