"""Redis, which holds the shared rate-limit counters, goes away: applications and sign-ins are
still taken (never a 500), limits still apply in each process, a warning without personal data
is logged, and the counters go back to Redis when it returns.

The app talks to the shared Redis through a door this test opens and shuts: shut, its port is
closed (connection refused) and open connections are cut. Redis database 14 is this module's
alone, because the `app` fixture's `limiter.reset()` empties the rate-limit keys of its database.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select as select_rows

from app.extensions import db, limiter
from app.models import Application, Round
from tests.app.apply.journey import VALID, complete_application, pass_eligibility, send
from tests.app.apply.test_logs import assert_no_personal_data
from tests.app.conftest import PASSWORD, sign_in_as
from tests.app.helpers import Client
from tests.conftest import skip_or_fail

REDIS = ("127.0.0.1", 6379)
DATABASE = 14


class RedisDoor:
    """A TCP relay on a port of its own to the shared Redis; `shut()` closes the port."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.sent = bytearray()  # what the app sent to Redis since the door last opened
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._open = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{DATABASE}"

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.05)
        self._open.set()
        self._start(self._accept, listener)

    def shut(self) -> None:
        self._open.clear()
        while self._threads:  # the relays notice within 50 ms and stop
            self._threads.pop().join()
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        self.sent.clear()

    def _start(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._open.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(REDIS)
                with self._lock:
                    self._sockets += [client, upstream]
                    self._start(self._relay, client, upstream)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        ends = {client: upstream, upstream: client}
        while self._open.is_set():
            ready, _, _ = select.select(list(ends), [], [], 0.05)
            for sock in ready:
                try:
                    data = sock.recv(65536)
                    if data:
                        ends[sock].sendall(data)
                except OSError:
                    data = b""
                if not data:
                    return  # one end hung up; shut() closes both
                if sock is client:
                    with self._lock:
                        self.sent += data


@pytest.fixture
def redis_door() -> Iterator[RedisDoor]:
    import redis

    try:
        redis.Redis(*REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis is not reachable at {REDIS}: {type(error).__name__}")
    door = RedisDoor()
    door.open()
    yield door
    door.shut()
    # The limiter object outlives this test's app; the next app must not start on the fallback.
    limiter._storage_dead = False


@pytest.fixture
def app_config(tmp_path: Path, database_url: str, redis_door: RedisDoor) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": redis_door.url,
        "APPLY_DRAFT_RATE_LIMIT": "2 per hour",
    }


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def start_draft(app: Flask) -> int:
    """A new browser (same address) creates a draft: the request the draft limit counts."""
    client = Client(app.test_client())
    pass_eligibility(client)
    body = client.hidden_fields("/application/organisation")
    body.update(VALID["organisation"])
    return int(client.client.post("/application/organisation", data=body).status_code)


def limiter_messages(logs: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage() for r in logs.records if r.name == "flask-limiter" and r.levelno == level
    ]


def test_applications_and_sign_ins_are_taken_while_redis_is_down(
    app: Flask,
    client: Client,
    open_round: Round,
    make_user: Any,
    redis_door: RedisDoor,
    logs: pytest.LogCaptureFixture,
) -> None:
    user = make_user("staff")
    redis_door.shut()

    # The whole journey, every page and the final send (each step asserts its own status).
    complete_application(client)
    assert send(client).endswith("/application/confirmation")
    client.get_page("/application/confirmation")
    db.session.rollback()
    assert db.session.scalars(select_rows(Application.status)).all() == ["submitted"]

    # Sign-in: the right password signs in; five wrong ones lock the account (the lockout is
    # counted in the database), and then even the right one is refused.
    staff = Client(app.test_client())
    sign_in_as(staff, user)
    staff.get_page("/staff/")
    guesser = Client(app.test_client())
    for _ in range(5):
        guesser.submit("/sign-in", {"email": user.email, "password": "a guess"}, status=401)
    page = guesser.submit_page("/sign-in", {"email": user.email, "password": PASSWORD}, status=401)
    assert "tried to sign in too many times" in page.get_text()

    # The limits still hold, counted in this process: the journey's draft was the first of two.
    assert [start_draft(app), start_draft(app)] == [302, 429]

    assert redis_door.sent == b""  # nothing reached Redis since the port was closed
    assert limiter_messages(logs, logging.WARNING) == [
        "Rate limit storage unreachable - falling back to in-memory storage"
    ]
    assert not [r for r in logs.records if r.levelno >= logging.ERROR]
    assert_no_personal_data(logs)
    assert not [r for r in logs.records if user.email in r.getMessage()]


def test_counters_go_back_to_redis_when_it_returns(
    app: Flask,
    open_round: Round,
    redis_door: RedisDoor,
    logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis_door.shut()
    assert start_draft(app) == 302
    assert limiter_messages(logs, logging.WARNING)

    redis_door.open()
    # Flask-Limiter asks Redis again after a back-off of 1 to 32 seconds; let that time be past.
    monkeypatch.setattr(limiter, "_Limiter__last_check_backend", 0.0)
    assert start_draft(app) == 302

    assert limiter_messages(logs, logging.INFO).count("Rate limit storage recovered") == 1
    # This draft was counted in Redis again (its counter's key names the page).
    assert b"/127.0.0.1/apply.question_page/" in redis_door.sent


def test_the_final_submits_limit_holds_in_memory_and_goes_back_to_redis(
    app: Flask,
    client: Client,
    open_round: Round,
    redis_door: RedisDoor,
    logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app.config["APPLY_SUBMIT_RATE_LIMIT"] = "2 per hour"
    complete_application(client)
    body = client.hidden_fields("/application/check-answers")
    # An address of this test's own: its count in Redis starts from nothing.
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"

    def post() -> int:
        return int(
            client.client.post(
                "/application/check-answers", data=body, environ_base={"REMOTE_ADDR": address}
            ).status_code
        )

    redis_door.shut()
    # Counted in this process while Redis is away: two POSTs, then the third is refused.
    assert [post(), post(), post()] == [200, 200, 429]
    assert redis_door.sent == b""
    assert limiter_messages(logs, logging.WARNING) == [
        "Rate limit storage unreachable - falling back to in-memory storage"
    ]

    # Back: asked again once the back-off has passed (1 to 32 seconds; let it be past), and the
    # count is in Redis again, where the memory's count is not: the POST is taken.
    redis_door.open()
    monkeypatch.setattr(limiter, "_Limiter__last_check_backend", 0.0)
    assert post() == 200
    assert f"/{address}/apply.check_answers/".encode() in redis_door.sent
    assert limiter_messages(logs, logging.INFO).count("Rate limit storage recovered") == 1
    db.session.rollback()
    assert db.session.scalars(select_rows(Application.status)).all() == ["draft"]
