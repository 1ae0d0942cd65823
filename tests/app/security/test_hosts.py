"""Links are never built on a host a client sent (issue 17, point 1): production will not start
without PUBLIC_BASE_URL, every emailed or shown link is built on it when set, and a request for any
other host is refused with 400 (Flask's TRUSTED_HOSTS). Development works on 127.0.0.1 and
localhost without settings; the test client uses localhost."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.config import ConfigError, DevelopmentConfig, ProductionConfig, production_problems
from app.extensions import db
from app.models import OutboxMessage, Round
from tests.app.apply.journey import fill_pages, pass_eligibility
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, body_of, deliver_emails

PUBLIC = "https://partners.example.org"
FORGED = {"Host": "attacker.example"}
SETTINGS = {"SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "postgresql://db/partner_select"}


def configured_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: type, **settings: Any):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'hosts.sqlite3'}"
    return create_app(type("Config", (base,), {"SQLALCHEMY_DATABASE_URI": url, **settings}))


def test_production_needs_public_base_url_with_the_other_missing_settings() -> None:
    [missing] = production_problems(SETTINGS)
    assert missing.startswith("PUBLIC_BASE_URL is not set")
    everything = production_problems({})
    assert [p.split(" ", 1)[0] for p in everything] == [
        "SECRET_KEY",
        "PUBLIC_BASE_URL",
        "DATABASE_URL",
    ]
    assert production_problems({**SETTINGS, "PUBLIC_BASE_URL": PUBLIC}) == []
    assert production_problems({**SETTINGS, "PUBLIC_BASE_URL": "http://10.0.0.5:8000/"}) == []


@pytest.mark.parametrize(
    "wrong",
    [
        "partners.example.org",
        "ftp://partners.example.org",
        "https://",
        "https://x.org/?a=1",
        "https://someone@x.org",
        "https://x.org:port",
        "https://x.org#top",
    ],
)
def test_production_refuses_a_public_base_url_that_is_not_a_web_address(wrong: str) -> None:
    [problem] = production_problems({**SETTINGS, "PUBLIC_BASE_URL": wrong})
    assert problem == (
        "PUBLIC_BASE_URL is not a web address. Write it like https://partners.example.org."
    )


def test_production_will_not_start_without_public_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL is not set"):
        configured_app(tmp_path, monkeypatch, ProductionConfig, SECRET_KEY="k" * 64)


def test_production_answers_only_for_the_public_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = configured_app(
        tmp_path, monkeypatch, ProductionConfig, SECRET_KEY="k" * 64, PUBLIC_BASE_URL=PUBLIC
    )
    client = app.test_client()
    assert client.get("/sign-in", base_url=PUBLIC).status_code == 200
    for host in ("attacker.example", "partners.example.org.attacker.example", "127.0.0.1"):
        response = client.get("/sign-in", base_url=PUBLIC, headers={"Host": host})
        assert response.status_code == 400, host
        page = BeautifulSoup(response.data, "html.parser")
        assert page.select_one("h1").get_text() == "Sorry, there is a problem with that request"
        assert "Check the web address" in page.get_text()
    # Behind the proxy (TRUSTED_PROXIES=1) a forged X-Forwarded-Host is refused the same way.
    proxied = configured_app(
        tmp_path,
        monkeypatch,
        ProductionConfig,
        SECRET_KEY="k" * 64,
        PUBLIC_BASE_URL=PUBLIC,
        TRUSTED_PROXIES=1,
    ).test_client()
    forwarded = {"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"}
    assert proxied.get("/sign-in", base_url=PUBLIC, headers=forwarded).status_code == 400


def test_development_works_on_the_local_addresses_without_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    client = configured_app(tmp_path, monkeypatch, DevelopmentConfig).test_client()
    for base in ("http://127.0.0.1:5000", "http://localhost:5000", "http://localhost"):
        assert client.get("/sign-in", base_url=base).status_code == 200, base
    assert client.get("/sign-in", headers=FORGED).status_code == 400


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_forged_host_cannot_ask_for_a_reset_link(app: Flask, make_user: Any) -> None:
    """The attack: ask for an admin's reset with Host: attacker.example, so the emailed link
    points there. The form's page and the request are both refused; nothing is queued."""
    admin = make_user("admin")
    client = app.test_client()
    page = client.get("/forgot-password", headers=FORGED)
    token = BeautifulSoup(page.data, "html.parser").select_one("input[name=csrf_token]")
    body = {"email": admin.email, "csrf_token": token["value"] if token else ""}
    sent = client.post("/forgot-password", data=body, headers=FORGED)
    assert (page.status_code, sent.status_code) == (400, 400)
    assert outbox() == []


def test_a_forged_host_cannot_get_a_resume_link(client: Client, open_round: Round) -> None:
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    session = client.client.get_cookie(client.client.application.config["SESSION_COOKIE_NAME"])
    assert session is not None
    client.client.set_cookie(session.key, session.value, domain="attacker.example")
    hidden = client.hidden_fields("/application")
    shown = client.client.get("/application", headers=FORGED)
    emailed = client.client.post(
        "/application/email-link",
        data={**hidden, "email": "someone@example.org"},
        headers=FORGED,
    )
    assert (shown.status_code, emailed.status_code) == (400, 400)
    assert b"/resume/" not in shown.data
    assert outbox() == []


def test_every_link_is_built_on_public_base_url_when_set(
    app: Flask, client: Client, open_round: Round, make_user: Any
) -> None:
    app.config["PUBLIC_BASE_URL"] = PUBLIC + "/"
    link = re.compile(r"https?://[^\s\"'<>]+/(?:resume|set-password)/[^\s\"'<>]+")
    # The resume link, on the task list and emailed.
    pass_eligibility(client)
    fill_pages(client, ["organisation"])
    shown = client.get_page("/application").select_one("#resume-link .resume-link a")["href"]
    hidden = client.hidden_fields("/application")
    client.client.post("/application/email-link", data={**hidden, "email": "a@example.org"})
    # An invitation, and a password reset.
    admin = make_user("admin")
    staff = Client(app.test_client())
    sign_in_as(staff, admin)
    staff.submit(
        "/users/invite", {"name": "Rhiannon Price", "email": "r@example.org", "role": "staff"}
    )
    Client(app.test_client()).submit_page("/forgot-password", {"email": admin.email})

    assert {m.kind for m in outbox()} == {"resume-link", "invitation", "password-reset"}
    emailed = [found for m in deliver_emails() for found in link.findall(body_of(m))]
    # One link each; the emailed resume link is the one shown, with a proof of the address.
    assert len(emailed) == 3
    assert any(found.startswith(shown + "/") for found in emailed)
    for found in [shown, *emailed]:
        assert found.startswith(f"{PUBLIC}/resume/") or found.startswith(
            f"{PUBLIC}/set-password/"
        ), found
