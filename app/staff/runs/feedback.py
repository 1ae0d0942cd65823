"""What an outcome letter tells an applicant about their own application: each criterion's score
in words with the panel's feedback for the applicant, and how the mix affected them.

Only the applicant's own facts go in: their scores, their reviewers' feedback marked for them
(never an internal note), the category of their own that was full. Nothing names, scores or
describes another application.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from selection import CRITERIA

from ...applications.rubric import BY_ID
from ...audit import record_for_application
from ...errors import DomainError
from ...labels import APPLICANT_SCREENING_REASONS, score_in_words
from ...models import ApplicantFeedback, Application, Review, ReviewScore, SelectionRun, User
from ..rounds.letters import FeedbackItem, lines
from .engine_input import category_label

FEEDBACK_MAX = 5000


class FeedbackError(DomainError):
    """Feedback for the applicant that cannot be saved, with what to change."""


# --- The panel's feedback for the applicant -------------------------------------------------


def reviewers_feedback(
    session: Session, application_ids: Iterable[int]
) -> dict[int, dict[str, list[str]]]:
    """Feedback for the applicant from submitted reviews, by application and criterion, in the
    order the reviews were submitted. Internal notes are never read here."""
    ids = list(application_ids)
    found: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if not ids:
        return found
    for application_id, criterion, text in session.execute(
        select(Review.application_id, ReviewScore.criterion, ReviewScore.feedback)
        .join(ReviewScore, ReviewScore.review_id == Review.id)
        .where(Review.application_id.in_(ids), Review.status == "submitted")
        .order_by(Review.submitted_at, Review.id)
    ):
        if text and text.strip():
            found[application_id][criterion].append(lines(text).strip())
    return found


def moderated_feedback(
    session: Session, application_ids: Iterable[int]
) -> dict[int, dict[str, str]]:
    """Moderation's edit of the feedback for the applicant, by application and criterion."""
    ids = list(application_ids)
    found: dict[int, dict[str, str]] = defaultdict(dict)
    if ids:
        for row in session.scalars(
            select(ApplicantFeedback).where(ApplicantFeedback.application_id.in_(ids))
        ):
            found[row.application_id][row.criterion] = row.text
    return found


def shareable_feedback(
    session: Session, application_ids: Iterable[int]
) -> dict[int, dict[str, list[str]]]:
    """The feedback a letter gives per criterion: moderation's edit where staff made one (an
    empty edit means none), else the reviewers' own feedback for the applicant."""
    ids = list(application_ids)
    reviewers = reviewers_feedback(session, ids)
    moderated = moderated_feedback(session, ids)
    result: dict[int, dict[str, list[str]]] = {}
    for application_id in ids:
        own = moderated.get(application_id, {})
        result[application_id] = {
            c: (
                [p.strip() for p in own[c].split("\n\n") if p.strip()]
                if c in own
                else list(reviewers.get(application_id, {}).get(c, []))
            )
            for c in CRITERIA
        }
    return result


def save_applicant_feedback(
    session: Session, application: Application, criterion: str, text: str, by: User, now: datetime
) -> ApplicantFeedback:
    """Moderation edits the feedback for the applicant on one criterion (empty: give none)."""
    if criterion not in BY_ID:
        raise FeedbackError("Select a criterion from the list")
    if len(text) > FEEDBACK_MAX:
        raise FeedbackError(f"The feedback must be {FEEDBACK_MAX:,} characters or fewer")
    row = session.scalars(
        select(ApplicantFeedback).where(
            ApplicantFeedback.application_id == application.id,
            ApplicantFeedback.criterion == criterion,
        )
    ).first()
    if row is None:
        row = ApplicantFeedback(application_id=application.id, criterion=criterion)
        session.add(row)
    row.text = lines(text).strip()
    row.user_id = by.id
    row.at = now
    session.flush()
    record_for_application(
        session,
        by,
        "feedback.edited",
        application,
        "feedback-edited",
        f"Feedback for the applicant edited on “{BY_ID[criterion].title}”",
        now,
        criterion=criterion,
        given=bool(row.text),
    )
    return row


