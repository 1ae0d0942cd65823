"""The round's own rubric: staff change its words before reviewing starts, applicants and
reviewers read the same words, and once a review is submitted the words are frozen."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from flask import Flask

from app.applications.rubric import RUBRIC, rubric
from app.extensions import db
from app.models import Review, ReviewScore, Round, User
from tests.app.apply.journey import fill_pages, pass_eligibility
from tests.app.factories import submitted_application
from tests.app.helpers import Client, errors_of, press


def url(round_: Round) -> str:
    return f"/staff/rounds/{round_.id}/rubric"


def posted(round_: Round, **changes: str) -> dict[str, str]:
    data = {}
    for c in rubric(round_):
        data[f"{c.id}_looks_for"] = c.looks_for
        for level in c.levels:
            data[f"{c.id}_level_{level.score}"] = level.descriptor
    data.update(changes)
    return data


def test_the_default_rubric_is_fair_to_first_timers_and_small_groups() -> None:
    by_id = {c.id: c for c in RUBRIC}
    evidence = by_id["evidence"]
    # Evidence of need, lived experience or learning from others counts as much as past delivery.
    for words in ("lived experience", "learning from others", "past delivery"):
        assert words in evidence.levels[3].descriptor  # "Good" (4) names each as enough
    assert "and of past delivery" not in " ".join(level.descriptor for level in evidence.levels)
    resources = by_id["resources"]
    assert "in proportion to the organisation's size" in resources.levels[3].descriptor
    assert "match funding" in resources.looks_for and "do not need" in resources.looks_for


def test_staff_change_the_words_and_applicants_read_them(
    app: Flask, round_: Round, staff_client: Client
) -> None:
    wanted = "What you would change for carers in your town, in your own words."
    response = press(
        staff_client, url(round_), url(round_), posted(round_, difference_looks_for=wanted)
    )
    assert response.status_code == 302
    db.session.refresh(round_)
    assert {c.id: c for c in rubric(round_)}["difference"].looks_for == wanted
    applicant = Client(app.test_client())
    pass_eligibility(applicant)
    fill_pages(applicant, ["organisation"])
    page = applicant.get_page("/application/difference")
    assert f"What we look for: {wanted}" in page.get_text(" ", strip=True)
    paper = applicant.get_page("/paper-form")
    assert wanted in paper.get_text(" ", strip=True)


def test_a_blank_description_is_refused_and_what_was_typed_stays(
    round_: Round, staff_client: Client
) -> None:
    typed = "Kept words for inequalities."
    response = press(
        staff_client,
        url(round_),
        url(round_),
        posted(round_, evidence_level_3="", inequalities_looks_for=typed),
    )
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "Enter the description of 3 for “Has enough evidence”" in errors_of(page)
    assert page.select_one("#inequalities_looks_for").get_text().strip() == typed


def test_once_a_review_is_submitted_the_rubric_is_frozen(
    round_: Round, staff_client: Client, make_user: Any
) -> None:
    before = staff_client.get_page(url(round_))
    application = submitted_application(round_)
    reviewer: User = make_user("reviewer", email="r@example.org")
    review = Review(application_id=application.id, reviewer_id=reviewer.id, status="submitted")
    review.scores = [ReviewScore(criterion=c.id, score=3, comment="") for c in RUBRIC]
    db.session.add(review)
    db.session.commit()

    page = staff_client.get_page(url(round_))
    assert "can no longer change" in page.select_one("#rubric-frozen").get_text()
    assert page.select_one("textarea") is None
    # A form opened before the review was submitted cannot change it either.
    form = before.select_one(f"form[action='{url(round_)}']")
    body = {t["name"]: t.get("value", "") for t in form.select("input[type=hidden]")}
    body.update(posted(round_, difference_looks_for="Changed too late."))
    response = staff_client.client.post(url(round_), data=body)
    assert response.status_code == 302
    db.session.refresh(round_)
    assert "Changed too late." not in str(round_.settings)
