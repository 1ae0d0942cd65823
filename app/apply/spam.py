"""The fill-time check on the page that creates a draft: bots send forms in moments, people take
longer. The time runs from the first eligibility question, not from the first question page, so
a person who pastes prepared answers is not mistaken for a bot.

The time is carried in a stamp on the first question page, signed with a random value kept in
this browser's session cookie: a stamp is good only in the session it was given to, so one stamp
cannot be copied into the forms of many sessions (a bot's) for the day it stays valid.
"""

from __future__ import annotations

import secrets
import time

from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

FORM_SESSION_KEY = "form_session"  # one of resume_views.APPLICANT_SESSION_KEYS
STARTED_KEY = "journey_started"  # when this session first saw an eligibility question
STAMP_MAX_AGE = 24 * 3600

# The one clock the check reads (tests move it; a test never waits).
_clock = time.time


def _form_session() -> str:
    value = session.get(FORM_SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = session[FORM_SESSION_KEY] = secrets.token_urlsafe(16)
    return value


def _journey_started() -> float | None:
    started = session.get(STARTED_KEY)
    if isinstance(started, int | float) and 0 <= _clock() - started < STAMP_MAX_AGE:
        return float(started)
    return None


def note_journey_started() -> None:
    """On each eligibility page: the fill time runs from the first one shown in this session (or
    afresh, once that was more than a day ago)."""
    if _journey_started() is None:
        session[STARTED_KEY] = _clock()
    _form_session()


def forget_journey() -> None:
    """Once the draft is made: the next draft in this browser starts a new journey."""
    session.pop(FORM_SESSION_KEY, None)
    session.pop(STARTED_KEY, None)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="form-started")


def started_stamp() -> str:
    """The stamp for the first question page: when the journey started (now if unknown),
    bound to this session."""
    started = _journey_started()
    return _serializer().dumps([_clock() if started is None else started, _form_session()])


def started_at(stamp: str | None) -> float | None:
    """When the journey started, from the page's signed stamp; None if missing, forged, or
    given to another session."""
    try:
        started, form_session = _serializer().loads(stamp or "", max_age=STAMP_MAX_AGE)
        if form_session != session.get(FORM_SESSION_KEY):
            return None
        return float(started)
    except (BadSignature, ValueError, TypeError):
        return None


def filled_too_fast(stamp: str | None) -> bool:
    started = started_at(stamp)
    return started is None or _clock() - started < current_app.config["MIN_FILL_SECONDS"]
