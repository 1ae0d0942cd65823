"""Every staff route: anonymous people are sent to sign in; reviewers are refused (403)."""

from __future__ import annotations

from typing import Any

from app.models import Round
from tests.app.conftest import sign_in_as
from tests.app.factories import submitted_application
from tests.app.helpers import Client


def _routes(round_: Round, application_id: int) -> list[tuple[str, str]]:
    r, a = round_.id, application_id
    gets = [
        "/staff/",
        f"/staff/rounds/{r}/applications",
        f"/staff/applications/{a}",
        f"/staff/applications/{a}/screening",
        f"/staff/applications/{a}/withdraw",
        f"/staff/applications/{a}/merge",
        f"/staff/rounds/{r}/assisted",
        f"/staff/applications/{a}/enter",
        f"/staff/applications/{a}/enter/organisation",
        f"/staff/rounds/{r}/settings",
        f"/staff/rounds/{r}/quotas",
        f"/staff/rounds/{r}/quotas.csv",
    ]
    posts = [
        f"/staff/applications/{a}/screening",
        f"/staff/applications/{a}/withdraw",
        f"/staff/applications/{a}/merge",
        f"/staff/rounds/{r}/assisted",
        f"/staff/applications/{a}/enter/organisation",
        f"/staff/applications/{a}/send",
        f"/staff/rounds/{r}/settings",
        f"/staff/rounds/{r}/quotas",
        f"/staff/rounds/{r}/quotas/upload",
    ]
    return [("GET", url) for url in gets] + [("POST", url) for url in posts]


def test_anonymous_people_are_sent_to_sign_in(client: Client, round_: Round) -> None:
    application = submitted_application(round_)
    for method, url in _routes(round_, application.id):
        if method == "POST":
            token = client.hidden_fields("/sign-in")["csrf_token"]
            response = client.client.post(url, data={"csrf_token": token})
        else:
            response = client.get(url)
        assert response.status_code == 302, (method, url)
        assert "/sign-in" in response.headers["Location"], (method, url)


def test_reviewers_are_refused_every_staff_route(
    client: Client, round_: Round, make_user: Any
) -> None:
    application = submitted_application(round_)
    sign_in_as(client, make_user("reviewer"))
    token = client.get_page("/panel/").select_one("input[name=csrf_token]")["value"]
    for method, url in _routes(round_, application.id):
        if method == "POST":
            response = client.client.post(url, data={"csrf_token": token, "reason": "x"})
        else:
            response = client.get(url)
        assert response.status_code == 403, (method, url)
    # Nothing changed.
    from app.extensions import db
    from app.models import Application

    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "submitted"


def test_staff_and_admins_get_in(client: Client, round_: Round, make_user: Any) -> None:
    for role in ("staff", "admin"):
        sign_in_as(client, make_user(role))
        page = client.get_page(f"/staff/rounds/{round_.id}/applications")
        assert page.select_one("h1").get_text(strip=True) == "Applications"
        client.client.delete_cookie("partner_select_session", domain="localhost")
