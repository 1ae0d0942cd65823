"""Panel reviewers: their assigned applications, conflicts of interest and reviews."""

from flask import Blueprint

bp = Blueprint("panel", __name__, url_prefix="/panel")

from . import shortlists, views  # noqa: E402,F401
