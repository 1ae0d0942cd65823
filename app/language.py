"""The language of each request: applicant pages (the `apply` blueprint) and what is written to
an applicant in Welsh when they chose it, everything staff, panel and admin see in English."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, has_request_context, request, session, url_for
from sqlalchemy.exc import SQLAlchemyError

ENGLISH = "en"
WELSH = "cy"
LANGUAGES = (ENGLISH, WELSH)
SESSION_KEY = "language"
# What <html lang> says for each.
HTML_LANG = {ENGLISH: "en-GB", WELSH: "cy"}


def session_language() -> str:
    """The applicant's chosen language (English until they choose Welsh)."""
    chosen = session.get(SESSION_KEY) if has_request_context() else None
    return chosen if chosen in LANGUAGES else ENGLISH


def select_locale() -> str:
    """Flask-Babel's locale selector: the session's language on applicant pages, else English."""
    if not has_request_context() or request.blueprint != "apply":
        return ENGLISH
    return session_language()


def safe_next(target: str | None) -> str | None:
    """A path on this site to go back to after switching language, or None: only a path that
    starts with a single slash (no scheme, no host, no backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _language_switch() -> dict[str, Any] | None:
    """The link to the other language, on applicant pages of a round that offers Welsh."""
    if not has_request_context():  # an email composed by the mail worker
        return None
    if request.blueprint != "apply" or request.endpoint == "apply.language":
        return None
    from .extensions import db
    from .models import utcnow
    from .rounds import current_round, welsh_offered

    try:
        round_ = current_round(db.session, utcnow())
    except SQLAlchemyError:  # the error page while the database is down: no switch
        return None
    if round_ is None or not welsh_offered(round_):
        return None
    other = ENGLISH if session_language() == WELSH else WELSH
    here = request.full_path.rstrip("?") if request.query_string else request.path
    return {
        "code": other,
        "label": "English" if other == ENGLISH else "Cymraeg",
        "url": url_for("apply.language", code=other, next=here),
        # A question page switches with a button of its form, which saves what was typed first.
        "form": "page-form" if request.endpoint == "apply.question_page" else None,
    }


def init_app(app: Flask) -> None:
    @app.context_processor
    def language_context() -> dict[str, Any]:
        return {
            "html_lang": HTML_LANG[select_locale()],
            "language_switch": _language_switch(),
        }
