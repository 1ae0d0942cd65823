"""Form fields and filters every feature's forms share: radios and checkboxes whose "not a valid
choice" message says what to do, and the filters for what people type."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form: FlaskForm, field: Field) -> None:
    data = field.data if isinstance(field.data, str) else ""
    if any(ord(ch) < 32 and ch not in "\r\n\t" for ch in data):
        raise ValidationError("Remove the special characters from your answer")


class ChoiceRadioField(RadioField):
    """Radios whose 'not a valid choice' message says what to do."""

    def __init__(self, *args: Any, invalid_message: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data in (None, "", "None"):
            self.data = None
            return
        if self.data not in {choice.value for choice in self.choices}:  # type: ignore[union-attr]
            raise ValidationError(self.invalid_message)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, invalid_message: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form: FlaskForm) -> None:
        allowed = {choice.value for choice in self.choices}  # type: ignore[union-attr]
        if any(value not in allowed for value in self.data or []):
            raise ValidationError(self.invalid_message)
