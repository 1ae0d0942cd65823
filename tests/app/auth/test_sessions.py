"""A signed-in session ends on sign-out (every copy of its cookie), after 30 idle minutes and 12
hours after signing in, and is not tied to headers the client can forge."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import User, utcnow
from tests.app.conftest import sign_in_as, sign_out
from tests.app.helpers import Client

COOKIE = "partner_select_session"


def copy_of_cookie(client: Client) -> str:
    cookie = client.client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> Client:
    other = Client(app.test_client())
    other.client.set_cookie(COOKIE, value, domain="localhost")
    return other


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(
    app: Flask, client: Client, make_user
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    sign_in_as(client, user)
    stolen = copy_of_cookie(client)
    assert with_cookie(app, stolen).get("/staff/").status_code == 200
    sign_out(client, "/staff/")
    response = with_cookie(app, stolen).get("/staff/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    # Signing in again works, with a new cookie; the old one stays dead.
    sign_in_as(client, user)
    assert client.get("/staff/").status_code == 200
    assert with_cookie(app, stolen).get("/staff/").status_code == 302


def test_suspending_an_account_ends_its_sessions(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    admin, person = make_user("admin"), make_user("staff")
    theirs = Client(app.test_client())
    sign_in_as(theirs, person)
    assert theirs.get("/staff/").status_code == 200
    admins = Client(app.test_client())
    sign_in_as(admins, admin)
    admins.submit(f"/users/{person.id}", {"role": "staff", "active": "no"})
    assert db.session.scalars(select(User.active).where(User.id == person.id)).one() is False
    assert theirs.get("/staff/").status_code == 302


def test_a_session_ends_12_hours_after_sign_in_however_busy(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, make_user("staff"))
    now = utcnow()
    with client.client.session_transaction() as session:
        session["signed_in_at"] = (now - timedelta(hours=11, minutes=58)).isoformat()
        session["last_seen"] = now.isoformat()
    assert client.get("/staff/").status_code == 200
    with client.client.session_transaction() as session:
        session["signed_in_at"] = (now - timedelta(hours=12, minutes=1)).isoformat()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    page = client.get_page(response.headers["Location"])
    assert "signed in a long time ago" in page.get_text()
    assert client.get("/staff/").status_code == 302  # signed out, not only turned away once


def test_a_session_without_its_sign_in_time_is_ended(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    """A cookie from before the absolute lifetime existed cannot live on for ever."""
    sign_in_as(client, make_user("staff"))
    with client.client.session_transaction() as session:
        del session["signed_in_at"]
    assert client.get("/staff/").status_code == 302


def test_the_absolute_lifetime_is_a_setting(app: Flask, client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    app.config["SESSION_LIFETIME_HOURS"] = 1
    sign_in_as(client, make_user("staff"))
    with client.client.session_transaction() as session:
        session["signed_in_at"] = (utcnow() - timedelta(minutes=61)).isoformat()
    assert client.get("/staff/").status_code == 302


def test_a_forwarded_address_neither_binds_nor_ends_a_session(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    """X-Forwarded-For comes from the client (TRUSTED_PROXIES is 0): it must change nothing."""
    sign_in_as(client, make_user("staff"))
    forged = {"X-Forwarded-For": "203.0.113.9"}
    assert client.client.get("/staff/", headers=forged).status_code == 200
    assert client.get("/staff/").status_code == 200
