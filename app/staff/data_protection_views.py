"""Data protection on the staff side: download everything held about an application (subject
access) and, for admins, erase its personal data with a reason and a confirmation."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ..access import roles_required
from ..apply.forms import CheckboxesField, ChoiceRadioField
from ..audit import record
from ..data_protection import (
    ERASURE_REASONS,
    DataProtectionError,
    erase_application,
    subject_access_record,
)
from ..exports import safe_filename
from ..extensions import db
from ..models import Application, utcnow
from ..outbox import remove_file_copies
from . import bp


class EraseForm(FlaskForm):
    reason = ChoiceRadioField(
        "Why is the personal data being erased?",
        choices=[SelectChoice(code, label) for code, label in ERASURE_REASONS.items()],
        validators=[DataRequired(message="Select why the personal data is being erased")],
        invalid_message="Select why the personal data is being erased",
    )
    confirm = CheckboxesField(
        "Confirm",
        choices=[SelectChoice("yes", "I understand that this cannot be undone")],
        validators=[DataRequired(message="Confirm that you understand this cannot be undone")],
        invalid_message="Confirm that you understand this cannot be undone",
    )


@bp.post("/applications/<int:application_id>/everything.json")
@roles_required("staff", "admin")
def subject_access(application_id: int) -> Response:
    application = db.get_or_404(Application, application_id)
    body = json.dumps(subject_access_record(db.session, application), indent=2, ensure_ascii=False)
    record(
        db.session,
        current_user,
        "application.exported",
        "application",
        application.id,
        application.round_id,
    )
    db.session.commit()
    name = safe_filename(f"subject-access-{application.reference or application.id}.json")
    response = Response(body.encode("utf-8"), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/applications/<int:application_id>/erase", methods=["GET", "POST"])
@roles_required("admin")
def erase(application_id: int) -> str | Response:
    application = db.get_or_404(Application, application_id)
    if application.erased_at is not None:
        flash("This application's personal data has already been erased.", "info")
        return redirect(url_for("staff.application", application_id=application.id))
    form = EraseForm()
    message = None
    if form.validate_on_submit():
        try:
            emails = erase_application(
                db.session, application, current_user, form.reason.data, utcnow()
            )
        except DataProtectionError as error:
            db.session.rollback()
            message = str(error)
        else:
            db.session.commit()
            remove_file_copies(current_app.config["MAIL_OUTBOX_DIR"], emails)
            flash(
                "The personal data is erased. The reference, mix, scores and decisions are kept.",
                "success",
            )
            return redirect(url_for("staff.application", application_id=application.id))
    return render_template(
        "staff/applications/erase.html", form=form, application=application, message=message
    )
