"""Assisted applications: staff enter an expression of interest received by phone, post or email."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from app.applications.services import accepts_changes
from app.extensions import db
from app.models import Application, AuditEvent, OutboxMessage, Round, utcnow
from app.rounds import london
from tests.app.apply.journey import VALID
from tests.app.factories import make_round
from tests.app.helpers import Client, check_hygiene, errors_of, press


def start(client: Client, round_: Round, channel: str) -> str:
    response = client.submit(f"/staff/rounds/{round_.id}/assisted", {"channel": channel})
    return str(response.headers["Location"])


def test_staff_enter_a_postal_application_in_any_order_and_send_it(
    staff_client: Client, round_: Round, staff: Any
) -> None:
    page = staff_client.submit_page(f"/staff/rounds/{round_.id}/assisted", {"channel": "fax"})
    assert errors_of(page) == "Select how the expression of interest was received"

    enter = start(staff_client, round_, "post")
    application = db.session.scalars(select(Application)).one()
    assert enter.endswith(f"/staff/applications/{application.id}/enter")
    assert application.channel == "post" and application.entered_by_id == staff.id

    tasks = staff_client.get_page(enter)
    assert tasks.select_one("#not-ready") is not None
    assert tasks.select_one(f'form[action$="/applications/{application.id}/send"]') is None

    # The contact page first, with a mistake: the message, the Error title and the values kept.
    contact_url = f"{enter}/contact"
    form = staff_client.get_page(contact_url).select_one("main form")
    assert form.select_one("[name=website]") is None  # no spam checks for staff
    assert form.select_one("[name=form_started]") is None
    bad = {**VALID["contact"], "email": "not-an-email"}
    page = staff_client.submit_page(contact_url, bad)
    assert page.select_one("title").get_text().startswith("Error:")
    assert "Enter an email address in the correct format" in errors_of(page)
    assert page.select_one("#contact_name")["value"] == VALID["contact"]["contact_name"]

    for page_id in reversed(list(VALID)):
        staff_client.submit(f"{enter}/{page_id}", VALID[page_id])

    tasks = staff_client.get_page(enter)
    done = [t.get_text(strip=True) for t in tasks.select(".task-list__item .tag")]
    assert done and set(done) == {"Completed"}
    send = tasks.select_one(f'form[action="/staff/applications/{application.id}/send"]')
    assert send is not None
    response = staff_client.client.post(
        send["action"], data={"csrf_token": send.select_one("[name=csrf_token]")["value"]}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/applications/{application.id}")

    db.session.expire_all()
    sent = db.session.get(Application, application.id)
    assert sent.status == "submitted" and sent.reference and sent.channel == "post"
    assert sent.nation == "wales"  # the mix copied from the answers, as for online ones
    outbox = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.kind, m.to_address) for m in outbox] == [("confirmation", "sian.obrien@example.org")]
    assert sent.reference in outbox[0].subject

    page = staff_client.get_page(f"/staff/applications/{application.id}")
    received = {
        row.select_one("dt").get_text(strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in page.select("#status .summary-list__row")
    }["Received"]
    assert received == f"Post (entered by {staff.name})"
    events = [tr.select("td")[2].get_text(strip=True) for tr in page.select("#history tbody tr")]
    today = london(utcnow()).date()
    assert events[0] == (
        f"Started by staff for an expression of interest received by post on {today.day} "
        f"{today:%B %Y}"
    )
    assert sent.received_on == today  # left blank while the round is open: today
    assert events[-1] == f"Sent by staff (post); reference {sent.reference}"
    # Once sent, the entry pages lead back to the application.
    assert staff_client.get(enter).status_code == 302
    listed = staff_client.get_page(f"/staff/rounds/{round_.id}/applications")
    assert sent.reference in listed.select_one("#applications").get_text()


def test_sending_an_incomplete_application_lists_what_is_missing(
    staff_client: Client, round_: Round
) -> None:
    enter = start(staff_client, round_, "phone")
    staff_client.submit(f"{enter}/organisation", VALID["organisation"])
    token = staff_client.hidden_fields(f"{enter}/organisation")["csrf_token"]
    application_id = enter.split("/")[-2]
    response = staff_client.client.post(
        f"/staff/applications/{application_id}/send", data={"csrf_token": token}
    )
    assert response.status_code == 200
    from bs4 import BeautifulSoup

    page = BeautifulSoup(response.data, "html.parser")
    check_hygiene(page)
    assert page.select_one("title").get_text().startswith("Error:")
    assert "Answer the questions on “Contact and access”" in errors_of(page)
    assert "About your organisation" not in errors_of(page)
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_online_drafts_cannot_be_edited_by_staff(staff_client: Client, round_: Round) -> None:
    from tests.app.factories import submitted_application

    online = submitted_application(round_)
    assert staff_client.get(f"/staff/applications/{online.id}/enter/contact").status_code == 302


def test_a_round_not_yet_open_takes_no_assisted_applications(
    staff_client: Client, app: Any
) -> None:
    later = make_round(
        "later-round",
        opens_at=utcnow() + timedelta(days=2),
        closes_at=utcnow() + timedelta(days=20),
    )
    page = staff_client.get_page(f"/staff/rounds/{later.id}/assisted")
    assert "not open yet" in page.select_one("main").get_text()
    assert page.select_one("main form") is None


def test_a_postal_application_received_by_the_closing_date_is_entered_after_it(
    staff_client: Client, app: Any, staff: Any
) -> None:
    now = utcnow()
    closed = make_round(
        "closed-round", opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=3)
    )
    closing = london(closed.closes_at).date()
    url = f"/staff/rounds/{closed.id}/assisted"
    page = staff_client.get_page(url)
    assert f"This round closed on {closing.day} {closing:%B %Y}" in page.get_text(" ")

    def refused(received: str) -> str:
        page = staff_client.submit_page(url, {"channel": "post", "received_on": received})
        assert page.select_one("title").get_text().startswith("Error:")
        assert page.select_one("#received_on")["value"] == received  # what was typed, kept
        return errors_of(page)

    assert refused("") == (
        "Enter the date the application was received: the round has closed, so it can be "
        f"entered only if it reached you on or before the closing date, "
        f"{closing.day} {closing:%B %Y}"
    )
    assert refused("31/2/2026") == (
        "Enter the date it was received as day/month/year, like 24/3/2027"
    )
    tomorrow = london(now).date() + timedelta(days=1)
    assert refused(f"{tomorrow:%d/%m/%Y}") == (
        "The date it was received must be today or in the past"
    )
    after = closing + timedelta(days=1)
    assert refused(f"{after:%d/%m/%Y}").startswith(
        "The date it was received must be on or before the closing date"
    )
    before = london(closed.opens_at).date() - timedelta(days=1)
    assert refused(f"{before:%d/%m/%Y}").startswith(
        "The date it was received must be on or after the opening date"
    )
    assert db.session.scalars(select(Application)).all() == []

    enter = staff_client.submit(url, {"channel": "post", "received_on": f"{closing:%d/%m/%Y}"})
    enter_url = str(enter.headers["Location"])
    for page_id in VALID:
        staff_client.submit(f"{enter_url}/{page_id}", VALID[page_id])
    response = press(staff_client, enter_url, "/staff/applications/")
    assert response.status_code == 302
    db.session.expire_all()
    sent = db.session.scalars(select(Application)).one()
    assert sent.status == "submitted" and sent.reference
    assert sent.channel == "post" and sent.received_on == closing
    started = db.session.scalars(
        select(AuditEvent).filter_by(action="application.assisted_started")
    ).one()
    assert started.actor_id == staff.id and started.record_id == sent.id
    assert started.detail == {
        "channel": "post",
        "received_on": closing.isoformat(),
        "after_closing": True,
    }
    page = staff_client.get_page(f"/staff/applications/{sent.id}")
    rows = {
        row.select_one("dt").get_text(strip=True): row.select_one("dd").get_text(" ", strip=True)
        for row in page.select("#status .summary-list__row")
    }
    assert rows["Date received"] == f"{closing.day} {closing:%B %Y}"
    # Only staff entries received by the closing date: an online draft stays closed.
    online_draft: Any = SimpleNamespace(round=closed, entered_by_id=None, received_on=None)
    assert not accepts_changes(online_draft, utcnow())
    assert accepts_changes(sent, utcnow())


def test_a_page_entered_after_a_colleague_withdrew_the_draft_is_not_saved(
    staff_client: Client, round_: Round, monkeypatch: Any
) -> None:
    """A colleague withdraws the draft after this page was read, before it is saved: the save
    is refused whole and staff are told why on the application's page (was a 500)."""
    enter = start(staff_client, round_, "phone")
    application = db.session.scalars(select(Application)).one()
    url = f"{enter}/organisation"
    form = staff_client.hidden_fields(url)
    from app.staff.applications import views

    real_draft = views._assisted_draft

    def withdrawn_after_the_read(application_id: int) -> Any:
        draft = real_draft(application_id)  # read as a draft...
        table = Application.__table__
        db.session.execute(table.update().values(status="withdrawn"))  # ...then withdrawn
        return draft

    monkeypatch.setattr(views, "_assisted_draft", withdrawn_after_the_read)
    response = staff_client.client.post(url, data={**form, **VALID["organisation"]})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/applications/{application.id}")
    monkeypatch.undo()
    page = staff_client.get_page(response.headers["Location"])
    assert "Not saved: while you were entering it the application became withdrawn" in (
        page.get_text(" ", strip=True)
    )
    db.session.expire_all()
    assert db.session.get(Application, application.id).answers == {}
