"""Request-level protections: only the service's own host, CSRF on every POST, security
headers, no caching of personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from werkzeug.exceptions import SecurityError
from werkzeug.wrappers import Response

from .extensions import csrf

F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def handles_own_csrf(view: F) -> F:
    """Mark a view whose form checks the CSRF token itself, so that an expired token re-renders
    the page with the answers kept instead of failing the request."""
    view.handles_own_csrf = True  # type: ignore[attr-defined]
    return view


def refuse_untrusted_hosts(app: Flask) -> None:
    """A request naming a host not in TRUSTED_HOSTS (app/config.py trusted_hosts) is refused
    with 400 before any other hook reads it. Flask keeps the refusal as the request's routing
    error, raised only once the other hooks (CSRF, the idle timeout) have run and built links
    on that host: so call this before any extension adds its own hooks."""

    @app.before_request
    def untrusted_host() -> None:
        if isinstance(request.routing_exception, SecurityError):
            raise request.routing_exception


def init_app(app: Flask) -> None:
    @app.before_request
    def protect_posts() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        # A multipart part whose name cannot be read arrives as a None key, which breaks code
        # that reads the names (flask-wtf's token lookup raised AttributeError: a 500).
        if None in request.form or None in request.files:
            abort(400)
        view = current_app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, "handles_own_csrf", False):
            return
        csrf.protect()

    every_response = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if app.config.get("SESSION_COOKIE_SECURE"):
        every_response.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    @app.after_request
    def headers(response: Response) -> Response:
        present = {name.lower() for name in response.headers.keys()}  # noqa: SIM118
        # Added where a view has not set its own (one pass over the headers, not one each).
        response.headers.extend(
            [(name, value) for name, value in every_response if name.lower() not in present]
        )
        if request.endpoint != "static":
            # Pages may show someone's answers: never keep them in a shared or back-button cache.
            response.headers["Cache-Control"] = "no-store"
        return response
