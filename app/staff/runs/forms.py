"""Forms for selection runs and the staff decision."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional

from ...forms import text_area


class WholeNumberField(IntegerField):
    """A whole number whose 'not a number' message says what to do."""

    def __init__(self, *args: Any, invalid_message: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(self.invalid_message) from error


class StartRunForm(FlaskForm):
    seed = WholeNumberField(
        "Seed (optional)",
        invalid_message="Enter the seed as a whole number, like 1234",
        validators=[
            Optional(),
            NumberRange(min=0, max=2_147_483_647, message="Enter a whole number of 0 or more"),
        ],
    )
    reserves = WholeNumberField(
        "Number of reserves",
        invalid_message="Enter the number of reserves as a whole number, like 10",
        default=10,
        validators=[
            InputRequired(message="Enter the number of reserves"),
            NumberRange(min=0, max=100, message="Enter a number of reserves from 0 to 100"),
        ],
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class OverrideForm(FlaskForm):
    reason = text_area(
        "Reason for the change",
        2000,
        called="Reason",
        required="Enter the reason for the change",
        checks=(),
    )


class ReplacementForm(FlaskForm):
    note = text_area("Note (optional)", 2000, called="Note", checks=())
