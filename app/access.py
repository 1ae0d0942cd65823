"""Who may do what: each staff and panel route names the roles it admits, checked on the server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from .extensions import db, login_manager
from .models import User, utcnow

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see this page"
    login_manager.login_message_category = "info"
    # No binding to the client's address: Flask-Login's "strong" mode reads X-Forwarded-For as
    # the client sends it (spoofable, and it signs people out when their address changes). A
    # session ends instead through the account's session version (sign-out, a new password,
    # suspension), the idle timeout and the absolute lifetime below.
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """The id is "<user id>:<session version>" (User.get_id, Flask-Login's alternative-id
        pattern): a cookie issued before the version last moved loads nobody."""
        ident, _, version = user_id.partition(":")
        if not ident.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(ident))
        if user is None or user.session_version != int(version) or not user.is_active:
            return None
        return user

    @app.before_request
    def session_timeouts() -> Any:
        """Sign out a session idle for too long, or older than its absolute lifetime, however
        busy (a captured cookie kept in use stops working too)."""
        # Applicants have no account: their requests need not load one (flask-login keeps the
        # signed-in user's id under "_user_id"; there is no remember-me cookie).
        if "_user_id" not in session or not current_user.is_authenticated:
            return None
        now = utcnow()
        idle = timedelta(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"])
        lifetime = timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
        last_seen, signed_in_at = session.get("last_seen"), session.get("signed_in_at")
        if signed_in_at is None or now - datetime.fromisoformat(signed_in_at) > lifetime:
            message = "You were signed out because you signed in a long time ago. Sign in again."
        elif last_seen is not None and now - datetime.fromisoformat(last_seen) > idle:
            message = "You were signed out because you were inactive. Sign in again."
        else:
            session["last_seen"] = now.isoformat()
            return None
        logout_user()
        session.clear()
        flash(message, "info")
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
