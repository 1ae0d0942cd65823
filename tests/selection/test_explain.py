"""Every reason is true: each claim is checked by re-solving or by brute force on small pools."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from selection import (
    InfeasibleQuotasError,
    Labels,
    SelectionOptions,
    SelectionResult,
    explain,
    optimise,
    replace,
    select,
    solver,
)
from tests.selection.pools import (
    SCALE,
    Case,
    brute_force,
    cases,
    meets,
    points,
    selected_positions,
    without_bound,
)

SOME = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OPTIONS = SelectionOptions(exact_window=4, reserves=3)


def _solve(case: Case) -> SelectionResult | None:
    try:
        return select(case.applications, case.quotas, case.k, options=OPTIONS)
    except InfeasibleQuotasError:
        return None


def _selected_without(case: Case, dimension: str, category: str, side: str) -> set[str]:
    relaxed = without_bound(case.quotas, dimension, category, side)
    options = SelectionOptions(explain=False, price_bounds=False)
    return set(select(case.applications, relaxed, case.k, options=options).selected_ids)


def _bound_named(case: Case, reason: str, side: str) -> tuple[str, str]:
    """The (dimension, category) of the bound a reason names, found from its label."""
    for q in case.quotas.itertuples(index=False):
        value = q.min if side == "min" else q.max
        if value is None or pd.isna(value):
            continue
        word = "minimum" if side == "min" else "maximum"
        sites = "1 site" if int(value) == 1 else f"{int(value)} sites"
        if f"{word} of {sites} for {q.category}" in reason or (
            f"{word} of {sites} for {q.dimension} {q.category}" in reason
        ):
            return str(q.dimension), str(q.category)
    raise AssertionError(f"no {side} bound named in: {reason}")


@SOME
@given(cases(max_n=14), st.booleans())
def test_reasons_hold_when_checked_by_re_solving(case: Case, via_lp: bool) -> None:
    # Small models are solved directly; the LP path used for big pools is checked here too.
    # Column generation (for big LPs) is switched on for every LP of the LP path.
    limit = 0 if via_lp else solver.COLUMN_GENERATION_LIMIT
    with (
        patch.object(optimise, "DIRECT_LIMIT", -1 if via_lp else optimise.DIRECT_LIMIT),
        patch.object(solver, "COLUMN_GENERATION_LIMIT", limit),
    ):
        result = _solve(case)
    event("feasible" if result is not None else "infeasible")
    if result is None:
        return
    apps = case.applications
    d = result.decisions.set_index("id")
    for code in d["reason_code"]:
        event(str(code))
    pos = {a: i for i, a in enumerate(apps["id"])}
    brute = brute_force(apps, case.quotas, case.k)
    chosen = selected_positions(result.decisions, apps)
    best = brute.best
    pts = points(apps)
    for app_id, row in d.iterrows():
        code, reason = row["reason_code"], row["reason"]
        assert isinstance(reason, str) and reason
        if code == "selected_merit":
            assert row["rank"] <= case.k
        elif code == "selected_minimum":
            assert row["rank"] > case.k
            dim, cat = _bound_named(case, reason, "min")
            assert app_id not in _selected_without(case, dim, cat, "min")
        elif code == "selected_balance":
            dim, cat = _bound_named(case, reason, "max")
            assert app_id not in _selected_without(case, dim, cat, "max")
        elif code == "selected_quotas":
            assert row["rank"] > case.k
        elif code == "max_reached":
            assert row["rank"] <= case.k
            dim, cat = _bound_named(case, reason, "max")
            assert app_id in _selected_without(case, dim, cat, "max")
            group = d[(d["decision"] == "selected") & (apps.set_index("id")[dim] == cat)]
            if group.empty:
                assert "allow no sites" in reason
            else:
                assert f"lowest selected score in {cat} was {group['score'].min():.3f}" in reason
        elif code == "displaced_by_minimum":
            assert row["rank"] <= case.k
            dim, cat = _bound_named(case, reason, "min")
            assert app_id in _selected_without(case, dim, cat, "min")
        elif code == "below_cutoff_exact":
            # Exactly this many more points makes every best set include it; one fewer does not.
            with_it = brute.best_with(pos[str(app_id)])
            assert with_it is not None
            needed = round(row["points_needed"] * SCALE)
            assert with_it + needed > best
            assert with_it + needed - 1 <= best
        elif code == "cannot_fit":
            assert brute.best_with(pos[str(app_id)]) is None
        elif code == "reserve":
            targets = set(str(row["can_replace"]).split(";"))
            for j in chosen:
                swapped = np.array(sorted({*chosen.tolist()} - {j} | {pos[str(app_id)]}))
                assert meets(apps, case.quotas, swapped[None, :])[0] == (apps["id"][j] in targets)
        elif code == "below_cutoff":
            feasible_swaps = [
                j
                for j in chosen
                if meets(
                    apps,
                    case.quotas,
                    np.array(sorted({*chosen.tolist()} - {j} | {pos[str(app_id)]}))[None, :],
                )[0]
            ]
            if "could not take the place" in reason:
                assert feasible_swaps == []
            else:
                partner = reason.rsplit("(", 1)[-1].rstrip(").")
                assert pos[partner] in feasible_swaps
                assert pts[pos[partner]] == min(pts[j] for j in feasible_swaps)
        else:
            raise AssertionError(f"unexpected reason code {code}")


@SOME
@given(cases(max_n=14))
def test_price_of_balance_and_bound_costs_match_brute_force(case: Case) -> None:
    result = _solve(case)
    if result is None:
        return
    apps, k = case.applications, case.k
    top_k = np.sort(points(apps))[::-1][:k].sum()
    brute = brute_force(apps, case.quotas, k)
    assert round(result.summary["price_of_balance"] * SCALE) == top_k - brute.best
    for row in result.bounds.itertuples(index=False):
        chosen = result.decisions[result.decisions["decision"] == "selected"]["id"]
        member = apps.set_index("id").loc[list(chosen), row.dimension] == row.category
        assert row.selected == int(member.sum())
        assert row.pool == int((apps[row.dimension] == row.category).sum())
        if not row.binding:
            assert pd.isna(row.cost)
            continue
        relaxed = case.quotas
        if not pd.isna(row.min) and row.selected == row.min:
            relaxed = without_bound(relaxed, row.dimension, row.category, "min")
        if not pd.isna(row.max) and row.selected == row.max:
            relaxed = without_bound(relaxed, row.dimension, row.category, "max")
        assert round(row.cost * SCALE) == brute_force(apps, relaxed, k).best - brute.best


@FEWER
@given(cases(max_n=14))
def test_reserves_and_replace_agree_with_brute_force(case: Case) -> None:
    result = _solve(case)
    if result is None:
        return
    apps = case.applications
    pos = {a: i for i, a in enumerate(apps["id"])}
    pts = points(apps)
    chosen = selected_positions(result.decisions, apps)
    reserves = result.reserve_ids
    d = result.decisions.set_index("id")
    ranks = [int(d.loc[r, "rank"]) for r in reserves]
    assert ranks == sorted(ranks)
    for withdrawn in result.selected_ids:
        rest = set(chosen.tolist()) - {pos[withdrawn]}
        options = [
            i
            for i in range(len(apps))
            if i not in chosen
            and meets(apps, case.quotas, np.array(sorted(rest | {i}))[None, :])[0]
        ]
        try:
            outcome = replace(result, [withdrawn])
        except InfeasibleQuotasError:
            assert options == []
            continue
        assert len(outcome.replacements) == 1
        incoming = outcome.replacements[0]
        assert pos[incoming] in options
        assert pts[pos[incoming]] == max(pts[i] for i in options)
        assert withdrawn not in outcome.selected and len(outcome.selected) == case.k
        # The reserve list names the same replacement, when it reaches that far.
        listed = [r for r in reserves if withdrawn in str(d.loc[r, "can_replace"]).split(";")]
        if listed:
            assert listed[0] == incoming


@FEWER
@given(cases(max_n=14))
def test_a_decide_only_replay_is_the_same_run_without_the_reasons_work(case: Case) -> None:
    """A stored run is replayed with ``decide_only`` to find replacements: the same inputs
    digest (so the replay is checked against the stored run), the same decisions and reserve
    list, the same replacements; only the re-solves behind the reasons are skipped."""
    full = _solve(case)
    if full is None:
        return
    with (
        patch.object(explain, "solve", wraps=explain.solve) as resolves,
        patch.object(explain, "best_totals_with", wraps=explain.best_totals_with) as forced,
    ):
        replay = select(case.applications, case.quotas, case.k, options=OPTIONS, decide_only=True)
    # None of the re-solves behind the reasons (price of balance, points needed) ran.
    assert resolves.call_count == 0
    assert all(call.args[2] == [] for call in forced.call_args_list)
    assert replay.audit == full.audit
    columns = ["id", "decision", "rank", "reserve_number", "score"]
    pd.testing.assert_frame_equal(replay.decisions[columns], full.decisions[columns])
    for withdrawn in full.selected_ids:
        try:
            expected = replace(full, [withdrawn])
        except InfeasibleQuotasError:
            with pytest.raises(InfeasibleQuotasError):
                replace(replay, [withdrawn])
            continue
        assert replace(replay, [withdrawn]) == expected


def test_a_minimum_reason_names_the_minimum_and_its_group() -> None:
    apps = pd.DataFrame(
        {
            "id": ["e1", "e2", "e3", "w1"],
            "nation": ["England", "England", "England", "Wales"],
            "difference": [5.0, 4.0, 3.0, 2.0],
            "inequalities": [5.0, 4.0, 3.0, 2.0],
            "resources": [5.0, 4.0, 3.0, 2.0],
            "evidence": [5.0, 4.0, 3.0, 2.0],
        }
    )
    quotas = pd.DataFrame([{"dimension": "nation", "category": "Wales", "min": 1, "max": None}])
    result = select(apps, quotas, 2)
    d = result.decisions.set_index("id")
    assert d.loc["w1", "reason_code"] == "selected_minimum"
    assert "minimum of 1 site for Wales" in d.loc["w1", "reason"]
    assert d.loc["e1", "reason_code"] == "selected_merit"
    assert d.loc["e2", "decision"] == "reserve"
    assert d.loc["e2", "reserve_number"] == 1
    assert "its place went to meet the minimum of 1 site for Wales" in d.loc["e2", "reason"]
    assert result.summary["price_of_balance"] == 2.0
    wales = result.bounds.set_index("category").loc["Wales"]
    assert bool(wales["binding"]) and wales["cost"] == 2.0


# --- Reasons in words (issue 19) ----------------------------------------------------------------

_CODED_POOL = pd.DataFrame(
    {
        "id": ["e1", "e2", "e3", "e4", "w1"],
        "nation": ["england", "england", "england", "england", "wales"],
        "size_band": ["none", "1-9", "none", "1-9", "none"],
        "difference": [5.0, 4.5, 4.0, 3.0, 2.0],
        "inequalities": [5.0, 4.5, 4.0, 3.0, 2.0],
        "resources": [5.0, 4.5, 4.0, 3.0, 2.0],
        "evidence": [5.0, 4.5, 4.0, 3.0, 2.0],
    }
)
_CODED_QUOTAS = pd.DataFrame(
    [
        {"dimension": "nation", "category": "wales", "min": 1, "max": None},
        {"dimension": "size_band", "category": "none", "min": 1, "max": None},
    ]
)
_WORDS = Labels(
    {"nation": "Nation", "size_band": "Size (staff)"},
    {
        "nation": {"england": "England", "wales": "Wales"},
        "size_band": {"none": "Run by volunteers", "1-9": "1 to 9"},
    },
)


def test_reasons_name_groups_in_the_words_given_never_the_codes() -> None:
    result = select(_CODED_POOL, _CODED_QUOTAS, 2, labels=_WORDS)
    d = result.decisions.set_index("id")
    assert d.loc["w1", "decision"] == "selected"
    assert "the minimum of 1 site for “Nation: Wales”" in d.loc["w1", "reason"]
    for reason in d["reason"]:
        for code in ("wales", "england", "none", "1-9", "size_band", "nation"):
            assert code not in reason.split(), (code, reason)
        assert "size_band" not in reason and "wales" not in reason
    # The labels change no decision and are not part of the input digest.
    plain = select(_CODED_POOL, _CODED_QUOTAS, 2)
    assert plain.selected_ids == result.selected_ids
    assert plain.audit["inputs_sha256"] == result.audit["inputs_sha256"]


def test_infeasible_advice_uses_the_words_given() -> None:
    quotas = pd.DataFrame([{"dimension": "nation", "category": "wales", "min": 2, "max": None}])
    with pytest.raises(InfeasibleQuotasError) as raised:
        select(_CODED_POOL, quotas, 2, labels=_WORDS)
    advice = " ".join(raised.value.advice)
    assert "“Nation: Wales”" in advice
    assert "wales" not in advice


def test_every_reserve_says_why_it_is_not_selected_and_what_would_bring_it_in() -> None:
    result = select(
        _CODED_POOL, _CODED_QUOTAS, 2, labels=_WORDS, options=SelectionOptions(reserves=3)
    )
    d = result.decisions.set_index("id")
    reserves = d[d["decision"] == "reserve"].sort_values("reserve_number")
    assert len(reserves) >= 2
    for number, (_, row) in enumerate(reserves.iterrows(), start=1):
        reason = row["reason"]
        assert reason.startswith(f"Reserve {number}: not selected because "), reason
        assert "It comes in if a selected site withdraws" in reason, reason
        assert "take the place of" in reason and "while keeping every quota" in reason
        if number > 1:
            assert "no reserve above it can take that place" in reason
    # e2 ranked 2 of 5, inside the top 2, but lost its place to the Welsh minimum.
    assert "inside the top 2" in d.loc["e2", "reason"]
    assert "“Nation: Wales”" in d.loc["e2", "reason"]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_no_reason_uses_solver_words(k: int) -> None:
    quotas = _CODED_QUOTAS if k > 1 else _CODED_QUOTAS.iloc[:0]
    result = select(_CODED_POOL, quotas, k, labels=_WORDS)
    for reason in result.decisions["reason"]:
        lowered = reason.lower()
        for word in ("re-solv", "solver", "optimis", "binding", "lp ", "constraint"):
            assert word not in lowered, (word, reason)
