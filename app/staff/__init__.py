"""Staff workspace: rounds, applications, screening, assignment, selection runs and exports."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import assignment, runs, views  # noqa: E402,F401
