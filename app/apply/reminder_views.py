"""The one-click opt-out from reminders to send a draft: the link in every reminder. It works
without signing in or the draft's private link; opening it (GET) only asks, the button (POST)
opts out, so a mail scanner that fetches links changes nothing."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from ..applications.reminders import draft_for_opt_out, opt_out
from ..extensions import db
from ..models import utcnow
from . import bp


@bp.route("/reminders/opt-out/<token>", methods=["GET", "POST"])
def reminder_opt_out(token: str) -> str | Response:
    application = draft_for_opt_out(db.session, current_app.secret_key or "", token)
    if application is None:
        abort(404)
    if request.method == "POST":
        opt_out(db.session, application, utcnow())
        db.session.commit()
        return redirect(request.path)
    done = application.reminders_opted_out_at is not None
    return render_template("apply/reminder_opt_out.html", round=application.round, done=done)
