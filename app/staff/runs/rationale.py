"""The rationale export: decisions, mix, parameters and reviews summary, enough for anyone to
replay the run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from selection import (
    CRITERIA,
)

if TYPE_CHECKING:  # pandas and scipy load when a selection runs, not as the app starts
    import pandas as pd


from ...labels import MIX_LABELS
from ...models import (
    Application,
    Round,
    SelectionDecision,
    SelectionRun,
)
from .decisions import snapshot
from .engine_input import MIX_COLUMNS, category_label
from .shortlist import overridden, rank_order, run_overrides


def rationale_sheets(
    session: Session, run: SelectionRun, round_: Round, *, anonymised: bool = False
) -> dict[str, pd.DataFrame]:
    """Decisions, Mix, Parameters and Reviews summary: enough for anyone to replay the run.

    The anonymised variant leaves out organisation names (the run holds no contact details or
    reviewer names in any case).
    """
    import pandas as pd

    rows = snapshot(run)
    changed = overridden(run_overrides(session, run))
    # Plain rows rather than objects: a run can hold tens of thousands of decisions.
    columns = (
        SelectionDecision.application_id,
        SelectionDecision.rank,
        *(getattr(SelectionDecision, c) for c in CRITERIA),
        SelectionDecision.score,
        SelectionDecision.flags,
        SelectionDecision.decision,
        SelectionDecision.reason,
        SelectionDecision.reserve_number,
        Application.reference,
    )
    found = session.execute(
        select(*columns)
        .join(Application, Application.id == SelectionDecision.application_id)
        .where(SelectionDecision.run_id == run.id)
    ).all()
    decisions = []
    for d in sorted(found, key=lambda d: rank_order(d.rank, d.application_id)):
        snap = rows.get(d.application_id, {})
        record: dict[str, Any] = {"rank": d.rank, "reference": snap.get("id") or d.reference}
        if not anonymised:
            record["organisation"] = snap.get("organisation", "")
        for column in MIX_COLUMNS:
            record[column] = snap.get(column, "")
        for c in CRITERIA:
            record[c] = getattr(d, c)
        final, final_reason = changed.get(d.application_id, (d.decision, d.reason))
        record.update(
            {
                "score": d.score,
                "flags": d.flags,
                "decision": d.decision,
                "reason": d.reason,
                "reserve_number": d.reserve_number,
                "final_decision": final,
                "final_reason": final_reason,
            }
        )
        decisions.append(record)
    mix = pd.DataFrame(
        run.summary.get("mix", []),
        columns=["dimension", "category", "pool", "selected", "min", "max"],
    )
    binding = {(b["dimension"], b["category"]): b for b in run.bounds}
    mix["binding"] = [
        bool(binding.get((r.dimension, r.category), {}).get("binding", False))
        for r in mix.itertuples()
    ]
    mix["cost"] = [binding.get((r.dimension, r.category), {}).get("cost") for r in mix.itertuples()]
    # The codes above replay the run; these say what they mean ("Pressures", "Really struggling").
    mix["dimension_label"] = [MIX_LABELS.get(d, d) for d in mix["dimension"]]
    mix["category_label"] = [
        category_label(round_, r.dimension, str(r.category)) for r in mix.itertuples()
    ]
    p = run.parameters
    parameter_rows: list[tuple[str, Any]] = [
        ("round", round_.slug),
        ("run", run.id),
        ("status", run.status),
        ("started_at", run.created_at.isoformat()),
        ("confirmed_at", run.confirmed_at.isoformat() if run.confirmed_at else ""),
        ("engine_version", run.engine_version or ""),
        ("inputs_sha256", run.input_sha256 or ""),
        ("k", p.get("k")),
        ("seed", p.get("seed")),
    ]
    parameter_rows += [(f"weights.{c}", w) for c, w in (p.get("weights") or {}).items()]
    parameter_rows += [(f"options.{k}", v) for k, v in (p.get("options") or {}).items()]
    for q in p.get("quotas") or []:
        parameter_rows.append(
            (
                f"quota.{q.get('dimension')}.{q.get('category')}",
                f"min {q.get('min')}, max {q.get('max')}",
            )
        )
    for key in ("total_score", "unconstrained_total_score", "price_of_balance"):
        if key in run.summary:
            parameter_rows.append((key, run.summary[key]))
    parameters = pd.DataFrame(
        [(k, "" if v is None else str(v)) for k, v in parameter_rows],
        columns=["parameter", "value"],
    )
    reviews = pd.DataFrame(
        [
            {
                "reference": r["id"],
                "eligible": r["eligible"],
                "reviews": r.get("n_reviews"),
                **{c: r.get(c) for c in CRITERIA},
                "largest_spread": r.get("spread"),
                "moderated": r.get("moderated", ""),
                "flags": r.get("flags", ""),
            }
            for r in rows.values()
        ]
    )
    return {
        "Decisions": pd.DataFrame(decisions),
        "Mix": mix,
        "Parameters": parameters,
        "Reviews summary": reviews,
    }
