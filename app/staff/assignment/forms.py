"""Forms for reviewer assignment and moderation (staff)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from ...applications.rubric import RUBRIC
from ...forms import CheckboxesField, ChoiceRadioField, strip, text_area

MAX_REVIEWERS_PER_APPLICATION = 10


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class AutoAssignForm(FlaskForm):
    per_application = IntegerField(
        "Reviewers for each application",
        validators=[
            InputRequired(message="Enter how many reviewers each application needs"),
            NumberRange(
                min=1,
                max=MAX_REVIEWERS_PER_APPLICATION,
                message=f"Enter a number from 1 to {MAX_REVIEWERS_PER_APPLICATION}",
            ),
        ],
    )
    prefer_other_nation = CheckboxesField(
        "Nation",
        choices=[SelectChoice("yes", "Prefer reviewers from another nation than the application")],
        invalid_message="Select the box or leave it empty",
    )

    def process(
        self, formdata: Any = None, obj: Any = None, data: Any = None, **kwargs: Any
    ) -> None:
        super().process(formdata, obj, data, **kwargs)
        # An IntegerField keeps "abc" as None; say what to do, not "Not a valid integer value".
        field = self.per_application
        if formdata is not None and field.data is None:
            raw = (field.raw_data or [""])[0].strip()
            field.process_errors = (
                ["Enter how many reviewers each application needs, as a number like 2"]
                if raw
                else []
            )


class AssignForm(FlaskForm):
    reviewer = ChoiceRadioField(
        "Reviewer",
        validators=[DataRequired(message="Select a reviewer")],
        invalid_message="Select a reviewer from the list",
    )


def valid_moderated_score(form: FlaskForm, field: Field) -> None:
    try:
        value = Decimal(field.data)
    except (InvalidOperation, TypeError):
        raise ValidationError(
            "Enter the moderated score as a number from 1 to 5, like 3 or 3.5"
        ) from None
    if not value.is_finite() or not Decimal(1) <= value <= Decimal(5):
        raise ValidationError("Enter a moderated score from 1 to 5, like 3 or 3.5")
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError("Enter the moderated score with at most 2 decimal places")


class ModerationForm(FlaskForm):
    criterion = ChoiceRadioField(
        "Criterion",
        choices=[SelectChoice(c.id, c.title) for c in RUBRIC],
        validators=[DataRequired(message="Select the criterion you are moderating")],
        invalid_message="Select a criterion from the list",
    )
    score = StringField(
        "Moderated score",
        validators=[DataRequired(message="Enter the moderated score"), valid_moderated_score],
        filters=[strip],
    )
    reason = text_area(
        "Reason for the moderated score",
        5000,
        called="The reason",
        required="Enter the reason for the moderated score",
    )


class _FeedbackFormBase(FlaskForm):
    def texts(self) -> dict[str, str]:
        return {c.id: self[f"feedback_{c.id}"].data or "" for c in RUBRIC}


def _feedback_fields() -> dict[str, Any]:
    return {
        f"feedback_{c.id}": text_area(
            f"Feedback for the applicant on “{c.title}”",
            5000,
            called=f"The feedback on “{c.title}”",
        )
        for c in RUBRIC
    }


# Moderation's edit of the feedback for the applicant, one box per criterion.
ApplicantFeedbackForm = type("ApplicantFeedbackForm", (_FeedbackFormBase,), _feedback_fields())
