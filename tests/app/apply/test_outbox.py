"""The outbox: the confirmation email is queued in the submission's transaction and sent once.

`flask send-mail` is run against a real SMTP server (aiosmtpd on a free local port); with the
server down the submission still succeeds and the email waits for a retry.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select, update

import app.applications.services as services
from app.extensions import db
from app.models import Application, OutboxMessage, Round, utcnow
from tests.app.apply.journey import TEXT, VALID, complete_application, confirm_contact_email, send
from tests.app.helpers import Client

SMTP_HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((SMTP_HOST, 0))
        return int(probe.getsockname()[1])


class Collector:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class SMTPServer:
    """A local SMTP server on a fixed port that a test can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.collector = Collector()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.collector, hostname=SMTP_HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(database_url: str, smtp_port: int) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": SMTP_HOST,
        "MAIL_PORT": smtp_port,
        "MAIL_USE_TLS": False,
        "MAIL_TIMEOUT": 5.0,
    }


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SMTPServer]:
    """An SMTP server that is not running yet: the test starts it (and may stop it)."""
    server = SMTPServer(smtp_port)
    yield server
    server.stop()


def send_mail(app: Flask) -> str:
    """Run `flask send-mail`. It ends by removing the session it shares with the test, so keep
    plain values, not loaded rows, across a call."""
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def rows(kind: str | None = None) -> list[OutboxMessage]:
    db.session.rollback()  # see what other connections committed
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def application() -> Application:
    db.session.rollback()
    return db.session.scalars(select(Application)).one()


def make_due(message_id: int) -> None:
    """Move a message's retry time into the past, as if the back-off had elapsed."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_the_confirmation_is_queued_with_the_submission(client: Client, open_round: Round) -> None:
    complete_application(client)
    assert application().status == "draft"
    assert rows("confirmation") == []

    send(client)

    sent = application()
    [confirmation] = rows("confirmation")
    assert sent.status == "submitted"
    assert confirmation.application_id == sent.id
    assert confirmation.to_address == VALID["contact"]["email"]
    assert confirmation.sent_at is None and confirmation.attempts == 0
    assert confirmation.next_attempt_at <= utcnow()  # due at once


def test_a_failure_while_queueing_the_email_leaves_the_application_unsent(
    client: Client, open_round: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submission and email are one transaction: neither is kept without the other. The email's
    row is refused by the database itself (no subject: NOT NULL), after the claim on SQLite and
    inside the claim's own statement on PostgreSQL."""
    complete_application(client)
    monkeypatch.setattr(services, "_subject", lambda reference: None)
    draw, drawn = services.new_reference, []
    monkeypatch.setattr(services, "new_reference", lambda now: drawn.append(draw(now)) or drawn[-1])
    client.submit(
        "/application/check-answers",
        {"confirm_correct": "yes", "confirm_privacy": "yes"},
        status=500,
    )
    # Not mistaken for a reference already taken: one draw, no retry.
    assert len(drawn) == 1
    draft = application()
    assert draft.status == "draft"
    assert draft.reference is None
    assert rows("confirmation") == []

    monkeypatch.undo()
    send(client)
    assert application().status == "submitted"
    assert len(rows("confirmation")) == 1


def test_send_mail_delivers_the_confirmation_exactly_once(
    app: Flask, client: Client, open_round: Round, smtp: SMTPServer
) -> None:
    smtp.start()
    complete_application(client)
    confirm_contact_email(client)  # so the confirmation carries a copy of the answers
    send(client)
    reference = application().reference
    assert reference

    assert "Sent 2, failed 0" in send_mail(app)  # the resume link and the confirmation

    confirmations = [m for m in smtp.messages if reference in str(m["Subject"])]
    assert len(confirmations) == 1
    email = confirmations[0]
    assert email["To"] == VALID["contact"]["email"]
    body = body_of(email)
    assert f"Your reference is {reference}" in body
    # A copy of the answers, as people see them (labels, not codes).
    for expected in (
        VALID["organisation"]["organisation_name"],
        "Community or voluntary organisation",
        "Social enterprise",
        "CF37 1AA",
        "Mostly rural",
        "Carers' health and well-being",
        *TEXT.values(),
        VALID["contact"]["contact_name"],
        VALID["contact"]["email"],
    ):
        assert expected in body, expected
    resume_links = [m for m in smtp.messages if "/resume/" in body_of(m)]
    assert len(resume_links) == 1

    # A second run finds nothing due: nothing is sent twice.
    assert "Sent 0, failed 0" in send_mail(app)
    assert len(smtp.messages) == 2

    for row in rows():
        assert row.sent_at is not None
        assert row.attempts == 1
        assert row.body == ""  # the answers and the resume link are not kept once sent


