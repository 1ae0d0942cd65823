"""Sign-in, sign-out, and setting a password (from an invitation) or resetting it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..extensions import db, limiter
from ..models import User, utcnow
from ..rounds import format_london
from . import bp
from .devices import trust_device, trusted_device
from .forms import (
    ForgotPasswordForm,
    NewPasswordForm,
    SignInForm,
)
from .services import (
    end_sessions,
    find_token,
    request_password_reset,
    set_password,
)
from .services import (
    sign_in as check_sign_in,
)


def safe_next(target: str | None) -> str | None:
    """A 'next' address only if it is a path on this site (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user: User) -> str:
    return url_for("staff.home") if user.is_staff else url_for("panel.home")


def start_session(user: User, target: str) -> Response:
    """Sign in with a new session (no fixation), stamped with when, for the idle timeout and the
    absolute lifetime (app/access.py), and trust this browser for the account's lockout."""
    session.clear()
    login_user(user)
    session["signed_in_at"] = session["last_seen"] = utcnow().isoformat()
    response = redirect(target)
    trust_device(response, user.email)
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["POST"])
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    message = None
    if form.validate_on_submit():
        result = check_sign_in(
            db.session,
            form.email.data,
            form.password.data,
            request.remote_addr or "",
            utcnow(),
            trusted_device(request),
        )
        db.session.commit()
        if result.user is not None:
            return start_session(
                result.user, safe_next(request.args.get("next")) or home_for(result.user)
            )
        if result.locked_until is not None:
            message = (
                "You have tried to sign in too many times. Try again after "
                f"{format_london(result.locked_until)} (UK time), or reset your password."
            )
        else:
            message = "Enter a correct email address and password"
        form.password.data = ""
    return render_template(
        "auth/sign_in.html", form=form, message=message
    ), 200 if not message else 401


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session, and every other session of the account: a copy of its cookie taken
    before now no longer works."""
    if current_user.is_authenticated:
        end_sessions(db.session, current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_password_reset(db.session, form.email.data, utcnow())
        db.session.commit()
        # The same answer whether or not the account exists.
        return render_template("auth/reset_sent.html", title="Check your email")
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"], endpoint="set_password")
def set_password_page(token: str) -> str | Response:
    now = utcnow()
    token_row = find_token(db.session, token, now)
    if token_row is None:
        return render_template("auth/link_expired.html", title="This link has expired"), 404
    user = token_row.user
    form = NewPasswordForm(email=user.email, name=user.name)
    if form.validate_on_submit():
        set_password(db.session, token_row, form.password.data, now)
        db.session.commit()
        response = start_session(user, home_for(user))
        flash("Your password has been set.", "success")
        return response
    return render_template(
        "auth/set_password.html", form=form, user=user, invite=token_row.purpose == "invite"
    )


@bp.get("/account")
@login_required
def account() -> Response:
    return redirect(home_for(current_user))
