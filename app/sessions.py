"""Signed-cookie sessions that are not signed again on every response.

Flask's default re-signs a permanent session and sends a new cookie with every response, so its
expiry slides forward. That costs an HMAC and a cookie on every request, the final submit
included, for a date that moves by seconds. Here an unchanged session is signed again only when
its cookie is more than an hour old: the expiry still slides (to within an hour), and a changed
session is sent at once, as before. Sessions stay in the cookie: no server-side state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

REFRESH_AFTER = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(UTC)


class Session(SecureCookieSession):
    # When the cookie this session came in was signed; None for a new session.
    issued_at: datetime | None = None


class RefreshingSessionInterface(SecureCookieSessionInterface):
    session_class = Session

    def open_session(self, app: Flask, request: Request) -> Session | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, issued_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.issued_at = issued_at
        return session

    def should_set_cookie(self, app: Flask, session: Any) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        issued_at = getattr(session, "issued_at", None)
        return issued_at is None or now() - issued_at >= REFRESH_AFTER
