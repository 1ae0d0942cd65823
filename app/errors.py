"""One place that turns errors into friendly pages; the log gets an error id, never the data.

`DomainError` is the base of every error a service raises for a request a person cannot make as
it stands; its message says what to do. `commit_or_show` (the message on a form field) or
`commit_or_message` (the message elsewhere on the page) is the one way a view runs such a service:
commit, or roll back and show the message on the page being re-rendered.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.wrappers import Response
from wtforms import Field

from .applications.questions import PAGES as APPLY_PAGES
from .extensions import db, limiter, login_manager

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A request a person cannot make as it stands (a rule of the service, or a change made by
    someone else at the same moment). The message is plain English saying what to do, shown to
    them as it is: it never quotes anyone's answers."""


def commit_or_message(service: Callable[..., object], /, *args: Any, **kwargs: Any) -> str | None:
    """Call `service(*args, **kwargs)` and commit; None if it was committed. On a DomainError,
    roll back and return its message, for the view to show as it re-renders the page."""
    try:
        service(*args, **kwargs)
    except DomainError as error:
        db.session.rollback()
        return str(error)
    db.session.commit()
    return None


def commit_or_show(
    field: Field, service: Callable[..., object], /, *args: Any, **kwargs: Any
) -> bool:
    """Call `service(*args, **kwargs)` and commit; True if it was committed. On a DomainError,
    roll back and show its message as an error on `field`, so the view re-renders its form with
    every value kept."""
    message = commit_or_message(service, *args, **kwargs)
    if message is not None:
        field.errors = [*field.errors, message]
    return message is None


PAGES = {
    400: ("Sorry, there is a problem with that request", "errors/400.html"),
    403: ("You do not have access to this page", "errors/403.html"),
    404: ("Page not found", "errors/404.html"),
    405: ("Sorry, there is a problem with that request", "errors/400.html"),
    413: ("What you sent is too large", "errors/413.html"),
    429: ("You have tried too many times", "errors/429.html"),
}


def retry_after(error: HTTPException) -> int:
    """Seconds until the limit that refused this request lets another through."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, math.ceil(breached.reset_at - time.time()))


UNAVAILABLE_TITLE = "Sorry, there is a problem with the service"
RETRY_AFTER_SECONDS = 30
UNAVAILABLE_FALLBACK = (
    "<!DOCTYPE html><html lang=en-GB><head><meta charset=utf-8><title>"
    f"{UNAVAILABLE_TITLE} – Partner Select</title></head><body><main><h1>{UNAVAILABLE_TITLE}</h1>"
    "<p>Try again in a moment.</p></main></body></html>"
)

# For a request naming a host this service is not (TRUSTED_HOSTS): Flask builds no URLs for it,
# so the page has no links and no stylesheet.
UNTRUSTED_HOST_PAGE = (
    "<!DOCTYPE html><html lang=en-GB><head><meta charset=utf-8><title>"
    "Sorry, there is a problem with that request – Partner Select</title></head><body><main>"
    "<h1>Sorry, there is a problem with that request</h1><p>Check the web address.</p>"
    "</main></body></html>"
)


@dataclass(frozen=True)
class KeptField:
    name: str
    value: str
    label: str = ""  # shown as an editable field when set; otherwise carried as a hidden input
    multiline: bool = False


@dataclass(frozen=True)
class RetryForm:
    """A POST the database could not take, re-presented so that "Try again" sends it again."""

    action: str
    fields: list[KeptField] = field(default_factory=list)
    # False for files (a browser cannot be given one back) and passwords (never written into a
    # page): the person goes back and sends the form again themselves.
    resendable: bool = True


def same_address() -> str:
    """This request's path and query, to ask again. Never "//host", which is another site."""
    return "/" + request.full_path.lstrip("/").rstrip("?")


def retry_form() -> RetryForm:
    """The posted fields, to re-post to the same address with a fresh CSRF token.

    The view could not run (it needs the database for the round and its option lists), so the
    error page carries the answers itself: the applicant's text answers as labelled fields they
    can read and edit, everything else as hidden inputs. Nothing typed is lost, with or without
    JavaScript, and a retry goes through the view's own validation as if it were the first try.
    """
    action = same_address()
    try:
        posted = list(request.form.items(multi=True))
        has_files = bool(request.files)
    except HTTPException:  # a body that cannot be read (too large, malformed): nothing to keep
        return RetryForm(action, resendable=False)
    if (
        has_files
        or request.blueprint in ("auth", "admin")
        or any("password" in n for n, _ in posted)
    ):
        return RetryForm(action, resendable=False)
    visible: dict[str, tuple[str, bool]] = {}
    if request.endpoint == "apply.question_page" and request.view_args:
        page = APPLY_PAGES.get(str(request.view_args.get("page_id")))
        for question in page.questions if page else ():
            if question.kind not in ("radios", "checkboxes"):
                visible[question.id] = (question.label, question.kind == "textarea")
    kept = []
    for name, value in posted:
        if name == "csrf_token":  # the page gives a fresh one
            continue
        label, multiline = visible.pop(name, ("", False))
        kept.append(KeptField(name, value, label, multiline))
    return RetryForm(action, kept)


def init_app(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError) -> Response:
        return Response(UNTRUSTED_HOST_PAGE, 400, mimetype="text/html")

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/csrf.html", title="Your session timed out"), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        title, template = PAGES.get(code, ("Sorry, there is a problem", "errors/400.html"))
        body = render_template(template, title=title, code=code)
        response = Response(body, code, mimetype="text/html")
        if code == 429:
            response.headers["Retry-After"] = str(retry_after(error))
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: SQLAlchemyError) -> Response:
        """The database is down, restarting or overloaded: say so, keep what was typed."""
        with contextlib.suppress(SQLAlchemyError):  # the connection is gone; the pool drops it
            db.session.rollback()
        error_id = secrets.token_hex(4)
        cause = type(getattr(error, "orig", None) or error).__name__
        log.error("database unavailable (error id %s): %s", error_id, cause)
        # The page is drawn without the database: no signed-in user is loaded for the header.
        login_manager._update_request_context_with_user()
        retry = retry_form() if request.method == "POST" else None
        try:
            body = render_template(
                "errors/503.html",
                title=UNAVAILABLE_TITLE,
                error_id=error_id,
                retry=retry,
                again=same_address(),
            )
        except SQLAlchemyError:
            body = UNAVAILABLE_FALLBACK
        response = Response(body, 503, mimetype="text/html")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

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
