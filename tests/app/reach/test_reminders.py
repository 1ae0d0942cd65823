"""Reminders to unsent drafts: once per draft per point of the schedule, across runs and a
restart; never to a draft that opted out, was sent, has no confirmed address, or whose round has
closed; and the opt-out link works without signing in (GET asks, POST opts out)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.applications.services import submit_application
from app.extensions import db
from app.models import Application, DraftReminder, Letter, OutboxMessage, Round, utcnow
from tests.app.factories import make_round
from tests.app.helpers import Client, body_of, deliver_emails
from tests.app.reach.conftest import make_draft


def _run(app: Flask) -> str:
    """`flask send-reminders`, in its own session (the test's ends first: on SQLite it would hold
    a lock)."""
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def _reminders() -> list[tuple[int, int]]:
    """(draft, days before) of every reminder recorded."""
    return sorted(
        (a, d)
        for a, d in db.session.execute(
            select(DraftReminder.application_id, DraftReminder.days_before)
        )
    )


def _queued() -> list[str]:
    return list(
        db.session.scalars(
            select(OutboxMessage.to_address)
            .where(OutboxMessage.kind == "draft-reminder")
            .order_by(OutboxMessage.id)
        )
    )


def _set_close(round_id: int, days: float) -> None:
    round_ = db.session.get(Round, round_id)
    assert round_ is not None
    round_.closes_at = utcnow() + timedelta(days=days)
    db.session.commit()


@pytest.fixture
def drafts(app: Flask) -> dict[str, Any]:
    """A round 5 days before its deadline (the 7-day point has passed, the 2-day one not) and a
    draft of each kind."""
    round_ = make_round(
        opens_at=utcnow() - timedelta(days=20), closes_at=utcnow() + timedelta(days=5)
    )
    made = {
        "ann": make_draft(round_, email="ann@example.org"),
        "bea": make_draft(round_, ["organisation", "contact"], email="bea@example.org"),
        "opted": make_draft(round_, email="opted@example.org"),
        "sent": make_draft(round_, email="sent@example.org"),
        "unconfirmed": make_draft(round_, email="typed@example.org", confirmed=False),
        "no_contact": make_draft(round_, ["organisation"], confirmed=False),
    }
    made["opted"].reminders_opted_out_at = utcnow()
    submit_application(db.session, made["sent"], utcnow())
    db.session.commit()
    return {"round": round_.id, **{k: v.id for k, v in made.items()}}


def test_one_reminder_per_draft_per_point_across_runs_and_a_restart(
    app: Flask, app_config: dict[str, Any], drafts: dict[str, Any]
) -> None:
    output = _run(app)
    assert "Queued 2 reminder(s); 2 draft(s) have no confirmed email address or postal" in output
    _run(app)
    assert sorted(_queued()) == ["ann@example.org", "bea@example.org"]
    # A fresh app on the same database (a restart) sends nothing again.
    db.session.rollback()
    restarted = create_app(dict(app_config))
    with restarted.app_context():
        assert "Queued 0 reminder(s)" in _run(restarted)
        db.session.remove()
        db.engine.dispose()
    assert sorted(_queued()) == ["ann@example.org", "bea@example.org"]
    # The 2-day point passes: one more each, then none.
    _set_close(drafts["round"], 1)
    _run(app)
    _run(app)
    assert sorted(_queued()) == [
        "ann@example.org",
        "ann@example.org",
        "bea@example.org",
        "bea@example.org",
    ]
    ann, bea = drafts["ann"], drafts["bea"]
    assert _reminders() == sorted([(ann, 2), (ann, 7), (bea, 2), (bea, 7)])


BY_POST = {
    "preferred_contact": "post",
    "email": "",
    "address_line_1": "1 Mill Lane",
    "address_town": "Hawes",
    "address_postcode": "DL8 3NT",
}


def test_a_draft_by_post_gets_its_reminder_as_a_letter_once(app: Flask) -> None:
    """One who prefers post gets the reminder in the print queue (with how to stop them), not
    the outbox, once per point; one who prefers post but gave no address gets none."""
    round_ = make_round(
        opens_at=utcnow() - timedelta(days=20), closes_at=utcnow() + timedelta(days=5)
    )
    by_post = make_draft(round_, confirmed=False, contact=BY_POST)
    no_address = make_draft(
        round_, confirmed=False, contact={**BY_POST, "address_line_1": "", "address_postcode": ""}
    )
    assert "Queued 1 reminder(s); 1 draft(s)" in _run(app)
    _run(app)
    letters = db.session.scalars(select(Letter).where(Letter.kind == "draft-reminder")).all()
    assert [letter.application_id for letter in letters] == [by_post.id]
    assert "1 Mill Lane" in letters[0].address and "DL8 3NT" in letters[0].address
    assert round_.title in letters[0].subject
    assert "To stop these reminders, call us" in letters[0].body
    assert _queued() == []  # nothing in the outbox
    assert _reminders() == [(by_post.id, 7)]
    assert no_address.id not in {a for a, _ in _reminders()}


def test_the_database_refuses_a_second_reminder_for_a_point(
    app: Flask, drafts: dict[str, Any]
) -> None:
    db.session.add(DraftReminder(application_id=drafts["ann"], days_before=7, sent_at=utcnow()))
    db.session.commit()
    db.session.add(DraftReminder(application_id=drafts["ann"], days_before=7, sent_at=utcnow()))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_no_reminder_before_the_first_point_or_after_the_close(
    app: Flask, drafts: dict[str, Any]
) -> None:
    _set_close(drafts["round"], 8)
    _run(app)
    assert _queued() == []
    round_ = db.session.get(Round, drafts["round"])
    assert round_ is not None
    round_.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    _run(app)
    assert _queued() == []


def test_a_queued_reminder_is_dropped_once_the_draft_is_sent(
    app: Flask, drafts: dict[str, Any]
) -> None:
    _run(app)
    ann = db.session.get(Application, drafts["ann"])
    assert ann is not None
    submit_application(db.session, ann, utcnow())
    db.session.commit()
    delivered = [m for m in deliver_emails() if m["Subject"].startswith("Reminder:")]
    assert [m["To"] for m in delivered] == ["bea@example.org"]
    assert "you have not sent it yet" in body_of(delivered[0])


def test_the_opt_out_link_works_without_signing_in(
    app: Flask, client: Client, drafts: dict[str, Any]
) -> None:
    _run(app)
    delivered = deliver_emails()
    body = body_of(next(m for m in delivered if m["To"] == "bea@example.org"))
    link = re.search(r"https?://[^/\s]+(/reminders/opt-out/\S+)", body)
    assert link is not None
    page = client.get_page(link.group(1))
    assert page.h1.get_text(strip=True) == "Stop reminders about your draft"
    # Opening the link (a mail scanner fetching it) changes nothing.
    bea = db.session.get(Application, drafts["bea"])
    assert bea is not None and bea.reminders_opted_out_at is None
    client.submit(link.group(1))
    db.session.expire_all()
    bea = db.session.get(Application, drafts["bea"])
    assert bea is not None and bea.reminders_opted_out_at is not None
    page = client.get_page(link.group(1))
    assert page.h1.get_text(strip=True) == "You will get no more reminders"
    _set_close(drafts["round"], 1)
    _run(app)
    assert sorted(_queued()) == ["ann@example.org", "ann@example.org", "bea@example.org"]


def test_a_forged_opt_out_link_is_not_found(
    app: Flask, client: Client, drafts: dict[str, Any]
) -> None:
    assert client.get("/reminders/opt-out/MQ.forged").status_code == 404
    assert client.get("/reminders/opt-out/" + "x" * 300).status_code == 404


def test_the_reach_page_counts_reminders_and_drafts_sent_after(
    app: Flask, drafts: dict[str, Any], make_user: Any
) -> None:
    from tests.app.conftest import sign_in_as

    _run(app)
    _set_close(drafts["round"], 1)
    _run(app)
    ann = db.session.get(Application, drafts["ann"])
    assert ann is not None
    submit_application(db.session, ann, utcnow() + timedelta(seconds=1))
    db.session.commit()
    expected = db.session.scalar(select(func.count(DraftReminder.id)))
    assert expected == 4
    staff = Client(app.test_client())
    sign_in_as(staff, make_user("staff"))
    text = staff.get_page(f"/staff/rounds/{drafts['round']}/reach").get_text(" ", strip=True)
    assert "4 reminders sent to 2 drafts; 1 of those drafts was then sent." in text


def test_staff_set_the_schedule_in_the_round_settings(staff_client: Client) -> None:
    from tests.app.helpers import errors_of
    from tests.app.staff.test_settings import VALID_SETTINGS

    round_ = make_round()
    url = f"/staff/rounds/{round_.id}/settings"
    page = staff_client.get_page(url)
    assert page.select_one("#reminder_days")["value"] == "7, 2"  # the default schedule
    staff_client.submit(url, {**VALID_SETTINGS, "reminder_days": "10, 3 10"})
    db.session.expire_all()
    stored = db.session.get(Round, round_.id)
    assert stored is not None and stored.settings["reminder_days"] == [10, 3]
    response = staff_client.submit(url, {**VALID_SETTINGS, "reminder_days": "7, soon"}, status=200)
    page = BeautifulSoup(response.data, "html.parser")
    assert errors_of(page).startswith("Enter the days before the deadline as whole numbers")
    assert page.select_one("#reminder_days")["value"] == "7, soon"
