"""After staff change a confirmed run, everything shown is for the selection as it now stands: the
price of balance, the quota table, the mix and every reason, and the log says who changed what."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from app.extensions import db
from app.labels import DECISION_LABELS
from app.models import SelectionRun
from app.staff.runs.shortlist import final_decisions, run_overrides
from selection import SelectionOptions, evaluate
from tests.app.conftest import sign_in_as
from tests.app.helpers import Client, press
from tests.app.runs.helpers import decisions, run_id_from
from tests.app.world import CRITERIA, QUOTAS, SITES, Pool


@pytest.fixture
def staff(client: Client, make_user: Any) -> Any:
    user = make_user("staff", name="Morgan Swapper")
    sign_in_as(client, user)
    return user


@pytest.fixture
def run_id(client: Client, pool: Pool, staff: Any) -> int:
    response = client.submit(f"/staff/rounds/{pool.round.id}/runs", {"reserves": "2"})
    run_id = run_id_from(response.headers["Location"])
    response = press(client, f"/staff/runs/{run_id}/confirm", f"/staff/runs/{run_id}/confirm")
    assert response.status_code == 302
    return run_id


def swap(client: Client, run_id: int, out: Any, into: Any, reason: str) -> None:
    url = f"/staff/runs/{run_id}/override?remove={out.id}&add={into.id}"
    page = client.get_page(url)
    token = page.select_one("input[name=csrf_token]")["value"]
    response = client.client.post(url, data={"csrf_token": token, "reason": reason})
    assert response.status_code == 302


def fresh(pool: Pool, run: SelectionRun, chosen: list[Any], kept: list[Any], out: list[Any]) -> Any:
    """The engine on the overridden set, from the test world's own table (not the app's)."""
    frame = pd.DataFrame(
        [
            {"id": a.reference, "nation": a.nation, **pool.means(a)}
            for a in sorted(pool.applications, key=lambda a: a.id)
        ]
    )
    return evaluate(
        frame,
        pd.DataFrame(QUOTAS),
        SITES,
        [a.reference for a in chosen],
        kept=[a.reference for a in kept],
        left_out=[a.reference for a in out],
        weights=dict.fromkeys(CRITERIA, 1.0),
        options=SelectionOptions(**run.parameters["options"]),
    )


def shown_reasons(client: Client, run_id: int) -> dict[str, tuple[str, str, str]]:
    """Reference -> (decision code, decision as shown, reason) on the run's shortlist."""
    page = client.get_page(f"/staff/runs/{run_id}")
    return {
        row["data-reference"]: (
            row["data-decision"],
            row.select_one(".reason").find_previous_sibling("td").get_text(" ", strip=True),
            row.select_one(".reason").get_text(" "),
        )
        for row in page.select("[data-reference][data-decision]")
    }


