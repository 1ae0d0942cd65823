"""Protections checked on every route of ``app.url_map``, not a sample: security headers and no
caching on every GET (signed in as the role that can open it), CSRF on every POST, a forged Host
refused everywhere, and the production cookie and HSTS settings on a real response.

The route list comes from the app, so a new page or form is covered without editing this file;
the test world (tests/app/world.py) gives the ids to put in the URLs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select
from werkzeug.routing import Rule

from app import create_app
from app.config import DevelopmentConfig, ProductionConfig
from app.extensions import db
from tests.app.apply.journey import ELIGIBILITY_IDS, pass_eligibility
from tests.app.conftest import sign_in_as
from tests.app.fuzz.test_fuzz_forms import form_fields, prepare_client
from tests.app.fuzz.world import CASES
from tests.app.helpers import Client
from tests.app.test_security import assert_not_cached, assert_secure_headers
from tests.app.world import World, reuse_per_database

ANONYMOUS = {"auth.sign_in", "auth.forgot_password", "auth.set_password", "static"}


def url_for_rule(rule: Rule, world: World) -> str:
    values: dict[str, Any] = {
        "application_id": world.assigned_id,
        "round_id": world.round_id,
        "run_id": world.confirmed_run_id,
        "user_id": world.reviewer.id,
        "reviewer_id": world.reviewer.id,
        "page_id": "organisation",
        "question_id": ELIGIBILITY_IDS[0],
        "decision": "not_selected",
        "filename": "site.css",
        "token": world.invite_token if rule.endpoint == "auth.set_password" else world.draft_token,
        "proof": "not-a-proof",
        "letter_id": world.letter_id,
        "code": "cy",
    }
    if rule.endpoint == "apply.reminder_opt_out":
        values["token"] = world.opt_out_token
    if rule.endpoint == "staff.assisted_page":
        values["application_id"] = world.assisted_id
    missing = set(rule.arguments) - set(values)
    assert not missing, f"teach url_for_rule the argument(s) {missing} of {rule.rule}"
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


def who_opens(endpoint: str) -> str | None:
    if endpoint.startswith("apply.") or endpoint in ANONYMOUS:
        return None
    if endpoint.startswith("panel."):
        return "reviewer"
    return "admin"  # every staff and admin page admits admins


def test_every_get_route_sends_the_security_headers_and_is_not_cached(app: Flask) -> None:
    world = reuse_per_database(app)
    clients: dict[str | None, Client] = {}
    for role in (None, "admin", "reviewer"):
        clients[role] = Client(app.test_client())
        if role:
            sign_in_as(clients[role], getattr(world, role))
    pass_eligibility(clients[None])
    checked = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        url = url_for_rule(rule, world)
        response = clients[who_opens(rule.endpoint)].get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert response.status_code != 403, f"{url}: signed in as the wrong role"
        assert_secure_headers(response)
        assert "Strict-Transport-Security" not in response.headers, "HSTS is for HTTPS only"
        if rule.endpoint != "static":
            assert_not_cached(response)
        checked.append((url, response.status_code))
    assert len(checked) >= 40, checked
    # Most pages really rendered (not just redirects to sign in).
    assert sum(1 for _, status in checked if status == 200) >= len(checked) * 3 // 4, checked


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def plausible_body(fields: list[Any]) -> dict[str, str]:
    """What a person might send: the first option of each choice, some text elsewhere."""
    body = {}
    for field in fields:
        if field.kind == "file":
            continue
        body[field.name] = field.options[0] if field.options else "Some words 12"
    return body


@pytest.mark.parametrize("forged", [False, True], ids=["no token", "forged token"])
def test_every_post_route_refuses_a_request_without_a_valid_csrf_token(
    app: Flask, forged: bool
) -> None:
    world = reuse_per_database(app)
    db.session.commit()
    refused = 0
    for case in CASES:
        client = Client(app.test_client())
        prepare_client(client, case, world)
        url = case.urls(world)[0]
        page = client.get_page(case.source(world, url) if case.source else url)
        action, fields, token = form_fields(page, url)
        body = plausible_body(fields)
        if forged:
            body["csrf_token"] = token[:-6] + "AAAAAA"
        else:
            body.pop("csrf_token", None)
        before = table_counts()
        response = client.client.post(action, data=body)
        where = f"{case.endpoint} as {case.role}: POST {action} -> {response.status_code}"
        assert response.status_code in (200, 400), where
        text = BeautifulSoup(response.data, "html.parser").get_text(" ", strip=True)
        # The CSRF error page, or (on applicants' pages) the answers kept with a message.
        assert "timed out" in text or "open for a long time" in text, where
        assert table_counts() == before, f"{where}: wrote without a valid token"
        refused += 1
    assert refused == len(CASES)


class _Production(ProductionConfig):
    SECRET_KEY = "production-test-key-" + "x" * 32
    PUBLIC_BASE_URL = "https://partners.example.org"
    SESSION_COOKIE_SECURE = True


def _production_app(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, config: type) -> Flask:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'production.sqlite3'}"
    return create_app(type("Config", (config,), {"SQLALCHEMY_DATABASE_URI": url}))


def test_production_cookies_are_secure_http_only_same_site_and_hsts_is_sent(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = _production_app(tmp_path, monkeypatch, _Production)
    response = application.test_client().get("/sign-in", base_url="https://partners.example.org")
    assert response.status_code == 200
    cookies = [c for c in response.headers.getlist("Set-Cookie") if "partner_select_session" in c]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    attributes = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= attributes, attributes
    hsts = response.headers.get("Strict-Transport-Security", "")
    assert "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 15_552_000
    assert_secure_headers(response)


def test_local_development_sends_no_hsts(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    application = _production_app(tmp_path, monkeypatch, DevelopmentConfig)
    response = application.test_client().get("/sign-in")
    assert "Strict-Transport-Security" not in response.headers


ATTACKS = [
    "//evil.example",
    "//evil.example/staff/",
    "https://evil.example",
    "https:evil.example",
    "http://localhost.evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "///evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_sign_in_next_never_leaves_the_site(client: Client, make_user: Any, attack: str) -> None:
    user = make_user("staff")
    url = f"/sign-in?next={attack}"
    page = client.get_page(url)
    for tag in page.select("[href], [action], [src]"):
        # Links and forms stay on this site (the form may carry `next` on to the POST).
        value = str(tag.get("href") or tag.get("action") or tag.get("src")).strip()
        if value == "data:,":  # the empty favicon
            continue
        parts = urlsplit(value)
        assert parts.scheme in ("", "http", "https", "mailto", "tel"), value
        assert parts.netloc in ("", "localhost") or parts.scheme in ("mailto", "tel"), value
    response = client.submit(url, {"email": user.email, "password": "correct horse battery staple"})
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert parts.path.startswith("/") and not parts.path.startswith("//"), location
    assert "\\" not in location and "evil" not in location, location
    assert location.endswith("/staff/")


def test_a_safe_next_is_followed(client: Client, make_user: Any) -> None:
    user = make_user("staff")
    response = client.submit(
        "/sign-in?next=/users", {"email": user.email, "password": "correct horse battery staple"}
    )
    assert response.headers["Location"].endswith("/users")


def test_a_multipart_part_without_a_readable_name_is_refused_everywhere(app: Flask) -> None:
    """Found by the fuzz: such a part became a None key and flask-wtf failed on it (a 500)."""
    world = reuse_per_database(app)
    db.session.commit()
    for case in CASES:
        client = Client(app.test_client())
        prepare_client(client, case, world)
        url = case.urls(world)[0]
        page = client.get_page(case.source(world, url) if case.source else url)
        action, _fields, token = form_fields(page, url)
        before = table_counts()
        response = client.client.post(
            action,
            data={"csrf_token": token, "\r": "x"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, (case.endpoint, response.status_code)
        assert "there is a problem with that request" in response.get_data(as_text=True)
        assert table_counts() == before


FOREIGN_HOST = "attacker.example"


def test_every_route_refuses_a_host_that_is_not_the_services(app: Flask) -> None:
    """A forged Host header gets the plain 400 page on every route and method, signed in or not,
    and writes nothing: no reset or resume link can be built on it."""
    world = reuse_per_database(app)
    db.session.commit()
    anonymous, admin = app.test_client(), app.test_client()
    sign_in_as(Client(admin), world.admin)
    session = admin.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="localhost")
    assert session is not None
    # The signed-in cookie goes with the forged host too, as a crafted request would send it.
    admin.set_cookie(session.key, session.value, domain=FOREIGN_HOST)
    before = table_counts()
    checked = 0
    for rule in app.url_map.iter_rules():
        url = url_for_rule(rule, world)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for client in (anonymous, admin):
                response = client.open(url, method=method, headers={"Host": FOREIGN_HOST})
                where = f"{method} {url}"
                assert response.status_code == 400, (where, response.status_code)
                assert b"Check the web address" in response.data, where
                assert "Location" not in response.headers, where
                checked += 1
    assert checked >= 100, checked
    assert table_counts() == before
