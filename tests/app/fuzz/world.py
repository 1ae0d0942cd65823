"""One world for fuzzing: a round with a scored pool, runs, drafts, users and tokens, and the
list of every POST endpoint with the role that can use it and the URLs to post to.

`Case` says, for one endpoint, who signs in, where its form is (the page whose HTML names the
fields) and which URLs to post to. `CASES` must cover every POST rule of ``app.url_map``
(``test_every_post_endpoint_is_fuzzed``), so a new form cannot escape the fuzz.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from app.applications.confirmed_email import address_proof
from app.applications.questions import PAGES
from app.applications.services import save_page, start_application
from app.auth.services import _new_token
from app.extensions import db
from app.models import Application, Assignment, SelectionDecision, User, utcnow
from app.staff.applications.services import start_assisted_application, withdraw_application
from app.staff.runs.decisions import confirm_run
from app.staff.runs.services import start_run
from tests.app.apply.journey import ELIGIBILITY_IDS, VALID
from tests.app.runs.conftest import build_pool

ENGLAND = {"nation": "england", "postcode": "LS1 1AA", "area_type": "urban"}


@dataclass(frozen=True)
class Person:
    id: int
    email: str


@dataclass(frozen=True)
class World:
    """Ids and secrets of the world's rows (plain values: the rows are restored from a copy)."""

    round_id: int
    application_id: int
    admin: Person
    staff: Person
    reviewer: Person
    draft_token: str
    assisted_id: int
    run_id: int
    confirmed_run_id: int
    selected_id: int
    other_id: int
    withdrawn_id: int
    invite_token: str
    emailed_link: str  # the draft's resume link as emailed, with the proof of its address


_built: dict[str, tuple[Path, World]] = {}


