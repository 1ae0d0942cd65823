"""Asking for a password reset does the same work whether or not the account exists (issue 17,
point 8): the request writes one outbox row to the address typed, and reads nothing about the
account; whether an email goes is decided when the send-mail worker composes it. Counted by the
SQL statements the request sends, not timed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import OutboxMessage, UserToken
from tests.app.helpers import Client, body_of, deliver_emails


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs, with its parameters' values."""
    seen: list[str] = []

    def record(conn: object, cursor: object, sql: str, params: Any, *args: object) -> None:
        seen.append(sql.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def ask(app: Flask, email: str) -> list[str]:
    client = Client(app.test_client())
    body = client.hidden_fields("/forgot-password")
    with statements() as seen:
        response = client.client.post("/forgot-password", data={**body, "email": email})
    assert response.status_code == 200
    return seen


@pytest.mark.parametrize("other", ["missing", "suspended", "invited, no password yet"])
def test_a_reset_request_does_the_same_work_for_any_address(
    app: Flask, make_user: Any, other: str
) -> None:
    user = make_user("staff")
    if other == "missing":
        address = "nobody-at-all@example.org"
    else:
        account = make_user("staff")
        if other == "suspended":
            account.active = False
        else:
            account.password_hash = None
        db.session.commit()
        address = account.email
    known = ask(app, user.email)
    assert known.count("INSERT") == 1  # the outbox row, and no account read or token written
    assert "SELECT" not in known
    assert ask(app, address) == known


def test_only_an_active_accounts_address_gets_the_email_and_a_token(
    app: Flask, make_user: Any
) -> None:
    user, suspended = make_user("staff"), make_user("staff")
    suspended.active = False
    db.session.commit()
    for address in (user.email, "nobody-at-all@example.org", suspended.email):
        ask(app, address)
    assert db.session.scalar(select(func.count(UserToken.id))) == 0  # none made in the request
    [email] = deliver_emails()
    assert email["To"] == user.email
    assert "/set-password/" in body_of(email)
    tokens = db.session.scalars(select(UserToken)).all()
    assert [(t.user_id, t.purpose) for t in tokens] == [(user.id, "reset")]
    # The other two were dropped, not kept to retry: nothing left to send.
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1
    assert deliver_emails() == []
