"""People and applications for the staff, panel and admin browser tests: the test world's pool
(tests/app/world.py, the one the selection-run tests score) with the browser walks' own people,
assignments and two applications at earlier steps."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.models import User, utcnow
from app.staff.assignment.services import assign
from tests.app.conftest import PASSWORD
from tests.app.factories import submitted_application
from tests.app.world import add_review, build_pool, make_person


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    password: str = PASSWORD


@dataclass(frozen=True)
class Workspace:
    round_id: int
    round_title: str
    staff: Person
    admin: Person
    reviewer: Person
    to_review: str  # reference of the application the reviewer scores
    to_decline: str  # reference of the one they declare a conflict with
    unscreened: str  # reference of an application waiting for screening
    too_few_reviews: str  # reference of an application in the moderation queue
    welsh: int  # how many sent applications say Wales


def _person(user: User) -> Person:
    return Person(user.email, user.name)


def seed_workspace() -> Workspace:
    """Call inside an app context on an empty, migrated database."""
    pool = build_pool()
    round_ = pool.round
    staff = make_person("staff", "Sam Staff")
    admin = make_person("admin", "Ada Admin")
    reviewer = make_person("reviewer", "Rhian Reviewer", nation="wales")
    now = utcnow()
    to_review, to_decline = pool.by_name("England One"), pool.by_name("England Two")
    for application in (to_review, to_decline):
        assign(db.session, application, reviewer, staff, now)

    unscreened = submitted_application(
        round_,
        organisation={"organisation_name": "Caerphilly Carers Hub"},
        location={"nation": "wales"},
    )
    # Eligible with one review of the two required: it waits in the moderation queue.
    too_few = submitted_application(
        round_,
        organisation={"organisation_name": "Shetland Carers Link"},
        location={"nation": "scotland", "area_type": "remote"},
    )
    too_few.screening = "eligible"
    add_review(too_few, pool.reviewers[0], [4, 2, 4, 4])
    db.session.commit()
    applications = [*pool.applications, unscreened, too_few]
    return Workspace(
        round_id=round_.id,
        round_title=round_.title,
        staff=_person(staff),
        admin=_person(admin),
        reviewer=_person(reviewer),
        to_review=str(to_review.reference),
        to_decline=str(to_decline.reference),
        unscreened=str(unscreened.reference),
        too_few_reviews=str(too_few.reference),
        welsh=sum(1 for a in applications if a.nation == "wales"),
    )
