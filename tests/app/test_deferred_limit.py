"""The final submit's rate limit (app/deferred_limit.py): sent to Redis as the POST starts, its
answer read after the draft is read and before the claim; counted in memory without Redis.

Redis databases 10 and 11 are this module's alone; every test here has its own key prefix, and
the one test that calls `limiter.reset()` (which empties every rate-limit key of its database)
has database 10 to itself. Redis going down and coming back is tested in
tests/app/security/test_redis_down.py.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, select
from werkzeug.exceptions import TooManyRequests

from app import create_app, deferred_limit
from app.extensions import db, limiter, submit_limit
from app.models import Application, OutboxMessage, Round
from tests.app.apply.journey import complete_application, forget_readiness
from tests.app.factories import make_round
from tests.app.helpers import Client
from tests.conftest import reachable_redis

REDIS_URL = "redis://127.0.0.1:6379/11"
RESET_REDIS_URL = "redis://127.0.0.1:6379/10"  # for the one test that calls limiter.reset()
CHECK_ANSWERS = "/application/check-answers"
DECLARATION = {"confirm_correct": "yes", "confirm_privacy": "yes"}


def redis_client(url: str = REDIS_URL) -> Any:
    return reachable_redis(url)


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


# Counted in memory (no REDIS_URL, as `make run` and the tests run).


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
    assert 3600 - (time.time() - started) - 2 <= wait <= 3600
    assert statuses() == ["draft"]
    assert emails() == queued  # no confirmation
    refusals = [r.getMessage() for r in caplog.records if r.name == "app.deferred_limit"]
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


@pytest.mark.parametrize("settings", [{"RATELIMIT_ENABLED": False}], ids=["off"])
def test_no_limit_when_rate_limits_are_off(app: Flask, client: Client, open_round: Round) -> None:
    complete_application(client)
    assert {post(client, declared=False).status_code for _ in range(3)} == {200}
    assert post(client, declared=True).status_code == 302


# Counted in Redis.


def redis_app(tmp_path: Path, name: str, prefix: str, **settings: Any) -> Flask:
    """An app as one gunicorn worker or host runs it: the shared database and the shared Redis."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": prefix,
            "APPLY_SUBMIT_RATE_LIMIT": "2 per hour",
            "INSTANCE_PATH": str(tmp_path / name),
            **settings,
        }
    )


@pytest.fixture
def prefix() -> Iterator[str]:
    """This test's own key prefix; its keys are deleted afterwards."""
    clients = [redis_client(), redis_client(RESET_REDIS_URL)]
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    for client in clients:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


@pytest.fixture
def worker_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def two_workers(
    tmp_path: Path, prefix: str, worker_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> list[Flask]:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "one"))
    first = redis_app(tmp_path, "one", prefix, **worker_settings)
    with first.app_context():
        upgrade()
        make_round("redis")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "two"))
    return [first, redis_app(tmp_path, "two", prefix, **worker_settings)]


@pytest.mark.parametrize(
    "worker_settings", [{"RATELIMIT_STORAGE_URI": RESET_REDIS_URL}], ids=["own-database"]
)
def test_the_count_is_shared_through_redis_and_cleared_with_the_other_limits(
    two_workers: list[Flask], prefix: str
) -> None:
    first, second = two_workers
    with first.app_context():
        client = Client(first.test_client())
        complete_application(client)
        body = client.hidden_fields(CHECK_ANSWERS)
        cookie = client.client.get_cookie("partner_select_session")
    answers = []
    for app in (first, second):
        with app.app_context():
            other = app.test_client()
            other.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
            answers.append(other.post(CHECK_ANSWERS, data=body).status_code)
    with first.app_context():
        refused = client.client.post(CHECK_ANSWERS, data={**body, **DECLARATION})
        answers.append(refused.status_code)
        assert statuses() == ["draft"]
    # The third POST in an hour from one address is refused, whichever worker takes it: with
    # counts per process, the first app would have seen only its second.
    assert answers == [200, 200, 429]
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600

    # The key has the shape of Flask-Limiter's, so limiter.reset() clears it with the others.
    key = f"LIMITS:LIMITER/{prefix}/127.0.0.1/apply.check_answers/2/1/hour"
    redis = redis_client(RESET_REDIS_URL)
    assert redis.llen(key) == 2
    with first.app_context():
        limiter.reset()
    assert not redis.exists(key)
    with first.app_context():
        sent = client.client.post(CHECK_ANSWERS, data={**body, **DECLARATION})
        assert sent.status_code == 302
        assert statuses() == ["submitted"]


