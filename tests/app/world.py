"""The one test world: a scored pool and everything people act on, built through the app's own
services, for the access matrix, the fuzz and route checks, the browser tests and the run tests.

Two layers, so a test builds only what it needs:

- `build_pool`: a round asking for five sites under nation quotas, with ten sent, eligible
  applications in three nations, each with two submitted reviews whose scores are in `POOL`
  (so tests compute expected means and picks from the table, not from the app).
- `build_world`: the pool plus the people and records every role acts on: staff, an admin, a
  reviewer with an assignment, a reviewer who declared a conflict, an applicant's started draft
  and a complete one, a staff-entered draft, a pending invitation, an unshared run, a shared run
  and a confirmed run with one selected site withdrawn. Its `World` holds plain ids and secrets,
  so `reuse_per_database` can build it once per SQLite file and copy it back for the next test.

Test modules keep only what is theirs (who signs in, which URLs, what to check).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from app.applications.confirmed_email import address_proof
from app.applications.reminders import opt_out_token
from app.applications.services import save_page, start_application
from app.auth.services import create_user, invite_user
from app.extensions import db
from app.models import (
    Application,
    Assignment,
    Letter,
    Review,
    ReviewScore,
    Round,
    SelectionDecision,
    User,
    utcnow,
)
from app.panel.services import declare_conflict
from app.staff.applications.services import start_assisted_application, withdraw_application
from app.staff.runs.decisions import confirm_run
from app.staff.runs.services import set_shared, start_run
from tests.app.apply.journey import VALID
from tests.app.conftest import PASSWORD
from tests.app.factories import make_round, submitted_application

# --- The pool -----------------------------------------------------------------------------------

CRITERIA = ("difference", "inequalities", "resources", "evidence")

# (organisation, nation, area type, the two reviews' scores per criterion in CRITERIA order).
# Wales scores best, so with no quotas the top five would be four Welsh sites.
POOL: list[tuple[str, str, str, list[list[int]]]] = [
    ("Wales One", "wales", "rural", [[5, 5, 5, 5], [5, 5, 5, 4]]),
    ("Wales Two", "wales", "urban", [[5, 5, 4, 5], [5, 4, 5, 5]]),
    ("Wales Three", "wales", "rural", [[5, 4, 4, 5], [4, 5, 5, 4]]),
    ("Wales Four", "wales", "mixed", [[4, 4, 5, 4], [5, 4, 4, 4]]),
    ("Scotland One", "scotland", "remote", [[4, 4, 4, 4], [4, 3, 4, 4]]),
    ("Scotland Two", "scotland", "rural", [[3, 4, 3, 4], [4, 3, 3, 3]]),
    ("Scotland Three", "scotland", "urban", [[2, 3, 2, 3], [3, 2, 3, 2]]),
    ("England One", "england", "urban", [[4, 5, 4, 4], [4, 4, 4, 5]]),
    ("England Two", "england", "mixed", [[3, 3, 4, 3], [3, 4, 3, 3]]),
    ("England Three", "england", "rural", [[2, 2, 2, 3], [2, 3, 2, 2]]),
]
SITES = 5
QUOTAS = [
    {"dimension": "nation", "category": "scotland", "min": 2, "max": None},
    {"dimension": "nation", "category": "wales", "min": None, "max": 2},
]

MakeUser = Callable[..., User]


def make_person(role: str, name: str | None = None, **extra: Any) -> User:
    """An active user with the tests' password, their address made from their name (so a test
    that cannot use the `make_user` fixture, such as the browser tests, can sign in as them)."""
    name = name or f"{role.title()} Person"
    user = create_user(
        db.session,
        email=f"{name.lower().replace(' ', '.')}@example.org",
        name=name,
        role=role,
        password=PASSWORD,
    )
    for key, value in extra.items():
        setattr(user, key, value)
    db.session.commit()
    return user


@dataclass
class Pool:
    round: Round
    applications: list[Application]
    reviewers: list[User]

    def means(self, application: Application) -> dict[str, float]:
        """Criterion means computed here from the POOL table, not by the app."""
        index = self.applications.index(application)
        reviews = POOL[index][3]
        return {c: sum(r[i] for r in reviews) / len(reviews) for i, c in enumerate(CRITERIA)}

    def score(self, application: Application) -> float:
        means = self.means(application)
        return sum(means.values()) / len(means)

    def by_name(self, name: str) -> Application:
        return next(a for a in self.applications if a.organisation_name == name)


def add_review(application: Application, reviewer: User, scores: list[int]) -> Review:
    review = Review(application_id=application.id, reviewer_id=reviewer.id, status="submitted")
    review.scores = [
        ReviewScore(criterion=c, score=s, comment="") for c, s in zip(CRITERIA, scores, strict=True)
    ]
    db.session.add(review)
    return review


def build_pool(
    make_user: MakeUser | None = None, *, quotas: list[dict[str, Any]] | None = None, **names: str
) -> Pool:
    """The scored pool; `names` renames organisations: build_pool(**{"Wales One": "X"})."""
    if make_user is None:
        pool_reviewers = iter(["Bryn Reviewer", "Catrin Reviewer"])
        make_user = lambda role: make_person(role, next(pool_reviewers))  # noqa: E731
    round_ = make_round(sites_wanted=SITES)
    round_.quotas = QUOTAS if quotas is None else quotas
    round_.reviews_required = 2
    reviewers = [make_user("reviewer"), make_user("reviewer")]
    applications = []
    for organisation, nation, area, reviews in POOL:
        application = submitted_application(
            round_,
            organisation={"organisation_name": names.get(organisation, organisation)},
            location={"nation": nation, "area_type": area},
        )
        application.screening = "eligible"
        for reviewer, scores in zip(reviewers, reviews, strict=True):
            add_review(application, reviewer, scores)
        applications.append(application)
    db.session.commit()
    return Pool(round_, applications, reviewers)


# --- The world ----------------------------------------------------------------------------------

ENGLAND = {"nation": "england", "postcode": "LS1 1AA", "area_type": "urban"}
STARTED_ORGANISATION = "Own Draft Carers Circle"


@dataclass(frozen=True)
class Person:
    id: int
    email: str


@dataclass(frozen=True)
class World:
    """Ids and secrets of the world's rows (plain values: the rows may be restored from a copy)."""

    round_id: int
    pool_ids: tuple[int, ...]  # the pool's applications, in POOL order
    admin: Person
    staff: Person
    reviewer: Person  # assigned to `assigned_id`
    conflicted_reviewer: Person  # assigned to `conflicted_id` (conflict declared) and `others_id`
    assigned_id: int
    conflicted_id: int
    others_id: int
    started_token: str  # a draft with its organisation page only
    draft_token: str  # a complete draft in England, ready to send
    emailed_link: str  # that draft's resume link as emailed, with the proof of its address
    opt_out_token: str  # that draft's link to stop reminders (/reminders/opt-out/<token>)
    assisted_id: int  # a staff-entered draft (phone) with its location page
    letter_id: int  # a letter to post (the print queue), about `assigned_id`
    invite_token: str
    run_id: int  # a finished run, not shared, not confirmed
    shared_run_id: int  # a finished run shared with the panel
    confirmed_run_id: int
    selected_id: int  # selected by the confirmed run
    other_id: int  # not selected by it (and eligible)
    withdrawn_id: int  # selected by it, then withdrawn


