"""Reviewer assignment and moderation: staff's business verbs and the queries behind their pages.

An assignment counts towards an application's reviewers only while its reviewer has not declared
a conflict with it ("active"). Services add and flush; the view commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...applications.rubric import BY_ID, RUBRIC
from ...applications.services import sent_applications
from ...audit import record, record_for_application
from ...errors import DomainError
from ...models import (
    Application,
    Assignment,
    Conflict,
    Moderation,
    Review,
    ReviewScore,
    Round,
    User,
)

MODERATED_MIN, MODERATED_MAX = Decimal(1), Decimal(5)
DISAGREEMENT = 2  # max - min on one criterion among submitted reviews


class AssignmentError(DomainError):
    """A domain error whose message can be shown to staff."""


class ModerationError(DomainError):
    """A domain error whose message can be shown to staff."""


def panel_reviewers(session: Session) -> list[User]:
    """Reviewers who can be given applications: active accounts with the reviewer role."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == "reviewer", User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def _conflict_pairs(
    session: Session, application_ids: list[int] | None = None
) -> set[tuple[int, int]]:
    query = select(Conflict.application_id, Conflict.reviewer_id)
    if application_ids is not None:
        query = query.where(Conflict.application_id.in_(application_ids))
    return {(a, r) for a, r in session.execute(query)}


def _round_assignments(session: Session, round_: Round) -> list[tuple[int, int]]:
    """(application id, reviewer id) of every assignment in the round."""
    return [
        (a, r)
        for a, r in session.execute(
            select(Assignment.application_id, Assignment.reviewer_id)
            .join(Application, Application.id == Assignment.application_id)
            .where(Application.round_id == round_.id)
        )
    ]


@dataclass(frozen=True)
class ReviewerLoad:
    reviewer: User
    assigned: int  # active assignments in the round
    submitted: int  # reviews submitted in the round
    conflicts: int  # conflicts declared in the round


def reviewer_loads(session: Session, round_: Round) -> list[ReviewerLoad]:
    pairs = _round_assignments(session, round_)
    conflicts = _conflict_pairs(session, list({a for a, _ in pairs}))
    active = Counter(r for a, r in pairs if (a, r) not in conflicts)
    conflicted = Counter(
        r
        for _a, r in session.execute(
            select(Conflict.application_id, Conflict.reviewer_id)
            .join(Application, Application.id == Conflict.application_id)
            .where(Application.round_id == round_.id)
        )
    )
    submitted = Counter(
        session.scalars(
            select(Review.reviewer_id)
            .join(Application, Application.id == Review.application_id)
            .where(Application.round_id == round_.id, Review.status == "submitted")
        )
    )
    return [
        ReviewerLoad(r, active[r.id], submitted[r.id], conflicted[r.id])
        for r in panel_reviewers(session)
    ]


@dataclass(frozen=True)
class Coverage:
    application: Application
    reviewers: list[User]  # active reviewers
    required: int

    @property
    def missing(self) -> int:
        return max(0, self.required - len(self.reviewers))


def coverage(session: Session, round_: Round) -> list[Coverage]:
    """Every eligible application with its active reviewers."""
    applications = sent_applications(session, round_, eligible_only=True)
    ids = [a.id for a in applications]
    conflicts = _conflict_pairs(session, ids)
    by_application: dict[int, list[User]] = defaultdict(list)
    for assignment, user in session.execute(
        select(Assignment, User)
        .join(User, User.id == Assignment.reviewer_id)
        .where(Assignment.application_id.in_(ids))
        .order_by(User.name, User.id)
    ):
        if (assignment.application_id, user.id) not in conflicts:
            by_application[assignment.application_id].append(user)
    return [Coverage(a, by_application[a.id], round_.reviews_required) for a in applications]


def application_reviewers(
    session: Session, application: Application
) -> tuple[list[User], list[Conflict]]:
    """The application's active reviewers, and the conflicts declared with it."""
    conflicts = list(
        session.scalars(
            select(Conflict)
            .where(Conflict.application_id == application.id)
            .order_by(Conflict.declared_at)
        )
    )
    conflicted = {c.reviewer_id for c in conflicts}
    assigned = session.scalars(
        select(User)
        .join(Assignment, Assignment.reviewer_id == User.id)
        .where(Assignment.application_id == application.id)
        .order_by(User.name, User.id)
    )
    return [u for u in assigned if u.id not in conflicted], conflicts


@dataclass(frozen=True)
class ConflictRow:
    conflict: Conflict
    application: Application
    reviewer: User


def round_conflicts(session: Session, round_: Round) -> list[ConflictRow]:
    """Conflicts declared in the round, unresolved first, for staff to reassign."""
    rows = session.execute(
        select(Conflict, Application, User)
        .join(Application, Application.id == Conflict.application_id)
        .join(User, User.id == Conflict.reviewer_id)
        .where(Application.round_id == round_.id)
        .order_by(Conflict.resolved_at.is_not(None), Conflict.declared_at, Conflict.id)
    )
    return [ConflictRow(c, a, u) for c, a, u in rows]


