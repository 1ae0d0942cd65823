"""Panel reviewers' business verbs: what they may see, declaring a conflict, saving a review.

A reviewer sees an application only while it is assigned to them and they have not declared a
conflict with it. Services add and flush; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..applications.rubric import RUBRIC, SCORES
from ..audit import record_for_application
from ..errors import DomainError
from ..labels import REVIEW_STATUS_LABELS
from ..models import (
    Application,
    Assignment,
    Conflict,
    Review,
    ReviewScore,
    Round,
    User,
)
from ..rounds import format_london, reviewing_deadline


class ReviewError(DomainError):
    """A domain error whose message can be shown to the reviewer."""


class ReviewingClosed(ReviewError):
    def __init__(self) -> None:
        super().__init__("Reviewing has closed. You can no longer change your review.")


class SavedElsewhere(ReviewError):
    """The same review was saved at the same moment (another tab): the database kept one."""

    def __init__(self) -> None:
        super().__init__(
            "Your review was saved from somewhere else at the same time. Check it and save again."
        )


class IncompleteReview(ReviewError):
    """Submitting needs a score for every criterion; `missing` lists the criteria without one."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("Give a score for every criterion before you submit your review")
        self.missing = missing


@dataclass(frozen=True)
class AssignedItem:
    application: Application
    status: str  # "not-started", "draft" or "submitted"

    @property
    def status_label(self) -> str:
        return REVIEW_STATUS_LABELS[self.status]


def _no_conflict(reviewer_id: int) -> object:
    """Rows of Assignment whose reviewer has not declared a conflict with the application."""
    return (
        ~select(Conflict.id)
        .where(
            Conflict.application_id == Assignment.application_id,
            Conflict.reviewer_id == reviewer_id,
        )
        .exists()
    )


def assigned_applications(session: Session, reviewer: User) -> list[AssignedItem]:
    """The reviewer's applications with their review status, never one they are conflicted with."""
    rows = session.execute(
        select(Application, Review.status)
        .join(Assignment, Assignment.application_id == Application.id)
        .outerjoin(
            Review,
            and_(Review.application_id == Application.id, Review.reviewer_id == reviewer.id),
        )
        .where(
            Assignment.reviewer_id == reviewer.id,
            Application.status == "submitted",
            _no_conflict(reviewer.id),
        )
        .order_by(Application.round_id, Application.reference, Application.id)
    ).all()
    return [AssignedItem(application, status or "not-started") for application, status in rows]


@dataclass(frozen=True)
class RoundWork:
    """One round's part of a reviewer's worklist: the reviews left to do and those submitted."""

    round: Round
    deadline: str  # the reviewing deadline, as people read it
    deadline_passed: bool  # the deadline is behind us: the worklist says it was, not "by"
    to_do: list[AssignedItem]
    submitted: list[AssignedItem]


def worklist(items: list[AssignedItem], now: datetime) -> list[RoundWork]:
    """The assigned applications grouped by round (in the order given), each round's reviews
    still to do (drafts first, then not started) ahead of the submitted ones; ``now`` tells
    whether each round's reviewing deadline has passed."""
    rounds: dict[int, list[AssignedItem]] = {}
    for item in items:
        rounds.setdefault(item.application.round_id, []).append(item)
    work = []
    for group in rounds.values():
        round_ = group[0].application.round
        to_do = [i for i in group if i.status == "draft"] + [
            i for i in group if i.status == "not-started"
        ]
        deadline = reviewing_deadline(round_)
        work.append(
            RoundWork(
                round_,
                format_london(deadline),
                deadline <= now,
                to_do,
                [i for i in group if i.status == "submitted"],
            )
        )
    return work


def application_for_reviewer(
    session: Session, reviewer: User, application_id: int
) -> Application | None:
    """The application if the reviewer may see it (assigned, not conflicted), else None."""
    return session.scalars(
        select(Application)
        .join(Assignment, Assignment.application_id == Application.id)
        .where(
            Application.id == application_id,
            Application.status == "submitted",
            Assignment.reviewer_id == reviewer.id,
            _no_conflict(reviewer.id),
        )
    ).first()


