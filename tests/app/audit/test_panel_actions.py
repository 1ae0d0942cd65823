"""Reviewer assignment, conflicts of interest, reviews and moderation on the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Application, Assignment, Conflict, Moderation, Review, Round, User
from tests.app.audit.conftest import (
    COMMENT,
    MODERATION_REASON,
    NOTE,
    assert_event,
    last_id,
    new_events,
    one_event,
    post,
)
from tests.app.factories import submitted_application
from tests.app.helpers import Client
from tests.app.panel.conftest import all_scores, assign_to, review

CRITERIA = ("difference", "inequalities", "resources", "evidence")


def eligible(round_: Round) -> Application:
    application = submitted_application(round_)
    application.screening = "eligible"
    db.session.commit()
    return application


def test_assigning_and_removing_a_reviewer_by_hand(
    round_: Round, staff: User, panel_member: User, browser_for: Callable[[User], Client]
) -> None:
    application = eligible(round_)
    browser = browser_for(staff)
    url = f"/staff/applications/{application.id}/reviewers"

    since = last_id()
    browser.submit(url, {"reviewer": str(panel_member.id)})
    event = one_event(since, "assignment.added")
    assert_event(event, staff, "application", application.id, round_.id)
    assert event.detail == {
        "reviewer_id": panel_member.id,
        "method": "manual",
        "conflicts_resolved": 0,
    }

    since = last_id()
    response = post(browser, url, f"{url}/{panel_member.id}/remove")
    assert response.status_code == 302
    event = one_event(since, "assignment.removed")
    assert_event(event, staff, "application", application.id, round_.id)
    assert event.detail == {"reviewer_id": panel_member.id, "review_status": None}


def test_automatic_assignment_logs_each_assignment_it_adds(
    round_: Round, staff: User, make_user: Any, browser_for: Callable[[User], Client]
) -> None:
    applications = [eligible(round_), eligible(round_)]
    reviewers = [make_user("reviewer") for _ in range(3)]
    browser = browser_for(staff)
    url = f"/staff/rounds/{round_.id}/assignment"

    since = last_id()
    response = post(browser, url, f"{url}/auto", {"per_application": "2"})
    assert response.status_code == 302
    events = new_events(since)
    pairs = {(a.application_id, a.reviewer_id) for a in db.session.scalars(select(Assignment))}
    assert len(pairs) == 4
    assert {(e.record_id, e.detail["reviewer_id"]) for e in events} == pairs
    for event in events:
        assert event.action == "assignment.added" and event.detail["method"] == "automatic"
        assert_event(event, staff, "application", event.record_id, round_.id)
    assert {e.record_id for e in events} == {a.id for a in applications}
    assert {e.detail["reviewer_id"] for e in events} <= {r.id for r in reviewers}

    since = last_id()
    post(browser, url, f"{url}/auto", {"per_application": "2"})
    assert new_events(since) == []  # nothing more to add


def test_a_conflict_of_interest_is_logged_without_its_note(
    round_: Round, panel_member: User, browser_for: Callable[[User], Client]
) -> None:
    application = eligible(round_)
    assign_to(application, panel_member)
    since = last_id()
    browser_for(panel_member).submit(
        f"/panel/applications/{application.id}/conflict", {"note": NOTE}
    )
    conflict = db.session.scalars(select(Conflict)).one()
    event = one_event(since, "conflict.declared")
    assert_event(event, panel_member, "application", application.id, round_.id)
    assert event.actor_role == "reviewer"
    assert event.detail == {"conflict_id": conflict.id, "note_given": True, "review_status": None}


def test_a_draft_a_submission_and_a_later_change_of_a_review(
    round_: Round, panel_member: User, browser_for: Callable[[User], Client]
) -> None:
    application = eligible(round_)
    assign_to(application, panel_member)
    browser = browser_for(panel_member)
    url = f"/panel/applications/{application.id}/review"

    since = last_id()
    browser.submit(url, {"difference_score": "4", "difference_comment": COMMENT, "action": "draft"})
    saved = db.session.scalars(select(Review)).one()
    event = one_event(since, "review.draft_saved")
    assert_event(event, panel_member, "application", application.id, round_.id)
    assert event.detail == {"review_id": saved.id, "scores_given": 1}

    scores = {f"{c}_score": "3" for c in CRITERIA}
    since = last_id()
    browser.submit(url, {**scores, "overall_comment": COMMENT, "action": "submit"})
    event = one_event(since, "review.submitted")
    assert event.detail == {"review_id": saved.id, "scores_given": 4}

    since = last_id()
    browser.submit(url, {**scores, "evidence_score": "5", "action": "submit"})
    assert one_event(since, "review.changed").detail == {"review_id": saved.id, "scores_given": 4}


def test_a_moderated_score_is_logged_without_its_reason(
    round_: Round, staff: User, make_user: Any, browser_for: Callable[[User], Client]
) -> None:
    application = eligible(round_)
    first, second = make_user("reviewer"), make_user("reviewer")
    assign_to(application, first, second)
    review(application, first, {**all_scores(3), "resources": 1})
    review(application, second, {**all_scores(3), "resources": 5})
    url = f"/staff/applications/{application.id}/moderation"

    since = last_id()
    browser_for(staff).submit(
        url, {"criterion": "resources", "score": "3.5", "reason": MODERATION_REASON}
    )
    moderation = db.session.scalars(select(Moderation)).one()
    event = one_event(since, "moderation.recorded")
    assert_event(event, staff, "application", application.id, round_.id)
    assert event.detail == {"moderation_id": moderation.id, "criterion": "resources"}
