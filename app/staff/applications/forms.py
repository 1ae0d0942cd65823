"""Staff forms for applications: screening, withdrawal, merging, staff entry and erasure."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...forms import CheckboxesField, ChoiceRadioField, no_control_characters, strip
from ...labels import CHANNEL_LABELS, ERASURE_REASONS, SCREENING_LABELS, SCREENING_REASONS
from .services import ASSISTED_CHANNELS


def _choices(pairs: Any) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class ScreeningForm(FlaskForm):
    decision = ChoiceRadioField(
        "Is this application eligible?",
        choices=_choices(
            [
                ("eligible", SCREENING_LABELS["eligible"]),
                ("ineligible", SCREENING_LABELS["ineligible"]),
                ("unscreened", SCREENING_LABELS["unscreened"] + " (undo screening)"),
            ]
        ),
        validators=[DataRequired(message="Select whether the application is eligible")],
        invalid_message="Select whether the application is eligible",
    )
    reason = ChoiceRadioField(
        "If it is not eligible, why not?",
        choices=_choices(SCREENING_REASONS.items()),
        # No Optional(): it would stop validate_reason from running on a blank answer.
        validators=[],
        invalid_message="Select why the application is not eligible from the list",
    )
    note = TextAreaField(
        "Note (optional)",
        validators=[
            Optional(),
            Length(max=2000, message="The note must be 2,000 characters or fewer"),
            no_control_characters,
        ],
        filters=[strip],
    )

    def validate_reason(self, field: Field) -> None:
        if self.decision.data == "ineligible" and not field.data:
            raise ValidationError("Select why the application is not eligible")


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why is it withdrawn?",
        validators=[
            DataRequired(message="Enter why the application is withdrawn"),
            Length(max=2000, message="The reason must be 2,000 characters or fewer"),
            no_control_characters,
        ],
        filters=[strip],
    )


class MergeForm(FlaskForm):
    reference = StringField(
        "Reference of the other application",
        validators=[
            DataRequired(message="Enter the reference of the other application"),
            Length(max=20, message="Enter a reference like EOI-2027-ABC234"),
        ],
        filters=[strip],
    )
    keep = ChoiceRadioField(
        "Which application do you want to keep?",
        choices=_choices([("this", "This application"), ("other", "The other application")]),
        validators=[DataRequired(message="Select which application to keep")],
        invalid_message="Select which application to keep",
    )


class AssistedStartForm(FlaskForm):
    channel = ChoiceRadioField(
        "How did the organisation send its expression of interest?",
        choices=_choices((c, CHANNEL_LABELS[c]) for c in ASSISTED_CHANNELS),
        validators=[DataRequired(message="Select how the expression of interest was received")],
        invalid_message="Select how the expression of interest was received",
    )


class SendForm(FlaskForm):
    """Only the CSRF token: sending an assisted application."""


class EraseForm(FlaskForm):
    reason = ChoiceRadioField(
        "Why is the personal data being erased?",
        choices=[SelectChoice(code, label) for code, label in ERASURE_REASONS.items()],
        validators=[DataRequired(message="Select why the personal data is being erased")],
        invalid_message="Select why the personal data is being erased",
    )
    confirm = CheckboxesField(
        "Confirm",
        choices=[SelectChoice("yes", "I understand that this cannot be undone")],
        validators=[DataRequired(message="Confirm that you understand this cannot be undone")],
        invalid_message="Confirm that you understand this cannot be undone",
    )
