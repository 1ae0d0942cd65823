"""Starting a selection run from the round: the engine's choice, stored for every application."""

from __future__ import annotations

from typing import Any

import pytest

from app.extensions import db
from app.models import Moderation, SelectionRun
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client
from tests.app.runs.helpers import best_total, decisions, meets, run_id_from, runs_of
from tests.app.world import QUOTAS, SITES, Pool, build_pool


def start(client: Client, pool: Pool, data: dict[str, Any] | None = None) -> Any:
    return client.submit(f"/staff/rounds/{pool.round.id}/runs", data or {"reserves": "2"})


@pytest.fixture
def staff(client: Client, make_user: Any) -> Any:
    user = make_user("staff")
    sign_in_as(client, user)
    return user


def test_a_run_selects_the_best_set_that_meets_every_quota(
    client: Client, pool: Pool, staff: Any
) -> None:
    response = start(client, pool)

    run = db.session.get(SelectionRun, run_id_from(response.headers["Location"]))
    assert run is not None and run.status == "done"
    stored = decisions(run.id)
    assert set(stored) == {a.id for a in pool.applications}
    chosen = [a for a in pool.applications if stored[a.id].decision == "selected"]
    assert len(chosen) == SITES
    assert meets(chosen, QUOTAS)
    assert sum(1 for a in chosen if a.nation == "scotland") >= 2
    assert sum(1 for a in chosen if a.nation == "wales") <= 2
    # Optimal: no other set of five meeting the quotas scores more (found by brute force).
    total = sum(pool.score(a) for a in chosen)
    assert total == pytest.approx(best_total(pool.applications, pool.score, SITES, QUOTAS))
    reserves = sorted(
        (d.reserve_number, a.id)
        for a in pool.applications
        if (d := stored[a.id]).decision == "reserve"
    )
    assert [n for n, _ in reserves] == [1, 2]
    for a in pool.applications:
        d = stored[a.id]
        assert d.reason
        assert d.difference == pytest.approx(pool.means(a)["difference"])
        assert d.score == pytest.approx(pool.score(a), abs=1e-3)
    assert run.parameters["seed"] is not None and run.parameters["k"] == SITES
    assert run.parameters["quotas"] == QUOTAS
    assert run.input_sha256 and len(run.input_sha256) == 64
    top = sorted((pool.score(a) for a in pool.applications), reverse=True)[:SITES]
    assert run.summary["unconstrained_total_score"] == pytest.approx(sum(top), abs=1e-3)
    assert run.summary["price_of_balance"] == pytest.approx(sum(top) - total, abs=1e-3)


def test_ineligible_applications_are_never_selected_and_keep_their_reason(
    client: Client, pool: Pool, staff: Any
) -> None:
    best = pool.by_name("Wales One")
    best.screening, best.screening_reason = "ineligible", "outside adult social care"
    db.session.commit()

    run_id = run_id_from(start(client, pool).headers["Location"])

    d = decisions(run_id)[best.id]
    assert d.decision == "ineligible"
    assert "outside adult social care" in d.reason


def test_an_ineligible_application_s_reason_gives_the_screening_reason_in_words(
    client: Client, pool: Pool, staff: Any
) -> None:
    screened_out = pool.by_name("Scotland Two")
    # The code the screening form stores for "Not adult social care".
    screened_out.screening, screened_out.screening_reason = "ineligible", "not-adult-social-care"
    db.session.commit()

    run_id = run_id_from(start(client, pool).headers["Location"])

    assert decisions(run_id)[screened_out.id].reason == "Not eligible: Not adult social care."
    page = client.get_page(f"/staff/runs/{run_id}?decision=ineligible")
    row = page.select_one(f'#decision-table tr[data-reference="{screened_out.reference}"]')
    reason = row.select_one("td.reason").get_text(strip=True)
    assert reason == "Not eligible: Not adult social care." and "not-adult" not in reason


def test_a_moderated_score_replaces_that_criterion_mean(
    client: Client, pool: Pool, staff: Any
) -> None:
    target = pool.by_name("England Three")
    db.session.add(
        Moderation(
            application_id=target.id, criterion="evidence", score=5.0, reason="x", user_id=staff.id
        )
    )
    db.session.commit()

    run_id = run_id_from(start(client, pool).headers["Location"])

    d = decisions(run_id)[target.id]
    assert d.evidence == pytest.approx(5.0)
    assert d.difference == pytest.approx(pool.means(target)["difference"])
    assert "moderated" in d.flags


def test_a_second_run_while_one_is_running_is_refused(
    client: Client, pool: Pool, staff: Any
) -> None:
    db.session.add(SelectionRun(round_id=pool.round.id, status="running", parameters={}))
    db.session.commit()

    response = start(client, pool)

    assert response.headers["Location"].endswith(f"/staff/rounds/{pool.round.id}/runs")
    page = client.get_page(response.headers["Location"])
    assert "already in progress" in page.select_one("main").get_text()
    assert [r.status for r in runs_of(pool.round.id)] == ["running"]


