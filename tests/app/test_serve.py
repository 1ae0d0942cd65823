"""`make serve` as an operator runs it: gunicorn with two workers and the production settings, on a
fresh PostgreSQL database (migrated by the target itself) and Redis, on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app.config import production_problems
from tests.conftest import reachable_redis, skip_or_fail
from tests.load.server import DatabaseUnavailable, free_port, fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_URL = "redis://127.0.0.1:6379/15"
SUBMIT_LIMIT = 4
# Settings that must not leak in from the developer's shell or from a `make test` around us.
CLEARED = (
    "APP_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "MAIL_SERVER",
    "MAIL_OUTBOX_DIR",
    "FLASK_DEBUG",
    "TRUSTED_PROXIES",
    "PUBLIC_BASE_URL",
    "SESSION_COOKIE_SECURE",
    "WEB_CONCURRENCY",
    "BIND",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "PORT",
    "INSTANCE_PATH",
)
ACCESS_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+)" (?P<status>\d{3}) .* worker=<(?P<pid>\d+)>'
)


def base_env(instance: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    env.update(INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1", **settings)
    return env


def make_serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return make_target("serve", env, log)


def make_target(target: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`make TARGET`, without letting make reinstall the virtualenv if setup.cfg is newer."""
    if shutil.which("make") is None:
        skip_or_fail("make is not installed")
    with log.open("wb") as output:
        return subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", target],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, gunicorn and its workers
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group (gunicorn's graceful shutdown); SIGKILL only if it hangs."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return  # every process of the group has exited
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    pytest.fail("gunicorn did not stop within 30 s of SIGTERM")


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make serve exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/", timeout=5).status_code == 200:
                return
        time.sleep(0.25)
    pytest.fail(f"make serve did not answer within 90 s:\n{log.read_text()}")


@dataclass
class Served:
    url: str
    log: Path
    prefix: str

    def access_lines(self, method: str, path: str) -> list[re.Match[str]]:
        lines = (ACCESS_LINE.search(line) for line in self.log.read_text().splitlines())
        return [m for m in lines if m and m["method"] == method and m["path"] == path]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    redis_client = reachable_redis(REDIS_URL)
    prefix = f"test-serve-{uuid.uuid4().hex}"
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    with contextlib.ExitStack() as cleanup:
        try:
            database_url = cleanup.enter_context(fresh_postgres_database())
        except DatabaseUnavailable as error:
            skip_or_fail(str(error))

        @cleanup.callback
        def forget_counters() -> None:
            for key in redis_client.scan_iter(f"*{prefix}*"):  # type: ignore[attr-defined]
                redis_client.delete(key)  # type: ignore[attr-defined]

        env = base_env(
            folder / "instance",
            SECRET_KEY=secrets.token_hex(32),
            DATABASE_URL=database_url,
            REDIS_URL=REDIS_URL,
            RATELIMIT_KEY_PREFIX=prefix,
            APPLY_SUBMIT_RATE_LIMIT=f"{SUBMIT_LIMIT} per hour",
            WEB_CONCURRENCY="2",
            BIND=f"127.0.0.1:{port}",
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        )
        log = folder / "serve.log"
        process = make_serve(env, log)
        cleanup.callback(stop, process)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process, log)
        yield Served(url, log, prefix)


def test_make_serve_runs_two_production_workers_on_a_migrated_database(served: Served) -> None:
    log = served.log.read_text()
    # The target migrated the empty database before starting gunicorn.
    assert "Running upgrade" in log
    booted = set(re.findall(r"Booting worker with pid: (\d+)", log))
    assert len(booted) == 2, log

    response = requests.get(served.url + "/", timeout=10)

    assert response.status_code == 200
    assert "Partner Select" in response.text
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    # Production: HSTS and Secure cookies, as it sits behind TLS.
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"


def test_workers_share_rate_limit_counters_in_redis(served: Served) -> None:
    """One worker is held on a half-sent request while the other lets SUBMIT_LIMIT requests
    through. Finished, the held request is refused by a worker that let none through itself: it
    counted the other worker's requests, in Redis. (With counters in each worker's memory it
    would be let through.)"""
    path = "/application/check-answers"
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as held:
        # A sync worker accepts this connection and waits for the rest of the request.
        held.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n".encode())
        statuses = [
            requests.post(served.url + path, timeout=10, allow_redirects=False).status_code
            for _ in range(SUBMIT_LIMIT)
        ]
        held.sendall(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        reply = held.makefile("rb").readline().decode()
    after = requests.post(served.url + path, timeout=10, allow_redirects=False).status_code

    assert statuses == [302] * SUBMIT_LIMIT
    assert reply.split()[1] == "429", reply
    assert after == 429
    deadline = time.monotonic() + 5  # the access log may trail the responses slightly
    while len(lines := served.access_lines("POST", path)) < SUBMIT_LIMIT + 2:
        assert time.monotonic() < deadline, "missing access-log lines"
        time.sleep(0.1)
    let_through = {m["pid"] for m in lines if m["status"] == "302"}
    held_worker = next(m["pid"] for m in lines if m["status"] == "429")
    assert len(let_through) == 1 and held_worker not in let_through, lines

    import redis

    keys = redis.Redis.from_url(REDIS_URL).keys(f"*{served.prefix}*")
    assert keys, "no rate-limit counters in Redis"


def test_access_log_has_no_secret_links_or_query_strings(served: Served) -> None:
    resume, password = ("Tok" + secrets.token_urlsafe(16) for _ in range(2))
    requests.get(f"{served.url}/resume/{resume}", timeout=10)
    requests.get(f"{served.url}/set-password/{password}", timeout=10)
    requests.get(f"{served.url}/?q=someone%40example.org", timeout=10)
    deadline = time.monotonic() + 5
    while "/set-password/[redacted]" not in served.log.read_text():
        assert time.monotonic() < deadline, "no access-log line for the set-password link"
        time.sleep(0.1)
    log = served.log.read_text()
    assert "/resume/[redacted]" in log
    assert resume not in log and password not in log
    assert "someone" not in log


def test_make_serve_says_what_is_missing_and_starts_nothing(tmp_path: Path) -> None:
    env = base_env(tmp_path / "instance", DATABASE_URL="not a database url", BIND="127.0.0.1:1")
    log = tmp_path / "serve.log"
    process = make_serve(env, log)
    try:
        process.wait(timeout=60)
    finally:
        stop(process)
    output = log.read_text()
    assert process.returncode != 0
    assert "SECRET_KEY is not set" in output
    assert "PUBLIC_BASE_URL is not set" in output
    assert "DATABASE_URL is not a database URL" in output
    assert "Booting worker" not in output


def test_production_needs_a_database_url_named_explicitly() -> None:
    settings = {"SECRET_KEY": "x" * 64, "PUBLIC_BASE_URL": "https://partners.example.org"}
    [problem] = production_problems({**settings, "SQLALCHEMY_DATABASE_URI": None})
    assert problem.startswith("DATABASE_URL is not set")
    assert production_problems({**settings, "SQLALCHEMY_DATABASE_URI": "sqlite:///x"}) == []
