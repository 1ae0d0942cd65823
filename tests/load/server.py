"""Run the service as it runs for real, in a child process on a free loopback port.

Two shapes: gunicorn against a fresh PostgreSQL database (production), and `flask run` (the
threaded werkzeug server) against a SQLite file in the instance folder, which is what `make run`
starts. The database is migrated with the service's Alembic migrations and given an open round
before the server starts. Used by the load tests and by benchmarks/web_bench.py.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import requests

from app.models import utcnow
from tests.postgres import (  # noqa: F401  (re-exported for the load tests and benchmarks)
    POSTGRES_ADMIN_URL,
    DatabaseUnavailable,
    fresh_postgres_database,
)

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
# Every client comes from 127.0.0.1, so the per-address limits of the public journey would stop
# a load test after a few dozen drafts: they are raised for the run. Spam checks stay on (the
# honeypot is left empty, as a person leaves it) except the minimum fill time, which a scripted
# client cannot wait out a thousand times. CSRF stays on: every form posts the token its page gave.
LOAD_SETTINGS = {
    "MIN_FILL_SECONDS": "0",
    "APPLY_DRAFT_RATE_LIMIT": "1000000 per hour",
    "APPLY_SUBMIT_RATE_LIMIT": "1000000 per hour",
    "APPLY_EMAIL_LINK_RATE_LIMIT": "1000000 per hour",
}
# Settings that must not leak in from the developer's shell.
CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "MAIL_SERVER",
    "MAIL_OUTBOX_DIR",
    "FLASK_DEBUG",
    "APP_ENV",
    "PUBLIC_BASE_URL",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_env(
    instance: Path, database_url: str | None, app_env: str, **extra: str
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    env.update(
        APP_ENV=app_env,
        FLASK_APP="wsgi.py",
        INSTANCE_PATH=str(instance),
        # Plain HTTP on loopback, with no TLS proxy in front: the cookie cannot be Secure.
        SESSION_COOKIE_SECURE="false",
        PYTHONUNBUFFERED="1",
        **LOAD_SETTINGS,
    )
    if app_env == "production":
        env["SECRET_KEY"] = secrets.token_hex(32)
        # Every server here listens on HOST; its port does not matter to TRUSTED_HOSTS.
        env["PUBLIC_BASE_URL"] = f"http://{HOST}"
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def flask_command(env: dict[str, str], *args: str) -> str:
    """Run a `flask` command as an operator would; returns its output, raises if it fails."""
    result = subprocess.run(
        [str(BIN / "flask"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def prepare_database(env: dict[str, str], database_url: str) -> None:
    """Migrate the empty database (Alembic, as `flask db upgrade` does) and open a round.

    Done in this process rather than with two `flask` commands: each command imports the whole
    service again, which costs seconds on a busy 2-core machine.
    """
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.rounds import create_round

    previous = os.environ.get("INSTANCE_PATH")
    os.environ["INSTANCE_PATH"] = env["INSTANCE_PATH"]
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "unused"})
    finally:
        if previous is None:
            del os.environ["INSTANCE_PATH"]
        else:
            os.environ["INSTANCE_PATH"] = previous
    with app.app_context():
        upgrade()
        now = utcnow()
        create_round(
            db.session,
            slug="load",
            title="Partner sites 2027",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class Server:
    """A server process on a free port; its output goes to a log file the tests can read."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.url = f"http://{HOST}:{port}"
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str = "/", timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + path, timeout=5).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        """gunicorn's workers: the children of the master process."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            # A quick shutdown (gunicorn's and werkzeug's SIGINT): nothing is in flight any more.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only its workers
                self.process.wait(timeout=15)
        self._log.close()


def gunicorn_command(port: int, workers: int, app: str = "wsgi:app") -> list[str]:
    """The same settings for the service and for the benchmark's bare endpoint."""
    return [
        str(BIN / "gunicorn"),
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--no-control-socket",
        # Import the service once in the master and fork the workers from it: a new worker
        # (at start, or after one dies) is ready at once instead of importing for seconds.
        "--preload",
        app,
    ]


@contextlib.contextmanager
def gunicorn_server(
    env: dict[str, str], log: Path, *, workers: int = 4, app: str = "wsgi:app", ready: str = "/"
) -> Iterator[Server]:
    port = free_port()
    server = Server(gunicorn_command(port, workers, app), env, port, log)
    try:
        server.wait_ready(ready)
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def flask_run_server(env: dict[str, str], log: Path) -> Iterator[Server]:
    """`make run`'s server: `flask run` (threaded werkzeug) with the development settings."""
    port = free_port()
    command = [str(BIN / "flask"), "run", "--host", HOST, "--port", str(port)]
    server = Server(command, env, port, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
