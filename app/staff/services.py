"""Staff queries and business verbs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Application, Round


@dataclass(frozen=True)
class RoundSummary:
    round: Round
    drafts: int
    submitted: int


def round_summaries(session: Session) -> list[RoundSummary]:
    counts = dict(
        ((round_id, status), n)
        for round_id, status, n in session.execute(
            select(Application.round_id, Application.status, func.count(Application.id)).group_by(
                Application.round_id, Application.status
            )
        )
    )
    rounds = session.scalars(select(Round).order_by(Round.closes_at.desc())).all()
    return [
        RoundSummary(r, counts.get((r.id, "draft"), 0), counts.get((r.id, "submitted"), 0))
        for r in rounds
    ]
