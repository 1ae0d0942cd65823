"""The rationale of a run for trustees: a cover (the round, its dates, the method in plain words,
criteria and weights, the quotas and what was achieved, the price of balance, every change staff
made and who confirmed the decision), the decisions, the mix and the reviews in words, and the
engine's settings last, enough for anyone to replay the run.

One presenter (``build_rationale``) serves the XLSX (``rationale_sheets``), the decisions CSV and
the printable page, so all three say the same. Times are UK local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from selection import CRITERIA

if TYPE_CHECKING:  # pandas and scipy load when a selection runs, not as the app starts
    import pandas as pd

from ...labels import (
    CRITERION_LABELS,
    DECISION_LABELS,
    ENGINE_OPTION_LABELS,
    FLAG_LABELS,
    MIX_LABELS,
)
from ...models import (
    Application,
    Round,
    SelectionDecision,
    SelectionRun,
    User,
)
from ...rounds import LONDON
from .current import Change, change_log
from .engine_input import MIX_COLUMNS, category_label, category_sort_key, snapshot
from .shortlist import changed_decisions, rank_order, reserve_numbers, run_overrides


def uk_time(moment: datetime | None) -> str:
    """'5 February 2027, 12:00' in UK local time (GMT or BST); empty for no time."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%B %Y}, {local:%H:%M}"


def yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def number(value: Any) -> str:
    """A figure as people write it: 2.5, 3, never 3.0 or 2.5000000001."""
    if value is None:
        return ""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def flag_words(flags: str) -> str:
    return "; ".join(FLAG_LABELS.get(f, f) for f in (flags or "").split(";") if f)


def sites(count: int | None) -> str:
    return f"{count} site" if count == 1 else f"{count} sites"


def quota_words(minimum: int | None, maximum: int | None) -> str:
    """'At least 2 sites', 'At most 3 sites', 'Between 1 and 4 sites', or 'No limit'."""
    if minimum is not None and maximum is not None:
        return (
            f"Exactly {sites(minimum)}"
            if minimum == maximum
            else f"Between {minimum} and {sites(maximum)}"
        )
    if minimum is not None:
        return f"At least {sites(minimum)}"
    if maximum is not None:
        return f"At most {sites(maximum)}"
    return "No limit"


@dataclass(frozen=True)
class Section:
    """A part of the cover: a heading and (item, details) lines."""

    title: str
    lines: list[tuple[str, str]]


@dataclass(frozen=True)
class Rationale:
    """What the rationale says, for the XLSX, the CSV and the printable page."""

    title: str
    cover: list[Section]
    quotas: pd.DataFrame
    decisions: pd.DataFrame
    mix: pd.DataFrame
    reviews: pd.DataFrame
    technical: list[tuple[str, str]]
    changes: list[Change]


def method_words(run: SelectionRun, round_: Round) -> list[tuple[str, str]]:
    """How the sites were chosen, in plain words, from what the run stored."""
    p = run.parameters
    options = p.get("options") or {}
    k = p.get("k")
    reviews = options.get("min_reviews", round_.reviews_required)
    lines = [
        (
            "Scoring",
            f"Each eligible application was read by at least {reviews} panel reviewers, who "
            "scored it from 1 to 5 on each criterion. An application's score is the weighted "
            "average of its mean score on each criterion (weights below). Where staff moderated "
            "a criterion, the moderated score was used.",
        ),
        (
            "Choosing the sites",
            f"A computer program chose the {k} eligible applications with the highest total "
            "score that together meet every quota: the least and the most sites wanted in each "
            "category. It checks every possible selection, so no other selection that meets the "
            "quotas has a higher total score.",
        ),
        (
            "Ties",
            "Where selections tie on total score, the one with the higher total evidence score "
            "wins; any tie after that is settled by a random draw, recorded so that it can be "
            "repeated.",
        ),
    ]
    if options.get("lottery_band") is not None:
        lines.append(
            (
                "Lottery",
                f"Applications within {number(options['lottery_band'])} points of the cut-off "
                "were treated as equal and put in order by the random draw.",
            )
        )
    lines.append(
        (
            "Reserves",
            f"Up to {options.get('reserves', 0)} reserves were listed, best score first: each "
            "can take the place of a selected site that withdraws while every quota is still met.",
        )
    )
    lines.append(
        (
            "Price of balance",
            "The points given up to meet the quotas: the total score of the best "
            f"{k} applications with no quotas, less the total score of the sites chosen.",
        )
    )
    return lines


