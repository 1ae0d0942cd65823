"""The world the route x role matrix runs in: records, one signed-in browser per role, and a
snapshot of every table to prove that a refused request wrote nothing.

Built once per test through the same services the app uses (a scored pool, real selection runs,
a conflict declared by the panel's own verb, an applicant's draft reached by its resume link).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from werkzeug.test import TestResponse

from app.applications.services import save_page, start_application
from app.auth.services import invite_user
from app.extensions import db
from app.models import Application, User, utcnow
from app.panel.services import declare_conflict
from app.staff.applications.services import start_assisted_application
from app.staff.runs.services import set_shared, start_run
from tests.app.apply.journey import VALID
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client
from tests.app.panel.conftest import assign_to
from tests.app.runs.conftest import build_pool

# The roles. The two "reviewer" roles are the same person (R1): once with their own assigned
# application, once with ids of records that are not theirs (another reviewer's application and
# a shortlist that was never shared).
ANON = "anonymous"
APPLICANT = "applicant"
REVIEWER = "reviewer"
NOT_ASSIGNED = "reviewer-not-assigned"
CONFLICTED = "conflicted-reviewer"
STAFF = "staff"
ADMIN = "admin"
ROLES = (ANON, APPLICANT, REVIEWER, NOT_ASSIGNED, CONFLICTED, STAFF, ADMIN)

# Outcome classes (see `outcome_matches`).
OK = "ok"
SIGNIN = "signin"
FORBIDDEN = "forbidden"
NOTFOUND = "notfound"


def redirect(path: str) -> str:
    """An ordinary redirect to `path` (not the sign-in page with a `next`)."""
    return f"redirect {path}"


APPLICANT_ORGANISATION = "Own Draft Carers Circle"
BOGUS_TOKEN = "not-a-real-resume-token"


@dataclass
class World:
    values: dict[str, dict[str, Any]]  # per role: URL argument -> value
    named: dict[str, Any]  # other records a row may ask for by name: "assisted", "other_run"
    browsers: dict[str, tuple[Client, str]]  # per role: browser, its CSRF token
    assigned: Application  # A: assigned to the reviewer
    conflicted: Application  # B: the conflicted reviewer declared a conflict with it
    others: Application  # C: assigned to the conflicted reviewer only


def build_world(app: Flask, make_user: Any) -> World:
    pool = build_pool(make_user)
    round_ = pool.round
    now = utcnow()
    reviewer = make_user("reviewer", name="Rhian Reviewer")
    conflicted_reviewer = make_user("reviewer", name="Conor Conflicted")
    staff = make_user("staff", name="Sam Staff")
    admin = make_user("admin", name="Ada Admin")

    assigned, conflicted, others = pool.applications[0], pool.applications[1], pool.applications[2]
    assign_to(assigned, reviewer)
    assign_to(conflicted, conflicted_reviewer)
    assign_to(others, conflicted_reviewer)
    declare_conflict(db.session, conflicted, conflicted_reviewer, "I chair its board", now)

    run = start_run(db.session, round_, staff, now, seed=7)
    shared_run = start_run(db.session, round_, staff, now, seed=8)
    set_shared(db.session, shared_run, True)
    assert run.status == shared_run.status == "done", "the world needs two finished runs"

    assisted = start_assisted_application(db.session, round_, "phone", staff, now)
    draft, draft_token = start_application(db.session, round_, {"uk_based": "yes"}, now)
    organisation = {**VALID["organisation"], "organisation_name": APPLICANT_ORGANISATION}
    save_page(db.session, draft, "organisation", organisation, now)

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

    common = {
        "round_id": round_.id,
        "application_id": assigned.id,
        "run_id": shared_run.id,
        "reviewer_id": reviewer.id,
        "user_id": reviewer.id,
        "page_id": "organisation",
        "question_id": "uk_based",
        "token": BOGUS_TOKEN,
        # Not a proof of any address: the emailed link's form is the plain resume link then.
        "proof": "not-a-proof",
    }
    values = {role: dict(common) for role in ROLES}
    values[APPLICANT]["token"] = draft_token
    values[NOT_ASSIGNED].update(application_id=others.id, run_id=run.id)
    values[CONFLICTED]["application_id"] = conflicted.id

    browsers = {
        ANON: _anonymous(app),
        APPLICANT: _applicant(app, draft_token),
        REVIEWER: _signed_in(app, reviewer, "/panel/"),
        NOT_ASSIGNED: _signed_in(app, reviewer, "/panel/"),
        CONFLICTED: _signed_in(app, conflicted_reviewer, "/panel/"),
        STAFF: _signed_in(app, staff, "/staff/"),
        ADMIN: _signed_in(app, admin, "/staff/"),
    }
    return World(
        values=values,
        named={
            "assisted": assisted.id,
            "other_run": run.id,
            "shared_run": shared_run.id,
            "invite_token": invite_tokens[0],
        },
        browsers=browsers,
        assigned=assigned,
        conflicted=conflicted,
        others=others,
    )


def _token_on(client: Client, url: str) -> str:
    token = client.get_page(url).select_one("input[name=csrf_token]")
    assert token is not None, f"no CSRF token on {url}"
    return str(token["value"])


def _anonymous(app: Flask) -> tuple[Client, str]:
    client = Client(app.test_client())
    return client, _token_on(client, "/sign-in")


def _applicant(app: Flask, token: str) -> tuple[Client, str]:
    """A person who followed their resume link: the session holds the draft, nothing else."""
    client = Client(app.test_client())
    response = client.get(f"/resume/{token}")
    assert response.status_code == 302 and response.headers["Location"] == "/application"
    return client, _token_on(client, "/sign-in")


def _signed_in(app: Flask, user: User, home: str) -> tuple[Client, str]:
    client = Client(app.test_client())
    sign_in_as(client, user)
    page = client.get_page(home)
    token = page.select_one('form[action="/sign-out"] input[name=csrf_token]')
    assert token is not None, f"no sign-out form on {home}"
    return client, str(token["value"])


# --- Outcomes -------------------------------------------------------------------------------


def observed(response: TestResponse) -> str:
    """A short description of what came back, for failure messages."""
    location = response.headers.get("Location")
    return f"{response.status_code}" + (f" -> {location}" if location else "")


def _is_signin(response: TestResponse, requested: str) -> bool:
    """Flask-Login's redirect: /sign-in with `next` naming the page that was asked for."""
    if response.status_code not in (302, 303):
        return False
    parts = urlsplit(response.headers.get("Location", ""))
    return parts.path == "/sign-in" and parse_qs(parts.query).get("next") == [requested]


