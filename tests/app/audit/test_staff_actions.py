"""Staff changes on the audit log: screening, withdrawal, merging, assisted applications, round
settings, the quota table and closing reviewing. Each leaves exactly one row, with no prose."""

from __future__ import annotations

import io
from collections.abc import Callable

from sqlalchemy import select

from app.extensions import db
from app.models import Application, Round, User, utcnow
from app.rounds import london
from tests.app.apply.journey import VALID
from tests.app.audit.conftest import NOTE, REASON, assert_event, last_id, new_events, one_event
from tests.app.factories import submitted_application
from tests.app.helpers import Client
from tests.app.staff.test_settings import VALID_SETTINGS


def test_screening_is_logged_with_codes_not_the_note(
    round_: Round, staff: User, browser_for: Callable[[User], Client]
) -> None:
    application = submitted_application(round_)
    browser = browser_for(staff)
    url = f"/staff/applications/{application.id}/screening"

    since = last_id()
    browser.submit(url, {"decision": "ineligible", "reason": "not-uk", "note": NOTE})
    event = one_event(since, "application.screened")
    assert_event(event, staff, "application", application.id, round_.id)
    assert event.detail == {"screening": "ineligible", "reason": "not-uk", "note_given": True}

    since = last_id()
    browser.submit(url, {"decision": "eligible"})
    event = one_event(since, "application.screened")
    assert event.detail == {"screening": "eligible", "reason": None, "note_given": False}


def test_withdrawal_is_logged_without_the_reason(
    round_: Round, staff: User, browser_for: Callable[[User], Client]
) -> None:
    application = submitted_application(round_)
    since = last_id()
    browser_for(staff).submit(f"/staff/applications/{application.id}/withdraw", {"reason": REASON})
    event = one_event(since, "application.withdrawn")
    assert_event(event, staff, "application", application.id, round_.id)
    assert event.detail == {"previous_status": "submitted"}


def test_a_merge_is_one_row_on_the_duplicate(
    round_: Round, browser_for: Callable[[User], Client], admin: User
) -> None:
    first = submitted_application(round_)
    second = submitted_application(round_)
    since = last_id()
    browser_for(admin).submit(  # admins may do what staff do; the role is kept
        f"/staff/applications/{second.id}/merge", {"reference": first.reference, "keep": "other"}
    )
    event = one_event(since, "application.merged")
    assert_event(event, admin, "application", second.id, round_.id)
    assert event.actor_role == "admin"
    assert event.detail == {"merged_into": first.id}


def test_an_assisted_application_is_logged_when_started_at_each_page_and_when_sent(
    round_: Round, staff: User, browser_for: Callable[[User], Client]
) -> None:
    browser = browser_for(staff)
    since = last_id()
    browser.submit(f"/staff/rounds/{round_.id}/assisted", {"channel": "phone"})
    application = db.session.scalars(select(Application)).one()
    event = one_event(since, "application.assisted_started")
    assert_event(event, staff, "application", application.id, round_.id)
    # Left blank while the round is open: received today.
    today = london(utcnow()).date().isoformat()
    assert event.detail == {"channel": "phone", "received_on": today, "after_closing": False}

    enter = f"/staff/applications/{application.id}/enter"
    for page_id in VALID:
        since = last_id()
        browser.submit(f"{enter}/{page_id}", VALID[page_id])
        event = one_event(since, "application.assisted_page_saved")
        assert_event(event, staff, "application", application.id, round_.id)
        assert event.detail == {"page": page_id}

    since = last_id()
    page = browser.get_page(enter)
    send = page.select_one(f'form[action="/staff/applications/{application.id}/send"]')
    token = send.select_one("[name=csrf_token]")["value"]
    assert browser.client.post(send["action"], data={"csrf_token": token}).status_code == 302
    event = one_event(since, "application.assisted_sent")
    assert_event(event, staff, "application", application.id, round_.id)
    assert event.detail == {"channel": "phone"}


def test_round_settings_name_the_changed_fields_only(
    round_: Round, staff: User, browser_for: Callable[[User], Client]
) -> None:
    browser = browser_for(staff)
    url = f"/staff/rounds/{round_.id}/settings"
    browser.submit(url, VALID_SETTINGS)

    since = last_id()
    browser.submit(
        url,
        {**VALID_SETTINGS, "text_offer": "A facilitator and £40,000.", "weight_difference": "3"},
    )
    event = one_event(since, "round.settings_changed")
    assert_event(event, staff, "round", round_.id, round_.id)
    assert event.detail == {"fields": ["texts.offer", "weights.difference"]}

    since = last_id()
    browser.submit(
        url,
        {**VALID_SETTINGS, "text_offer": "A facilitator and £40,000.", "weight_difference": "3"},
    )
    assert new_events(since) == []  # saved unchanged


def test_the_quota_table_from_the_form_and_from_a_file(
    round_: Round, staff: User, browser_for: Callable[[User], Client]
) -> None:
    browser = browser_for(staff)
    url = f"/staff/rounds/{round_.id}/quotas"
    since = last_id()
    browser.submit(
        url,
        {
            "dimension-0": "nation",
            "category-0": "wales",
            "min-0": "1",
            "max-0": "",
            "action": "save",
        },
    )
    event = one_event(since, "round.quotas_changed")
    assert_event(event, staff, "round", round_.id, round_.id)
    assert event.detail == {"source": "form", "rows": 1}

    since = last_id()
    token = browser.hidden_fields(url)["csrf_token"]
    response = browser.client.post(
        f"{url}/upload",
        data={
            "csrf_token": token,
            "file": (
                io.BytesIO(b"dimension,category,min,max\nnation,wales,1,3\narea_type,rural,2,\n"),
                "quotas.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert one_event(since, "round.quotas_changed").detail == {"source": "upload", "rows": 2}

    # A table with problems is not saved, so not logged.
    since = last_id()
    browser.submit(
        url, {"dimension-0": "nation", "category-0": "atlantis", "action": "save"}, status=200
    )
    assert new_events(since) == []


def test_closing_and_reopening_reviewing(
    round_: Round, staff: User, browser_for: Callable[[User], Client]
) -> None:
    browser = browser_for(staff)
    overview = f"/staff/rounds/{round_.id}/assignment"
    reviewing = f"/staff/rounds/{round_.id}/reviewing"
    token = browser.get_page(overview).select_one("input[name=csrf_token]")["value"]

    since = last_id()
    browser.client.post(reviewing, data={"csrf_token": token, "action": "close"})
    assert_event(one_event(since, "reviewing.closed"), staff, "round", round_.id, round_.id)

    since = last_id()
    browser.client.post(reviewing, data={"csrf_token": token, "action": "close"})
    assert new_events(since) == []  # already closed

    since = last_id()
    browser.client.post(reviewing, data={"csrf_token": token, "action": "reopen"})
    assert_event(one_event(since, "reviewing.reopened"), staff, "round", round_.id, round_.id)
