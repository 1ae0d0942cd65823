"""Moderation: staff see applications with too few submitted reviews or with disagreement, and
record moderated scores with a required reason; the reviews stay on record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApplicationEvent, Moderation, Review
from tests.app.helpers import errors_of
from tests.app.panel.conftest import all_scores, assign_to, post, review


@pytest.fixture
def panel(reviewer):
    return [reviewer(name=f"Reviewer {n}") for n in "ABC"]


def _queue(browser, round_) -> dict[str, list[str]]:
    """The moderation list as a person reads it: reference -> the row's cells."""
    page = browser.get_page(f"/staff/rounds/{round_.id}/moderation")
    table = page.select_one("main table")
    if table is None:
        return {}
    return {
        row.select("td")[0].get_text(strip=True): [
            td.get_text(" ", strip=True) for td in row.select("td")[1:]
        ]
        for row in table.select("tbody tr")
    }


def test_the_list_flags_too_few_reviews_and_disagreement(
    round_, eligible, panel, make_user, client_for
) -> None:
    a, b, _c = panel
    none_yet = eligible(name="No Reviews Yet")
    one_and_a_draft = eligible(name="One Submitted")
    agreeing = eligible(name="Agreeing Reviews")
    apart = eligible(name="Two Apart")
    close = eligible(name="One Apart")
    for application in (one_and_a_draft, agreeing, apart, close):
        assign_to(application, a, b)
    review(one_and_a_draft, a, all_scores(4))
    review(one_and_a_draft, b, all_scores(1), submit=False)  # a draft does not count
    review(agreeing, a, all_scores(4))
    review(agreeing, b, all_scores(4))
    review(apart, a, {**all_scores(3), "resources": 2})
    review(apart, b, {**all_scores(3), "resources": 4})
    review(close, a, {**all_scores(3), "evidence": 2})
    review(close, b, {**all_scores(3), "evidence": 3})

    queue = _queue(client_for(make_user("staff")), round_)

    assert set(queue) == {none_yet.reference, one_and_a_draft.reference, apart.reference}
    assert "0 of 2" in queue[none_yet.reference][1] and "Too few" in queue[none_yet.reference][1]
    assert "1 of 2" in queue[one_and_a_draft.reference][1]
    assert "Too few" not in queue[apart.reference][1]
    assert queue[apart.reference][2] == "Makes good use of scarce resources"
    assert queue[none_yet.reference][2] == "None"


def test_disagreement_counts_the_widest_gap_among_three_reviews(
    round_, eligible, panel, make_user, client_for
) -> None:
    application = eligible()
    assign_to(application, *panel)
    for member, score in zip(panel, (3, 4, 5), strict=True):
        review(application, member, {**all_scores(3), "difference": score})
    queue = _queue(client_for(make_user("staff")), round_)
    assert queue[application.reference][2] == "Makes a real difference"


def test_staff_record_a_moderated_score_with_a_reason(
    round_, eligible, panel, make_user, client_for
) -> None:
    a, b, _c = panel
    application = eligible()
    assign_to(application, a, b)
    review(application, a, {**all_scores(3), "resources": 1}, comment="Too costly")
    review(application, b, {**all_scores(3), "resources": 5}, comment="Good value")
    staff = make_user("staff", name="Mo Derator")
    browser = client_for(staff)
    url = f"/staff/applications/{application.id}/moderation"

    page = browser.get_page(url)
    text = page.select_one("main").get_text(" ")
    assert "Too costly" in text and "Good value" in text  # both reviews shown
    assert "disagree" in page.select_one(".notice").get_text()

    response = browser.submit(
        url, {"criterion": "resources", "score": "3.5", "reason": "Panel agreed a middle view"}
    )
    assert response.headers["Location"] == url
    moderation = db.session.scalars(select(Moderation)).one()
    assert (moderation.criterion, moderation.score, moderation.reason, moderation.user_id) == (
        "resources",
        3.5,
        "Panel agreed a middle view",
        staff.id,
    )
    # The reviews stay as they were.
    reviews = db.session.scalars(select(Review)).all()
    assert sorted(
        next(s.score for s in r.scores if s.criterion == "resources") for r in reviews
    ) == [1, 5]
    assert db.session.scalars(
        select(ApplicationEvent.kind).where(ApplicationEvent.kind == "moderated")
    ).all() == ["moderated"]

    # A second moderation is added beside the first, and both are shown.
    browser.submit(url, {"criterion": "resources", "score": "4", "reason": "After a second look"})
    page = browser.get_page(url)
    rows = [r.get_text(" ", strip=True) for r in page.select("main table tbody tr")]
    assert len(rows) == 2
    assert "3.5" in rows[0] and "Panel agreed a middle view" in rows[0] and "Mo Derator" in rows[0]
    assert "After a second look" in rows[1]
    assert "Too costly" in page.get_text()
    queue = _queue(browser, round_)
    assert queue[application.reference][3] == "Makes good use of scarce resources"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"criterion": "resources", "score": "3", "reason": ""}, "Enter the reason"),
        ({"criterion": "resources", "score": "3", "reason": "   "}, "Enter the reason"),
        ({"criterion": "", "score": "3", "reason": "Why"}, "Select the criterion"),
        ({"criterion": "charm", "score": "3", "reason": "Why"}, "Select a criterion from the list"),
        ({"criterion": "evidence", "score": "", "reason": "Why"}, "Enter the moderated score"),
        ({"criterion": "evidence", "score": "high", "reason": "Why"}, "as a number from 1 to 5"),
        ({"criterion": "evidence", "score": "5.5", "reason": "Why"}, "from 1 to 5"),
        ({"criterion": "evidence", "score": "0.5", "reason": "Why"}, "from 1 to 5"),
        ({"criterion": "evidence", "score": "NaN", "reason": "Why"}, "from 1 to 5"),
        ({"criterion": "evidence", "score": "3.333", "reason": "Why"}, "2 decimal places"),
    ],
)
def test_a_moderated_score_needs_a_criterion_a_score_from_1_to_5_and_a_reason(
    round_, eligible, make_user, client_for, data, message
) -> None:
    application = eligible()
    browser = client_for(make_user("staff"))
    url = f"/staff/applications/{application.id}/moderation"
    page = browser.submit_page(url, data)
    assert page.select_one("title").get_text().startswith("Error:")
    assert message in errors_of(page)
    assert page.select_one("#score")["value"] == data["score"].strip()
    assert db.session.scalars(select(Moderation)).all() == []


def test_staff_close_and_reopen_reviewing(
    round_, eligible, reviewer, make_user, client_for
) -> None:
    application = eligible()
    member = reviewer()
    assign_to(application, member)
    staff = client_for(make_user("staff"))
    overview = f"/staff/rounds/{round_.id}/assignment"
    post(staff, overview, f"/staff/rounds/{round_.id}/reviewing", {"action": "close"})
    db.session.refresh(round_)
    assert round_.reviewing_closed_at is not None
    assert "Reopen reviewing" in staff.get_page(overview).select_one("main").get_text()

    browser = client_for(member)
    review_url = f"/panel/applications/{application.id}/review"
    assert "Reviewing has closed" in browser.get_page(review_url).get_text()

    post(staff, overview, f"/staff/rounds/{round_.id}/reviewing", {"action": "reopen"})
    db.session.refresh(round_)
    assert round_.reviewing_closed_at is None
    browser.submit(review_url, {"difference_score": "3", "action": "draft"})
    assert db.session.scalars(select(Review)).one().status == "draft"
