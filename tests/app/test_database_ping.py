"""PostgreSQL goes away under pooled connections (its backends terminated, as a restart or a
failover leaves them): a connection idle for DATABASE_PING_AFTER_IDLE_SECONDS is pinged and
replaced before use; one used more recently is not pinged, so its request's first statement finds
it dead: the final submit tries once more on a new connection, another page says "try again in a
moment" with the answers kept, and the next request works (SQLAlchemy retired the whole pool)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from app import database
from app.extensions import db
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import (
    PAGE_ORDER,
    VALID,
    complete_application,
    fill_pages,
    pass_eligibility,
)
from tests.app.apply.test_database_down import retry_form, unavailable_page
from tests.app.helpers import Client
from tests.postgres import POSTGRES_ADMIN_URL, terminate_backends

pytestmark = pytest.mark.postgres

CHECK_ANSWERS = "/application/check-answers"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def idle_seconds() -> float:
    return 3600.0  # never idle long enough: no ping


@pytest.fixture
def app_config(database_url: str, idle_seconds: float) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATABASE_PING_AFTER_IDLE_SECONDS": idle_seconds,
    }


@pytest.fixture
def pings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every ping of a pooled connection (ours, or SQLAlchemy's pool_pre_ping, which calls the
    same dialect method)."""
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


@pytest.mark.parametrize("idle_seconds", [0.0])
def test_an_idle_connection_is_pinged_and_replaced_when_the_server_has_gone(
    client: Client, open_round: Round, server_restart: Any, pings: list[object]
) -> None:
    pass_eligibility(client)
    assert client.get("/application").status_code == 200
    server_restart()
    pings.clear()

    response = client.get("/application")

    assert response.status_code == 200  # not the "try again" page
    assert pings, "the connection was handed out without a ping"


def test_a_connection_used_a_moment_ago_is_not_pinged(
    client: Client, open_round: Round, pings: list[object]
) -> None:
    pass_eligibility(client)
    fill_pages(client, PAGE_ORDER[:3])
    for _ in range(5):
        assert client.get("/application").status_code == 200
    assert pings == []  # neither ours nor SQLAlchemy's pool_pre_ping


@pytest.mark.parametrize("idle_seconds", [30.0])
def test_a_connection_is_pinged_only_after_the_idle_time(
    client: Client, open_round: Round, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(database, "monotonic", lambda: clock[0])
    pass_eligibility(client)
    assert client.get("/application").status_code == 200
    pings.clear()
    clock[0] += 29.0
    assert client.get("/application").status_code == 200
    assert pings == []
    clock[0] += 31.0
    assert client.get("/application").status_code == 200
    assert len(pings) >= 1


def test_the_final_submit_is_sent_on_a_new_connection_if_its_pooled_one_has_died(
    client: Client, open_round: Round, server_restart: Any, pings: list[object]
) -> None:
    complete_application(client)
    form = {**client.hidden_fields(CHECK_ANSWERS), **DECLARATION}
    server_restart()

    response = client.client.post(CHECK_ANSWERS, data=form)

    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith("/application/confirmation")
    assert pings == []  # the dead connection was found by the send's first statement
    assert count(Application, status="submitted") == 1
    assert count(OutboxMessage, kind="confirmation") == 1


def test_a_page_saved_on_a_dead_connection_says_try_again_and_the_retry_saves_it(
    client: Client, open_round: Round, server_restart: Any
) -> None:
    pass_eligibility(client)
    url = "/application/organisation"
    body = {**client.hidden_fields(url), **VALID["organisation"]}
    server_restart()

    page = unavailable_page(client.client.post(url, data=body))
    action, data = retry_form(page)
    assert data["organisation_name"] == VALID["organisation"]["organisation_name"]
    saved = client.client.post(action, data=data)

    assert saved.status_code == 302, saved.status_code
    db.session.rollback()
    application = db.session.scalars(select(Application)).one()
    assert (
        application.answers["organisation"]["organisation_name"]
        == (VALID["organisation"]["organisation_name"])
    )