def _resolve_conflicts(session: Session, application: Application, now: datetime) -> int:
    """A conflict is resolved once the application has enough active reviewers again; returns
    how many were resolved now."""
    active, conflicts = application_reviewers(session, application)
    resolved = 0
    if len(active) >= application.round.reviews_required:
        for conflict in conflicts:
            if conflict.resolved_at is None:
                conflict.resolved_at = now
                resolved += 1
    return resolved


def _assigned(
    session: Session, application: Application, reviewer: User, by: User, method: str, now: datetime
) -> None:
    """After a new assignment is flushed: resolve the conflicts it settles, and audit both."""
    resolved = _resolve_conflicts(session, application, now)
    assigned = f"Assigned to reviewer {reviewer.id}" + (
        " automatically" if method == "automatic" else ""
    )
    record_for_application(
        session,
        by,
        "assignment.added",
        application,
        "reviewer_assigned",
        assigned,
        now,
        reviewer_id=reviewer.id,
        method=method,
        conflicts_resolved=resolved,
    )


def assign(
    session: Session, application: Application, reviewer: User, by: User, now: datetime
) -> Assignment:
    if reviewer.role != "reviewer" or not reviewer.active:
        raise AssignmentError("Choose an active panel reviewer")
    if (application.id, reviewer.id) in _conflict_pairs(session, [application.id]):
        raise AssignmentError(
            f"{reviewer.name} has declared a conflict of interest with this application"
        )
    exists = session.scalars(
        select(Assignment).where(
            Assignment.application_id == application.id, Assignment.reviewer_id == reviewer.id
        )
    ).first()
    if exists is not None:
        raise AssignmentError(f"{reviewer.name} is already reviewing this application")
    assignment = Assignment(
        application_id=application.id, reviewer_id=reviewer.id, assigned_by_id=by.id, created_at=now
    )
    session.add(assignment)
    session.flush()
    _assigned(session, application, reviewer, by, "manual", now)
    session.flush()
    return assignment


def unassign(
    session: Session, application: Application, reviewer: User, by: User, now: datetime
) -> None:
    assignment = session.scalars(
        select(Assignment).where(
            Assignment.application_id == application.id, Assignment.reviewer_id == reviewer.id
        )
    ).first()
    if assignment is None:
        raise AssignmentError(f"{reviewer.name} is not reviewing this application")
    review = session.scalars(
        select(Review).where(
            Review.application_id == application.id, Review.reviewer_id == reviewer.id
        )
    ).first()
    if review is not None and review.status == "submitted":
        raise AssignmentError(
            f"{reviewer.name} has submitted a review of this application, so they stay assigned"
        )
    session.delete(assignment)
    record_for_application(
        session,
        by,
        "assignment.removed",
        application,
        "reviewer_unassigned",
        f"Unassigned reviewer {reviewer.id}",
        now,
        reviewer_id=reviewer.id,
        review_status=review.status if review is not None else None,
    )
    session.flush()


@dataclass
class AutoAssignResult:
    added: int = 0
    short: list[Application] = field(default_factory=list)  # still fewer than wanted


def auto_assign(
    session: Session,
    round_: Round,
    per_application: int,
    *,
    prefer_other_nation: bool,
    by: User,
    now: datetime,
) -> AutoAssignResult:
    """Top every eligible application up to `per_application` active reviewers.

    Greedy and deterministic: each application, in id order, takes the least-loaded reviewers
    (ties by user id), never one with a declared conflict or already assigned. When asked,
    reviewers from the application's own nation come last. Running it again adds nothing.
    """
    if per_application < 1:
        raise AssignmentError("Enter a number of reviewers of 1 or more")
    reviewers = panel_reviewers(session)
    applications = sent_applications(session, round_, eligible_only=True)
    pairs = _round_assignments(session, round_)
    conflicts = _conflict_pairs(session, list({a.id for a in applications} | {a for a, _ in pairs}))
    assigned: dict[int, set[int]] = defaultdict(set)
    for application_id, reviewer_id in pairs:
        assigned[application_id].add(reviewer_id)
    load = Counter(r for a, r in pairs if (a, r) not in conflicts)
    result = AutoAssignResult()
    for application in applications:
        taken = assigned[application.id]
        active = sum(1 for r in taken if (application.id, r) not in conflicts)
        need = per_application - active
        if need <= 0:
            continue
        candidates = [
            r for r in reviewers if r.id not in taken and (application.id, r.id) not in conflicts
        ]

        def same_nation(reviewer: User, nation: str | None = application.nation) -> bool:
            return bool(prefer_other_nation and nation and reviewer.nation == nation)

        candidates.sort(key=lambda r: (same_nation(r), load[r.id], r.id))
        chosen = candidates[:need]
        for reviewer in chosen:
            session.add(
                Assignment(
                    application_id=application.id,
                    reviewer_id=reviewer.id,
                    assigned_by_id=by.id,
                    created_at=now,
                )
            )
            taken.add(reviewer.id)
            load[reviewer.id] += 1
            result.added += 1
        if len(candidates) < need:
            result.short.append(application)
        session.flush()
        for reviewer in chosen:
            _assigned(session, application, reviewer, by, "automatic", now)
        if not chosen:
            _resolve_conflicts(session, application, now)
    session.flush()
    return result


