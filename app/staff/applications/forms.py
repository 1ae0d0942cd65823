"""Staff forms for applications: screening, withdrawal, merging, staff entry and erasure."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from ...dates import parse_date
from ...forms import ChoiceRadioField, text_area, text_field, tick_box_field
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
    note = text_area("Note (optional)", 2000, called="The note")

    def validate_reason(self, field: Field) -> None:
        if self.decision.data == "ineligible" and not field.data:
            raise ValidationError("Select why the application is not eligible")


class WithdrawForm(FlaskForm):
    reason = text_area(
        "Why is it withdrawn?",
        2000,
        called="The reason",
        required="Enter why the application is withdrawn",
    )


class MergeForm(FlaskForm):
    reference = text_field(
        "Reference of the other application",
        20,
        too_long="Enter a reference like EOI-2027-ABC234",
        required="Enter the reference of the other application",
        checks=(),
    )
    keep = ChoiceRadioField(
        "Which application do you want to keep?",
        choices=_choices([("this", "This application"), ("other", "The other application")]),
        validators=[DataRequired(message="Select which application to keep")],
        invalid_message="Select which application to keep",
    )


RECEIVED_FORMAT = "Enter the date it was received as day/month/year, like 24/3/2027"


def _valid_date(form: FlaskForm, field: Field) -> None:
    if field.data and parse_date(field.data) is None:
        raise ValidationError(RECEIVED_FORMAT)


class AssistedStartForm(FlaskForm):
    channel = ChoiceRadioField(
        "How did the organisation send its expression of interest?",
        choices=_choices((c, CHANNEL_LABELS[c]) for c in ASSISTED_CHANNELS),
        validators=[DataRequired(message="Select how the expression of interest was received")],
        invalid_message="Select how the expression of interest was received",
    )
    # Required after the closing date: the service says so (check_received_on).
    received_on = text_field(
        "When was it received?", 20, too_long=RECEIVED_FORMAT, checks=[_valid_date]
    )

    @property
    def received_date(self) -> date | None:
        return parse_date(self.received_on.data) if self.received_on.data else None


class SendForm(FlaskForm):
    """Only the CSRF token: sending an assisted application."""


class EraseForm(FlaskForm):
    reason = ChoiceRadioField(
        "Why is the personal data being erased?",
        choices=[SelectChoice(code, label) for code, label in ERASURE_REASONS.items()],
        validators=[DataRequired(message="Select why the personal data is being erased")],
        invalid_message="Select why the personal data is being erased",
    )
    confirm = tick_box_field(
        "Confirm",
        "I understand that this cannot be undone",
        "Confirm that you understand this cannot be undone",
    )
