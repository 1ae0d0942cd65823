"""The access matrix's view of the test world (tests/app/world.py): one signed-in browser per
role, the ids each role puts in URLs, the outcome classes, and a snapshot of every table to prove
that a refused request wrote nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Application
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client
from tests.app.world import STARTED_ORGANISATION, Person, reuse_per_database

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


APPLICANT_ORGANISATION = STARTED_ORGANISATION
BOGUS_TOKEN = "not-a-real-resume-token"


@dataclass
class World:
    values: dict[str, dict[str, Any]]  # per role: URL argument -> value
    named: dict[str, Any]  # other records a row may ask for by name: "assisted", "other_run"
    browsers: dict[str, tuple[Client, str]]  # per role: browser, its CSRF token
    assigned: Application  # A: assigned to the reviewer
    conflicted: Application  # B: the conflicted reviewer declared a conflict with it
    others: Application  # C: assigned to the conflicted reviewer only


def build_world(app: Flask) -> World:
    """The test world, and each role's browser and URL values in it. The applicant holds the
    started draft (organisation page only), so posting its forms with no data sends nothing."""
    world = reuse_per_database(app)
    common = {
        "round_id": world.round_id,
        "application_id": world.assigned_id,
        "run_id": world.shared_run_id,
        "reviewer_id": world.reviewer.id,
        "user_id": world.reviewer.id,
        "page_id": "organisation",
        "question_id": "uk_based",
        "decision": "reserve",
        "token": BOGUS_TOKEN,
        # Not a proof of any address: the emailed link's form is the plain resume link then.
        "proof": "not-a-proof",
        "letter_id": world.letter_id,
    }
    values = {role: dict(common) for role in ROLES}
    values[APPLICANT]["token"] = world.started_token
    values[NOT_ASSIGNED].update(application_id=world.others_id, run_id=world.run_id)
    values[CONFLICTED]["application_id"] = world.conflicted_id

    browsers = {
        ANON: _anonymous(app),
        APPLICANT: _applicant(app, world.started_token),
        REVIEWER: _signed_in(app, world.reviewer, "/panel/"),
        NOT_ASSIGNED: _signed_in(app, world.reviewer, "/panel/"),
        CONFLICTED: _signed_in(app, world.conflicted_reviewer, "/panel/"),
        STAFF: _signed_in(app, world.staff, "/staff/"),
        ADMIN: _signed_in(app, world.admin, "/staff/"),
    }

    def application(id_: int) -> Application:
        found = db.session.get(Application, id_)
        assert found is not None
        return found

    return World(
        values=values,
        named={
            "assisted": world.assisted_id,
            "other_run": world.run_id,
            "shared_run": world.shared_run_id,
            "confirmed_run": world.confirmed_run_id,
            "invite_token": world.invite_token,
            "co_production": "co_production",
            "welsh": "cy",
            "opt_out_token": world.opt_out_token,
        },
        browsers=browsers,
        assigned=application(world.assigned_id),
        conflicted=application(world.conflicted_id),
        others=application(world.others_id),
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


def _signed_in(app: Flask, user: Person, home: str) -> tuple[Client, str]:
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
