"""Admin: the users (list, invite, edit) and the audit log. Admins only."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from . import views  # noqa: E402,F401
