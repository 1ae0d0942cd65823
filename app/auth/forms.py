"""Forms for sign-in, passwords and user administration."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..forms import ChoiceRadioField, strip
from ..models import ROLES
from .passwords import MAX_LENGTH, password_problem

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"
ROLE_LABELS = {"admin": "Admin", "staff": "Staff", "reviewer": "Panel reviewer"}
NATIONS = [
    SelectChoice("", "Not given"),
    SelectChoice("england", "England"),
    SelectChoice("scotland", "Scotland"),
    SelectChoice("wales", "Wales"),
    SelectChoice("northern-ireland", "Northern Ireland"),
]


def _email_field(label: str = "Email address") -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired(message="Enter your email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email(message=EMAIL_FORMAT),
        ],
        filters=[strip],
    )


class SignInForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(message="Enter your password"),
            Length(max=MAX_LENGTH, message=f"Password must be {MAX_LENGTH} characters or fewer"),
        ],
    )


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(message="Enter a new password")],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[
            DataRequired(message="Enter the new password again"),
            EqualTo(
                "password", message="The passwords do not match: enter the same password twice"
            ),
        ],
    )

    def __init__(self, *args: Any, email: str = "", name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._email, self._name = email, name

    def validate_password(self, field: Any) -> None:
        problem = password_problem(field.data or "", email=self._email, name=self._name)
        if problem:
            raise ValidationError(problem)


class InviteForm(FlaskForm):
    name = StringField(
        "Full name",
        validators=[
            DataRequired(message="Enter their full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
        filters=[strip],
    )
    email = StringField(
        "Email address",
        validators=[
            DataRequired(message="Enter their email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
            Email(message=EMAIL_FORMAT),
        ],
        filters=[strip],
    )
    role = ChoiceRadioField(
        "Role",
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
        validators=[DataRequired(message="Select a role")],
        invalid_message="Select a role from the list",
    )
    nation = ChoiceRadioField(
        "Nation they live or work in (optional)",
        choices=NATIONS,
        validators=[Optional()],
        invalid_message="Select a nation from the list",
    )


class RoleForm(FlaskForm):
    role = ChoiceRadioField(
        "Role",
        choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES],
        validators=[DataRequired(message="Select a role")],
        invalid_message="Select a role from the list",
    )
    active = ChoiceRadioField(
        "Can they sign in?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No, suspend the account")],
        validators=[DataRequired(message="Select whether they can sign in")],
        invalid_message="Select yes or no",
    )
