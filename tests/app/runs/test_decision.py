"""Confirming a run as the decision, swapping sites with a reason, replacing a site that
withdraws, and queueing outcome messages once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Override, SelectionRun, User, utcnow
from app.staff.runs import decisions as run_decisions
from app.staff.runs.decisions import accept_replacement, propose_replacement, record_override
from app.staff.runs.services import RunError
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, press
from tests.app.runs.helpers import best_total, decisions, post_with_token, run_id_from
from tests.app.world import QUOTAS, SITES, Pool


@pytest.fixture
def staff(client: Client, make_user: Any) -> Any:
    user = make_user("staff")
    sign_in_as(client, user)
    return user


@pytest.fixture
def run_id(client: Client, pool: Pool, staff: Any) -> int:
    response = client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"})
    return run_id_from(response.headers["Location"])


def confirm(client: Client, run_id: int) -> None:
    # The run page links to the check page; its button confirms.
    run_page = client.get_page(f"/staff/runs/{run_id}")
    assert run_page.select_one("#check-confirm")["href"] == f"/staff/runs/{run_id}/confirm"
    response = press(client, f"/staff/runs/{run_id}/confirm", f"/staff/runs/{run_id}/confirm")
    assert response.status_code == 302
    assert db.session.get(SelectionRun, run_id).confirmed_at is not None


def selected(pool: Pool, run_id: int) -> list[Any]:
    stored = decisions(run_id)
    return [a for a in pool.applications if stored[a.id].decision == "selected"]


def overrides() -> list[Override]:
    return list(db.session.scalars(select(Override).order_by(Override.id)))


def test_confirming_records_who_and_when_and_only_one_run_is_the_decision(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    confirm(client, run_id)
    run = db.session.get(SelectionRun, run_id)
    assert run.confirmed_by_id == staff.id
    page = client.get_page(f"/staff/runs/{run_id}")
    assert f"by {staff.name}" in page.select_one("#started").get_text()
    second = run_id_from(
        client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"}).headers["Location"]
    )
    check = client.get_page(f"/staff/runs/{second}/confirm")
    assert f"Run {run_id} is already this round's decision" in check.get_text()
    assert not check.select(f'form[action="/staff/runs/{second}/confirm"]')
    response = post_with_token(client, f"/staff/runs/{second}", f"/staff/runs/{second}/confirm")
    page = client.get_page(response.headers["Location"])
    assert f"Run {run_id} is already confirmed" in page.get_text()
    assert db.session.get(SelectionRun, second).confirmed_at is None


def test_the_override_page_shows_the_effect_on_score_and_quotas_then_records_it(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    confirm(client, run_id)
    chosen = selected(pool, run_id)
    out = next(a for a in chosen if a.nation == "scotland")
    stored = decisions(run_id)
    into = max(
        (
            a
            for a in pool.applications
            if a.nation == "wales" and stored[a.id].decision != "selected"
        ),
        key=pool.score,
    )
    url = f"/staff/runs/{run_id}/override?remove={out.id}&add={into.id}"

    page = client.get_page(url)

    before = sum(pool.score(a) for a in chosen)
    after_set = [a for a in chosen if a is not out] + [into]
    after = sum(pool.score(a) for a in after_set)
    assert float(page.select_one("#total-before").get_text()) == pytest.approx(before, abs=1e-3)
    assert float(page.select_one("#total-after").get_text()) == pytest.approx(after, abs=1e-3)
    for q in QUOTAS:
        row = page.select_one(f'#quota-effect tr[data-quota="{q["dimension"]}:{q["category"]}"]')
        n = sum(1 for a in after_set if getattr(a, q["dimension"]) == q["category"])
        ok = (q["min"] is None or n >= q["min"]) and (q["max"] is None or n <= q["max"])
        assert row.select_one(".quota-status").get_text(strip=True) == ("Met" if ok else "Broken")
    assert page.select_one("#broken-warning") is not None  # Wales max 2 is broken by this swap

    # A reason is required.
    response = client.client.post(url, data={"csrf_token": _token(page), "reason": "  "})
    assert response.status_code == 400
    assert (
        "Enter the reason"
        in BeautifulSoup(response.data, "html.parser").select_one(".error-summary").get_text()
    )
    assert overrides() == []

    response = client.client.post(
        url, data={"csrf_token": _token(page), "reason": "Local authority partner pulled out"}
    )
    assert response.status_code == 302
    [override] = overrides()
    assert (override.removed_application_id, override.added_application_id) == (out.id, into.id)
    assert override.user_id == staff.id and "pulled out" in override.reason
    shortlist = client.get_page(f"/staff/runs/{run_id}")
    final = {
        r["data-reference"]: r["data-decision"]
        for r in shortlist.select("#decision-table tbody tr")
    }
    assert final[into.reference] == "selected" and final[out.reference] == "not_selected"
    # The engine's stored decisions are unchanged: runs are immutable.
    assert decisions(run_id)[out.id].decision == "selected"


def test_no_override_before_the_run_is_confirmed(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    chosen = selected(pool, run_id)
    other = next(a for a in pool.applications if a not in chosen)
    url = f"/staff/runs/{run_id}/override?remove={chosen[0].id}&add={other.id}"
    page = client.get_page(url)
    assert page.select_one("main form[method=post]") is None  # no button to press
    token = page.select_one("input[name=csrf_token]")["value"]
    response = client.client.post(url, data={"csrf_token": token, "reason": "Because"})
    assert response.status_code == 400
    assert overrides() == []


def test_a_withdrawn_site_is_replaced_by_the_best_one_keeping_every_quota(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    confirm(client, run_id)
    chosen = selected(pool, run_id)
    gone = min(chosen, key=pool.score)
    rest = [a for a in chosen if a is not gone]
    best = best_total(pool.applications, pool.score, SITES, QUOTAS, keep=rest, exclude=[gone])

    page = client.get_page(f"/staff/runs/{run_id}/replace?withdrawn={gone.id}")

    reference = page.select_one("#replacement").get_text(strip=True)
    incoming = next(a for a in pool.applications if a.reference == reference)
    assert incoming not in chosen and incoming is not gone
    assert sum(pool.score(a) for a in [*rest, incoming]) == pytest.approx(best)
    response = press(
        client,
        f"/staff/runs/{run_id}/replace?withdrawn={gone.id}",
        f"/staff/runs/{run_id}/replace",
        {"note": "Lost their funding"},
    )
    assert response.status_code == 302
    [override] = overrides()
    assert (override.removed_application_id, override.added_application_id) == (
        gone.id,
        incoming.id,
    )
    assert "withdrew" in override.reason and "Lost their funding" in override.reason


def test_a_replacement_other_than_the_one_proposed_is_refused(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    """The page posts the site it showed; if that is no longer the engine's proposal (another
    site sent, a stale page), nothing is recorded and the page says to check the new one."""
    confirm(client, run_id)
    chosen = selected(pool, run_id)
    gone = min(chosen, key=pool.score)
    page_url = f"/staff/runs/{run_id}/replace?withdrawn={gone.id}"
    proposed = client.get_page(page_url).select_one("#replacement").get_text(strip=True)
    stale = next(a for a in pool.applications if a not in chosen and a.reference != proposed)
    response = post_with_token(
        client, page_url, f"{page_url}&replacement={stale.id}", {"note": "Lost their funding"}
    )
    assert response.status_code == 400
    page = BeautifulSoup(response.data, "html.parser")
    assert "The proposed replacement has changed" in page.get_text()
    assert overrides() == []


def test_a_replacement_replays_the_engine_once_for_the_same_stored_run(
    client: Client, pool: Pool, staff: Any, run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page is read, then posted: the engine's replay is the same both times and runs once.
    Other stored data (here, a changed snapshot) is never answered from what was kept."""
    confirm(client, run_id)
    gone = min(selected(pool, run_id), key=pool.score)
    replays = []
    engine = run_decisions.run_engine

    def counted(*args: Any, **kwargs: Any) -> Any:
        replays.append(1)
        return engine(*args, **kwargs)

    monkeypatch.setattr(run_decisions, "run_engine", counted)
    monkeypatch.setattr(run_decisions, "_REPLAYS", run_decisions.OrderedDict())
    run = db.session.get_one(SelectionRun, run_id)
    first = propose_replacement(db.session, run, gone.id)
    assert propose_replacement(db.session, run, gone.id) == first
    assert len(replays) == 1

    applications = [dict(row) for row in run.parameters["applications"]]
    applications[0]["organisation"] = "Changed after the run"
    run.parameters = {**run.parameters, "applications": applications}
    with pytest.raises(RunError, match="can no longer be replayed exactly"):
        propose_replacement(db.session, run, gone.id)
    assert len(replays) == 2


