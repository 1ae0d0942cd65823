"""The applicant's private link and what the browser holds: the resume link (plain, and as
emailed, which confirms the address it went to), how long a sent application stays readable
through it, and "Forget this device"."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ..applications.confirmed_email import address_proof, confirm_address, proven_address
from ..applications.services import find_by_token
from ..extensions import db
from ..language import ENGLISH, LANGUAGES, SESSION_KEY
from ..models import Application, utcnow
from ..rounds import format_london
from ..urls import external_url
from . import bp

# What a browser holds of an applicant's journey (the private token, the eligibility answers,
# the value the first page's fill-time stamp is signed with and when the journey started),
# cleared by "Forget this device".
APPLICANT_SESSION_KEYS = ("token", "eligibility", "form_session", "journey_started")


def emailed_resume_link(token: str, application: Application, address: str) -> str:
    """The resume link as emailed: with a proof of the address it went to, which opening it
    confirms (`resume_confirm`)."""
    proof = address_proof(current_app.secret_key or "", application.id, address)
    return external_url("apply.resume_confirm", token=token, proof=proof)


def per_address() -> int:
    return int(current_app.config["APPLY_EMAILS_PER_ADDRESS_PER_DAY"])


def copy_expired(application: Application) -> bool:
    """Sent more than APPLY_SUBMITTED_COPY_DAYS ago: the answers are no longer shown."""
    days = current_app.config["APPLY_SUBMITTED_COPY_DAYS"]
    sent = application.submitted_at
    return sent is not None and utcnow() - sent > timedelta(days=days)


def copy_expired_page(application: Application) -> str:
    # The browser keeps no hold on an application it can no longer show.
    for key in APPLICANT_SESSION_KEYS:
        session.pop(key, None)
    return render_template(
        "apply/copy_expired.html",
        application=application,
        submitted=format_london(application.submitted_at or utcnow()),
        days=current_app.config["APPLY_SUBMITTED_COPY_DAYS"],
    )


@bp.get("/resume/<token>")
def resume(token: str) -> str | Response:
    application = find_by_token(db.session, token)
    if application is None:
        abort(404)
    return _resume(application, token)


def _resume(application: Application, token: str) -> str | Response:
    if application.status == "submitted" and copy_expired(application):
        return copy_expired_page(application)
    session["token"] = token
    session.permanent = True
    session[SESSION_KEY] = application.language if application.language in LANGUAGES else ENGLISH
    if application.status == "submitted":
        return redirect(url_for("apply.confirmation"))
    return redirect(url_for("apply.task_list"))


@bp.route("/resume/<token>/<proof>", methods=["GET", "POST"])
def resume_confirm(token: str, proof: str) -> str | Response:
    """The resume link as emailed. Opened (GET), it asks the applicant to continue; continuing
    (POST, so a mail scanner fetching the link confirms nothing) records the address it was
    sent to as theirs, then goes on as the resume link does. A proof that is not genuine, or
    an address already confirmed, makes it the plain resume link."""
    application = find_by_token(db.session, token)
    if application is None:
        abort(404)
    hashed = proven_address(current_app.secret_key or "", application.id, proof)
    if (
        hashed is None
        or application.confirmed_email_hash == hashed
        or application.status not in ("draft", "submitted")
        or (application.status == "submitted" and copy_expired(application))
    ):
        return _resume(application, token)
    if request.method == "POST":
        confirm_address(db.session, application, hashed)
        db.session.commit()
        return _resume(application, token)
    return render_template("apply/confirm_email.html", round=application.round)


@bp.post("/application/forget-device")
def forget_device() -> Response:
    """Stop this browser opening the application (for a shared or public computer): the session
    cookie no longer holds its private token. The private link still works."""
    for key in APPLICANT_SESSION_KEYS:
        session.pop(key, None)
    flash("This device no longer opens your expression of interest.", "forgotten")
    return redirect(url_for("apply.start"))
