"""Sign-in, invitations, password set and reset, user administration and the audit log."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import audit_log, views  # noqa: E402,F401
