"""Reviewer assignment and moderation views (staff), registered on the staff blueprint."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from ...access import roles_required
from ...applications.rubric import BY_ID, RUBRIC, rubric
from ...errors import commit_or_show
from ...extensions import db
from ...labels import REVIEW_STATUS_LABELS
from ...models import Application, Round, User, utcnow
from ...rounds import option_label
from .. import bp
from ..rounds.letters import lines
from ..runs.feedback import save_feedback_edits, shareable_feedback
from .forms import ActionForm, ApplicantFeedbackForm, AssignForm, AutoAssignForm, ModerationForm
from .services import (
    AssignmentError,
    application_reviewers,
    application_reviews,
    assign,
    auto_assign,
    coverage,
    disagreements,
    moderation_queue,
    moderations,
    panel_reviewers,
    record_moderation,
    reviewer_loads,
    round_conflicts,
    set_reviewing_closed,
    submitted_scores,
    unassign,
)

STAFF = ("staff", "admin")


def _round_or_404(round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        abort(404)
    return round_


def _application_or_404(application_id: int) -> Application:
    application = db.session.get(Application, application_id)
    if application is None or application.status != "submitted":
        abort(404)
    return application


def _nation(round_: Round, value: str | None) -> str:
    return option_label(round_, "nation", value) if value else "Not given"


# Assignment ---------------------------------------------------------------------------------


def _overview(round_: Round, form: AutoAssignForm) -> str:
    rows = coverage(db.session, round_)
    return render_template(
        "staff/assignment/assignment.html",
        round=round_,
        form=form,
        loads=reviewer_loads(db.session, round_),
        under=[row for row in rows if row.missing],
        eligible=len(rows),
        conflicts=round_conflicts(db.session, round_),
        nation=lambda value: _nation(round_, value),
    )


@bp.get("/rounds/<int:round_id>/assignment")
@roles_required(*STAFF)
def assignment_overview(round_id: int) -> str:
    round_ = _round_or_404(round_id)
    form = AutoAssignForm(data={"per_application": round_.reviews_required})
    return _overview(round_, form)


@bp.post("/rounds/<int:round_id>/assignment/auto")
@roles_required(*STAFF)
def assignment_auto(round_id: int) -> str | Response:
    round_ = _round_or_404(round_id)
    form = AutoAssignForm()
    if not form.validate_on_submit():
        return _overview(round_, form)
    try:
        result = auto_assign(
            db.session,
            round_,
            form.per_application.data,
            prefer_other_nation="yes" in (form.prefer_other_nation.data or []),
            by=current_user,
            now=utcnow(),
        )
        db.session.commit()
    except IntegrityError:
        # Someone else assigned at the same moment; the unique constraint kept it consistent.
        db.session.rollback()
        flash("Someone else changed the assignments at the same time. Run it again.", "warning")
        return redirect(url_for("staff.assignment_overview", round_id=round_.id))
    message = f"{result.added} assignment{'s' if result.added != 1 else ''} added."
    if result.short:
        message += (
            f" {len(result.short)} application{'s' if len(result.short) != 1 else ''} still "
            "need reviewers: there are not enough reviewers without a conflict."
        )
    flash(message, "success" if not result.short else "warning")
    return redirect(url_for("staff.assignment_overview", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/reviewing")
@roles_required(*STAFF)
def assignment_reviewing(round_id: int) -> Response:
    round_ = _round_or_404(round_id)
    form = ActionForm()
    action = request.form.get("action")
    if not form.validate_on_submit() or action not in ("close", "reopen"):
        abort(400)
    set_reviewing_closed(db.session, round_, action == "close", utcnow(), current_user)
    db.session.commit()
    flash(
        "Reviewing is closed: reviewers can no longer change their reviews."
        if action == "close"
        else "Reviewing is open again: reviewers can change their reviews.",
        "success",
    )
    return redirect(url_for("staff.assignment_overview", round_id=round_.id))


def _reviewer_choices(
    application: Application, active: list[User], conflicted: set[int]
) -> list[Any]:
    taken = {u.id for u in active} | conflicted
    return [
        SelectChoice(str(user.id), f"{user.name} ({_nation(application.round, user.nation)})")
        for user in panel_reviewers(db.session)
        if user.id not in taken
    ]


@bp.route("/applications/<int:application_id>/reviewers", methods=["GET", "POST"])
@roles_required(*STAFF)
def assignment_application(application_id: int) -> str | Response:
    application = _application_or_404(application_id)
    active, conflicts = application_reviewers(db.session, application)
    form = AssignForm()
    form.reviewer.choices = _reviewer_choices(
        application, active, {c.reviewer_id for c in conflicts}
    )
    if form.validate_on_submit():
        reviewer = db.session.get(User, int(form.reviewer.data))
        assert reviewer is not None  # it was one of the choices
        if commit_or_show(
            form.reviewer, assign, db.session, application, reviewer, current_user, utcnow()
        ):
            flash(f"{reviewer.name} will review {application.reference}.", "success")
            return redirect(url_for("staff.assignment_application", application_id=application.id))
    reviews = {
        review.reviewer_id: review for review, _user in application_reviews(db.session, application)
    }
    reviewers = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(User.id.in_([c.reviewer_id for c in conflicts]))
        )
    }
    return render_template(
        "staff/assignment/assignment_application.html",
        application=application,
        form=form,
        active=active,
        conflicts=[(c, reviewers[c.reviewer_id]) for c in conflicts],
        reviews=reviews,
        status_labels=REVIEW_STATUS_LABELS,
        nation=lambda value: _nation(application.round, value),
    )


@bp.post("/applications/<int:application_id>/reviewers/<int:reviewer_id>/remove")
@roles_required(*STAFF)
def assignment_unassign(application_id: int, reviewer_id: int) -> Response:
    application = _application_or_404(application_id)
    reviewer = db.session.get(User, reviewer_id)
    if reviewer is None or not ActionForm().validate_on_submit():
        abort(404 if reviewer is None else 400)
    try:
        unassign(db.session, application, reviewer, current_user, utcnow())
    except AssignmentError as error:
        db.session.rollback()
        flash(str(error), "warning")
    else:
        db.session.commit()
        flash(f"{reviewer.name} no longer reviews {application.reference}.", "success")
    return redirect(url_for("staff.assignment_application", application_id=application.id))


# Moderation ---------------------------------------------------------------------------------


@bp.get("/rounds/<int:round_id>/moderation")
@roles_required(*STAFF)
def moderation_queue_page(round_id: int) -> str:
    round_ = _round_or_404(round_id)
    return render_template(
        "staff/assignment/moderation.html",
        round=round_,
        items=moderation_queue(db.session, round_),
        criteria=BY_ID,
    )


def _moderation_page(application: Application, form: Any, feedback_form: Any) -> str:
    scores = submitted_scores(db.session, [application.id]).get(application.id, {})
    reviews = application_reviews(db.session, application)
    return render_template(
        "staff/assignment/moderation_application.html",
        application=application,
        form=form,
        feedback_form=feedback_form,
        reviews=reviews,
        submitted=sum(1 for review, _user in reviews if review.status == "submitted"),
        disagreements=disagreements(scores),
        moderations=moderations(db.session, application),
        rubric=rubric(application.round),
        criteria=BY_ID,
        status_labels=REVIEW_STATUS_LABELS,
    )


def _feedback_data(application: Application) -> dict[str, str]:
    shared = shareable_feedback(db.session, [application.id])[application.id]
    return {f"feedback_{c}": "\n\n".join(texts) for c, texts in shared.items()}


@bp.route("/applications/<int:application_id>/moderation", methods=["GET", "POST"])
@roles_required(*STAFF)
def moderation_application(application_id: int) -> str | Response:
    application = _application_or_404(application_id)
    form = ModerationForm()
    if form.validate_on_submit() and commit_or_show(
        form.reason,
        record_moderation,
        db.session,
        application,
        form.criterion.data,
        Decimal(form.score.data),
        form.reason.data,
        current_user,
        utcnow(),
    ):
        flash(f"Moderated score recorded for “{BY_ID[form.criterion.data].title}”.", "success")
        return redirect(url_for("staff.moderation_application", application_id=application.id))
    feedback_form = ApplicantFeedbackForm(formdata=None, data=_feedback_data(application))
    return _moderation_page(application, form, feedback_form)


@bp.post("/applications/<int:application_id>/moderation/feedback")
@roles_required(*STAFF)
def moderation_feedback(application_id: int) -> str | Response:
    """Moderation edits the feedback for the applicant: only criteria whose text changed are
    stored as moderation's version."""
    application = _application_or_404(application_id)
    feedback_form = ApplicantFeedbackForm()
    if feedback_form.validate_on_submit():
        before = _feedback_data(application)
        changed = {
            c: text
            for c, text in feedback_form.texts().items()
            if lines(text).strip() != before[f"feedback_{c}"].strip()
        }
        first = feedback_form[f"feedback_{RUBRIC[0].id}"]
        if commit_or_show(
            first, save_feedback_edits, db.session, application, changed, current_user, utcnow()
        ):
            flash("The feedback for the applicant is saved.", "success")
            return redirect(
                url_for("staff.moderation_application", application_id=application.id)
                + "#applicant-feedback"
            )
    return _moderation_page(application, ModerationForm(formdata=None), feedback_form)
