"""Form fields and filters every feature's forms share: radios and checkboxes whose "not a valid
choice" message says what to do, the filters for what people type, and builders for the fields
that many forms declare alike (a trimmed text field, a box that must be ticked)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
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


def text_field(
    label: str,
    max_length: int,
    *,
    called: str = "",
    too_long: str = "",
    required: str | None = None,
    checks: Sequence[Callable[[FlaskForm, Field], None]] = (no_control_characters,),
    field_class: type[StringField] = StringField,
    **kwargs: Any,
) -> StringField:
    """A trimmed text field: `required` is the message when it is left blank (None: it may be
    left blank); past `max_length` characters the message is `too_long`, or by default "`called`
    must be N characters or fewer"; then `checks`, by default that it holds no control characters.
    """
    presence = DataRequired(message=required) if required is not None else Optional()
    too_long = too_long or f"{called} must be {max_length:,} characters or fewer"
    return field_class(
        label,
        validators=[presence, Length(max=max_length, message=too_long), *checks],
        filters=[strip],
        **kwargs,
    )


def text_area(label: str, max_length: int, **kwargs: Any) -> StringField:
    """`text_field` as a text area, for answers of more than a line."""
    return text_field(label, max_length, field_class=TextAreaField, **kwargs)


def tick_box_field(label: str, option: str, message: str) -> CheckboxesField:
    """One tick box that must be ticked (a confirmation); `message` says so when it is not."""
    return CheckboxesField(
        label,
        choices=[SelectChoice("yes", option)],
        validators=[DataRequired(message=message)],
        invalid_message=message,
    )
