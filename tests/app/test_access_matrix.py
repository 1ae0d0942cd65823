"""Every route x every method x every role, with the exact access each role should get.

The matrix below is the one place that says who may reach what. A route added to the app without
a row here fails `test_the_matrix_lists_every_route_and_method`, so nothing escapes it; a row whose
route is gone fails it too.

POSTs carry a real CSRF token taken from a page the same browser was shown (CSRF stays on; its
own tests are in tests/app/apply/test_csrf.py and friends) but no form data: an admitted role may
get the form back with errors or a redirect; a refused one must be refused, and every table must
be exactly as it was before the request.

One test walks the whole matrix and reports every wrong cell together: hundreds of parametrised
tests, each building the world, would take many minutes instead of seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, url_for

from app import create_app
from tests.app.access_world import (
    ADMIN,
    ANON,
    APPLICANT,
    APPLICANT_ORGANISATION,
    CONFLICTED,
    FORBIDDEN,
    NOT_ASSIGNED,
    NOTFOUND,
    OK,
    REVIEWER,
    ROLES,
    SIGNIN,
    STAFF,
    World,
    build_world,
    changed_tables,
    observed,
    outcome_matches,
    redirect,
    snapshot,
)

PANEL_ROLES = (REVIEWER, NOT_ASSIGNED, CONFLICTED)


def everyone(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def but(base: dict[str, str], **changes: str) -> dict[str, str]:
    """`base` with some roles' outcomes changed: but(PUBLIC, applicant=OK)."""
    names = {role.replace("-", "_"): role for role in ROLES}
    return {**base, **{names[key]: value for key, value in changes.items()}}


PUBLIC = everyone(OK)
STAFF_ONLY = {
    ANON: SIGNIN,
    APPLICANT: SIGNIN,
    REVIEWER: FORBIDDEN,
    NOT_ASSIGNED: FORBIDDEN,
    CONFLICTED: FORBIDDEN,
    STAFF: OK,
    ADMIN: OK,
}
ADMIN_ONLY = but(STAFF_ONLY, staff=FORBIDDEN)
PANEL = but(everyone(OK), anonymous=SIGNIN, applicant=SIGNIN)
# A reviewer's own assigned application; anyone else's (or a conflicted one) does not exist for
# them; staff and admins do not use the reviewers' form.
OWN_REVIEW = {
    ANON: SIGNIN,
    APPLICANT: SIGNIN,
    REVIEWER: OK,
    NOT_ASSIGNED: NOTFOUND,
    CONFLICTED: NOTFOUND,
    STAFF: FORBIDDEN,
    ADMIN: FORBIDDEN,
}
# The reviewer-not-assigned role asks for a run that was never shared.
SHARED_SHORTLIST = but(PANEL, reviewer_not_assigned=NOTFOUND)
# Only the applicant's session holds a draft; everyone else meets the start of the journey.
NO_DRAFT_YET = redirect("/eligibility/uk_based")
HOME_IF_SIGNED_IN = {
    ANON: OK,
    APPLICANT: OK,
    **dict.fromkeys(PANEL_ROLES, redirect("/panel/")),
    STAFF: redirect("/staff/"),
    ADMIN: redirect("/staff/"),
}


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    expect: dict[str, str]
    # URL arguments filled, for every role, from World.named instead of the role's own records.
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def rows(endpoint: str, methods: str, expect: dict[str, str], **kwargs: Any) -> list[Row]:
    return [Row(endpoint, method, expect, **kwargs) for method in methods.split()]


ASSISTED = {"application_id": "assisted"}