def save_feedback_edits(
    session: Session,
    application: Application,
    texts: Mapping[str, str],
    by: User,
    now: datetime,
) -> None:
    """Save moderation's edits of several criteria's feedback for the applicant at once."""
    for criterion, text in texts.items():
        save_applicant_feedback(session, application, criterion, text, by, now)


def feedback_items(
    scores: Mapping[str, float | None], feedback: Mapping[str, list[str]]
) -> list[FeedbackItem]:
    """One item per criterion, in the rubric's order: its title, its score in words, and the
    feedback for the applicant."""
    return [
        FeedbackItem(BY_ID[c].title, score_in_words(scores.get(c)), tuple(feedback.get(c, [])))
        for c in CRITERIA
    ]


# --- How the mix affected them --------------------------------------------------------------

MIX_BELOW = (
    "We also needed a balance of places and organisations across the UK. Once the sites were "
    "balanced in this way, the sites we chose had scored higher overall."
)
MIX_FULL = (
    "We also needed a balance of places and organisations across the UK. With the sites "
    "chosen, the places we could offer {where} were already filled."
)
MIX_MINIMUM = (
    "Your scores were high enough to be chosen on scores alone, but we also needed a balance "
    "of places and organisations across the UK, and a place went to make sure the sites "
    "include enough of one kind of place or organisation."
)
MIX_NO_FIT = (
    "We also needed a balance of places and organisations across the UK, and we could not "
    "make a balanced set of sites that included yours."
)
MIX_ORGANISATION = (
    "We can choose only one site from each organisation, and another expression of interest "
    "from your organisation was selected."
)
MIX_PANEL = (
    "When the selection panel made its final decision, it chose another organisation in your "
    "place, to keep the balance of places and organisations we need."
)


def _where(round_: Any, dimension: str, value: str) -> str:
    label = category_label(round_, dimension, value)
    if dimension in ("nation", "region"):
        return f"in {label}"
    if dimension == "area_type":
        return f"for organisations working in areas like yours ({label.lower()})"
    if dimension == "size_band":
        return f"for organisations of your size ({label.lower()} staff)"
    return "for organisations like yours"


def full_categories(
    round_: Any, run: SelectionRun, row: Mapping[str, Any], selected: Iterable[Mapping[str, Any]]
) -> list[str]:
    """The applicant's own categories whose maximum the final selection reached, in words."""
    chosen = list(selected)
    found = []
    for bound in run.bounds or []:
        dimension, category, maximum = (
            bound.get("dimension"),
            bound.get("category"),
            bound.get("max"),
        )
        if maximum is None or str(row.get(dimension) or "") != str(category):
            continue
        if sum(1 for r in chosen if str(r.get(dimension) or "") == str(category)) >= maximum:
            found.append(_where(round_, str(dimension), str(category)))
    return found


def mix_effect(
    round_: Any,
    run: SelectionRun,
    decision: str,
    reason_code: str,
    row: Mapping[str, Any],
    selected: Iterable[Mapping[str, Any]],
    *,
    removed_by_panel: bool = False,
) -> str:
    """How the balance of places and organisations affected a reserve or an application not
    selected, in plain words about the applicant's own case; empty for any other decision."""
    if decision not in ("reserve", "not_selected"):
        return ""
    if removed_by_panel:
        return MIX_PANEL
    if reason_code == "organisation":
        return MIX_ORGANISATION
    if reason_code == "displaced_by_minimum":
        return MIX_MINIMUM
    if reason_code == "cannot_fit":
        return MIX_NO_FIT
    full = full_categories(round_, run, row, selected)
    if full:
        return MIX_FULL.format(where=full[0])
    return MIX_BELOW


def screening_reason(application: Application) -> str:
    return APPLICANT_SCREENING_REASONS.get(
        application.screening_reason or "other", APPLICANT_SCREENING_REASONS["other"]
    )
