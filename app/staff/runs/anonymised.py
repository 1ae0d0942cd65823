"""The anonymised rationale, for sharing what the round learned: no reference, no organisation or
person name, no text anyone typed, and no row that its nation, area, size and led-by make unique.

The rule (also written in the file's "About this file" sheet):

1. Each application is a pseudonymous site, "Site 001" on, numbered by rank (best first; the
   ineligible after them). References, names, regions and the other answers are left out.
2. Nation, area, size and led-by are shown as labels. While any row is unique on those four,
   the categories are merged, one step at a time, for the whole column: size into "Under 50
   staff" and "50 staff or more"; area into "Urban or mixed" and "Rural or remote"; led-by into
   "User-led or carer-led" and "Neither"; nation into "England" and "Scotland, Wales or
   Northern Ireland".
3. Rows still unique after every merge have all four shown as "Withheld"; when that would leave
   a single withheld row, the smallest remaining group is withheld with it.
4. Reasons are rebuilt from the decision, rank and score, naming no other site; staff's changes
   show as "Selected by staff decision" or "Taken out by staff decision", with the date only.
5. The mix counts the same merged categories, so it tells no more than the decisions do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from selection import CRITERIA

if TYPE_CHECKING:
    import pandas as pd

from ...labels import CRITERION_LABELS, DECISION_LABELS, MIX_LABELS
from ...models import Round, SelectionRun
from .current import change_log, current_reason_codes
from .engine_input import category_label, snapshot
from .rationale import (
    Section,
    cover_frame,
    method_words,
    number,
    pairs_frame,
    uk_time,
)
from .shortlist import changed_decisions, rank_order, reserve_numbers, run_overrides

KEYS = ("nation", "area_type", "size_band", "led_by")
WITHHELD = "Withheld"

# The merges, in the order they are tried: the column, and each code's merged category.
MERGES: tuple[tuple[str, Callable[[str], str]], ...] = (
    (
        "size_band",
        lambda v: (
            "" if not v else ("50 staff or more" if v in ("50-249", "250+") else "Under 50 staff")
        ),
    ),
    (
        "area_type",
        lambda v: (
            "" if not v else ("Rural or remote" if v in ("rural", "remote") else "Urban or mixed")
        ),
    ),
    (
        "led_by",
        lambda v: "" if not v else ("Neither" if v == "neither" else "User-led or carer-led"),
    ),
    (
        "nation",
        lambda v: (
            ""
            if not v
            else ("England" if v == "england" else "Scotland, Wales or Northern Ireland")
        ),
    ),
)


def coarsen(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[str]]:
    """``rows`` (each with the KEYS, as labels) merged and withheld as the module's rule says, so
    that no combination of the four is held by one row alone; and the steps taken, in words."""
    rows = [dict(r) for r in rows]
    steps: list[str] = []

    def unique() -> list[int]:
        counts = Counter(tuple(r[k] for k in KEYS) for r in rows)
        return [n for n, r in enumerate(rows) if counts[tuple(r[k] for k in KEYS)] == 1]

    for column, merge in MERGES:
        if not unique():
            break
        for r in rows:
            r[column] = merge(r["_" + column]) or "Not given"
        steps.append(f"{MIX_LABELS[column]} merged into broader groups.")
    alone = unique()
    if alone and len(rows) > 1:
        withheld = set(alone)
        if len(withheld) == 1:
            counts = Counter(
                tuple(r[k] for k in KEYS) for n, r in enumerate(rows) if n not in withheld
            )
            smallest = min(counts, key=lambda c: (counts[c], c))
            withheld |= {n for n, r in enumerate(rows) if tuple(r[k] for k in KEYS) == smallest}
        for n in withheld:
            rows[n].update(dict.fromkeys(KEYS, WITHHELD))
        steps.append(f"Nation, area, size and led-by withheld for {len(withheld)} sites.")
    elif alone:
        for r in rows:
            r.update(dict.fromkeys(KEYS, WITHHELD))
        steps.append("Nation, area, size and led-by withheld: there is only one site.")
    return rows, steps


def _reason(
    decision: str, code: str, rank: int | None, eligible: int, k: int, score: Any, reserve: Any
) -> str:
    """A reason in words that names no other site and holds no text anyone typed."""
    shown = f"scored {number(score)}" if score is not None else ""
    place = f"ranked {rank} of {eligible}" if rank is not None else ""
    if decision == "ineligible":
        return "Not eligible at screening."
    if code == "staff":
        if decision == "selected":
            return f"Selected by staff decision: {place}, {shown}."
        return f"Taken out by staff decision: {place}, {shown}."
    if decision == "selected":
        if rank is not None and rank <= k:
            return f"Selected on merit: {place}, inside the top {k}."
        return f"Selected to meet the quotas: {place}, outside the top {k}."
    if decision == "reserve":
        return (
            f"Reserve {reserve}: {place}, {shown}; can take the place of a selected site that "
            "withdraws."
        )
    if code in ("max_reached", "displaced_by_minimum"):
        return (
            f"Not selected: {place}, inside the top {k}, but a quota gave its place to another "
            "site."
        )
    if code == "organisation":
        return "Not selected: another site from the same organisation was selected."
    return f"Not selected: {place}, {shown}, below the sites chosen."


def anonymised_sheets(
    session: Session, run: SelectionRun, round_: Round
) -> dict[str, pd.DataFrame]:
    """The anonymised rationale's sheets: About this file, Cover, Decisions, Mix."""
    import pandas as pd

    rows = snapshot(run)
    overrides = run_overrides(session, run)
    changed = changed_decisions(run, overrides)
    reserves = reserve_numbers(run)
    codes = current_reason_codes(run)
    ordered = sorted(run.decisions, key=lambda d: rank_order(d.rank, d.application_id))
    pseudonym = {d.application_id: f"Site {n:03d}" for n, d in enumerate(ordered, start=1)}
    k = int(run.parameters.get("k") or 0)
    eligible = sum(1 for d in ordered if d.rank is not None)
    records: list[dict[str, Any]] = []
    for d in ordered:
        snap = rows.get(d.application_id, {})
        final = changed.get(d.application_id, (d.decision, ""))[0]
        record: dict[str, str] = {}
        for key in KEYS:
            value = str(snap.get(key) or "")
            record["_" + key] = value
            record[key] = category_label(round_, key, value)
        record["decision"] = final
        record["reason"] = _reason(
            final,
            codes.get(d.application_id, ""),
            d.rank,
            eligible,
            k,
            d.score,
            reserves.get(d.application_id),
        )
        records.append(record)
    coarse, steps = coarsen(records)
    decisions = pd.DataFrame(
        [
            {
                "Site": pseudonym[d.application_id],
                "Rank": d.rank,
                **{MIX_LABELS[key]: r[key] for key in KEYS},
                **{CRITERION_LABELS[c]: getattr(d, c) for c in CRITERIA},
                "Weighted score": d.score,
                "Decision": DECISION_LABELS.get(r["decision"], r["decision"]),
                "Reason": r["reason"],
            }
            for r, d in zip(coarse, ordered, strict=True)
        ]
    )
    if not decisions.empty:
        decisions["Rank"] = decisions["Rank"].astype("Int64")
        for column in [CRITERION_LABELS[c] for c in CRITERIA] + ["Weighted score"]:
            decisions[column] = decisions[column].astype("Float64")
    mix_rows = []
    for key in KEYS:
        pool: Counter[str] = Counter()
        chosen: Counter[str] = Counter()
        for r in coarse:
            if r["decision"] == "ineligible":
                continue
            pool[r[key]] += 1
            chosen[r[key]] += r["decision"] == "selected"
        for category in sorted(pool):
            mix_rows.append(
                {
                    "Dimension": MIX_LABELS[key],
                    "Category": category,
                    "Eligible sites": pool[category],
                    "Selected": chosen[category],
                }
            )
    changes = change_log(session, run)
    p = run.parameters
    summary = run.summary
    cover = [
        Section(
            "The round",
            [
                ("Round", round_.title),
                ("Applications closed", uk_time(round_.closes_at)),
                ("Sites wanted", str(k)),
                ("Sites in this file", str(len(ordered))),
            ],
        ),
        Section("How the sites were chosen", method_words(run, round_)),
        Section(
            "Criteria and weights",
            [
                (CRITERION_LABELS[c], f"Weight {number((p.get('weights') or {}).get(c, 1.0))}")
                for c in CRITERIA
            ],
        ),
        Section(
            "Quotas",
            [
                (
                    f"{MIX_LABELS.get(b['dimension'], b['dimension'])}: "
                    f"{category_label(round_, b['dimension'], str(b['category']))}",
                    f"Minimum {b['min'] if b['min'] is not None else 'none'}, maximum "
                    f"{b['max'] if b['max'] is not None else 'none'}; selected {b['selected']}.",
                )
                for b in run.bounds
            ]
            or [("Quotas", "None were set.")],
        ),
        Section(
            "Price of balance",
            [("Points given up to meet the quotas", number(summary.get("price_of_balance")))],
        ),
        Section(
            "Changes made by staff",
            [
                (
                    f"{c.kind} on {uk_time(c.at)}",
                    f"{pseudonym.get(_id(rows, c.out_reference), 'A site')} taken out, "
                    f"{pseudonym.get(_id(rows, c.in_reference), 'a site')} selected in its place.",
                )
                for c in changes
            ]
            or [("Changes", "None.")],
        ),
    ]
    about = [
        ("What this file is", "The decisions of a selection round, for sharing what was learned."),
        (
            "What is left out",
            "References, organisation and people's names, regions, every "
            "answer and every note typed by staff or reviewers.",
        ),
        ("Sites", "Each application is a numbered site, best rank first."),
        (
            "Categories",
            "Nation, area, size and led-by are merged into broader groups, or "
            "withheld, until no site is the only one with its four values.",
        ),
        *[("Step taken", step) for step in steps],
    ]
    return {
        "About this file": pairs_frame(about, "Topic", "Details"),
        "Cover": cover_frame(cover),
        "Decisions": decisions,
        "Mix": pd.DataFrame(
            mix_rows, columns=["Dimension", "Category", "Eligible sites", "Selected"]
        ),
    }


def _id(rows: dict[int, dict[str, Any]], reference: str) -> int:
    return next((i for i, r in rows.items() if str(r.get("id")) == reference), -1)
