"""Forms for sign-in, passwords and user administration."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..forms import text_field
from .passwords import MAX_LENGTH, password_problem

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"


def email_field(
    label: str = "Email address", required: str = "Enter your email address"
) -> StringField:
    """A staff member's email address (sign-in, password reset, invitation)."""
    checks = [Email(message=EMAIL_FORMAT)]
    return text_field(label, 320, called="Email address", required=required, checks=checks)


class SignInForm(FlaskForm):
    email = email_field()
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(message="Enter your password"),
            Length(max=MAX_LENGTH, message=f"Password must be {MAX_LENGTH} characters or fewer"),
        ],
    )


class ForgotPasswordForm(FlaskForm):
    email = email_field()


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
