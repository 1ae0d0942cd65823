"""Who may see what: a reviewer sees only applications assigned to them and not conflicted, and
only their own review; staff pages are for staff; anonymous people are sent to sign in."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Conflict, Review
from tests.app.helpers import Client
from tests.app.panel.conftest import all_scores, assign_to, review

STAFF_PAGES = [
    "/staff/rounds/{round}/assignment",
    "/staff/rounds/{round}/moderation",
    "/staff/applications/{app}/reviewers",
    "/staff/applications/{app}/moderation",
]
PANEL_PAGES = ["/panel/applications/{app}/review", "/panel/applications/{app}/conflict"]


def _urls(templates: list[str], round_id: int, app_id: int) -> list[str]:
    return [t.format(round=round_id, app=app_id) for t in templates]


def test_anonymous_people_are_sent_to_sign_in(client: Client, round_, eligible) -> None:
    application = eligible()
    for url in ["/panel/", *_urls(STAFF_PAGES + PANEL_PAGES, round_.id, application.id)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/sign-in"), url


def test_reviewers_cannot_open_staff_pages(round_, eligible, reviewer, client_for) -> None:
    application = eligible()
    member = reviewer()
    assign_to(application, member)
    browser = client_for(member)
    for url in _urls(STAFF_PAGES, round_.id, application.id):
        assert browser.get(url).status_code == 403, url
    for url in [
        f"/staff/rounds/{round_.id}/assignment/auto",
        f"/staff/rounds/{round_.id}/reviewing",
        f"/staff/applications/{application.id}/reviewers/{member.id}/remove",
    ]:
        token = browser.hidden_fields(f"/panel/applications/{application.id}/review")
        assert browser.client.post(url, data=token).status_code == 403, url


def test_staff_do_not_use_the_reviewers_form(round_, eligible, make_user, client_for) -> None:
    application = eligible()
    for role in ("staff", "admin"):
        browser = client_for(make_user(role))
        for url in _urls(PANEL_PAGES, round_.id, application.id):
            assert browser.get(url).status_code == 403, url
        for url in _urls(STAFF_PAGES, round_.id, application.id):
            browser.get_page(url)


def test_a_reviewer_sees_only_applications_assigned_to_them(
    round_, eligible, reviewer, client_for
) -> None:
    mine = eligible(name="Mine Carers Group")
    theirs = eligible(name="Theirs Carers Group")
    member, other = reviewer(), reviewer()
    assign_to(mine, member)
    assign_to(theirs, other)
    browser = client_for(member)

    listing = browser.get_page("/panel/")
    text = listing.select_one("main").get_text(" ")
    assert "Mine Carers Group" in text and "Theirs Carers Group" not in text
    assert "Not started" in listing.select_one("main table").get_text()
    browser.get_page(f"/panel/applications/{mine.id}/review")
    # Guessing another application's id, or one that does not exist, shows nothing.
    for application_id in (theirs.id, theirs.id + 1000):
        for url in _urls(PANEL_PAGES, round_.id, application_id):
            browser.get_page(url, status=404)


def test_a_reviewer_never_sees_another_reviewers_review(
    round_, eligible, reviewer, client_for
) -> None:
    application = eligible()
    first, second = reviewer(name="First Reviewer"), reviewer(name="Second Reviewer")
    assign_to(application, first, second)
    review(application, first, all_scores(5), comment="A secret opinion about this group")

    page = client_for(second).get_page(f"/panel/applications/{application.id}/review")
    assert "A secret opinion" not in page.get_text()
    assert not page.select("input[type=radio][checked]"), "the form starts empty"


def test_a_conflicted_application_is_hidden_from_its_reviewer(
    app: Flask, round_, eligible, reviewer, client_for
) -> None:
    application = eligible(name="Close Friends Trust")
    member = reviewer()
    assign_to(application, member)
    db.session.add(Conflict(application_id=application.id, reviewer_id=member.id, note="Trustee"))
    db.session.commit()
    browser = client_for(member)

    assert "Close Friends Trust" not in browser.get_page("/panel/").get_text()
    for url in _urls(PANEL_PAGES, round_.id, application.id):
        browser.get_page(url, status=404)
    token = browser.get_page("/panel/").select_one("input[name=csrf_token]")["value"]
    for url in _urls(PANEL_PAGES, round_.id, application.id):
        response = browser.client.post(
            url,
            data={"csrf_token": token, "difference_score": "3", "note": "x", "action": "draft"},
        )
        assert response.status_code == 404, url
    assert db.session.scalars(select(Review)).all() == []
    assert len(db.session.scalars(select(Conflict)).all()) == 1


@pytest.mark.parametrize("status", ["draft"])
def test_an_unsent_application_is_never_shown(round_, reviewer, client_for, status) -> None:
    from tests.app.panel.conftest import quick_application

    application = quick_application(round_, status=status)
    member = reviewer()
    assign_to(application, member)
    client_for(member).get_page(f"/panel/applications/{application.id}/review", status=404)
