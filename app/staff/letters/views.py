"""Staff views for the print queue: the letters to post and those posted, a printable page of
one letter or of every letter to post (A4, the address placed for a window envelope), and
marking a letter posted. Staff and admins only."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ...access import roles_required
from ...extensions import db
from ...models import Letter, utcnow
from ...rounds import format_day, london
from .. import bp
from .forms import MarkPostedForm
from .services import AlreadyPosted, kind_label, letters_to_post, mark_posted, print_queue

STAFF = ("staff", "admin")


def _return_address() -> list[str]:
    """The centre's address from the configuration, one line per comma."""
    address = str(current_app.config["CENTRE_POSTAL_ADDRESS"])
    return [line.strip() for line in address.split(",") if line.strip()]


@bp.get("/letters")
@roles_required(*STAFF)
def letters() -> str:
    return render_template(
        "staff/letters/letters.html",
        queue=print_queue(db.session),
        kind_label=kind_label,
        form=MarkPostedForm(),
    )


def _printable(letters: list[Letter], title: str) -> str:
    today = london(utcnow()).date()
    name = str(current_app.config["CENTRE_NAME"])
    return render_template(
        "staff/letters/print.html",
        letters=letters,
        title=title,
        kind_label=kind_label,
        return_address=_return_address(),
        letter_date=format_day(today),
        signature=name[:1].upper() + name[1:],
        form=MarkPostedForm(),
    )


@bp.get("/letters/print")
@roles_required(*STAFF)
def print_letters() -> str:
    return _printable(letters_to_post(db.session), "Print every letter to post")


@bp.get("/letters/<int:letter_id>")
@roles_required(*STAFF)
def letter(letter_id: int) -> str:
    one = db.get_or_404(Letter, letter_id)
    return _printable([one], f"Letter to {one.to_name or 'an applicant'}")


@bp.post("/letters/<int:letter_id>/posted")
@roles_required(*STAFF)
def letter_posted(letter_id: int) -> Response:
    one = db.get_or_404(Letter, letter_id)
    form = MarkPostedForm()
    if not form.validate_on_submit():
        flash("The letter was not marked as posted: please try again.", "info")
        return redirect(url_for("staff.letters"))
    try:
        mark_posted(db.session, one, current_user, utcnow())
    except AlreadyPosted as error:
        db.session.rollback()
        flash(str(error), "info")
    else:
        db.session.commit()
        reference = one.application.reference or "the application"
        flash(f"Marked as posted: the letter for {reference}.", "success")
    return redirect(url_for("staff.letters"))