def while_a_holds_a_change(change: Callable[[Session], None], press_as_b: Callable[[], Any]) -> Any:
    """A has recorded a change to the decision (`change`, in a transaction of its own) and not
    yet committed when B presses (`press_as_b`, a request in another thread): B must wait for A
    and then see A's change. Returns B's response. The test's own session must hold no
    transaction (on SQLite it would hold the write lock)."""
    answer: dict[str, Any] = {}
    with Session(db.engine) as other:
        change(other)
        b = threading.Thread(target=lambda: answer.update(response=press_as_b()))
        b.start()
        b.join(timeout=1.0)
        assert b.is_alive()  # B waits for A
        other.commit()
    b.join(timeout=60)
    return answer["response"]


def error_summary(response: Any) -> str:
    assert response.status_code == 400
    return str(BeautifulSoup(response.data, "html.parser").select_one(".error-summary").get_text())


def test_two_people_accepting_a_replacement_at_once_record_one(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    confirm(client, run_id)
    gone = min(selected(pool, run_id), key=pool.score)
    page_url = f"/staff/runs/{run_id}/replace?withdrawn={gone.id}"
    page = client.get_page(page_url)  # B's page, read before A pressed
    reference = page.select_one("#replacement").get_text(strip=True)
    incoming_id = next(a.id for a in pool.applications if a.reference == reference)
    gone_id, staff_id = gone.id, staff.id
    db.session.rollback()

    def accept_as_a(other: Session) -> None:
        run = other.get_one(SelectionRun, run_id)
        proposal = propose_replacement(other, run, gone_id)
        user = other.get_one(User, staff_id)
        accept_replacement(other, run, proposal, incoming_id, "", user, utcnow())

    response = while_a_holds_a_change(
        accept_as_a,
        lambda: client.client.post(
            f"{page_url}&replacement={incoming_id}", data={"csrf_token": _token(page), "note": ""}
        ),
    )
    # Refused with the reason (PostgreSQL: the decision has just changed; SQLite, where B's
    # whole request waits: the site is no longer selected). One replacement, not two.
    summary = error_summary(response)
    assert "just been changed by someone else" in summary or "still selected" in summary
    assert [(o.removed_application_id, o.added_application_id) for o in overrides()] == [
        (gone_id, incoming_id)
    ]


def test_two_people_swapping_out_the_same_site_at_once_record_one_swap(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    confirm(client, run_id)
    chosen = selected(pool, run_id)
    out_id = chosen[0].id
    into_a, into_b = [a.id for a in pool.applications if a not in chosen][:2]
    url = f"/staff/runs/{run_id}/override?remove={out_id}&add={into_b}"
    token = _token(client.get_page(url))  # B's page, read before A pressed
    staff_id = staff.id
    db.session.rollback()

    def swap_as_a(other: Session) -> None:
        run = other.get_one(SelectionRun, run_id)
        user = other.get_one(User, staff_id)
        record_override(other, run, out_id, into_a, "Partner pulled out", user, utcnow())

    response = while_a_holds_a_change(
        swap_as_a,
        lambda: client.client.post(url, data={"csrf_token": token, "reason": "Funding ended"}),
    )
    assert "Choose a selected application to take out" in error_summary(response)
    assert [(o.removed_application_id, o.added_application_id) for o in overrides()] == [
        (out_id, into_a)
    ]


def _token(page: Any) -> str:
    return page.select_one("main form[method=post] input[name=csrf_token]")["value"]