def person(user: User) -> Person:
    return Person(user.id, user.email)


def build_world() -> World:
    """Build the world through the app's services (call in an app context, on empty tables)."""
    pool = build_pool()
    round_ = pool.round
    admin = make_person("admin", "Ada Admin")
    staff = make_person("staff", "Sam Staff")
    reviewer = make_person("reviewer", "Rhian Reviewer")
    conflicted_reviewer = make_person("reviewer", "Conor Conflicted")
    now = utcnow()

    assigned, conflicted, others = pool.applications[:3]
    db.session.add_all(
        Assignment(application_id=application.id, reviewer_id=user.id, assigned_by_id=staff.id)
        for application, user in (
            (assigned, reviewer),
            (conflicted, conflicted_reviewer),
            (others, conflicted_reviewer),
        )
    )
    db.session.flush()
    declare_conflict(db.session, conflicted, conflicted_reviewer, "I chair its board", now)

    started, started_token = start_application(db.session, round_, {"uk_based": "yes"}, now)
    organisation = {**VALID["organisation"], "organisation_name": STARTED_ORGANISATION}
    save_page(db.session, started, "organisation", organisation, now)
    draft, draft_token = start_application(db.session, round_, {"uk_based": "yes"}, now)
    # Complete and in England (so the region page applies and check answers has its button).
    complete = {**VALID, "location": ENGLAND, "region": {"region": "yorkshire"}}
    for page_id, values in complete.items():
        save_page(db.session, draft, page_id, values, now)
    assisted = start_assisted_application(db.session, round_, "phone", None, staff, now)
    save_page(db.session, assisted, "location", ENGLAND, now)

    invite_tokens: list[str] = []
    invite_user(
        db.session,
        email="invited@example.org",
        name="Ivy Invited",
        role="reviewer",
        nation=None,
        link_for=lambda token: invite_tokens.append(token) or "",
        now=now,
        by=admin,
    )
    db.session.commit()

    run = start_run(db.session, round_, staff, utcnow(), seed=1)
    shared_run = start_run(db.session, round_, staff, utcnow(), seed=8)
    set_shared(db.session, shared_run, True)
    confirmed = start_run(db.session, round_, staff, utcnow(), seed=2)
    assert run.status == shared_run.status == confirmed.status == "done", "the runs must finish"
    confirm_run(db.session, confirmed, staff, utcnow())
    db.session.commit()

    decisions = db.session.scalars(
        select(SelectionDecision).where(SelectionDecision.run_id == confirmed.id)
    ).all()
    selected = [d.application_id for d in decisions if d.decision == "selected"]
    not_selected = [
        d.application_id for d in decisions if d.decision not in ("selected", "ineligible")
    ]
    # Withdraw a selected site that no reviewer above is looking at.
    mine = {assigned.id, conflicted.id, others.id}
    withdrawn = db.session.get(Application, [a for a in selected if a not in mine][-1])
    assert withdrawn is not None
    withdraw_application(db.session, withdrawn, "The organisation asked to withdraw", staff, now)
    # A letter in the print queue. The pool's applicants prefer email, so it is added as it would
    # be for one who prefers post (channels.queue_for_applicant), without changing the pool.
    letter = Letter(
        kind="outcome",
        application_id=assigned.id,
        to_name="Pat Post",
        address="Post Office Row\nUnit 1\nLeeds\nLS1 1AA",
        subject="Your expression of interest: our decision",
        body="We have made our decision.",
        queued_at=now,
    )
    db.session.add(letter)
    db.session.commit()
    return World(
        round_id=round_.id,
        pool_ids=tuple(a.id for a in pool.applications),
        admin=person(admin),
        staff=person(staff),
        reviewer=person(reviewer),
        conflicted_reviewer=person(conflicted_reviewer),
        assigned_id=assigned.id,
        conflicted_id=conflicted.id,
        others_id=others.id,
        started_token=started_token,
        draft_token=draft_token,
        emailed_link=f"/resume/{draft_token}/"
        + address_proof(current_app.secret_key or "", draft.id, VALID["contact"]["email"]),
        opt_out_token=opt_out_token(current_app.secret_key or "", draft.id),
        assisted_id=assisted.id,
        letter_id=letter.id,
        invite_token=invite_tokens[0],
        run_id=run.id,
        shared_run_id=shared_run.id,
        confirmed_run_id=confirmed.id,
        selected_id=selected[0],
        other_id=not_selected[0],
        withdrawn_id=withdrawn.id,
    )


# --- Build once per database file ---------------------------------------------------------------

_built: dict[str, tuple[Path, World]] = {}


def reuse_per_database(app: Flask) -> World:
    """`build_world`, on SQLite once per database file and then copied back in for the next test
    (building takes seconds, copying milliseconds); on PostgreSQL built each time."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        return build_world()
    live = Path(url.removeprefix("sqlite:///"))
    if url in _built:
        template, world = _built[url]
        db.session.remove()
        db.engine.dispose()
        _copy(template, live)
        return world
    world = build_world()
    db.session.remove()
    db.engine.dispose()
    template = live.with_name(live.stem + "-world.sqlite3")
    _copy(live, template)
    _built[url] = (template, world)
    return world


def _copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
