"""One place that turns errors into friendly pages; the log gets an error id, never the data."""

from __future__ import annotations

import logging
import secrets
import traceback

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)

PAGES = {
    400: ("Sorry, there is a problem with that request", "errors/400.html"),
    403: ("You do not have access to this page", "errors/403.html"),
    404: ("Page not found", "errors/404.html"),
    405: ("Sorry, there is a problem with that request", "errors/400.html"),
    413: ("What you sent is too large", "errors/413.html"),
    429: ("You have tried too many times", "errors/429.html"),
}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/csrf.html", title="Your session timed out"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        title, template = PAGES.get(code, ("Sorry, there is a problem", "errors/400.html"))
        return render_template(template, title=title, code=code), code

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> tuple[str, int]:
        db.session.rollback()
        error_id = secrets.token_hex(4)
        log.error("database unavailable (error id %s): %s", error_id, type(error.orig).__name__)
        return (
            render_template("errors/503.html", title="Try again in a moment", error_id=error_id),
            503,
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        error_id = secrets.token_hex(4)
        # The type and traceback locate the fault; the message may quote someone's answers.
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        log.error("unexpected error %s (error id %s)\n%s", type(error).__name__, error_id, frames)
        return (
            render_template(
                "errors/500.html", title="Sorry, there is a problem", error_id=error_id
            ),
            500,
        )
