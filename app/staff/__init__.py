"""Staff workspace: rounds, applications, screening, assignment, selection runs and exports."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from . import assignment, data_protection_views, exports_views, runs, views  # noqa: E402,F401
