"""Sign-in, lockout, roles, invitations and password rules."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.services import AccountError, invite_user
from app.extensions import db
from app.models import OutboxMessage, User, UserToken, utcnow
from tests.app.conftest import PASSWORD, sign_in_as, sign_out
from tests.app.helpers import Client, body_of, deliver_emails, errors_of

LINK = re.compile(r"http://localhost(/set-password/[A-Za-z0-9_\-]+)")


def post_sign_in(client: Client, email: str, password: str, **kwargs):  # type: ignore[no-untyped-def]
    body = client.hidden_fields("/sign-in")
    body.update({"email": email, "password": password})
    return client.client.post("/sign-in", data=body, **kwargs)


def test_sign_in_takes_each_role_home_and_sign_out_ends_it(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    staff = make_user("staff")
    response = client.submit("/sign-in", {"email": staff.email.upper(), "password": PASSWORD})
    assert response.headers["Location"].endswith("/staff/")
    assert client.get_page("/staff/").select_one("h1").get_text(strip=True) == "Rounds"
    sign_out(client)
    assert client.get("/staff/").status_code == 302


def test_wrong_password_and_unknown_account_get_the_same_answer(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    wrong = post_sign_in(client, user.email, "not the password at all")
    unknown = post_sign_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    from bs4 import BeautifulSoup

    assert (
        errors_of(BeautifulSoup(wrong.data, "html.parser"))
        == errors_of(BeautifulSoup(unknown.data, "html.parser"))
        == "Enter a correct email address and password"
    )


def test_five_failures_lock_the_account_with_a_time_to_retry(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    for _ in range(5):
        post_sign_in(client, user.email, "wrong password number x")
    # Even the right password is refused while locked, and the message says when to retry.
    response = post_sign_in(client, user.email, PASSWORD)
    text = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "too many times" in text and "Try again after" in text and "(UK time)" in text
    assert client.get("/staff/").status_code == 302  # still signed out


def test_lockout_ends_after_the_window(client: Client, make_user, app: Flask) -> None:  # type: ignore[no-untyped-def]
    from app.models import SignInFailure

    user = make_user("staff")
    for _ in range(5):
        post_sign_in(client, user.email, "wrong password number x")
    for failure in db.session.scalars(select(SignInFailure)):
        failure.at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    assert post_sign_in(client, user.email, PASSWORD).status_code == 302


def test_failures_are_counted_per_address_across_accounts(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    for n in range(20):
        post_sign_in(client, f"guess{n}@example.org", "wrong password number x")
    response = post_sign_in(client, user.email, PASSWORD)
    assert response.status_code == 401 and "too many times" in response.get_data(as_text=True)
    # From another address the account is not locked.
    other = post_sign_in(client, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 302


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("reviewer", "/staff/", 403),
        ("reviewer", "/users", 403),
        ("staff", "/users", 403),
        ("staff", "/staff/", 200),
        ("admin", "/users", 200),
        ("reviewer", "/panel/", 200),
    ],
)
def test_roles_decide_access(client: Client, make_user, role: str, path: str, status: int) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, make_user(role))
    assert client.get(path).status_code == status


def test_signed_out_people_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/staff/")
    assert response.status_code == 302 and "/sign-in?next=" in response.headers["Location"]


def test_next_only_goes_to_this_site(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        body = client.hidden_fields("/sign-in")
        body.update({"email": user.email, "password": PASSWORD})
        response = client.client.post("/sign-in", query_string={"next": target}, data=body)
        assert response.headers["Location"] == "/staff/", target
        sign_out(client)


def _invite(client: Client, admin, email: str, role: str = "reviewer") -> str:  # type: ignore[no-untyped-def]
    sign_in_as(client, admin)
    client.submit("/users/invite", {"name": "Rhiannon Price", "email": email, "role": role})
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "invitation")
    ).one()
    assert message.to_address == email
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def test_invitation_sets_a_password_once(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    link = _invite(Client(app.test_client()), admin, "rhiannon@example.org")
    invitee = Client(app.test_client())
    page = invitee.submit_page(link, {"password": "short", "confirm": "short"})
    assert "Password must be 12 characters or more" in errors_of(page)
    page = invitee.submit_page(link, {"password": "password1234", "confirm": "password1234"})
    assert "too common" in errors_of(page)
    page = invitee.submit_page(
        link, {"password": "rhiannon-secret-words", "confirm": "rhiannon-secret-words"}
    )
    assert "does not contain your name or email" in errors_of(page)
    good = "Glas y dorlan, 7 afon!"
    response = invitee.submit(link, {"password": good, "confirm": good})
    assert response.headers["Location"].endswith("/panel/")
    assert invitee.get("/panel/").status_code == 200
    # Single use.
    assert invitee.get(link).status_code == 404
    user = db.session.scalars(select(User).where(User.email == "rhiannon@example.org")).one()
    assert user.password_hash and user.password_hash.startswith("$argon2")


def test_expired_invitation_link_is_refused(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    link = _invite(Client(app.test_client()), admin, "late@example.org")
    token = db.session.scalars(select(UserToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert Client(app.test_client()).get(link).status_code == 404


def test_inviting_an_existing_email_says_so_and_keeps_the_answers(
    client: Client, make_user
) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    sign_in_as(client, admin)
    page = client.submit_page(
        "/users/invite", {"name": "Someone", "email": admin.email, "role": "staff"}
    )
    assert "already an account" in errors_of(page)
    assert page.select_one("#name")["value"] == "Someone"


def test_two_invitations_of_one_address_at_once_keep_one_account(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    """The other invitation was written after this one looked for the address (simulated by a
    row the look-up cannot see): the unique address refuses the second, with the message."""
    admin = make_user("admin")
    db.session.add(User(email="race@example.org", name="First", role="staff", created_at=utcnow()))
    with db.session.no_autoflush, pytest.raises(AccountError, match="already an account"):
        invite_user(
            db.session,
            email="race@example.org",
            name="Second",
            role="reviewer",
            nation=None,
            link_for=lambda token: token,
            now=utcnow(),
            by=admin,
        )
    db.session.rollback()


def test_forgot_password_answers_the_same_for_unknown_emails(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    client = Client(app.test_client())
    known = client.submit_page("/forgot-password", {"email": user.email})
    unknown = client.submit_page("/forgot-password", {"email": "nobody@example.org"})
    assert known.select_one("main").get_text() == unknown.select_one("main").get_text()
    # Both requests queue the same work; only the account's address gets an email.
    assert [m["To"] for m in deliver_emails()] == [user.email]


def test_changing_the_password_signs_out_other_sessions(app: Flask, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("staff")
    elsewhere = Client(app.test_client())
    sign_in_as(elsewhere, user)
    assert elsewhere.get("/staff/").status_code == 200
    Client(app.test_client()).submit_page("/forgot-password", {"email": user.email})
    [email] = deliver_emails()
    link = LINK.search(body_of(email)).group(1)  # type: ignore[union-attr]
    new = "another long passphrase here"
    Client(app.test_client()).submit(link, {"password": new, "confirm": new})
    assert elsewhere.get("/staff/").status_code == 302


def test_idle_session_times_out(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, make_user("staff"))
    with client.client.session_transaction() as session:
        session["last_seen"] = (utcnow() - timedelta(minutes=31)).isoformat()
    response = client.get("/staff/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_admin_cannot_remove_their_own_admin_access(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    admin = make_user("admin")
    sign_in_as(client, admin)
    page = client.submit_page(f"/users/{admin.id}", {"role": "staff", "active": "yes"})
    assert "cannot remove your own admin access" in errors_of(page)


def test_create_user_command(app: Flask) -> None:
    runner = app.test_cli_runner()
    weak = runner.invoke(
        args=["create-user", "--email", "a@example.org", "--name", "A", "--password", "qwerty"]
    )
    assert weak.exit_code != 0 and "12 characters" in weak.output
    ok = runner.invoke(
        args=["create-user", "--email", "Ad@Example.org", "--name", "Admin", "--password", PASSWORD]
    )
    assert ok.exit_code == 0, ok.output
    user = db.session.scalars(select(User)).one()
    assert (user.email, user.role) == ("ad@example.org", "admin")