def build_world(app: Flask, make_user: Any) -> World:
    """Everything a form can act on, built through the app's own services: on SQLite once per
    database file, then copied back in for the next test (building takes seconds, copying
    milliseconds); on PostgreSQL built each time."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        return _build(make_user)
    live = Path(url.removeprefix("sqlite:///"))
    if url in _built:
        template, world = _built[url]
        db.session.remove()
        db.engine.dispose()
        _copy(template, live)
        return world
    world = _build(make_user)
    db.session.remove()
    db.engine.dispose()
    template = live.with_name(live.stem + "-fuzz-world.sqlite3")
    _copy(live, template)
    _built[url] = (template, world)
    return world


def _copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def person(user: User) -> Person:
    return Person(user.id, user.email)


def _build(make_user: Any) -> World:
    pool = build_pool(make_user)
    round_ = pool.round
    admin = make_user("admin", name="Ada Admin")
    staff = make_user("staff", name="Sam Staff")
    reviewer = make_user("reviewer", name="Rhys Reviewer")
    now = utcnow()
    first = pool.applications[0]
    db.session.add(
        Assignment(application_id=first.id, reviewer_id=reviewer.id, assigned_by_id=staff.id)
    )
    draft, draft_token = start_application(db.session, round_, {"uk_based": "yes"}, now)
    assisted = start_assisted_application(db.session, round_, "phone", staff, now)
    # Complete and in England (so the region page applies and check answers has its button).
    for page_id, values in {
        **VALID,
        "location": ENGLAND,
        "region": {"region": "yorkshire"},
    }.items():
        save_page(db.session, draft, page_id, values, now)
    save_page(db.session, assisted, "location", ENGLAND, now)
    db.session.commit()

    run = start_run(db.session, round_, staff, utcnow(), seed=1)
    db.session.commit()
    confirmed = start_run(db.session, round_, staff, utcnow(), seed=2)
    confirm_run(db.session, confirmed, staff, utcnow())
    db.session.commit()
    decisions = db.session.scalars(
        select(SelectionDecision).where(SelectionDecision.run_id == confirmed.id)
    ).all()
    selected = [d.application_id for d in decisions if d.decision == "selected"]
    others = [d.application_id for d in decisions if d.decision not in ("selected", "ineligible")]
    withdrawn = db.session.get(Application, selected[-1])
    withdraw_application(db.session, withdrawn, "The organisation asked to withdraw", staff, now)
    invited = User(email="invited@example.org", name="Ivy Invited", role="reviewer")
    db.session.add(invited)
    db.session.flush()
    invite_token = _new_token(db.session, invited, "invite", now)
    db.session.commit()
    return World(
        round_id=round_.id,
        application_id=first.id,
        admin=person(admin),
        staff=person(staff),
        reviewer=person(reviewer),
        draft_token=draft_token,
        assisted_id=assisted.id,
        run_id=run.id,
        confirmed_run_id=confirmed.id,
        selected_id=selected[0],
        other_id=others[0],
        withdrawn_id=withdrawn.id,
        invite_token=invite_token,
        emailed_link=f"/resume/{draft_token}/"
        + address_proof(current_app.secret_key or "", draft.id, VALID["contact"]["email"]),
    )


UrlList = Callable[[World], list[str]]


@dataclass(frozen=True)
class Case:
    """How to fuzz one POST endpoint.

    role: who signs in ("admin", "staff", "reviewer"), or "applicant" (a browser holding a
    draft's resume link), "new-applicant" (eligibility answered, no draft yet), None (nobody).
    urls: where to post (one is drawn per example). source: the page whose form names the
    fields (default: the URL itself). writes_when_refused: tables a refusal may write (a failed
    sign-in is counted for lockout).
    """

    endpoint: str
    role: str | None
    urls: UrlList
    source: Callable[[World, str], str] | None = None
    writes_when_refused: frozenset[str] = field(default_factory=frozenset)
    upload: bool = False


def _one(make: Callable[[World], str]) -> UrlList:
    return lambda w: [make(w)]


QUESTION_PAGES = list(PAGES)

CASES: list[Case] = [
    # Applicants.
    Case(
        "apply.eligibility",
        "new-applicant",
        lambda w: [f"/eligibility/{q}" for q in ELIGIBILITY_IDS],
    ),
    Case("apply.question_page", "applicant", lambda w: [f"/application/{p}" for p in PAGES]),
    Case("apply.question_page", "new-applicant", _one(lambda w: "/application/organisation")),
    Case("apply.check_answers", "applicant", _one(lambda w: "/application/check-answers")),
    Case(
        "apply.email_link",
        "applicant",
        _one(lambda w: "/application/email-link"),
        source=lambda w, url: "/application",
    ),
    Case("apply.resume_confirm", None, _one(lambda w: w.emailed_link)),
    Case(
        "apply.forget_device",
        "applicant",
        _one(lambda w: "/application/forget-device"),
        source=lambda w, url: "/application",
    ),
    # Accounts.
    Case(
        "auth.sign_in",
        None,
        _one(lambda w: "/sign-in"),
        writes_when_refused=frozenset({"sign_in_failures"}),
    ),
    Case("auth.sign_out", "staff", _one(lambda w: "/sign-out"), source=lambda w, url: "/staff/"),
    Case("auth.forgot_password", None, _one(lambda w: "/forgot-password")),
    Case("auth.set_password", None, _one(lambda w: f"/set-password/{w.invite_token}")),
    Case("admin.invite", "admin", _one(lambda w: "/users/invite")),
    Case("admin.edit_user", "admin", _one(lambda w: f"/users/{w.reviewer.id}")),
    # Downloads that are recorded on the audit log: buttons, never links.
    *(
        Case(
            f"admin.audit_log_{kind}",
            "admin",
            _one(lambda w, k=kind: f"/admin/audit.{k}"),
            source=lambda w, url: "/admin/audit",
        )
        for kind in ("csv", "xlsx")
    ),
    *(
        Case(
            f"staff.applications_{kind}",
            "staff",
            _one(lambda w, k=kind: f"/staff/rounds/{w.round_id}/applications.{k}"),
            source=lambda w, url: f"/staff/rounds/{w.round_id}/applications",
        )
        for kind in ("csv", "xlsx")
    ),
    *(
        Case(
            f"staff.rationale_{kind}",
            "staff",
            _one(lambda w, k=kind: f"/staff/runs/{w.run_id}/rationale.{k}"),
            source=lambda w, url: f"/staff/runs/{w.run_id}",
        )
        for kind in ("csv", "xlsx")
    ),
    Case(
        "staff.subject_access",
        "staff",
        _one(lambda w: f"/staff/applications/{w.application_id}/everything.json"),
        source=lambda w, url: f"/staff/applications/{w.application_id}",
    ),
    # Panel.
    Case(
        "panel.review", "reviewer", _one(lambda w: f"/panel/applications/{w.application_id}/review")
    ),
    Case(
        "panel.conflict",
        "reviewer",
        _one(lambda w: f"/panel/applications/{w.application_id}/conflict"),
    ),
    # Staff: applications.
    Case(
        "staff.screening",
        "staff",
        _one(lambda w: f"/staff/applications/{w.application_id}/screening"),
    ),
    Case(
        "staff.withdraw",
        "staff",
        _one(lambda w: f"/staff/applications/{w.application_id}/withdraw"),
    ),
    Case("staff.merge", "staff", _one(lambda w: f"/staff/applications/{w.application_id}/merge")),
    Case("staff.erase", "admin", _one(lambda w: f"/staff/applications/{w.application_id}/erase")),
    Case("staff.assisted_start", "staff", _one(lambda w: f"/staff/rounds/{w.round_id}/assisted")),
    Case(
        "staff.assisted_page",
        "staff",
        lambda w: [f"/staff/applications/{w.assisted_id}/enter/{p}" for p in PAGES],
    ),
    Case(
        "staff.assisted_send",
        "staff",
        _one(lambda w: f"/staff/applications/{w.assisted_id}/send"),
        source=lambda w, url: f"/staff/applications/{w.assisted_id}/enter",
    ),
    # Staff: assignment and moderation.
    Case(
        "staff.assignment_auto",
        "staff",
        _one(lambda w: f"/staff/rounds/{w.round_id}/assignment/auto"),
        source=lambda w, url: f"/staff/rounds/{w.round_id}/assignment",
    ),
    Case(
        "staff.assignment_reviewing",
        "staff",
        _one(lambda w: f"/staff/rounds/{w.round_id}/reviewing"),
        source=lambda w, url: f"/staff/rounds/{w.round_id}/assignment",
    ),
    Case(
        "staff.assignment_application",
        "staff",
        _one(lambda w: f"/staff/applications/{w.application_id}/reviewers"),
    ),
    Case(
        "staff.assignment_unassign",
        "staff",
        _one(lambda w: f"/staff/applications/{w.application_id}/reviewers/{w.reviewer.id}/remove"),
        source=lambda w, url: f"/staff/applications/{w.application_id}/reviewers",
    ),
    Case(
        "staff.moderation_application",
        "staff",
        _one(lambda w: f"/staff/applications/{w.application_id}/moderation"),
    ),
    # Staff: round settings and quotas.
    Case("staff.settings", "staff", _one(lambda w: f"/staff/rounds/{w.round_id}/settings")),
    Case("staff.quotas", "staff", _one(lambda w: f"/staff/rounds/{w.round_id}/quotas")),
    Case(
        "staff.quotas_upload",
        "staff",
        _one(lambda w: f"/staff/rounds/{w.round_id}/quotas/upload"),
        source=lambda w, url: f"/staff/rounds/{w.round_id}/quotas",
        upload=True,
    ),
    # Staff: selection runs.
    Case(
        "staff.start",
        "staff",
        _one(lambda w: f"/staff/rounds/{w.round_id}/runs"),
    ),
    Case(
        "staff.share",
        "staff",
        _one(lambda w: f"/staff/runs/{w.run_id}/share"),
        source=lambda w, url: f"/staff/runs/{w.run_id}",
    ),
    Case(
        "staff.confirm",
        "staff",
        _one(lambda w: f"/staff/runs/{w.run_id}/confirm"),
        source=lambda w, url: f"/staff/runs/{w.run_id}",
    ),
    Case(
        "staff.outcomes",
        "staff",
        _one(lambda w: f"/staff/runs/{w.confirmed_run_id}/outcomes"),
        source=lambda w, url: f"/staff/runs/{w.confirmed_run_id}",
    ),
    Case(
        "staff.override",
        "staff",
        _one(
            lambda w: (
                f"/staff/runs/{w.confirmed_run_id}/override?remove={w.selected_id}&add={w.other_id}"
            )
        ),
    ),
    Case(
        "staff.replacement",
        "staff",
        _one(lambda w: f"/staff/runs/{w.confirmed_run_id}/replace?withdrawn={w.withdrawn_id}"),
    ),
]
