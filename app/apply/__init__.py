"""The public applicant journey: start page, eligibility, the application, check and send."""

from flask import Blueprint

bp = Blueprint("apply", __name__)

from . import language_views, paper_views, reminder_views, resume_views, views  # noqa: E402,F401
