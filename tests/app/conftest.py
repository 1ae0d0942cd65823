"""Web-layer fixtures: an app per test on SQLite and on PostgreSQL, and a page-reading client.

Each database is created once per run and migrated with Alembic (so the migrations are tested on
both); between tests every table is emptied.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.extensions import db, limiter
from app.models import Round, utcnow
from app.rounds import create_round
from tests.app.helpers import Client
from tests.conftest import skip_or_fail
from tests.postgres import DatabaseUnavailable, fresh_postgres_database


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        with fresh_postgres_database("partner_select_test") as url:
            yield url
    except DatabaseUnavailable as error:
        skip_or_fail(str(error))


_migrated: set[str] = set()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def app_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """Override in a test module to change settings."""
    return {"SQLALCHEMY_DATABASE_URI": database_url}


class FreshContextClient(FlaskClient):
    """Each request in its own app context, as in production.

    The test itself runs inside an app context (to use db.session); without this, requests would
    share its `g` (cached current user, CSRF token) and its database session. After each request
    the test's session is rolled back (before, so it holds no lock; after, so it reads what
    the request committed). Commit what a request must see.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # End the test's own transaction first: on SQLite it may hold the write lock.
        if has_app_context():
            db.session.rollback()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.rollback()
        return response


@pytest.fixture
def app(
    tmp_path: Path, app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(dict(app_config))
    application.test_client_class = FreshContextClient
    with application.app_context():
        url = application.config["SQLALCHEMY_DATABASE_URI"]
        if url not in _migrated:
            upgrade()
            _migrated.add(url)
        _empty_tables()
        if application.config["RATELIMIT_ENABLED"]:  # else the limiter has no storage
            limiter.reset()
        yield application
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def open_round(app: Flask) -> Round:
    now = utcnow()
    round_ = create_round(
        db.session,
        slug="test-round",
        title="Partner sites 2027",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
    )
    db.session.commit()
    return round_


@pytest.fixture
def client(app: Flask) -> Client:
    return Client(app.test_client())


PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(app: Flask):  # type: ignore[no-untyped-def]
    """Create an active user with a password: make_user("reviewer", email=...)."""
    from app.auth.services import create_user

    def make(role: str = "staff", *, email: str | None = None, name: str = "Test Person") -> Any:
        user = create_user(
            db.session,
            email=email or f"{role}-{uuid.uuid4().hex[:6]}@example.org",
            name=name,
            role=role,
            password=PASSWORD,
        )
        db.session.commit()
        return user

    return make


def sign_in_as(client: Client, user: Any, password: str = PASSWORD) -> None:
    client.submit("/sign-in", {"email": user.email, "password": password})


def sign_out(client: Client, from_page: str = "/panel/") -> None:
    page = client.get_page(from_page)
    token = page.select_one('form[action="/sign-out"] input[name=csrf_token]')["value"]
    assert client.client.post("/sign-out", data={"csrf_token": token}).status_code == 302
