"""Sign-in and sign-out, setting a password from an invitation, and password reset."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
