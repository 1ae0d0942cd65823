"""Forms for panel reviewers: the review (per criterion a score, an internal note and feedback
for the applicant) and a conflict."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice

from ..applications.rubric import RUBRIC
from ..forms import ChoiceRadioField, text_area

COMMENT_MAX = 5000


def _comment(label: str, short: str) -> TextAreaField:
    return text_area(label, COMMENT_MAX, called=short, default="")


class _ReviewFormBase(FlaskForm):
    """Fields `<criterion>_score`, `<criterion>_comment` (an internal note) and
    `<criterion>_feedback` (for the applicant) for each criterion, then an overall comment.
    Scores are optional here: whether a draft may be partial is the service's rule."""

    def scores(self) -> dict[str, int | None]:
        return {
            c.id: int(self[f"{c.id}_score"].data) if self[f"{c.id}_score"].data else None
            for c in RUBRIC
        }

    def comments(self) -> dict[str, str]:
        return {c.id: self[f"{c.id}_comment"].data or "" for c in RUBRIC}

    def feedback(self) -> dict[str, str]:
        return {c.id: self[f"{c.id}_feedback"].data or "" for c in RUBRIC}


def _review_fields() -> dict[str, Any]:
    # Made in page order, which is the order of the error summary.
    fields: dict[str, Any] = {}
    for criterion in RUBRIC:
        fields[f"{criterion.id}_score"] = ChoiceRadioField(
            f"Score for “{criterion.title}”",
            choices=[
                SelectChoice(str(level.score), str(level.score)) for level in criterion.levels
            ],
            invalid_message=f"Select a score from 1 to 5 for “{criterion.title}”",
        )
        fields[f"{criterion.id}_comment"] = _comment(
            f"Internal note on “{criterion.title}” (optional)",
            f"Your internal note on {criterion.title}",
        )
        fields[f"{criterion.id}_feedback"] = _comment(
            f"Feedback for the applicant on “{criterion.title}” (optional)",
            f"Your feedback for the applicant on {criterion.title}",
        )
    fields["overall_comment"] = _comment("Overall comment (optional)", "Your overall comment")
    return fields


ReviewForm = type("ReviewForm", (_ReviewFormBase,), _review_fields())


def review_form_data(review: Any) -> dict[str, Any]:
    """A saved review as form data, to show it again."""
    if review is None:
        return {}
    data: dict[str, Any] = {"overall_comment": review.overall_comment}
    for row in review.scores:
        data[f"{row.criterion}_score"] = str(row.score) if row.score is not None else None
        data[f"{row.criterion}_comment"] = row.comment
        data[f"{row.criterion}_feedback"] = row.feedback
    return data


class ConflictForm(FlaskForm):
    note = text_area(
        "Describe your conflict of interest",
        2000,
        called="Your description",
        required="Describe your conflict of interest",
    )
