"""The final submit's rate limit (APPLY_SUBMIT_RATE_LIMIT, Flask-Limiter's decorator on the check
answers page): every POST counts, per client address; one over the limit is refused with when to
come back and nothing written; counted in Redis when RATELIMIT_STORAGE_URI names one, so every
worker shares it. Redis going down and coming back: tests/app/security/test_redis_down.py.

Redis database 10 is this module's alone: its test calls `limiter.reset()`, which empties every
rate-limit key of its database.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.config import ConfigError
from app.extensions import db, limiter
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import complete_application
from tests.app.factories import make_round
from tests.app.helpers import Client
from tests.conftest import reachable_redis

REDIS_URL = "redis://127.0.0.1:6379/10"
CHECK_ANSWERS = "/application/check-answers"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}
ADDRESS = "203.0.113.57"  # the applicant's; personal data, kept out of the logs


def post(client: Client, declared: bool, body: dict[str, str] | None = None) -> Any:
    body = body or client.hidden_fields(CHECK_ANSWERS)
    return client.client.post(
        CHECK_ANSWERS,
        data={**body, **(DECLARATION if declared else {})},
        environ_base={"REMOTE_ADDR": ADDRESS},
    )


def statuses() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(Application.status)))


def emails() -> int:
    return len(db.session.scalars(select(OutboxMessage.id)).all())


@pytest.fixture
def settings() -> dict[str, Any]:
    """Extra settings for one test: parametrise `settings` to change them."""
    return {}


@pytest.fixture
def app_config(app_config: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "APPLY_SUBMIT_RATE_LIMIT": "2 per hour", **settings}


def test_a_send_over_the_limit_is_refused_with_when_to_come_back_and_nothing_written(
    app: Flask, client: Client, open_round: Round, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    complete_application(client)
    queued = emails()  # the resume link, if the journey emailed one
    started = time.time()
    # Every POST counts, a send without the declaration too (it shows what to fix).
    assert [post(client, declared=False).status_code for _ in range(2)] == [200, 200]
    refused = post(client, declared=True)
    assert refused.status_code == 429
    assert "try again" in refused.get_data(as_text=True).lower()
    wait = int(refused.headers["Retry-After"])
    # The first of the two counted POSTs leaves the hour's moving window first.
    assert 3600 - (time.time() - started) - 2 <= wait <= 3602
    assert statuses() == ["draft"]
    assert emails() == queued  # no confirmation
    refusals = [r.getMessage() for r in caplog.records if r.name == "flask-limiter"]
    assert refusals == [
        "ratelimit 2 per 1 hour (address withheld) exceeded at endpoint: apply.check_answers"
    ]
    assert ADDRESS not in caplog.text


def test_the_limit_is_per_address(app: Flask, client: Client, open_round: Round) -> None:
    complete_application(client)
    body = client.hidden_fields(CHECK_ANSWERS)
    for _ in range(2):
        post(client, declared=False, body=body)
    assert post(client, declared=True, body=body).status_code == 429
    # Another address (behind the trusted proxy, ProxyFix sets remote_addr) is not refused.
    other = client.client.post(
        CHECK_ANSWERS, data={**body, **DECLARATION}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert other.status_code == 302
    assert other.headers["Location"].endswith("/application/confirmation")
    assert statuses() == ["submitted"]


def test_reading_the_page_is_not_counted(app: Flask, client: Client, open_round: Round) -> None:
    complete_application(client)
    for _ in range(3):
        client.get_page(CHECK_ANSWERS)
    assert post(client, declared=True).status_code == 302


@pytest.mark.parametrize("settings", [{"RATELIMIT_ENABLED": False}], ids=["off"])
def test_no_limit_when_rate_limits_are_off(app: Flask, client: Client, open_round: Round) -> None:
    complete_application(client)
    assert {post(client, declared=False).status_code for _ in range(3)} == {200}
    assert post(client, declared=True).status_code == 302


def test_the_count_is_shared_through_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two apps, as two gunicorn workers or hosts, on one database and one Redis: the third POST
    in an hour from one address is refused, whichever takes it (with counts per process, the
    first app would have seen only its second)."""
    reachable_redis(REDIS_URL)
    apps = []
    for name in ("one", "two"):
        monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / name))
        apps.append(
            create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
                    "RATELIMIT_STORAGE_URI": REDIS_URL,
                    "APPLY_SUBMIT_RATE_LIMIT": "2 per hour",
                }
            )
        )
    first, second = apps
    with first.app_context():
        upgrade()
        make_round("redis")
        limiter.reset()  # Redis database 10 is this test's alone
        client = Client(first.test_client())
        complete_application(client)
        body = client.hidden_fields(CHECK_ANSWERS)
        cookie = client.client.get_cookie("partner_select_session")
    answers = []
    try:
        for app in (first, second):
            with app.app_context():
                other = app.test_client()
                other.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
                answers.append(other.post(CHECK_ANSWERS, data=body).status_code)
        with first.app_context():
            refused = client.client.post(CHECK_ANSWERS, data={**body, **DECLARATION})
            answers.append(refused.status_code)
            assert statuses() == ["draft"]
    finally:
        with first.app_context():
            limiter.reset()
    assert answers == [200, 200, 429]
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3602


@pytest.mark.parametrize("setting", ["twenty an hour", "", "0 per hour"])
def test_a_limit_that_cannot_be_read_stops_the_service_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    """Flask-Limiter would log such a limit and apply none."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "bad"))
    with pytest.raises(ConfigError, match=r"APPLY_SUBMIT_RATE_LIMIT = .* is not a rate limit"):
        create_app({"APPLY_SUBMIT_RATE_LIMIT": setting})
