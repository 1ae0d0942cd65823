"""The outbox: emails written in the same transaction as the change that causes them, and sent
later by `flask send-mail`, so an SMTP outage never fails a submission.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from .models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


def queue_email(
    on: Session | Connection,
    *,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    application_id: int | None = None,
) -> None:
    """Write the message in the caller's transaction (an ORM session's, or a connection's): it
    is sent only if that commits."""
    if not isinstance(on, Connection):  # a session (or Flask-SQLAlchemy's scoped one)
        on.flush()  # rows the message refers to, if still pending, go first
        # On the transaction's connection: a Core INSERT needs none of the ORM's execution steps.
        on = on.connection()
    on.execute(
        _QUEUE,
        {
            "kind": kind,
            "to_address": to_address,
            "subject": subject,
            "body": body,
            "application_id": application_id,
            "next_attempt_at": utcnow(),
        },
    )


Composer = Callable[[Session, OutboxMessage], bool]
_COMPOSERS: dict[str, Composer] = {}


def composes(kind: str) -> Callable[[Composer], Composer]:
    """Register the function that composes messages of this kind queued with an empty body, as
    each is sent (the final submit queues its confirmation so, and does not build the copy of
    the answers in the request). It fills in the message and returns False if it cannot."""

    def register(composer: Composer) -> Composer:
        _COMPOSERS[kind] = composer
        return composer

    return register


# A plain INSERT: the message is never read back in the transaction that queues it, so the ORM's
# unit of work (an object to track, its primary key to fetch) would be pure cost.
_QUEUE = insert(OutboxMessage.__table__)  # type: ignore[arg-type]


class Transport(Protocol):
    def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        """Send one message; `outbox_id` is its outbox row (a copy kept is named by it)."""


class SMTPTransport:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = True,
        use_ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.use_tls, self.use_ssl, self.timeout = use_tls, use_ssl, timeout

    def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def file_copy(directory: str | Path, outbox_id: int) -> Path:
    """Where `FileTransport` writes the message of this outbox row: named by the row, so that
    erasing an application finds the copies of its emails (`remove_file_copies`)."""
    return Path(directory) / f"outbox-{outbox_id}.eml"


class FileTransport:
    """Development transport: each message becomes an .eml file in a folder. The files hold
    answers and resume links: readable by the service's own user only (folder 0700, files 0600)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = file_copy(self.directory, outbox_id)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(bytes(message))


def remove_file_copies(directory: str | Path, outbox_ids: Iterable[int]) -> None:
    """Delete the .eml copies `FileTransport` wrote of these outbox rows, where there are any
    (none when mail goes by SMTP)."""
    for outbox_id in outbox_ids:
        file_copy(directory, outbox_id).unlink(missing_ok=True)


def build_message(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(idstring=f"outbox{row.id}", domain="partner-select.local")
    message.set_content(row.body)
    return message


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def send_due(
    session: Session,
    transport: Transport,
    sender: str,
    *,
    limit: int = 100,
    now: Callable[[], datetime] = utcnow,
) -> tuple[int, int]:
    """Send due messages one transaction each; returns (sent, failed).

    Each message is claimed with FOR UPDATE SKIP LOCKED (PostgreSQL), so several senders never
    send the same message; it is marked sent, and its body blanked, in the transaction that
    claimed it. A failure leaves it queued with a growing delay. A message queued with an empty
    body is composed first (`composes`), and blanked again if it is not sent; one that cannot be
    composed now waits like a failed send, one with nothing to compose it from is dropped.
    """
    sent = failed = 0
    for _ in range(limit):
        row = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now())
            .order_by(OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            break
        composed = not row.body
        if composed:
            row_id, kind = row.id, row.kind
            try:
                found = _compose(session, row)
            except Exception as error:  # one message that cannot be composed now
                # (a bug, a database error) must not stop the others: it waits and is retried.
                session.rollback()
                retry = session.get(OutboxMessage, row_id)
                if retry is not None:
                    _failed(retry, type(error).__name__, now)
                    session.commit()
                failed += 1
                log.warning(
                    "outbox message %s (%s) not composed (%s)", row_id, kind, type(error).__name__
                )
                continue
            if not found:
                # Nothing left to compose it from (its application deleted): no email to send.
                log.warning(
                    "outbox message %s (%s) dropped: nothing to compose it from", row_id, kind
                )
                session.delete(row)
                session.commit()
                continue
        try:
            transport.send(build_message(row, sender), outbox_id=row.id)
        except (OSError, smtplib.SMTPException) as error:
            _failed(row, type(error).__name__, now)
            if composed:
                row.body = ""  # composed again for the next attempt: no copy kept meanwhile
            session.commit()
            failed += 1
            # The error text can quote the address: log only the type and the row id.
            log.warning(
                "outbox message %s not sent (%s), attempt %s", row.id, row.last_error, row.attempts
            )
            break  # the server is probably down: try the rest on the next run
        row.attempts += 1
        row.sent_at = now()
        row.body = ""
        row.last_error = None
        session.commit()
        sent += 1
        log.info("outbox message %s sent (%s)", row.id, row.kind)
    return sent, failed


def _compose(session: Session, row: OutboxMessage) -> bool:
    composer = _COMPOSERS.get(row.kind)
    if composer is None:
        raise LookupError(f"nothing composes {row.kind} messages")
    return composer(session, row)


def _failed(row: OutboxMessage, error: str, now: Callable[[], datetime]) -> None:
    row.attempts += 1
    row.last_error = error
    row.next_attempt_at = now() + backoff(row.attempts)
