"""The question-page forms, built from the question data in `questions.py`: the applicant's
journey and staff entering an application on someone's behalf use the same forms.

Every message follows the GOV.UK pattern: it says what to do to put the answer right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..forms import CheckboxesField, ChoiceRadioField, no_control_characters, strip
from ..models import Round
from ..rounds import options, word_limit
from .questions import UNCHECKED, Page, Question

POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})$")
PHONE_ALLOWED = re.compile(r"^[0-9 ()+\-.]+$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The most of one answer kept in a draft saved without its checks: more than any answer allowed
# (6,000 characters), so nothing a person types is cut.
DRAFT_TEXT_LIMIT = 10_000


def normalise_postcode(value: Any) -> Any:
    """'sw1a1aa' -> 'SW1A 1AA'; anything that is not a postcode is left for the validator."""
    if not isinstance(value, str):
        return value
    compact = re.sub(r"\s+", "", value).upper()
    if len(compact) >= 5 and POSTCODE.match(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    return value.strip()


def count_words(text: str | None) -> int:
    return len(re.findall(r"\S+", text or ""))


class WordLimit:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, form: FlaskForm, field: Field) -> None:
        words = count_words(field.data)
        if words > self.limit:
            raise ValidationError(
                f"Your answer must be {self.limit} words or fewer. It has {words} words now."
            )


POSTCODE_MESSAGE = "Enter a UK postcode, like LS1 1AA"


def postcode_check(message: str) -> Callable[[FlaskForm, Field], None]:
    def valid(form: FlaskForm, field: Field) -> None:
        if field.data and not POSTCODE.match(field.data):
            raise ValidationError(message)

    return valid


valid_postcode = postcode_check(POSTCODE_MESSAGE)


def valid_phone(form: FlaskForm, field: Field) -> None:
    if not field.data:
        return
    digits = re.sub(r"\D", "", field.data)
    if not PHONE_ALLOWED.match(field.data) or not 10 <= len(digits) <= 15:
        raise ValidationError(
            "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
        )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def field_for(question: Question, round_: Round) -> Field:
    """One WTForms field for a question, with the round's options and limits."""
    presence = (
        [DataRequired(message=question.missing_message)] if question.required else [Optional()]
    )
    length = Length(
        max=question.max_length,
        message=f"{_sentence(question.short)} must be {question.max_length:,} characters or fewer",
    )
    kind = question.kind
    if kind in ("radios", "checkboxes"):
        assert question.options is not None
        choices = [SelectChoice(value, label) for value, label in options(round_, question.options)]
        invalid = f"Select {question.short} from the list"
        if kind == "radios":
            return ChoiceRadioField(
                question.label, choices=choices, validators=presence, invalid_message=invalid
            )
        return CheckboxesField(
            question.label, choices=choices, validators=presence, invalid_message=invalid
        )
    if kind == "textarea":
        validators = [*presence, length, no_control_characters]
        if question.word_limit:
            validators.append(WordLimit(word_limit(round_)))
        return TextAreaField(question.label, validators=validators, filters=[strip])
    validators = [*presence, length, no_control_characters]
    filters: list[Any] = [strip]
    if kind == "email":
        validators.append(
            Email(message="Enter an email address in the correct format, like name@example.com")
        )
    elif kind == "phone":
        validators.append(valid_phone)
    elif kind == "postcode":
        filters = [normalise_postcode]
        message = question.invalid_message or POSTCODE_MESSAGE
        # The format check also bounds the length: one message, never two.
        validators = [*presence, postcode_check(message)]
    return StringField(question.label, validators=validators, filters=filters)


class PageForm(FlaskForm):
    """Base for the generated question-page forms."""

    page: Page

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        # An answer needed only given another (a phone number when phone is preferred).
        given = {question.id: self[question.id].data for question in self.page.questions}
        for question in self.page.questions:
            field = self[question.id]
            if question.needed(given) and not field.data and not field.errors:
                field.errors.append(question.missing_message)
                ok = False
        # An "other, please specify" answer is needed only when "Other" is chosen.
        for question in self.page.questions:
            if not question.other_for:
                continue
            chosen = self[question.other_for].data
            chosen_other = "other" in chosen if isinstance(chosen, list) else chosen == "other"
            if chosen_other and not self[question.id].data:
                self[question.id].errors.append(question.missing_message)
                ok = False
        return ok

    def answers(self) -> dict[str, Any]:
        """The cleaned answers, ready to store (empty optional answers as None)."""
        return self._stored(
            {question.id: self[question.id].data for question in self.page.questions}
        )

    def draft_answers(self) -> dict[str, Any]:
        """What was typed, to keep in a draft without its checks (the page is marked UNCHECKED):
        text without control characters and no longer than DRAFT_TEXT_LIMIT, and only the
        choices offered. Nothing typed is lost by leaving a page with Back."""
        typed: dict[str, Any] = {}
        for question in self.page.questions:
            field = self[question.id]
            value = field.data
            if question.kind in ("radios", "checkboxes"):
                offered = {choice.value for choice in field.choices}  # type: ignore[attr-defined]
                if question.kind == "checkboxes":
                    value = [v for v in value or [] if v in offered]
                else:
                    value = value if value in offered else None
            elif isinstance(value, str):
                value = CONTROL_CHARACTERS.sub("", value)[:DRAFT_TEXT_LIMIT]
            else:
                value = None
            typed[question.id] = value
        return {**self._stored(typed), UNCHECKED: True}

    def _stored(self, values: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for question in self.page.questions:
            value = values[question.id]
            if question.other_for:
                chosen = values[question.other_for]
                chosen_other = "other" in chosen if isinstance(chosen, list) else chosen == "other"
                value = value if chosen_other else None
            result[question.id] = value if value not in ("", []) else None
        return result

    def is_blank(self) -> bool:
        """Nothing typed or chosen on the page."""
        return not any(value for key, value in self.draft_answers().items() if key != UNCHECKED)


class FirstPageChecks:
    """Spam checks added to the page that creates a draft: a honeypot and a signed start time."""

    website = StringField("Leave this blank")
    form_started = HiddenField()


def page_form_class(page: Page, round_: Round, *, first_save: bool) -> type[PageForm]:
    attrs: dict[str, Any] = {"page": page}
    for question in page.questions:
        attrs[question.id] = field_for(question, round_)
    bases: tuple[type, ...] = (PageForm,)
    if first_save:
        bases = (PageForm, FirstPageChecks)
    return type(f"{page.id.title()}Form", bases, attrs)