def _is_csrf_failure(response: TestResponse) -> bool:
    return response.status_code == 400 and b"Your session timed out" in response.data


def outcome_matches(expected: str, method: str, url: str, response: TestResponse) -> bool:
    status = response.status_code
    if expected == SIGNIN:
        return _is_signin(response, url)
    if expected == FORBIDDEN:
        return status == 403
    if expected == NOTFOUND:
        return status == 404
    if expected.startswith("redirect "):
        path = expected.removeprefix("redirect ")
        return status in (302, 303) and urlsplit(response.headers["Location"]).path == path
    if expected == OK and method == "GET":
        return status == 200
    if expected == OK:
        # Past the access check with a valid CSRF token but no form data: the form re-rendered
        # with errors (200, or 400 for the run pages' forms), or the action done (a redirect).
        if status in (302, 303):
            return urlsplit(response.headers["Location"]).path != "/sign-in"
        return status == 200 or (status == 400 and not _is_csrf_failure(response))
    raise AssertionError(f"unknown outcome class {expected!r}")


# --- Nothing written ------------------------------------------------------------------------


def snapshot() -> dict[str, str]:
    """Every row of every table, read outside the test's session (so it sees what was committed):
    one query returns a text fingerprint of each table's rows, made by the database itself."""
    db.session.rollback()  # on SQLite the test's own transaction may hold the write lock
    tables = db.metadata.sorted_tables
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            each = [
                f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{table.name}" AS t)'
                for table in tables
            ]
        else:
            each = [
                "(SELECT group_concat(r, '|') FROM (SELECT "
                + " || ',' || ".join(f'quote("{column.name}")' for column in table.columns)
                + f' AS r FROM "{table.name}" ORDER BY r))'
                for table in tables
            ]
        row = connection.exec_driver_sql(f"SELECT {', '.join(each)}").one()
    return {table.name: str(value) for table, value in zip(tables, row, strict=True)}


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))