@pytest.mark.parametrize("draft", ["complete as saved", "to be read"])
def test_the_hit_goes_out_first_and_is_answered_before_anything_is_written(
    two_workers: list[Flask], monkeypatch: pytest.MonkeyPatch, draft: str
) -> None:
    """The point of the deferred limit: Redis answers while the request checks the declaration
    (and reads the draft, when it must), and its answer is read before the claim."""
    from redis.connection import AbstractConnection

    app = two_workers[0]
    events: list[str] = []
    send_command = AbstractConnection.send_command
    read_response = AbstractConnection.read_response

    def sending(self: Any, *args: Any, **kwargs: Any) -> Any:
        events.append(f"redis {args[0]}")
        return send_command(self, *args, **kwargs)

    def reading(self: Any, *args: Any, **kwargs: Any) -> Any:
        events.append("redis answer")
        return read_response(self, *args, **kwargs)

    with app.app_context():
        client = Client(app.test_client())
        complete_application(client)
        body = client.hidden_fields(CHECK_ANSWERS)
        assert post(client, declared=False, body=body).status_code == 200  # Redis connected
        if draft == "to be read":
            forget_readiness(db.session.scalars(select(Application.id)).one())

        def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
            word = sql.split(None, 1)[0].upper()
            if word != "BEGIN":  # SQLite's, sent as a statement when a transaction starts
                events.append(word)

        event.listen(db.engine, "before_cursor_execute", statement)
        monkeypatch.setattr(AbstractConnection, "send_command", sending)
        monkeypatch.setattr(AbstractConnection, "read_response", reading)
        try:
            sent = post(client, declared=True, body=body)
        finally:
            event.remove(db.engine, "before_cursor_execute", statement)
        assert sent.status_code == 302
        assert statuses() == ["submitted"]
    if draft == "complete as saved":  # SQLite: the claim (UPDATE), then the email (INSERT)
        assert events == ["redis EVALSHA", "redis answer", "UPDATE", "INSERT"]
    else:  # the claim of a complete draft misses; the draft is read and claimed as read
        assert events == ["redis EVALSHA", "redis answer", "UPDATE", "SELECT", "UPDATE", "INSERT"]


