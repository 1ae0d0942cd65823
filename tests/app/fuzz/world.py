"""Every POST endpoint with the role that can use it and the URLs to post to, in the test world
(tests/app/world.py).

`Case` says, for one endpoint, who signs in, where its form is (the page whose HTML names the
fields) and which URLs to post to. `CASES` must cover every POST rule of ``app.url_map``
(``test_every_post_endpoint_is_fuzzed``), so a new form cannot escape the fuzz.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.applications.questions import PAGES
from tests.app.apply.journey import ELIGIBILITY_IDS
from tests.app.world import World

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
    Case("apply.reminder_opt_out", None, _one(lambda w: f"/reminders/opt-out/{w.opt_out_token}")),
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
        _one(lambda w: f"/staff/applications/{w.assigned_id}/everything.json"),
        source=lambda w, url: f"/staff/applications/{w.assigned_id}",
    ),
    # Panel.
    Case("panel.review", "reviewer", _one(lambda w: f"/panel/applications/{w.assigned_id}/review")),
    Case(
        "panel.conflict",
        "reviewer",
        _one(lambda w: f"/panel/applications/{w.assigned_id}/conflict"),
    ),
    # Staff: applications.
    Case(
        "staff.screening",
        "staff",
        _one(lambda w: f"/staff/applications/{w.assigned_id}/screening"),
    ),
    Case(
        "staff.withdraw",
        "staff",
        _one(lambda w: f"/staff/applications/{w.assigned_id}/withdraw"),
    ),
    Case("staff.merge", "staff", _one(lambda w: f"/staff/applications/{w.assigned_id}/merge")),
    Case("staff.erase", "admin", _one(lambda w: f"/staff/applications/{w.assigned_id}/erase")),
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
    # Staff: the print queue.
    Case(
        "staff.letter_posted",
        "staff",
        _one(lambda w: f"/staff/letters/{w.letter_id}/posted"),
        source=lambda w, url: "/staff/letters",
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
        _one(lambda w: f"/staff/applications/{w.assigned_id}/reviewers"),
    ),
    Case(
        "staff.assignment_unassign",
        "staff",
        _one(lambda w: f"/staff/applications/{w.assigned_id}/reviewers/{w.reviewer.id}/remove"),
        source=lambda w, url: f"/staff/applications/{w.assigned_id}/reviewers",
    ),
    Case(
        "staff.moderation_application",
        "staff",
        _one(lambda w: f"/staff/applications/{w.assigned_id}/moderation"),
    ),
    Case(
        "staff.moderation_feedback",
        "staff",
        _one(lambda w: f"/staff/applications/{w.assigned_id}/moderation/feedback"),
        source=lambda w, url: f"/staff/applications/{w.assigned_id}/moderation",
    ),
    # Staff: round settings and quotas.
    Case("staff.rubric_page", "staff", _one(lambda w: f"/staff/rounds/{w.round_id}/rubric")),
    Case("staff.outcome_letters", "staff", _one(lambda w: f"/staff/rounds/{w.round_id}/letters")),
    Case(
        "staff.outcome_letter",
        "staff",
        lambda w: [
            f"/staff/rounds/{w.round_id}/letters/{d}"
            for d in ("selected", "reserve", "not_selected", "ineligible", "withdrawn")
        ],
    ),
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
        source=lambda w, url: f"/staff/runs/{w.run_id}/confirm",
    ),
    Case(
        "staff.outcomes",
        "staff",
        _one(lambda w: f"/staff/runs/{w.confirmed_run_id}/outcomes"),
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