def test_an_smtp_outage_never_fails_a_submission(
    app: Flask, client: Client, open_round: Round, smtp: SMTPServer
) -> None:
    # The server is down: nothing listens on the port.
    complete_application(client)
    confirmation_url = send(client)
    assert client.get_page(confirmation_url).select_one(".reference")
    assert application().status == "submitted"

    before = utcnow()
    output = send_mail(app)
    assert "Sent 0, failed 1" in output

    # send-mail tries the oldest first, then stops while the server is down.
    first = rows()[0]
    first_id = first.id
    assert first.kind == "resume-link"
    assert first.sent_at is None
    assert first.attempts == 1
    assert first.last_error
    assert first.next_attempt_at > before
    assert first.body  # kept for the retry
    [confirmation] = rows("confirmation")
    confirmation_subject = confirmation.subject
    assert confirmation.sent_at is None
    assert confirmation.body == ""  # not tried yet: composed when it is sent

    # The server comes back; the failed message is not due yet, the untried one is.
    smtp.start()
    assert "Sent 1, failed 0" in send_mail(app)
    assert [str(m["Subject"]) for m in smtp.messages] == [confirmation_subject]

    # Once the retry is due, the waiting message is sent, exactly once.
    make_due(first_id)
    assert "Sent 1, failed 0" in send_mail(app)
    assert "Sent 0, failed 0" in send_mail(app)
    assert len(smtp.messages) == 2
    assert "/resume/" in body_of(smtp.messages[1])
    retried = next(row for row in rows() if row.id == first_id)
    assert retried.sent_at is not None
    assert retried.attempts == 2
    assert retried.body == ""


def test_a_confirmation_that_failed_is_retried_once_the_server_is_back(
    app: Flask, client: Client, open_round: Round, smtp: SMTPServer
) -> None:
    complete_application(client)
    send(client)
    # Only the confirmation is waiting (the resume link went out earlier).
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == "resume-link")
        .values(sent_at=utcnow(), body="")
    )
    db.session.commit()

    assert "Sent 0, failed 1" in send_mail(app)
    [confirmation] = rows("confirmation")
    confirmation_id = confirmation.id
    assert confirmation.sent_at is None
    assert confirmation.attempts == 1
    assert confirmation.next_attempt_at > utcnow()

    smtp.start()
    assert "Sent 0, failed 0" in send_mail(app)  # not due yet
    make_due(confirmation_id)
    assert "Sent 1, failed 0" in send_mail(app)
    assert "Sent 0, failed 0" in send_mail(app)
    [email] = smtp.messages
    assert str(application().reference) in body_of(email)
    [confirmation] = rows("confirmation")
    assert confirmation.sent_at is not None and confirmation.attempts == 2
    assert confirmation.body == ""


def test_without_an_smtp_server_mail_is_written_as_eml_files(
    app: Flask, client: Client, open_round: Round
) -> None:
    app.config["MAIL_SERVER"] = None
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    assert outbox == Path(app.instance_path) / "outbox"
    complete_application(client)
    send(client)
    reference = str(application().reference)

    assert "Sent 2, failed 0" in send_mail(app)

    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2
    emails = [message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]
    confirmations = [m for m in emails if reference in str(m["Subject"])]
    assert len(confirmations) == 1
    assert isinstance(confirmations[0], EmailMessage)
    assert confirmations[0]["To"] == VALID["contact"]["email"]
    assert f"Your reference is {reference}" in body_of(confirmations[0])

    assert "Sent 0, failed 0" in send_mail(app)
    assert len(list(outbox.glob("*.eml"))) == 2