def set_reviewing_closed(
    session: Session, round_: Round, closed: bool, now: datetime, by: User | None
) -> None:
    """Close reviewing (reviews can no longer change) or open it again."""
    if (round_.reviewing_closed_at is not None) != closed:
        action = "reviewing.closed" if closed else "reviewing.reopened"
        record(session, by, action, "round", round_.id, round_.id)
    round_.reviewing_closed_at = now if closed else None
    session.flush()


# Moderation ---------------------------------------------------------------------------------


def submitted_scores(
    session: Session, application_ids: list[int]
) -> dict[int, dict[str, list[int]]]:
    """Scores of submitted reviews, by application and criterion."""
    result: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for application_id, criterion, score in session.execute(
        select(Review.application_id, ReviewScore.criterion, ReviewScore.score)
        .join(ReviewScore, ReviewScore.review_id == Review.id)
        .where(
            Review.application_id.in_(application_ids),
            Review.status == "submitted",
            ReviewScore.score.is_not(None),
        )
    ):
        result[application_id][criterion].append(score)
    return result


def disagreements(scores: dict[str, list[int]]) -> list[str]:
    """Criteria on which submitted scores differ by DISAGREEMENT or more, in rubric order."""
    return [
        c.id
        for c in RUBRIC
        if len(scores.get(c.id, [])) > 1 and max(scores[c.id]) - min(scores[c.id]) >= DISAGREEMENT
    ]


@dataclass(frozen=True)
class ModerationItem:
    application: Application
    submitted: int
    required: int
    disagreements: list[str]  # criterion ids
    moderated: list[str]  # criterion ids with a moderated score

    @property
    def too_few(self) -> bool:
        return self.submitted < self.required


def moderation_queue(session: Session, round_: Round) -> list[ModerationItem]:
    """Eligible applications with too few submitted reviews, or with disagreement."""
    applications = sent_applications(session, round_, eligible_only=True)
    ids = [a.id for a in applications]
    scores = submitted_scores(session, ids)
    counts = Counter(
        session.scalars(
            select(Review.application_id).where(
                Review.application_id.in_(ids), Review.status == "submitted"
            )
        )
    )
    moderated: dict[int, set[str]] = defaultdict(set)
    for application_id, criterion in session.execute(
        select(Moderation.application_id, Moderation.criterion).where(
            Moderation.application_id.in_(ids)
        )
    ):
        moderated[application_id].add(criterion)
    items = []
    for application in applications:
        item = ModerationItem(
            application,
            counts[application.id],
            round_.reviews_required,
            disagreements(scores.get(application.id, {})),
            [c.id for c in RUBRIC if c.id in moderated[application.id]],
        )
        if item.too_few or item.disagreements:
            items.append(item)
    return items


def application_reviews(session: Session, application: Application) -> list[tuple[Review, User]]:
    """Every review of the application (drafts too), with its reviewer."""
    return [
        (review, user)
        for review, user in session.execute(
            select(Review, User)
            .join(User, User.id == Review.reviewer_id)
            .where(Review.application_id == application.id)
            .order_by(Review.status.desc(), User.name, User.id)
        )
    ]


def moderations(session: Session, application: Application) -> list[tuple[Moderation, User]]:
    """Every moderated score recorded for the application, oldest first."""
    return [
        (m, u)
        for m, u in session.execute(
            select(Moderation, User)
            .join(User, User.id == Moderation.user_id)
            .where(Moderation.application_id == application.id)
            .order_by(Moderation.at, Moderation.id)
        )
    ]


def record_moderation(
    session: Session,
    application: Application,
    criterion: str,
    score: Decimal,
    reason: str,
    by: User,
    now: datetime,
) -> Moderation:
    """Record a moderated score for one criterion; the reviews and earlier moderations stay."""
    if criterion not in BY_ID:
        raise ModerationError("Select a criterion from the list")
    if not MODERATED_MIN <= score <= MODERATED_MAX:
        raise ModerationError("Enter a moderated score from 1 to 5")
    if not reason.strip():
        raise ModerationError("Enter the reason for the moderated score")
    moderation = Moderation(
        application_id=application.id,
        criterion=criterion,
        score=float(score),
        reason=reason.strip(),
        user_id=by.id,
        at=now,
    )
    session.add(moderation)
    session.flush()
    record_for_application(
        session,
        by,
        "moderation.recorded",
        application,
        "moderated",
        f"Moderated score {score} for {criterion}",
        now,
        moderation_id=moderation.id,
        criterion=criterion,
    )
    session.flush()
    return moderation
