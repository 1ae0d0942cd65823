"""PostgreSQL goes away under pooled connections (its backends terminated, as a restart or a
failover leaves them): SQLAlchemy's pool_pre_ping finds each dead connection as it is handed out
and replaces it, so the next request works, however recently the connection was used."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import VALID, complete_application, pass_eligibility
from tests.app.helpers import Client
from tests.postgres import POSTGRES_ADMIN_URL, terminate_backends

pytestmark = pytest.mark.postgres

CHECK_ANSWERS = "/application/check-answers"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def app_config(database_url: str) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": database_url}


@pytest.fixture
def pings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every ping of a pooled connection (SQLAlchemy's pool_pre_ping calls the dialect's
    do_ping)."""
    seen: list[object] = []
    dialect = db.engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(dbapi_connection)
        return bool(ping(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return seen


@pytest.fixture
def server_restart(app: Flask) -> Iterator[Any]:
    """Ends every PostgreSQL backend serving this app's database, as a restart does; the pooled
    connections stay in the pool, their sockets dead."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = db.engine.url.database

    def restart() -> None:
        db.session.rollback()  # the test's own connection goes back to the pool first
        assert db.engine.pool.checkedin() > 0, "nothing pooled: the test would prove nothing"
        with admin.connect() as connection:
            terminate_backends(connection, name)
            for _ in range(100):  # terminating is asynchronous: wait until they have gone
                left = connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                ).scalar_one()
                if left == 0:
                    return
                time.sleep(0.05)
        raise AssertionError("the backends did not end")

    yield restart
    admin.dispose()


def count(model: Any, **where: Any) -> int:
    db.session.rollback()
    query = select(func.count()).select_from(model).filter_by(**where)
    return int(db.session.scalar(query) or 0)


def test_a_page_read_right_after_a_restart_gets_a_new_connection(
    client: Client, open_round: Round, server_restart: Any, pings: list[object]
) -> None:
    pass_eligibility(client)
    assert client.get("/application").status_code == 200
    server_restart()
    pings.clear()

    response = client.get("/application")

    assert response.status_code == 200  # not the "try again" page
    assert pings, "the connection was handed out without a ping"


def test_the_final_submit_right_after_a_restart_is_sent(
    client: Client, open_round: Round, server_restart: Any
) -> None:
    complete_application(client)
    form = {**client.hidden_fields(CHECK_ANSWERS), **DECLARATION}
    server_restart()

    response = client.client.post(CHECK_ANSWERS, data=form)

    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith("/application/confirmation")
    assert count(Application, status="submitted") == 1
    assert count(OutboxMessage, kind="confirmation") == 1


def test_a_page_saved_right_after_a_restart_is_saved(
    client: Client, open_round: Round, server_restart: Any
) -> None:
    pass_eligibility(client)
    url = "/application/organisation"
    body = {**client.hidden_fields(url), **VALID["organisation"]}
    server_restart()

    saved = client.client.post(url, data=body)

    assert saved.status_code == 302, saved.status_code  # not the "try again" page
    db.session.rollback()
    application = db.session.scalars(select(Application)).one()
    assert (
        application.answers["organisation"]["organisation_name"]
        == VALID["organisation"]["organisation_name"]
    )