MATRIX: list[Row] = [
    # The public journey.
    *rows("apply.start", "GET", PUBLIC),
    *rows("apply.privacy", "GET", PUBLIC),
    *rows("apply.accessibility", "GET", PUBLIC),
    # Only the session changes (the language); then back to the start page.
    *rows("apply.language", "GET", everyone(redirect("/")), params={"code": "welsh"}),
    *rows("apply.paper_form", "GET", PUBLIC),
    *rows("apply.eligibility", "GET POST", PUBLIC),
    *rows("apply.not_suitable", "GET", PUBLIC),
    *rows("apply.eligibility_support", "GET", PUBLIC, params={"question_id": "co_production"}),
    *rows("apply.task_list", "GET", but(everyone(NO_DRAFT_YET), applicant=OK)),
    *rows("apply.question_page", "GET POST", but(everyone(NO_DRAFT_YET), applicant=OK)),
    *rows("apply.saved", "GET", but(everyone(NO_DRAFT_YET), applicant=OK)),
    *rows("apply.check_answers", "GET POST", but(everyone(redirect("/application")), applicant=OK)),
    *rows(
        "apply.confirmation",
        "GET",
        but(everyone(redirect("/")), applicant=redirect("/application")),
    ),
    *rows("apply.email_link", "POST", but(everyone(redirect("/application")), applicant=OK)),
    # Everyone but the applicant tries a token that is not one.
    *rows("apply.resume", "GET", but(everyone(NOTFOUND), applicant=redirect("/application"))),
    *rows(
        "apply.resume_confirm",
        "GET POST",
        but(everyone(NOTFOUND), applicant=redirect("/application")),
    ),
    *rows("apply.forget_device", "POST", everyone(redirect("/"))),
    # The link in a reminder to send a draft: anyone holding it may stop the reminders.
    *rows("apply.reminder_opt_out", "GET POST", PUBLIC, params={"token": "opt_out_token"}),
    # Accounts.
    *rows("auth.sign_in", "GET POST", HOME_IF_SIGNED_IN),
    *rows("auth.forgot_password", "GET POST", PUBLIC),
    *rows("auth.set_password", "GET POST", PUBLIC, params={"token": "invite_token"}),
    *rows("auth.account", "GET", but(HOME_IF_SIGNED_IN, anonymous=SIGNIN, applicant=SIGNIN)),
    *rows("admin.users", "GET", ADMIN_ONLY),
    *rows("admin.invite", "GET POST", ADMIN_ONLY),
    *rows("admin.edit_user", "GET POST", ADMIN_ONLY),
    *rows("admin.audit_log", "GET", ADMIN_ONLY),
    *rows("admin.audit_log_csv", "POST", ADMIN_ONLY),
    *rows("admin.audit_log_xlsx", "POST", ADMIN_ONLY),
    # The panel. The review comes before the conflict: a conflict would hide the application.
    *rows("panel.home", "GET", PANEL),
    *rows("panel.review", "GET POST", OWN_REVIEW),
    *rows("panel.conflict", "GET POST", OWN_REVIEW),
    *rows("panel.shortlists", "GET", PANEL),
    *rows("panel.shortlist", "GET", SHARED_SHORTLIST),
    # Staff: applications.
    *rows("staff.home", "GET", STAFF_ONLY),
    *rows("staff.applications", "GET", STAFF_ONLY),
    *rows("staff.applications_csv", "POST", STAFF_ONLY),
    *rows("staff.applications_xlsx", "POST", STAFF_ONLY),
    *rows("staff.application", "GET", STAFF_ONLY),
    *rows("staff.screening", "GET POST", STAFF_ONLY),
    *rows("staff.withdraw", "GET POST", STAFF_ONLY),
    *rows("staff.merge", "GET POST", STAFF_ONLY),
    *rows("staff.assisted_start", "GET POST", STAFF_ONLY),
    *rows("staff.assisted", "GET", STAFF_ONLY, params=ASSISTED),
    *rows("staff.assisted_page", "GET POST", STAFF_ONLY, params=ASSISTED),
    *rows("staff.assisted_send", "POST", STAFF_ONLY, params=ASSISTED),
    # Staff: the print queue (letters to post).
    *rows("staff.letters", "GET", STAFF_ONLY),
    *rows("staff.print_letters", "GET", STAFF_ONLY),
    *rows("staff.letter", "GET", STAFF_ONLY),
    *rows("staff.letter_posted", "POST", STAFF_ONLY),
    # Staff: data protection. Erasing someone's personal data is for admins only.
    *rows("staff.subject_access", "POST", STAFF_ONLY),
    *rows("staff.erase", "GET POST", ADMIN_ONLY),
    # Staff: round settings and quotas.
    *rows("staff.settings", "GET POST", STAFF_ONLY),
    *rows("staff.quotas", "GET POST", STAFF_ONLY),
    *rows("staff.quotas_upload", "POST", STAFF_ONLY),
    *rows("staff.quotas_download", "GET", STAFF_ONLY),
    # Staff: reach while the call is open, and its outreach export.
    *rows("staff.reach", "GET", STAFF_ONLY),
    *rows("staff.reach_csv", "GET", STAFF_ONLY),
    *rows("staff.reach_xlsx", "GET", STAFF_ONLY),
    *rows("staff.rubric_page", "GET POST", STAFF_ONLY),
    *rows("staff.outcome_letters", "GET POST", STAFF_ONLY),
    *rows("staff.outcome_letter", "GET POST", STAFF_ONLY),
    # Staff: assignment and moderation.
    *rows("staff.assignment_overview", "GET", STAFF_ONLY),
    *rows("staff.assignment_auto", "POST", STAFF_ONLY),
    *rows("staff.assignment_reviewing", "POST", STAFF_ONLY),
    *rows("staff.assignment_application", "GET POST", STAFF_ONLY),
    *rows("staff.assignment_unassign", "POST", STAFF_ONLY),
    *rows("staff.moderation_queue_page", "GET", STAFF_ONLY),
    *rows("staff.moderation_application", "GET POST", STAFF_ONLY),
    *rows("staff.moderation_feedback", "POST", STAFF_ONLY),
    # Staff: selection runs.
    *rows("staff.runs", "GET", STAFF_ONLY),
    *rows("staff.start", "POST", STAFF_ONLY),
    *rows("staff.run", "GET", STAFF_ONLY),
    *rows("staff.compare", "GET", STAFF_ONLY, query={"a": "other_run", "b": "shared_run"}),
    *rows("staff.override", "GET POST", STAFF_ONLY),
    *rows("staff.replacement", "GET POST", STAFF_ONLY),
    *rows("staff.rationale_csv", "POST", STAFF_ONLY),
    *rows("staff.rationale_xlsx", "POST", STAFF_ONLY),
    *rows("staff.rationale_page", "GET", STAFF_ONLY),
    *rows("staff.share", "POST", STAFF_ONLY),
    *rows("staff.confirm", "GET POST", STAFF_ONLY),
    *rows("staff.outcomes", "GET POST", STAFF_ONLY, params={"run_id": "confirmed_run"}),
    # Last: it ends each browser's session.
    *rows("auth.sign_out", "POST", everyone(redirect("/sign-in"))),
]


