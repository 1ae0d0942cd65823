"""Selection runs on the audit log: starting, sharing, confirming, overrides, replacements,
outcome messages and rationale downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.extensions import db
from app.models import Override, SelectionRun, User
from tests.app.audit.conftest import (
    OVERRIDE_REASON,
    assert_event,
    last_id,
    new_events,
    one_event,
    post,
)
from tests.app.helpers import Client, press
from tests.app.runs.helpers import decisions, run_id_from
from tests.app.world import Pool, build_pool


@pytest.fixture
def pool(app: Any, make_user: Any) -> Pool:
    return build_pool(make_user)


def start(browser: Client, pool: Pool) -> int:
    response = browser.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2", "seed": "7"})
    return run_id_from(response.headers["Location"])


def test_a_run_from_start_to_outcome_messages(
    pool: Pool, staff: User, browser_for: Callable[[User], Client]
) -> None:
    browser = browser_for(staff)
    round_id = pool.round.id

    since = last_id()
    run_id = start(browser, pool)
    event = one_event(since, "run.started")
    assert_event(event, staff, "run", run_id, round_id)
    assert event.detail == {"seed": 7, "reserves": 2}
    assert db.session.get(SelectionRun, run_id).status == "done"

    page = f"/staff/runs/{run_id}"
    for shared, action in (("yes", "run.shared"), ("no", "run.unshared")):
        since = last_id()
        assert post(browser, page, f"{page}/share", {"shared": shared}).status_code == 302
        assert_event(one_event(since, action), staff, "run", run_id, round_id)

    since = last_id()
    post(browser, f"{page}/confirm", f"{page}/confirm")  # from the check page
    assert_event(one_event(since, "run.confirmed"), staff, "run", run_id, round_id)

    stored = decisions(run_id)
    out = next(a for a in pool.applications if stored[a.id].decision == "selected")
    into = next(a for a in pool.applications if stored[a.id].decision == "not_selected")
    url = f"/staff/runs/{run_id}/override?remove={out.id}&add={into.id}"
    since = last_id()
    browser.submit(url, {"reason": OVERRIDE_REASON})
    override = db.session.scalars(db.select(Override)).one()
    event = one_event(since, "override.recorded")
    assert_event(event, staff, "run", run_id, round_id)
    assert event.detail == {
        "override_id": override.id,
        "removed_application_id": out.id,
        "added_application_id": into.id,
    }

    since = last_id()
    post(browser, f"{page}/outcomes", f"{page}/outcomes")  # from the check page
    event = one_event(since, "outcomes.queued")
    assert_event(event, staff, "run", run_id, round_id)
    assert event.detail == {"messages": len(pool.applications)}
    since = last_id()
    assert browser.get_page(f"{page}/outcomes").select_one("#nothing-to-send") is not None
    assert new_events(since) == []  # the check page writes nothing


def test_a_replacement_for_a_site_that_withdrew(
    pool: Pool, staff: User, browser_for: Callable[[User], Client]
) -> None:
    browser = browser_for(staff)
    run_id = start(browser, pool)
    page = f"/staff/runs/{run_id}"
    post(browser, f"{page}/confirm", f"{page}/confirm")  # from the check page
    stored = decisions(run_id)
    gone = next(a for a in pool.applications if stored[a.id].decision == "selected")
    url = f"/staff/runs/{run_id}/replace?withdrawn={gone.id}"
    action = browser.get_page(url).select_one("main form[method=post]")["action"]
    incoming = parse_qs(urlsplit(action).query)["replacement"][0]

    since = last_id()
    response = press(browser, url, f"/staff/runs/{run_id}/replace", {"note": "Lost their funding"})
    assert response.status_code == 302
    event = one_event(since, "replacement.accepted")
    assert_event(event, staff, "run", run_id, pool.round.id)
    override = db.session.scalars(db.select(Override)).one()
    assert event.detail == {
        "override_id": override.id,
        "removed_application_id": gone.id,
        "added_application_id": int(incoming),
        "note_given": True,
    }


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_downloading_the_rationale_is_logged(
    pool: Pool, make_user: Any, browser_for: Callable[[User], Client], file_format: str
) -> None:
    staff = make_user("staff")
    browser = browser_for(staff)
    run_id = start(browser, pool)
    since = last_id()
    # The run page offers the anonymised rationale as XLSX only.
    anonymised = file_format == "xlsx"
    query = "?anonymised=yes" if anonymised else ""
    url = f"/staff/runs/{run_id}/rationale.{file_format}{query}"
    response = press(browser, f"/staff/runs/{run_id}", url)
    assert response.status_code == 200
    event = one_event(since, "export.downloaded")
    assert_event(event, staff, "run", run_id, pool.round.id)
    assert event.detail == {"export": "rationale", "format": file_format, "anonymised": anonymised}
