"""Request-level protections: security headers, cookies, CSP-compatible pages, body size limit,
friendly error pages and no open redirect through `?return=`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.config import ProductionConfig
from app.extensions import db
from app.models import Application, Round
from tests.app.apply.journey import (
    ELIGIBILITY_IDS,
    PAGE_ORDER,
    VALID,
    complete_application,
    pass_eligibility,
    send,
)
from tests.app.apply.test_logs import resume_token
from tests.app.helpers import Client

# Referrer policies that never send a page's path (which can hold a resume token) to another site.
PRIVATE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
ATTACKER = "https://attacker.example/phish"


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request.path} has no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_secure_headers(response: TestResponse) -> None:
    path = response.request.path
    csp = csp_directives(response)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], path
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"], path
    assert csp.get("frame-ancestors") == ["'none'"], path
    assert csp.get("default-src") == ["'self'"], path
    for directive in ("script-src", "style-src"):
        # A missing directive falls back to default-src 'self', which is as strict.
        assert set(csp.get(directive, ["'self'"])) <= {"'self'"}, (path, directive)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") in PRIVATE_REFERRER_POLICIES, path


def assert_not_cached(response: TestResponse) -> None:
    cache_control = response.headers.get("Cache-Control", "")
    assert "no-store" in [part.strip() for part in cache_control.split(",")], (
        f"{response.request.path}: Cache-Control {cache_control!r}"
    )


def assert_csp_compatible(html: bytes, url: str) -> None:
    """No inline script, style or event handler: the CSP would block them."""
    page = BeautifulSoup(html, "html.parser")
    for script in page.select("script"):
        assert script.get("src"), f"{url}: inline <script>"
        assert not script.get_text(strip=True), f"{url}: <script src> with inline code"
    assert not page.select("style"), f"{url}: inline <style> element"
    for tag in page.find_all(True):
        assert not tag.has_attr("style"), f"{url}: style attribute on <{tag.name}>"
        handlers = [name for name in tag.attrs if name.lower().startswith("on")]
        assert not handlers, f"{url}: event handler {handlers} on <{tag.name}>"
        for attribute in ("href", "src", "action"):
            value = str(tag.get(attribute, "")).strip().lower()
            assert not value.startswith("javascript:"), f"{url}: javascript: URL"


def journey_urls() -> list[str]:
    """Every page an applicant sees on the way to sending."""
    return [
        "/",
        "/privacy",
        "/accessibility",
        "/paper-form",
        *(f"/eligibility/{question_id}" for question_id in ELIGIBILITY_IDS),
        f"/eligibility/{ELIGIBILITY_IDS[0]}/not-suitable",
        "/application",
        *(f"/application/{page_id}" for page_id in PAGE_ORDER),
        "/application/check-answers",
    ]


def test_every_page_has_the_security_headers_and_no_inline_code(
    client: Client, open_round: Round
) -> None:
    complete_application(client)
    urls = [*journey_urls(), "/no-such-page"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert_secure_headers(response)
        assert_csp_compatible(response.data, url)
    confirmation = send(client)
    response = client.get(confirmation)
    assert response.status_code == 200
    assert_secure_headers(response)
    assert_csp_compatible(response.data, confirmation)


def test_pages_with_answers_are_never_cached(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    client.submit("/application/organisation", VALID["organisation"])
    for url in ("/application", "/application/organisation", "/application/check-answers"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_not_cached(response)
    for page_id in PAGE_ORDER[1:]:
        client.submit(f"/application/{page_id}", VALID[page_id])
    confirmation = send(client)
    response = client.get(confirmation)
    assert response.status_code == 200
    assert_not_cached(response)


def test_the_session_cookie_is_http_only_and_same_site_lax(
    client: Client, open_round: Round
) -> None:
    response = client.submit(f"/eligibility/{ELIGIBILITY_IDS[0]}", {"answer": "yes"})
    cookies = [c for c in response.headers.getlist("Set-Cookie") if "partner_select_session=" in c]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    attributes = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_production_cookies_are_secure_by_default() -> None:
    # Secure unless SESSION_COOKIE_SECURE says otherwise in the environment.
    if "SESSION_COOKIE_SECURE" not in os.environ:
        assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE == "Lax"


def test_an_oversized_post_gets_the_friendly_413_page(
    app: Flask, client: Client, open_round: Round
) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    complete_application(client)
    form = client.hidden_fields("/application/difference")
    response = client.client.post(
        "/application/difference", data={**form, "difference": "word " * (limit // 5 + 100)}
    )
    assert response.status_code == 413
    page = BeautifulSoup(response.data, "html.parser")
    assert page.select_one("h1").get_text(strip=True) == "What you sent is too large"
    assert_secure_headers(response)
    # Nothing was saved: the earlier answer is kept.
    application = db.session.scalars(select(Application)).one()
    assert application.answers["difference"] == VALID["difference"]


def test_an_oversized_first_page_gets_the_friendly_413_page(
    app: Flask, client: Client, open_round: Round
) -> None:
    pass_eligibility(client)
    form = client.hidden_fields("/application/organisation")
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.client.post(
        "/application/organisation",
        data={**form, **VALID["organisation"], "organisation_name": padding},
    )
    assert response.status_code == 413
    assert "What you sent is too large" in response.get_data(as_text=True)
    assert db.session.scalars(select(Application)).first() is None


def test_an_unknown_address_gets_the_404_page(client: Client, app: Flask) -> None:
    page = client.get_page("/no-such-page", status=404)
    assert page.select_one("h1").get_text(strip=True) == "Page not found"
    assert page.select_one('a[href="/"]')
    client.get_page("/application/no-such-question", status=404)
    client.get_page("/eligibility/no-such-question", status=404)


def location_of(response: TestResponse) -> str:
    location = response.headers["Location"]
    assert urlsplit(location).netloc in ("", "localhost"), location
    return location


def test_return_only_accepts_check(client: Client, open_round: Round) -> None:
    complete_application(client)
    # Where saving the page leads with no return at all (the end of its section: the task list).
    plain = location_of(client.submit("/application/leadership", VALID["leadership"]))
    assert plain.endswith("/application")
    for attack in (ATTACKER, "//attacker.example/", "/\\attacker.example", "javascript:alert(1)"):
        url = f"/application/leadership?return={attack}"
        page = client.get_page(url)
        hrefs = [
            str(tag.get("href") or tag.get("action")) for tag in page.select("[href], [action]")
        ]
        assert not [h for h in hrefs if "attacker" in h or "javascript" in h], hrefs
        # Back is a button of the form (it saves the page): where it leads is the server's.
        back = location_of(client.submit(url, {**VALID["leadership"], "go": "back"}))
        assert back.endswith("/application/organisation")
        response = client.submit(url, VALID["leadership"])
        location = location_of(response)
        assert "attacker" not in location and "javascript" not in location
        # An unknown return is ignored: the journey goes on as if none were given.
        assert location == plain

    response = client.submit("/application/leadership?return=check", VALID["leadership"])
    assert location_of(response).endswith("/application/check-answers")


def test_a_resumed_session_lasts_30_days_from_its_last_use(
    client: Client, open_round: Round
) -> None:
    """The applicant's session is permanent and Flask signs it again on every response
    (SESSION_REFRESH_EACH_REQUEST), so its 30-day expiry moves on with each use."""

    def session_cookies(response: Any) -> list[str]:
        cookies = response.headers.getlist("Set-Cookie")
        return [c for c in cookies if "partner_select_session=" in c]

    def expiry(cookie: str) -> datetime:
        return parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])

    complete_application(client)
    token = resume_token(client)
    resumed = session_cookies(client.get(f"/resume/{token}"))
    assert len(resumed) == 1 and expiry(resumed[0]) - datetime.now(UTC) > timedelta(days=29)
    for _ in range(2):
        unchanged = client.get("/application")
        assert unchanged.status_code == 200
        refreshed = session_cookies(unchanged)
        assert len(refreshed) == 1
        assert expiry(refreshed[0]) - datetime.now(UTC) > timedelta(days=29)
