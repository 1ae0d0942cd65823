"""Forms of the public journey only: eligibility, the declaration, and emailing the resume link.
The question pages' forms are shared with staff entry (`app.applications.forms`)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email

from ..applications.eligibility import EligibilityQuestion
from ..forms import ChoiceRadioField, text_field, tick_box_field

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


def eligibility_form_class(question: EligibilityQuestion) -> type[FlaskForm]:
    field = ChoiceRadioField(
        question.question,
        choices=[SelectChoice(value, label) for value, label in question.choices()],
        validators=[DataRequired(message=f"Select yes if {question.short[8:]}")],
        invalid_message="Select yes, not yet or no" if question.not_yet else "Select yes or no",
    )
    return type("EligibilityForm", (FlaskForm,), {"answer": field})


class DeclarationForm(FlaskForm):
    # The page's heading says "Declaration": the legends say what each box is about.
    confirm_correct = tick_box_field(
        "Your answers",
        "The information I have given is correct to the best of my knowledge",
        "Confirm that the information you have given is correct",
    )
    confirm_privacy = tick_box_field(
        "Privacy notice",
        "I have read the privacy notice",
        "Confirm that you have read the privacy notice",
    )


class EmailLinkForm(FlaskForm):
    email = text_field(
        "Email address",
        254,
        called="Email address",
        required="Enter an email address",
        checks=[Email(message=EMAIL_FORMAT)],
    )