def test_infeasible_quotas_show_the_engines_advice(
    client: Client, app: Any, make_user: Any
) -> None:
    pool = build_pool(
        make_user, quotas=[{"dimension": "nation", "category": "scotland", "min": 4, "max": None}]
    )
    sign_in_as(client, make_user("staff"))

    response = start(client, pool)

    run = runs_of(pool.round.id)[0]
    assert run.status == "infeasible"
    page = client.get_page(response.headers["Location"])
    advice = page.select_one("#advice")
    assert advice is not None
    text = advice.get_text(" ", strip=True)
    assert "cannot all be met" in text
    assert "3" in text and "Traceback" not in page.get_text()
    assert not decisions(run.id)
    # The lock is released: another run can start.
    start(client, pool)
    assert [r.status for r in runs_of(pool.round.id)] == ["infeasible", "infeasible"]


def test_a_minimum_for_a_category_no_application_has_is_infeasible_with_advice(
    client: Client, app: Any, make_user: Any
) -> None:
    pool = build_pool(
        make_user, quotas=[{"dimension": "nation", "category": "atlantis", "min": 1, "max": None}]
    )
    sign_in_as(client, make_user("staff"))

    page = client.get_page(start(client, pool).headers["Location"])

    assert runs_of(pool.round.id)[0].status == "infeasible"
    advice = page.select_one("#advice").get_text(" ", strip=True)
    assert "nation 'atlantis' (row 2): no application has this category, but its minimum is 1" in (
        advice
    )
    assert "lower the “Nation: atlantis” minimum to 0" in advice


def test_a_row_for_a_category_no_application_has_without_a_minimum_is_a_warning(
    client: Client, app: Any, make_user: Any
) -> None:
    pool = build_pool(
        make_user, quotas=[{"dimension": "nation", "category": "atlantis", "min": 0, "max": 1}]
    )
    sign_in_as(client, make_user("staff"))

    client.get_page(start(client, pool).headers["Location"])

    run = runs_of(pool.round.id)[0]
    assert run.status == "done"
    assert any(
        "nation 'atlantis' (row 2): no application has this category, so this row changes "
        "nothing" in warning
        for warning in run.parameters["warnings"]
    )


def test_only_staff_can_start_a_run(client: Client, pool: Pool, make_user: Any) -> None:
    sign_in_as(client, make_user("reviewer"))
    assert client.get(f"/staff/rounds/{pool.round.id}/runs").status_code == 403
    assert client.client.post(f"/staff/rounds/{pool.round.id}/runs").status_code in (400, 403)
    assert runs_of(pool.round.id) == []


def test_an_unexpected_engine_error_fails_the_run_and_releases_the_lock(
    client: Client, pool: Pool, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret applicant data")

    monkeypatch.setattr("selection.select", broken)  # the engine, as run_services calls it

    page = client.get_page(start(client, pool).headers["Location"])

    assert [r.status for r in runs_of(pool.round.id)] == ["failed"]
    text = page.select_one("#problems").get_text()
    assert "error id" in text and "secret applicant data" not in text
    monkeypatch.undo()
    start(client, pool)
    assert [r.status for r in runs_of(pool.round.id)] == ["failed", "done"]


def test_a_round_with_no_applications_gets_a_clear_answer(
    client: Client, app: Any, make_user: Any
) -> None:
    from tests.app.factories import make_round

    round_ = make_round(sites_wanted=3)
    sign_in_as(client, make_user("staff"))

    response = client.submit(f"/staff/rounds/{round_.id}/runs", {"reserves": "2"})

    [run] = runs_of(round_.id)
    assert run.status in ("infeasible", "failed")
    page = client.get_page(response.headers["Location"])
    assert page.select_one("#advice, #problems") is not None


def test_a_seed_that_is_not_a_number_is_an_error_on_the_page(
    client: Client, pool: Pool, staff: Any
) -> None:
    page = client.submit_page(
        f"/staff/rounds/{pool.round.id}/runs", {"seed": "abc", "reserves": "2"}, status=400
    )
    assert "Enter the seed as a whole number" in page.select_one(".error-summary").get_text()
    assert runs_of(pool.round.id) == []


def test_the_same_seed_on_the_same_input_gives_the_same_decisions(
    client: Client, pool: Pool, staff: Any
) -> None:
    first = run_id_from(start(client, pool, {"seed": "42", "reserves": "3"}).headers["Location"])
    second = run_id_from(start(client, pool, {"seed": "42", "reserves": "3"}).headers["Location"])
    one, two = decisions(first), decisions(second)
    assert {i: (d.decision, d.rank, d.reserve_number) for i, d in one.items()} == {
        i: (d.decision, d.rank, d.reserve_number) for i, d in two.items()
    }
    runs = runs_of(pool.round.id)
    assert runs[0].input_sha256 == runs[1].input_sha256
