"""The sign-in lockout slows someone guessing a password without keeping its owner out: a
completed reset lifts it, and a browser the owner signed in from before is not locked with the
account (its own failures are counted instead)."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from tests.app.conftest import PASSWORD, sign_in_as, sign_out
from tests.app.helpers import Client

LINK = re.compile(r"http://localhost(/set-password/[A-Za-z0-9_\-]+)")
NEW_PASSWORD = "a brand new passphrase here"


def attempt(client: Client, email: str, password: str, address: str = "127.0.0.1") -> int:
    body = client.hidden_fields("/sign-in")
    body.update({"email": email, "password": password})
    response = client.client.post("/sign-in", data=body, environ_base={"REMOTE_ADDR": address})
    return int(response.status_code)


def lock(app: Flask, email: str) -> None:
    """Five wrong passwords from a browser that never signed in, from five addresses."""
    guesser = Client(app.test_client())
    for n in range(5):
        assert attempt(guesser, email, f"wrong guess number {n}", f"198.51.100.{n}") == 401
    assert attempt(guesser, email, PASSWORD, "198.51.100.99") == 401  # locked for guessers


def test_a_completed_reset_lifts_the_lock(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    lock(app, user.email)
    Client(app.test_client()).submit_page("/forgot-password", {"email": user.email})
    link = LINK.search(db.session.scalars(select(OutboxMessage)).one().body)
    assert link is not None
    Client(app.test_client()).submit(
        link.group(1), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    # The new password works at once, in any browser, from any address.
    assert attempt(Client(app.test_client()), user.email, NEW_PASSWORD, "192.0.2.1") == 302


def test_the_owners_own_browser_signs_in_while_the_account_is_locked(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    owner = Client(app.test_client())
    sign_in_as(owner, user)
    sign_out(owner, "/staff/")
    lock(app, user.email)
    assert attempt(owner, user.email, PASSWORD) == 302
    assert owner.get("/staff/").status_code == 200
    # The owner signing in does not give the guesser a fresh allowance.
    assert attempt(Client(app.test_client()), user.email, PASSWORD, "198.51.100.98") == 401


def test_a_trusted_browser_is_locked_by_its_own_failures(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    browser = Client(app.test_client())
    sign_in_as(browser, user)
    sign_out(browser, "/staff/")
    for n in range(5):
        assert attempt(browser, user.email, f"wrong guess number {n}") == 401
    assert attempt(browser, user.email, PASSWORD) == 401


def test_trust_is_for_the_account_signed_in_to_only(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    """Signing in to your own account does not let you past the lock on someone else's."""
    target, guesser_account = make_user("staff"), make_user("staff")
    guesser = Client(app.test_client())
    sign_in_as(guesser, guesser_account)
    sign_out(guesser, "/staff/")
    for n in range(5):
        assert attempt(guesser, target.email, f"wrong guess number {n}") == 401
    assert attempt(guesser, target.email, PASSWORD) == 401


def test_a_forged_trust_cookie_counts_for_nothing(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    lock(app, user.email)
    forger = Client(app.test_client())
    forger.client.set_cookie(
        "partner_select_device",
        "eyJhIjoiMSIsIm4iOiIyIn0.forged",
        domain="localhost",
        path="/sign-in",
    )
    assert attempt(forger, user.email, PASSWORD) == 401