def _mix(run: SelectionRun, round_: Round) -> pd.DataFrame:
    """The mix as the run now stands: per dimension and category (labels, natural order), the
    eligible pool, the sites selected, the quota and whether it is met."""
    import pandas as pd

    bounds = {(b["dimension"], b["category"]): b for b in run.bounds}
    engine_mix = {
        (r["dimension"], r["category"]): r["selected"]
        for r in (run.summary.get("engine") or {}).get("mix", [])
    }
    rows = []
    mix = run.summary.get("mix", [])
    dimensions = list(dict.fromkeys(r["dimension"] for r in mix))
    for dimension in dimensions:
        key = category_sort_key(round_, dimension)
        found = sorted(
            (r for r in mix if r["dimension"] == dimension), key=lambda r: key(str(r["category"]))
        )
        for r in found:
            bound = bounds.get((dimension, r["category"]), {})
            lo, hi = r.get("min"), r.get("max")
            quota = bool(bound)
            met = (lo is None or r["selected"] >= lo) and (hi is None or r["selected"] <= hi)
            row = {
                "Dimension": MIX_LABELS.get(dimension, dimension),
                "Category": category_label(round_, dimension, str(r["category"])),
                "Eligible applications": r["pool"],
                "Selected": r["selected"],
                "Quota": quota_words(lo, hi) if quota else "",
                "Quota met": yes_no(met) if quota else "",
                "Limits the choice": yes_no(bound.get("binding")) if quota else "",
                "Points it costs": bound.get("cost") if bound.get("binding") else None,
            }
            if engine_mix:
                row["Selected before staff's changes"] = engine_mix.get((dimension, r["category"]))
            rows.append(row)
    frame = pd.DataFrame(rows)
    for column in ("Eligible applications", "Selected", "Selected before staff's changes"):
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    if "Points it costs" in frame.columns:
        frame["Points it costs"] = frame["Points it costs"].astype("Float64")
    return frame


def _quotas(mix: pd.DataFrame) -> pd.DataFrame:
    if mix.empty:
        return mix
    chosen = mix[mix["Quota"] != ""]
    return chosen[["Dimension", "Category", "Quota", "Selected", "Quota met"]].reset_index(
        drop=True
    )


def _decisions(session: Session, run: SelectionRun, round_: Round) -> pd.DataFrame:
    import pandas as pd

    rows = snapshot(run)
    overrides = run_overrides(session, run)
    changed = changed_decisions(run, overrides)
    reserves = reserve_numbers(run)
    columns = (
        SelectionDecision.application_id,
        SelectionDecision.rank,
        *(getattr(SelectionDecision, c) for c in CRITERIA),
        SelectionDecision.score,
        SelectionDecision.flags,
        SelectionDecision.decision,
        SelectionDecision.reason,
        Application.reference,
        Application.organisation_name,
    )
    found = session.execute(
        select(*columns)
        .join(Application, Application.id == SelectionDecision.application_id)
        .where(SelectionDecision.run_id == run.id)
    ).all()
    records = []
    for d in sorted(found, key=lambda d: rank_order(d.rank, d.application_id)):
        snap = rows.get(d.application_id, {})
        final, reason = changed.get(d.application_id, (d.decision, d.reason))
        record: dict[str, Any] = {
            "Rank": d.rank,
            "Reference": snap.get("id") or d.reference,
            "Organisation": snap.get("organisation") or d.organisation_name or "",
        }
        for column in MIX_COLUMNS:
            record[MIX_LABELS[column]] = category_label(round_, column, str(snap.get(column) or ""))
        for c in CRITERIA:
            record[CRITERION_LABELS[c]] = getattr(d, c)
        record["Weighted score"] = d.score
        record["Flags"] = flag_words(d.flags)
        record["Decision"] = DECISION_LABELS.get(final, final)
        record["Reserve number"] = reserves.get(d.application_id) if final == "reserve" else None
        if overrides:
            record["Decision before staff's changes"] = DECISION_LABELS.get(d.decision, d.decision)
        record["Reason"] = reason
        records.append(record)
    frame = pd.DataFrame(records)
    if not frame.empty:
        frame["Rank"] = frame["Rank"].astype("Int64")
        frame["Reserve number"] = frame["Reserve number"].astype("Int64")
        for column in [CRITERION_LABELS[c] for c in CRITERIA] + ["Weighted score"]:
            frame[column] = frame[column].astype("Float64")
    return frame


