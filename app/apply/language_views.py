"""The language switch of the applicant pages: a plain link that remembers the choice in the
session and goes back to the page the person was on."""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from werkzeug.wrappers import Response

from ..language import LANGUAGES, SESSION_KEY, safe_next
from . import bp


@bp.get("/language/<code>")
def language(code: str) -> Response:
    # Only the session changes (no database write on a GET): a draft takes the language the
    # next time one of its pages is saved, and question pages switch through their own form.
    if code not in LANGUAGES:
        abort(404)
    session[SESSION_KEY] = code
    return redirect(safe_next(request.args.get("next")) or url_for("apply.start"))
