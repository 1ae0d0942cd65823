"""Forms of the public journey only: eligibility, the declaration, and emailing the resume link.
The question pages' forms are shared with staff entry (`app.applications.forms`)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from ..applications.questions import EligibilityQuestion
from ..forms import CheckboxesField, ChoiceRadioField, strip


def eligibility_form_class(question: EligibilityQuestion) -> type[FlaskForm]:
    field = ChoiceRadioField(
        question.question,
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validators=[DataRequired(message=f"Select yes if {question.short[8:]}")],
        invalid_message="Select yes or no",
    )
    return type("EligibilityForm", (FlaskForm,), {"answer": field})


class DeclarationForm(FlaskForm):
    confirm_correct = CheckboxesField(
        "Declaration",
        choices=[
            SelectChoice(
                "yes", "The information I have given is correct to the best of my knowledge"
            )
        ],
        validators=[DataRequired(message="Confirm that the information you have given is correct")],
        invalid_message="Confirm that the information you have given is correct",
    )
    confirm_privacy = CheckboxesField(
        "Privacy notice",
        choices=[SelectChoice("yes", "I have read the privacy notice")],
        validators=[DataRequired(message="Confirm that you have read the privacy notice")],
        invalid_message="Confirm that you have read the privacy notice",
    )


class EmailLinkForm(FlaskForm):
    email = StringField(
        "Email address",
        validators=[
            DataRequired(message="Enter an email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Email(message="Enter an email address in the correct format, like name@example.com"),
        ],
        filters=[strip],
    )
