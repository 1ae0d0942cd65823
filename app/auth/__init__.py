"""Sign-in, invitations, password set and reset, and user administration."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
