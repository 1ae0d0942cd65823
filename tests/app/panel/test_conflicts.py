"""Conflicts of interest: declared by a reviewer with a note, then hidden from them and flagged
for staff to reassign."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ApplicationEvent, Assignment, Conflict
from tests.app.helpers import errors_of
from tests.app.panel.conftest import all_scores, assign_to, review


def test_declaring_a_conflict_needs_a_note(round_, eligible, reviewer, client_for) -> None:
    application = eligible()
    member = reviewer()
    assign_to(application, member)
    browser = client_for(member)
    page = browser.submit_page(f"/panel/applications/{application.id}/conflict", {"note": "  "})
    assert page.select_one("title").get_text().startswith("Error:")
    assert errors_of(page) == "Describe your conflict of interest"
    assert db.session.scalars(select(Conflict)).all() == []


def test_a_declared_conflict_hides_the_application_and_flags_it_for_staff(
    round_, eligible, reviewer, make_user, client_for
) -> None:
    application = eligible(name="Neighbours Care Co-op")
    member = reviewer(name="Rhys Conflicted")
    assign_to(application, member)
    browser = client_for(member)
    listing = browser.get_page("/panel/")
    link = listing.select_one(f'a[href="/panel/applications/{application.id}/conflict"]')
    assert link is not None, "the list offers to declare a conflict before opening"

    response = browser.submit(
        f"/panel/applications/{application.id}/conflict", {"note": "My sister runs it"}
    )
    assert response.headers["Location"] == "/panel/"
    listing = browser.get_page("/panel/")
    assert "Neighbours Care Co-op" not in listing.select_one("main").get_text()
    browser.get_page(f"/panel/applications/{application.id}/review", status=404)

    conflict = db.session.scalars(select(Conflict)).one()
    assert (conflict.application_id, conflict.reviewer_id, conflict.note) == (
        application.id,
        member.id,
        "My sister runs it",
    )
    assert conflict.resolved_at is None
    event = db.session.scalars(
        select(ApplicationEvent).where(ApplicationEvent.kind == "conflict_declared")
    ).one()
    assert event.user_id == member.id and "sister" not in event.detail

    staff = client_for(make_user("staff"))
    overview = staff.get_page(f"/staff/rounds/{round_.id}/assignment")
    conflicts = overview.select("main table")[1].get_text(" ")
    assert "Rhys Conflicted" in conflicts and "My sister runs it" in conflicts
    assert "Needs a new reviewer" in conflicts
    # The application now lacks reviewers, so it is listed as needing them.
    under = overview.select("main table")[0].get_text(" ")
    assert application.reference in under


def test_a_conflict_cannot_be_declared_after_submitting(
    round_, eligible, reviewer, client_for
) -> None:
    application = eligible()
    member = reviewer()
    assign_to(application, member)
    review(application, member, all_scores(4))
    browser = client_for(member)
    page = browser.submit_page(
        f"/panel/applications/{application.id}/conflict", {"note": "I know them"}
    )
    assert "already submitted" in errors_of(page)
    assert db.session.scalars(select(Conflict)).all() == []
    assert db.session.scalars(select(Assignment)).one().reviewer_id == member.id