def test_a_redis_that_lost_its_scripts_still_counts(
    two_workers: list[Flask], prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a Redis restart (or SCRIPT FLUSH) EVALSHA finds no script: the script is sent, and
    EVALSHA works again. A script of this test's own stands for the lost one (flushing the
    server's scripts would reach every other test using Redis)."""
    script = f"{deferred_limit.SCRIPT}-- {uuid.uuid4().hex}\n"
    monkeypatch.setattr(deferred_limit, "SCRIPT", script)
    monkeypatch.setattr(deferred_limit, "SCRIPT_SHA", hashlib.sha1(script.encode()).hexdigest())
    redis = redis_client()
    assert redis.script_exists(deferred_limit.SCRIPT_SHA) == [False]
    app = two_workers[0]
    with app.app_context():
        client = Client(app.test_client())
        complete_application(client)
        body = client.hidden_fields(CHECK_ANSWERS)
        assert post(client, declared=False, body=body).status_code == 200
        assert redis.script_exists(deferred_limit.SCRIPT_SHA) == [True]
        assert post(client, declared=False, body=body).status_code == 200
        assert post(client, declared=True, body=body).status_code == 429
    key = f"LIMITS:LIMITER/{prefix}/{ADDRESS}/apply.check_answers/2/1/hour"
    assert redis.llen(key) == 2
    redis.script_flush()  # only this test's script is lost: the others reload theirs anyway


def test_a_view_that_fails_before_reading_the_answer_leaves_none_behind(
    two_workers: list[Flask], prefix: str
) -> None:
    """A view that fails before reading the answer (the database down, say): the hit counts,
    its connection goes back to the pool with nothing left to read, and is used again."""
    app = two_workers[0]
    pool = app.extensions["deferred_limit:apply.check_answers"].pool
    with app.test_request_context(CHECK_ANSWERS, method="POST"):
        for _ in range(3):
            with pytest.raises(RuntimeError), submit_limit.hit():
                raise RuntimeError("the view failed")
        assert not pool._in_use_connections
        assert len(pool._available_connections) == 1
        assert not pool._available_connections[0].can_read()
        with submit_limit.hit() as fourth, pytest.raises(TooManyRequests):
            fourth.enforce()
    key = f"LIMITS:LIMITER/{prefix}/127.0.0.1/apply.check_answers/2/1/hour"
    assert redis_client().llen(key) == 2


class SilentRedis:
    """A Redis that answers a new connection's set-up (CLIENT SETINFO, SELECT) and then hangs:
    the hit is sent, and its answer never comes."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.hits = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        while True:
            try:
                data = connection.recv(65536)
            except OSError:
                return
            if not data:
                return
            if b"EVALSHA" in data or b"EVAL" in data:
                self.hits += 1
                continue  # silence
            if b"HELLO" in data:  # redis-py asks for RESP3: a map with the protocol's version
                connection.sendall(b"%1\r\n+proto\r\n:3\r\n")
                continue
            # Each command is an array ("*<n>\r\n..."): one +OK for each.
            commands = data.count(b"\r\n*") + data.startswith(b"*")
            connection.sendall(b"+OK\r\n" * commands)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentRedis]:
    silent = SilentRedis()
    yield silent
    silent.close()


@pytest.fixture
def hung_app(
    tmp_path: Path, prefix: str, silent: SilentRedis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """An app whose Redis takes connections and never answers. Migrated here, before the test
    runs: Alembic's logging set-up replaces the handlers that capture the test's log."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "hung"))
    app = redis_app(
        tmp_path,
        "hung",
        prefix,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{silent.port}/11",
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
    )
    with app.app_context():
        upgrade()
        make_round("hung")
    yield app
    # Flask-Limiter (the draft limit) fell back too, on the limiter shared by every app: the
    # next app must not start on its fall-back.
    limiter._storage_dead = False


def test_a_redis_that_hangs_after_the_hit_is_sent_costs_one_timeout_then_memory_counts(
    hung_app: Flask,
    silent: SilentRedis,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(deferred_limit, "monotonic", lambda: clock[0])
    caplog.set_level(logging.INFO)
    with hung_app.app_context():
        client = Client(hung_app.test_client())
        complete_application(client)
        body = client.hidden_fields(CHECK_ANSWERS)
        drafts_hit = silent.hits  # Flask-Limiter's, for the draft limit
        # The first POST's hit is sent and never answered: after the read timeout it is counted
        # in memory. The next ones are counted in memory at once, Redis left alone during the
        # back-off (1 s: the clock stands still here).
        assert post(client, declared=False, body=body).status_code == 200
        assert silent.hits == drafts_hit + 1
        assert post(client, declared=False, body=body).status_code == 200
        assert post(client, declared=True, body=body).status_code == 429
        assert silent.hits == drafts_hit + 1
        assert statuses() == ["draft"]
        # Once the back-off has passed, Redis is asked again (and, still silent, waited out).
        clock[0] += 1.5
        assert post(client, declared=False, body=body).status_code == 429
        assert silent.hits == drafts_hit + 2
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "app.deferred_limit"
    ]
    assert warnings == [
        "Rate limit storage unreachable (TimeoutError) - counting in this process's memory"
    ]
    assert ADDRESS not in caplog.text


@pytest.mark.parametrize(
    "setting", ["twenty an hour", "20 per hour; 100 per day", "", "0 per hour"]
)
def test_a_limit_that_cannot_be_read_stops_the_service_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "bad"))
    with pytest.raises(ValueError, match=r"APPLY_SUBMIT_RATE_LIMIT = .* is not one rate limit"):
        create_app({"APPLY_SUBMIT_RATE_LIMIT": setting})


@pytest.mark.parametrize(
    ("uri", "options", "problem"),
    [
        ("redis+unix:///tmp/redis.sock", {}, "must be memory:// or a Redis URL"),
        ("redis://127.0.0.1:6379/0", {"key_prefix": "x"}, "key_prefix"),
    ],
)
def test_a_counter_store_it_cannot_use_stops_the_service_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str, options: dict[str, Any], problem: str
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "bad"))
    with pytest.raises(ValueError, match=problem):
        create_app({"RATELIMIT_STORAGE_URI": uri, "RATELIMIT_STORAGE_OPTIONS": options})