def review_of(session: Session, application_id: int, reviewer_id: int) -> Review | None:
    return session.scalars(
        select(Review).where(
            Review.application_id == application_id, Review.reviewer_id == reviewer_id
        )
    ).first()


def reviewing_open(round_: Round) -> bool:
    return round_.reviewing_closed_at is None


def declare_conflict(
    session: Session, application: Application, reviewer: User, note: str, now: datetime
) -> Conflict:
    """Hide the application from the reviewer and flag it for staff to reassign.

    Not after a submitted review: that review would then count although its author is
    conflicted, so staff must handle it.
    """
    review = review_of(session, application.id, reviewer.id)
    if review is not None and review.status == "submitted":
        raise ReviewError(
            "You have already submitted a review of this application. Contact staff to "
            "declare a conflict of interest."
        )
    conflict = Conflict(
        application_id=application.id, reviewer_id=reviewer.id, note=note, declared_at=now
    )
    session.add(conflict)
    session.flush()
    declared = f"Reviewer {reviewer.id} declared a conflict of interest"
    record_for_application(
        session,
        reviewer,
        "conflict.declared",
        application,
        "conflict_declared",
        declared,
        now,
        conflict_id=conflict.id,
        note_given=bool(note.strip()),
        review_status=review.status if review is not None else None,
    )
    return conflict


def save_review(
    session: Session,
    application: Application,
    reviewer: User,
    *,
    scores: dict[str, int | None],
    comments: dict[str, str],
    overall_comment: str,
    feedback: dict[str, str] | None = None,
    submit: bool,
    now: datetime,
) -> Review:
    """Save the reviewer's review: a draft may be partial; submitting needs every score.

    A submitted review stays submitted: changing it later needs every score again. `comments`
    are internal notes; `feedback` is what the reviewer wrote for the applicant, the only text of
    a review an outcome letter may quote.
    """
    if not reviewing_open(application.round):
        raise ReviewingClosed()
    for criterion, score in scores.items():
        if score is not None and score not in SCORES:
            raise ReviewError(f"A score must be from 1 to 5, not {score} ({criterion})")
    review = review_of(session, application.id, reviewer.id)
    submit = submit or (review is not None and review.status == "submitted")
    if submit:
        missing = [c.id for c in RUBRIC if scores.get(c.id) is None]
        if missing:
            raise IncompleteReview(missing)
    if review is None:
        review = Review(application_id=application.id, reviewer_id=reviewer.id, status="draft")
        session.add(review)
    existing = {row.criterion: row for row in review.scores}
    for criterion in RUBRIC:
        row = existing.get(criterion.id)
        if row is None:
            row = ReviewScore(criterion=criterion.id)
            review.scores.append(row)
        row.score = scores.get(criterion.id)
        row.comment = comments.get(criterion.id, "")
        row.feedback = (feedback or {}).get(criterion.id, "")
    review.overall_comment = overall_comment
    review.updated_at = now
    first_submission = submit and review.status != "submitted"
    if submit:
        review.status = "submitted"
        review.submitted_at = review.submitted_at or now
    try:
        session.flush()
    except IntegrityError as error:  # the unique (application, reviewer) kept one of two saves
        raise SavedElsewhere() from error
    # ``submit`` is true for every later save of a submitted review.
    if first_submission:
        action = "review.submitted"
    else:
        action = "review.changed" if submit else "review.draft_saved"
    record_for_application(
        session,
        reviewer,
        action,
        application,
        "review_submitted" if first_submission else "review_saved",
        f"Reviewer {reviewer.id} "
        + ("submitted a review" if first_submission else f"saved a {review.status} review"),
        now,
        review_id=review.id,
        scores_given=sum(1 for c in RUBRIC if scores.get(c.id) is not None),
    )
    return review