@pytest.mark.parametrize("keeps_quotas", [True, False], ids=["keeps-quotas", "breaks-quotas"])
def test_a_swap_recomputes_price_quotas_mix_and_every_reason(
    client: Client, pool: Pool, staff: Any, run_id: int, keeps_quotas: bool
) -> None:
    engine = decisions(run_id)
    chosen = [a for a in pool.applications if engine[a.id].decision == "selected"]
    if keeps_quotas:  # England One out, England Two in: every quota still met
        out, into = pool.by_name("England One"), pool.by_name("England Two")
    else:  # Scotland One out, Wales Three in: Scotland's minimum and Wales's maximum broken
        out, into = pool.by_name("Scotland One"), pool.by_name("Wales Three")
    assert out in chosen and into not in chosen
    reason = "Local partner asked for it"

    swap(client, run_id, out, into, reason)

    now = [a for a in chosen if a is not out] + [into]
    run = db.session.get(SelectionRun, run_id)
    db.session.refresh(run)
    expected = fresh(pool, run, now, [into], [out])
    # The price of balance, worked out here by hand and by the engine on the overridden set.
    top = sum(sorted((pool.score(a) for a in pool.applications), reverse=True)[:SITES])
    price = top - sum(pool.score(a) for a in now)
    page = client.get_page(f"/staff/runs/{run_id}")
    shown_price = float(page.select_one("#price-of-balance").get_text())
    assert shown_price == pytest.approx(price, abs=1e-3)
    assert shown_price == pytest.approx(expected.summary["price_of_balance"], abs=1e-9)
    assert float(page.select_one("#chosen-total").get_text()) == pytest.approx(
        sum(pool.score(a) for a in now), abs=1e-3
    )
    # The quota table: achieved counts, counted here, and the engine's bounds.
    stored = {(b["dimension"], b["category"]): b for b in run.bounds}
    for q, row in zip(QUOTAS, expected.bounds.to_dict("records"), strict=True):
        n = sum(1 for a in now if getattr(a, q["dimension"]) == q["category"])
        bound = stored[(q["dimension"], q["category"])]
        assert bound["selected"] == n == row["selected"]
        assert bound["binding"] == row["binding"]
        assert (
            bound["met"]
            == row["met"]
            == ((q["min"] is None or n >= q["min"]) and (q["max"] is None or n <= q["max"]))
        )
        cost = row["cost"]
        assert bound["cost"] == (None if pd.isna(cost) else pytest.approx(cost))
    assert all(b["met"] for b in run.bounds) is keeps_quotas
    # The mix: selected per nation, counted here.
    mix = {r["category"]: r["selected"] for r in run.summary["mix"] if r["dimension"] == "nation"}
    for nation in {a.nation for a in pool.applications}:
        assert mix[nation] == sum(1 for a in now if a.nation == nation)
    # Every reason: the engine's on the overridden set, except the two staff moved.
    by_reference = {a.reference: a for a in pool.applications}
    finals = final_decisions(run, run_overrides(db.session, run))
    shown = shown_reasons(client, run_id)
    assert set(shown) == set(by_reference)
    for row in expected.decisions.to_dict("records"):
        application = by_reference[row["id"]]
        decision, text = finals[application.id]
        code, label, reason_shown = shown[row["id"]]
        assert code == decision
        assert " ".join(reason_shown.split()) == " ".join(text.split())
        # The decision as shown, with the reserve's place as the run now stands.
        if decision == "reserve":
            assert label == f"Reserve {int(row['reserve_number'])}"
        else:
            assert label == DECISION_LABELS[decision]
        if application is into:
            assert decision == "selected" and out.reference in text and reason in text
        elif application is out:
            assert decision == "not_selected" and into.reference in text and reason in text
        else:
            assert (decision, text) == (row["decision"], row["reason"])
            # No reason names the site taken out as one still selected.
            assert f"({out.reference})" not in text and f"of {out.reference}" not in text
    # The log names both applications, by reference and organisation, and the person.
    log = page.select_one("#overrides").get_text(" ")
    for application in (out, into):
        assert application.reference in log and application.organisation_name in log
    assert staff.name in log and reason in log
    assert (page.select_one("#hand-changed") is None) is keeps_quotas


def test_the_engine_figures_are_kept_and_a_second_change_builds_on_the_first(
    client: Client, pool: Pool, staff: Any, run_id: int
) -> None:
    run = db.session.get(SelectionRun, run_id)
    engine_total = run.summary["total_score"]
    england_one, england_two = pool.by_name("England One"), pool.by_name("England Two")
    swap(client, run_id, england_one, england_two, "First")
    swap(client, run_id, england_two, england_one, "Second thoughts")

    db.session.refresh(run)
    # Back to the engine's own sites and total; the engine's first figures are kept.
    assert run.summary["engine"]["total_score"] == engine_total
    assert run.summary["total_score"] == pytest.approx(engine_total)
    assert run.summary["hand_changed"] is False
    finals = final_decisions(run, run_overrides(db.session, run))
    engine = decisions(run_id)
    now = [a for a in pool.applications if engine[a.id].decision == "selected"]
    # The reasons are the engine's with the latest change kept: England One put back by staff.
    expected = fresh(pool, run, now, [england_one], [england_two])
    by_reference = {a.reference: a for a in pool.applications}
    for row in expected.decisions.to_dict("records"):
        application = by_reference[row["id"]]
        decision, text = finals[application.id]
        assert decision == row["decision"]
        if application is england_one:
            assert "Second thoughts" in text and england_two.reference in text
        elif application is england_two:
            assert decision == "not_selected" and "Second thoughts" in text
        else:
            assert decision == engine[application.id].decision
            assert text == row["reason"]