# --- Every route is in the matrix -----------------------------------------------------------


def routes_of(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def coverage_problems(app: Flask) -> list[str]:
    listed = [(row.endpoint, row.method) for row in MATRIX]
    problems = [f"listed twice: {key}" for key in sorted(set(listed)) if listed.count(key) > 1]
    actual = routes_of(app)
    problems += [f"not in the matrix: {m} {e}" for e, m in sorted(actual - set(listed))]
    problems += [f"no longer a route: {m} {e}" for e, m in sorted(set(listed) - actual)]
    problems += [
        f"{row.method} {row.endpoint} does not give every role exactly once"
        for row in MATRIX
        if sorted(row.expect) != sorted(ROLES)
    ]
    return problems


def test_the_matrix_lists_every_route_and_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert coverage_problems(app) == []


# --- Walking the matrix ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    row: Row
    role: str

    @property
    def expected(self) -> str:
        return self.row.expect[self.role]

    @property
    def must_not_write(self) -> bool:
        """Refused, sent to sign in, or sent elsewhere: anything but admitted writes nothing.
        Signing out is admitted for anyone signed in: it moves their account's session version."""
        if self.row.endpoint == "auth.sign_out" and self.role not in (ANON, APPLICANT):
            return False
        return self.expected != OK

    @property
    def phase(self) -> int:
        """Requests that must not write first, on the untouched world, GETs then POSTs (so the
        snapshot after one is the snapshot before the next); then admitted GETs and admitted
        POSTs (which may change the world); signing out and forgetting the device (which end
        what the browser holds) last."""
        if self.row.endpoint in ("auth.sign_out", "apply.forget_device"):
            return 4
        if self.must_not_write:
            return 0 if self.row.method == "GET" else 1
        return 2 if self.row.method == "GET" else 3


def cells_of(matrix: list[Row]) -> list[Cell]:
    cells = [Cell(row, role) for row in matrix for role in ROLES]
    return sorted(cells, key=lambda cell: cell.phase)  # stable: row order within a phase


def url_for_cell(world: World, cell: Cell, arguments: frozenset[str]) -> str:
    values = world.values[cell.role]
    filled = {
        name: world.named[cell.row.params[name]] if name in cell.row.params else values[name]
        for name in arguments
    }
    query = {key: world.named[name] for key, name in cell.row.query.items()}
    return url_for(cell.row.endpoint, _external=False, **filled, **query)


def walk(app: Flask, world: World, matrix: list[Row]) -> tuple[int, list[str]]:
    """Request every cell; return how many were checked and every cell that was wrong."""
    arguments = {rule.endpoint: frozenset(rule.arguments) for rule in app.url_map.iter_rules()}
    failures: list[str] = []
    cells = cells_of(matrix)
    last: dict[str, str] | None = None  # the tables after the previous must-not-write request
    for cell in cells:
        client, token = world.browsers[cell.role]
        url = url_for_cell(world, cell, arguments[cell.row.endpoint])
        before = (last or snapshot()) if cell.must_not_write else None
        if cell.row.method == "GET":
            response = client.get(url)
        else:
            response = client.client.post(url, data={"csrf_token": token})
        # Read the whole body now: a streamed download runs its generator (in its own contexts)
        # while it is read, and must not be left to the garbage collector.
        response.get_data()
        response.close()
        where = f"{cell.row.method} {url} as {cell.role}"
        if not outcome_matches(cell.expected, cell.row.method, url, response):
            failures.append(f"{where}: expected {cell.expected}, got {observed(response)}")
        last = None
        if before is not None:
            last = snapshot()
            written = changed_tables(before, last)
            if written:
                failures.append(f"{where}: must not write but changed {', '.join(written)}")
    return len(cells), failures


def page_of(world: World, role: str, url: str) -> BeautifulSoup:
    client, _token = world.browsers[role]
    response = client.get(url)
    assert response.status_code == 200, f"GET {url} as {role}: {observed(response)}"
    return BeautifulSoup(response.data, "html.parser")


def text_of(world: World, role: str, url: str) -> str:
    main = page_of(world, role, url).select_one("main")
    assert main is not None, f"no <main> on {url}"
    return main.get_text(" ")


def check_who_sees_which_application(world: World) -> None:
    """Beyond status codes: each person sees only their own records on the pages they reach."""
    mine, hidden, others = world.assigned, world.conflicted, world.others

    answers = text_of(world, APPLICANT, "/application/check-answers")
    assert APPLICANT_ORGANISATION in answers
    assert str(mine.organisation_name) not in answers

    listing = text_of(world, REVIEWER, "/panel/")
    assert str(mine.organisation_name) in listing
    assert str(hidden.organisation_name) not in listing
    assert str(others.organisation_name) not in listing

    listing = text_of(world, CONFLICTED, "/panel/")
    assert str(others.organisation_name) in listing
    assert str(hidden.organisation_name) not in listing

    # The shared shortlist has no row for the application the reviewer is conflicted with.
    shortlist = f"/panel/shortlists/{world.named['shared_run']}"
    row = f'tr[data-reference="{hidden.reference}"]'
    assert page_of(world, REVIEWER, shortlist).select_one(row) is not None
    page = page_of(world, CONFLICTED, shortlist)
    assert page.select_one(row) is None
    assert str(hidden.organisation_name) not in page.get_text(" ")


def test_every_route_gives_each_role_exactly_the_expected_access(app: Flask) -> None:
    assert coverage_problems(app) == []
    world = build_world(app)
    check_who_sees_which_application(world)

    checked, failures = walk(app, world, MATRIX)

    assert checked == len(MATRIX) * len(ROLES)
    assert not failures, f"{len(failures)} of {checked} cells wrong:\n" + "\n".join(failures)


def test_the_matrix_catches_a_route_that_lost_its_access_check(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Take the role check off a staff action and the panel's review page: the walk must report
    the wrong outcomes and the write the refused request made."""
    world = build_world(app)
    endpoints = ("staff.share", "panel.review")
    for endpoint in endpoints:
        monkeypatch.setitem(app.view_functions, endpoint, app.view_functions[endpoint].__wrapped__)

    checked, failures = walk(app, world, [r for r in MATRIX if r.endpoint in endpoints])

    assert checked == 3 * len(ROLES)
    reported = "\n".join(failures)
    share = f"POST /staff/runs/{world.named['shared_run']}/share"
    assert f"{share} as reviewer: expected forbidden, got 302" in reported
    wrote = f"{share} as reviewer: must not write but changed"
    [written] = [line for line in failures if line.startswith(wrote)]
    assert "selection_runs" in written
    review = f"/panel/applications/{world.assigned.id}/review"
    assert f"GET {review} as staff: expected forbidden, got 404" in reported
    # The panel's own check still hides an application its reviewer is conflicted with.
    hidden = f"/panel/applications/{world.conflicted.id}/review"
    assert f"{hidden} as conflicted-reviewer" not in reported
