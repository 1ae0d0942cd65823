"""Reviewer assignment: manual and automatic (balanced, conflict-free, nation-aware, idempotent)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Application, ApplicationEvent, Assignment, Conflict, User, utcnow
from app.staff.assignment.services import auto_assign
from tests.app.helpers import errors_of
from tests.app.panel.conftest import all_scores, assign_to, parse, post, quick_application, review


def _pairs() -> set[tuple[int, int]]:
    db.session.expire_all()
    return {(a.application_id, a.reviewer_id) for a in db.session.scalars(select(Assignment))}


def _run(round_, staff: User, n: int, prefer: bool = False):
    result = auto_assign(db.session, round_, n, prefer_other_nation=prefer, by=staff, now=utcnow())
    db.session.commit()
    return result


@pytest.fixture
def staff(make_user) -> User:
    return make_user("staff")


def test_each_eligible_application_gets_n_distinct_reviewers_with_balanced_loads(
    round_, reviewer, staff
) -> None:
    applications = [quick_application(round_) for _ in range(7)]
    others = [
        quick_application(round_, screening="unscreened"),
        quick_application(round_, screening="ineligible"),
        quick_application(round_, status="draft"),
    ]
    db.session.commit()
    reviewers = [reviewer() for _ in range(5)]
    staff_member = staff

    result = _run(round_, staff_member, 2)

    pairs = _pairs()
    assert result.added == 14 and result.short == []
    per_application = Counter(a for a, _ in pairs)
    assert {a.id: per_application[a.id] for a in applications} == {a.id: 2 for a in applications}
    assert all(per_application[o.id] == 0 for o in others)
    loads = Counter(r for _, r in pairs)
    assert set(loads) == {r.id for r in reviewers}
    assert max(loads.values()) - min(loads.values()) <= 1
    # Every assignment is on the application's history.
    events = db.session.scalars(
        select(ApplicationEvent).where(ApplicationEvent.kind == "reviewer_assigned")
    ).all()
    assert len(events) == 14 and all(e.user_id == staff_member.id for e in events)


def test_running_again_adds_nothing_and_a_higher_n_only_tops_up(round_, reviewer, staff) -> None:
    for _ in range(4):
        quick_application(round_)
    db.session.commit()
    for _ in range(4):
        reviewer()
    _run(round_, staff, 2)
    first = _pairs()

    assert _run(round_, staff, 2).added == 0
    assert _pairs() == first

    result = _run(round_, staff, 3)
    assert result.added == 4
    after = _pairs()
    assert first < after
    assert Counter(a for a, _ in after) == Counter({a: 3 for a, _ in first})


def test_auto_assignment_never_uses_a_conflicted_reviewer(round_, reviewer, staff) -> None:
    applications = [quick_application(round_) for _ in range(3)]
    db.session.commit()
    reviewers = [reviewer() for _ in range(3)]
    conflicted = {(applications[0].id, reviewers[0].id), (applications[1].id, reviewers[1].id)}
    for application_id, reviewer_id in conflicted:
        db.session.add(Conflict(application_id=application_id, reviewer_id=reviewer_id))
    db.session.commit()

    _run(round_, staff, 2)

    pairs = _pairs()
    assert not pairs & conflicted
    assert Counter(a for a, _ in pairs) == Counter({a.id: 2 for a in applications})


def test_a_conflicted_assignment_is_topped_up_by_another_reviewer(round_, reviewer, staff) -> None:
    application = quick_application(round_)
    db.session.commit()
    first, second, third = reviewer(), reviewer(), reviewer()
    assign_to(application, first, second)
    conflict = Conflict(application_id=application.id, reviewer_id=first.id, note="Trustee")
    db.session.add(conflict)
    db.session.commit()

    result = _run(round_, staff, 2)

    assert result.added == 1
    assert _pairs() == {
        (application.id, first.id),  # kept on record, but it no longer counts
        (application.id, second.id),
        (application.id, third.id),
    }
    db.session.refresh(conflict)
    assert conflict.resolved_at is not None


def test_too_few_reviewers_are_reported_not_invented(round_, reviewer, staff) -> None:
    application = quick_application(round_)
    db.session.commit()
    only = reviewer()
    result = _run(round_, staff, 2)
    assert result.added == 1 and [a.id for a in result.short] == [application.id]
    assert _pairs() == {(application.id, only.id)}


def test_other_nations_are_preferred_when_asked(round_, reviewer, staff) -> None:
    welsh_applications = [quick_application(round_, nation="wales") for _ in range(4)]
    db.session.commit()
    welsh = {reviewer(nation="wales").id for _ in range(2)}
    others = {reviewer(nation="england").id, reviewer(nation="scotland").id}
    others.add(reviewer(nation=None).id)

    _run(round_, staff, 2, prefer=True)

    pairs = _pairs()
    assert len(pairs) == 8
    assert all(r not in welsh for _, r in pairs), "enough reviewers from elsewhere exist"
    assert {a for a, _ in pairs} == {a.id for a in welsh_applications}


def test_without_the_preference_loads_decide(round_, reviewer, staff) -> None:
    for _ in range(4):
        quick_application(round_, nation="wales")
    db.session.commit()
    welsh = {reviewer(nation="wales").id for _ in range(2)}
    for nation in ("england", "scotland", None):
        reviewer(nation=nation)

    _run(round_, staff, 2, prefer=False)

    assert any(r in welsh for _, r in _pairs())


def test_the_preference_gives_way_when_too_few_reviewers_are_from_elsewhere(
    round_, reviewer, staff
) -> None:
    applications = [quick_application(round_, nation="wales") for _ in range(3)]
    db.session.commit()
    english = reviewer(nation="england")
    welsh = [reviewer(nation="wales") for _ in range(2)]

    _run(round_, staff, 2, prefer=True)

    pairs = _pairs()
    for application in applications:
        mine = {r for a, r in pairs if a == application.id}
        assert len(mine) == 2 and english.id in mine
    assert {r for _, r in pairs} >= {w.id for w in welsh} | {english.id}


def test_the_database_refuses_a_duplicate_assignment(round_, reviewer) -> None:
    application = quick_application(round_)
    member = reviewer()
    assign_to(application, member)
    db.session.add(Assignment(application_id=application.id, reviewer_id=member.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# Through the staff pages ------------------------------------------------------------------------


def test_staff_run_auto_assignment_from_the_page(round_, reviewer, make_user, client_for) -> None:
    applications = [quick_application(round_, nation="wales") for _ in range(3)]
    db.session.commit()
    welsh = reviewer(nation="wales", name="Welsh Reviewer")
    for nation in ("england", "scotland"):
        reviewer(nation=nation, name=f"Reviewer in {nation}")
    browser = client_for(make_user("staff"))
    url = f"/staff/rounds/{round_.id}/assignment"
    page = browser.get_page(url)
    assert page.select_one("#per_application")["value"] == "2"  # the round's setting
    assert len(page.select("main table")[0].select("tbody tr")) == 3  # all need reviewers

    response = post(
        browser, url, f"{url}/auto", {"per_application": "2", "prefer_other_nation": "yes"}
    )
    assert response.headers["Location"] == url
    pairs = _pairs()
    assert len(pairs) == 6 and all(r != welsh.id for _, r in pairs)
    page = browser.get_page(url)
    assert "6 assignments added." in page.select_one(".notice").get_text()
    assert "have at least 2 reviewers" in page.select_one("main").get_text()
    loads = {
        row.select("td")[0].get_text(strip=True): row.select("td")[2].get_text(strip=True)
        for row in page.select("main table")[-1].select("tbody tr")
    }
    assert loads["Welsh Reviewer"] == "0"
    assert sorted(loads.values()) == ["0", "3", "3"]
    assert {a.id for a in applications} == {a for a, _ in pairs}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter how many reviewers each application needs"),
        ("two", "Enter how many reviewers each application needs, as a number like 2"),
        ("0", "Enter a number from 1 to 10"),
    ],
)
def test_auto_assignment_form_errors(round_, make_user, client_for, value, message) -> None:
    browser = client_for(make_user("staff"))
    url = f"/staff/rounds/{round_.id}/assignment"
    page = parse(
        post(
            browser,
            url,
            f"{url}/auto",
            {"per_application": value, "prefer_other_nation": "yes"},
            status=200,
        )
    )
    assert page.select_one("title").get_text().startswith("Error:")
    assert errors_of(page) == message
    assert page.select_one("#per_application")["value"] == value
    assert page.select_one("input[name=prefer_other_nation]").has_attr("checked")
    assert _pairs() == set()


def test_staff_assign_and_unassign_a_reviewer_by_hand(
    round_, eligible, reviewer, make_user, client_for
) -> None:
    application = eligible()
    free = reviewer(name="Free Reviewer")
    conflicted = reviewer(name="Conflicted Reviewer")
    db.session.add(Conflict(application_id=application.id, reviewer_id=conflicted.id))
    db.session.commit()
    staff = make_user("staff")
    browser = client_for(staff)
    url = f"/staff/applications/{application.id}/reviewers"

    page = browser.get_page(url)
    offered = [label.get_text(strip=True) for label in page.select("form .radios__label")]
    assert any("Free Reviewer" in o for o in offered)
    assert not any("Conflicted Reviewer" in o for o in offered)

    # Posting the conflicted reviewer's id anyway is refused.
    page = browser.submit_page(url, {"reviewer": str(conflicted.id)})
    assert errors_of(page) == "Select a reviewer from the list"
    page = browser.submit_page(url, {})
    assert errors_of(page) == "Select a reviewer"
    assert _pairs() == set()

    browser.submit(url, {"reviewer": str(free.id)})
    assert _pairs() == {(application.id, free.id)}
    assert db.session.scalars(select(Assignment)).one().assigned_by_id == staff.id

    post(browser, url, f"{url}/{free.id}/remove", {})
    assert _pairs() == set()
    kinds = db.session.scalars(select(ApplicationEvent.kind).order_by(ApplicationEvent.id)).all()
    assert kinds == ["reviewer_assigned", "reviewer_unassigned"]


def test_the_assign_service_refuses_a_conflicted_reviewer(round_, reviewer, staff) -> None:
    from app.staff.assignment.services import AssignmentError, assign

    application = quick_application(round_)
    member = reviewer()
    db.session.add(Conflict(application_id=application.id, reviewer_id=member.id))
    db.session.commit()
    with pytest.raises(AssignmentError, match="conflict"):
        assign(db.session, application, member, staff, utcnow())


def test_a_reviewer_who_submitted_stays_assigned(
    round_, eligible, reviewer, make_user, client_for
) -> None:
    application = eligible()
    member = reviewer()
    assign_to(application, member)
    review(application, member, all_scores(4))
    browser = client_for(make_user("admin"))
    url = f"/staff/applications/{application.id}/reviewers"
    assert not browser.get_page(url).select(f'form[action="{url}/{member.id}/remove"]')
    post(browser, url, f"{url}/{member.id}/remove", {})
    assert _pairs() == {(application.id, member.id)}
    assert "submitted a review" in browser.get_page(url).select_one(".notice").get_text()


def test_unused_application_helper_is_a_submitted_row(round_) -> None:
    application = quick_application(round_)
    assert isinstance(application, Application) and application.status == "submitted"
