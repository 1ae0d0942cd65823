"""With the SMTP server down, applications sent to the real server still succeed; once it is
back, every email is delivered exactly once, even with two `flask send-mail` processes at once.

tests/app/apply/test_outbox.py proves the outbox message by message through the test client
(retry times, back-off, bodies blanked once sent). This test adds what only real processes show:
submissions from concurrent clients to gunicorn while nothing listens on the SMTP port, and two
sender processes draining the same outbox (FOR UPDATE SKIP LOCKED on PostgreSQL), so that no
message goes out twice and none is left behind.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update

from app.models import OutboxMessage, utcnow
from tests.app.apply.test_outbox import SMTPServer
from tests.load.checks import check_every_application_arrived_once
from tests.load.http_journey import Applicant, run_applicants
from tests.load.server import (
    BIN,
    HOST,
    ROOT,
    flask_command,
    free_port,
    gunicorn_server,
    prepare_database,
    server_env,
)

APPLICATIONS = 40
CLIENTS = 20

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def make_everything_due(url: str) -> None:
    """Move a failed message's retry time into the past, as if its back-off had elapsed."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                update(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
    finally:
        engine.dispose()


def unsent(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return len(
                connection.execute(
                    select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
                ).all()
            )
    finally:
        engine.dispose()


def test_submissions_succeed_while_smtp_is_down_and_mail_goes_once_when_it_returns(
    postgres_database: str, instance: Path, tmp_path: Path
) -> None:
    smtp_port = free_port()  # nothing listens here until the server "comes back"
    env = server_env(
        instance,
        postgres_database,
        "production",
        MAIL_SERVER=HOST,
        MAIL_PORT=str(smtp_port),
        MAIL_USE_TLS="false",
        MAIL_TIMEOUT="5",
    )
    prepare_database(env, postgres_database)
    with gunicorn_server(env, tmp_path / "gunicorn.log") as server:
        outcomes = run_applicants(APPLICATIONS, CLIENTS, lambda n: Applicant(server.url, n))
    check_every_application_arrived_once(postgres_database, outcomes)

    # SMTP is down: the sender tries the oldest message, fails, keeps it and stops.
    assert "Sent 0, failed 1." in flask_command(env, "send-mail")
    assert unsent(postgres_database) == 2 * APPLICATIONS

    smtp = SMTPServer(smtp_port)
    smtp.start()
    try:
        make_everything_due(postgres_database)
        # Two senders at once, as with a cron job overlapping a `send-mail --loop` worker.
        senders = [
            subprocess.Popen(
                [str(BIN / "flask"), "send-mail"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [sender.communicate(timeout=120)[0] for sender in senders]
        assert all(sender.returncode == 0 for sender in senders), outputs
        sent = [int(re.search(r"Sent (\d+), failed 0\.", out).group(1)) for out in outputs]  # type: ignore[union-attr]
        assert sum(sent) == 2 * APPLICATIONS, outputs
        assert "Sent 0, failed 0." in flask_command(env, "send-mail")
    finally:
        smtp.stop()

    assert unsent(postgres_database) == 0
    assert len(smtp.messages) == 2 * APPLICATIONS
    confirmed = sorted(
        match.group(0)
        for message in smtp.messages
        if (match := re.search(r"EOI-\d{4}-\w{6}", str(message["Subject"])))
    )
    assert confirmed == sorted(str(o.applicant.reference) for o in outcomes)
    recipients = Counter(str(message["To"]) for message in smtp.messages)
    # One resume link and one confirmation to each applicant, none twice.
    assert len(recipients) == APPLICATIONS and set(recipients.values()) == {2}
