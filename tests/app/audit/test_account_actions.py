"""Account changes on the audit log: invitations, roles, suspension, passwords, the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Round, User
from tests.app.audit.conftest import assert_event, last_id, new_events, one_event
from tests.app.conftest import PASSWORD
from tests.app.helpers import Client, body_of, deliver_emails

LINK = re.compile(r"http://localhost(/set-password/[A-Za-z0-9_\-]+)")
NEW_PASSWORD = "a much longer passphrase for this"


def link_in_last_email() -> str:
    message = deliver_emails()[-1]
    match = LINK.search(body_of(message))
    assert match is not None
    return match.group(1)


def test_an_invitation_and_setting_the_password_from_it(
    admin: User, browser_for: Callable[[User], Client], client: Client
) -> None:
    browser = browser_for(admin)
    since = last_id()
    browser.submit(
        "/users/invite",
        {"name": "Nia Newcomer", "email": "nia@example.org", "role": "reviewer", "nation": ""},
    )
    invited = db.session.scalars(select(User).where(User.email == "nia@example.org")).one()
    event = one_event(since, "user.invited")
    assert_event(event, admin, "user", invited.id)
    assert event.detail == {"role": "reviewer"}

    since = last_id()
    client.submit(link_in_last_email(), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    event = one_event(since, "user.password_set")
    assert_event(event, invited, "user", invited.id)  # the invited person, as a reviewer
    assert event.detail == {}


def test_a_password_reset_is_logged_once_the_new_password_is_set(
    make_user: Any, client: Client
) -> None:
    user = make_user("staff", email="sam@example.org")
    since = last_id()
    client.submit("/forgot-password", {"email": "sam@example.org"}, status=200)
    client.submit("/forgot-password", {"email": "nobody@example.org"}, status=200)
    assert new_events(since) == []  # asking changes nothing a person did to the data
    client.submit(link_in_last_email(), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert_event(one_event(since, "user.password_reset"), user, "user", user.id)


def test_role_changes_and_suspension_each_leave_one_row(
    admin: User, make_user: Any, browser_for: Callable[[User], Client]
) -> None:
    person = make_user("reviewer", name="Pat Person")
    browser = browser_for(admin)
    url = f"/users/{person.id}"

    since = last_id()
    browser.submit(url, {"role": "staff", "active": "yes"})
    event = one_event(since, "user.roles_changed")
    assert_event(event, admin, "user", person.id)
    assert event.detail == {"old": "reviewer", "new": "staff"}

    since = last_id()
    browser.submit(url, {"role": "staff", "active": "no"})
    assert_event(one_event(since, "user.suspended"), admin, "user", person.id)

    since = last_id()
    browser.submit(url, {"role": "staff", "active": "yes"})
    assert_event(one_event(since, "user.reactivated"), admin, "user", person.id)

    since = last_id()
    browser.submit(url, {"role": "staff", "active": "yes"})
    assert new_events(since) == []  # saved without a change: nothing changed

    since = last_id()
    browser.submit(url, {"role": "admin", "active": "no"})
    assert [e.action for e in new_events(since)] == ["user.roles_changed", "user.suspended"]


def test_the_command_line_is_logged_with_no_actor(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "first.admin@example.org",
            "--name",
            "First Admin",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.email == "first.admin@example.org")).one()
    event = one_event(0, "user.created")
    assert_event(event, None, "user", user.id)
    assert event.detail == {"role": "admin"}

    since = last_id()
    result = runner.invoke(
        args=[
            "create-round",
            "--slug",
            "cli-round",
            "--title",
            "Round from the command line",
            "--opens",
            "2027-01-10T09:00",
            "--closes",
            "2027-03-24T12:00",
        ]
    )
    assert result.exit_code == 0, result.output
    round_ = db.session.scalars(select(Round).where(Round.slug == "cli-round")).one()
    assert_event(one_event(since, "round.created"), None, "round", round_.id, round_.id)