def _reviews(run: SelectionRun) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                "Reference": r["id"],
                "Eligible": yes_no(r["eligible"]),
                "Reviews": r.get("n_reviews"),
                **{CRITERION_LABELS[c]: r.get(c) for c in CRITERIA},
                "Largest difference between reviewers": r.get("spread"),
                "Moderated criteria": ", ".join(
                    CRITERION_LABELS.get(c, c) for c in (r.get("moderated") or "").split(";") if c
                ),
                "Flags": flag_words(r.get("flags", "")),
            }
            for r in snapshot(run).values()
        ]
    )
    if not frame.empty:
        frame["Reviews"] = frame["Reviews"].astype("Int64")
        frame["Largest difference between reviewers"] = frame[
            "Largest difference between reviewers"
        ].astype("Int64")
        for c in CRITERIA:
            frame[CRITERION_LABELS[c]] = frame[CRITERION_LABELS[c]].astype("Float64")
    return frame


_AUDIT_LABELS = {
    "scores_compared": "Scores compared",
    "tie_break": "Order of tie-breaks",
    "lottery_members": "Applications in the lottery",
    "scipy_version": "SciPy version",
}


def _technical(run: SelectionRun, round_: Round) -> list[tuple[str, str]]:
    p = run.parameters
    lines = [
        ("Run number", str(run.id)),
        ("Round's short name", round_.slug),
        ("Engine version", run.engine_version or ""),
        ("Input fingerprint (SHA-256)", run.input_sha256 or ""),
        ("Run started", uk_time(run.created_at)),
        ("Run finished", uk_time(run.finished_at)),
    ]
    for key, value in (p.get("options") or {}).items():
        label = ENGINE_OPTION_LABELS.get(key, key.replace("_", " ").capitalize())
        shown = yes_no(value) if isinstance(value, bool) else ("None" if value is None else value)
        lines.append((label, str(shown)))
    audit = p.get("audit") or {}
    for key, label in _AUDIT_LABELS.items():
        if audit.get(key) is not None:
            lines.append((label, str(audit[key])))
    for warning in p.get("warnings") or []:
        lines.append(("Engine note", str(warning)))
    return lines


