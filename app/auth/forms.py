"""Forms for sign-in, passwords and user administration."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from ..forms import strip
from .passwords import MAX_LENGTH, password_problem

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"


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