def build_rationale(session: Session, run: SelectionRun, round_: Round) -> Rationale:
    """Everything the rationale says about a finished run, as it now stands."""
    p = run.parameters
    summary = run.summary
    mix = _mix(run, round_)
    quotas = _quotas(mix)
    changes = change_log(session, run)
    confirmer = session.get(User, run.confirmed_by_id) if run.confirmed_by_id else None
    starter = session.get(User, run.created_by_id) if run.created_by_id else None
    weights = p.get("weights") or {}
    cover = [
        Section(
            "The round",
            [
                ("Round", round_.title),
                ("Applications opened", uk_time(round_.opens_at)),
                ("Applications closed", uk_time(round_.closes_at)),
                (
                    "Reviewing closed",
                    uk_time(round_.reviewing_closed_at)
                    or "Not closed yet: reviews can still be sent",
                ),
                ("Sites wanted", str(p.get("k", ""))),
                (
                    "Applications",
                    f"{summary.get('applications', '')} sent, {summary.get('eligible', '')} "
                    "eligible",
                ),
            ],
        ),
        Section(
            "The decision",
            [
                (
                    "Selection made",
                    uk_time(run.created_at) + (f" by {starter.name}" if starter else ""),
                ),
                (
                    "Confirmed as the decision",
                    (uk_time(run.confirmed_at) + (f" by {confirmer.name}" if confirmer else ""))
                    if run.confirmed_at
                    else "Not confirmed yet",
                ),
                (
                    "Sites selected",
                    f"{summary.get('selected', '')}, with {summary.get('reserves', '')} reserves",
                ),
                ("Changes made by staff", str(len(changes)) if changes else "None"),
            ],
        ),
        Section("How the sites were chosen", method_words(run, round_)),
        Section(
            "Criteria and weights",
            [
                (CRITERION_LABELS.get(c, c), f"Weight {number(weights.get(c, 1.0))}")
                for c in CRITERIA
            ],
        ),
        Section(
            "Quotas and what was achieved",
            [
                (
                    f"{q['Dimension']}: {q['Category']}",
                    f"{q['Quota']}. Selected: {q['Selected']}. "
                    + ("Met." if q["Quota met"] == "Yes" else "Not met."),
                )
                for q in quotas.to_dict("records")
            ]
            or [("Quotas", "None were set.")],
        ),
        Section(
            "Price of balance",
            [
                (
                    "Best total with no quotas",
                    f"{number(summary.get('unconstrained_total_score'))} points",
                ),
                ("Total of the sites chosen", f"{number(summary.get('total_score'))} points"),
                (
                    "Price of balance",
                    f"{number(summary.get('price_of_balance'))} points given up to meet the quotas",
                ),
            ]
            + (
                [
                    (
                        "Before staff's changes",
                        f"The selection the program first made totalled "
                        f"{number(summary['engine'].get('total_score'))} points, a price of "
                        f"{number(summary['engine'].get('price_of_balance'))}.",
                    )
                ]
                if changes and summary.get("engine")
                else []
            )
            + (
                [
                    (
                        "Note",
                        "With staff's changes the selection is not the best one the quotas "
                        "allow, or it breaks a quota, so the cost of each quota is not given.",
                    )
                ]
                if summary.get("hand_changed")
                else []
            ),
        ),
        Section(
            "Changes made by staff",
            [
                (
                    f"{c.kind} on {uk_time(c.at)}",
                    f"By {c.who or 'an unknown user'}: {c.out_reference} ({c.out_organisation}) "
                    f"taken out, {c.in_reference} ({c.in_organisation}) selected in its place. "
                    f"Reason: {c.reason}",
                )
                for c in changes
            ]
            or [("Changes", "None: the selection is the one the program made.")],
        ),
    ]
    return Rationale(
        round_.title,
        cover,
        quotas,
        _decisions(session, run, round_),
        mix,
        _reviews(run),
        _technical(run, round_),
        changes,
    )


def pairs_frame(lines: list[tuple[str, str]], first: str, second: str) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(lines, columns=[first, second])


def cover_frame(cover: list[Section]) -> pd.DataFrame:
    """The cover as one sheet: a section, its item and the details, a line each."""
    import pandas as pd

    return pd.DataFrame(
        [
            (s.title if n == 0 else "", item, details)
            for s in cover
            for n, (item, details) in enumerate(s.lines)
        ],
        columns=["Section", "Item", "Details"],
    )


def rationale_sheets(rationale: Rationale) -> dict[str, pd.DataFrame]:
    """The XLSX: the cover first, the engine's settings last."""
    return {
        "Cover": cover_frame(rationale.cover),
        "Decisions": rationale.decisions,
        "Mix": rationale.mix,
        "Reviews summary": rationale.reviews,
        "Technical details": pairs_frame(rationale.technical, "Setting", "Value"),
    }
