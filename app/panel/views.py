"""Panel views: a reviewer's assigned applications, conflicts of interest and the review form.

Every application URL answers 404 unless the application is assigned to the signed-in reviewer
and they have not declared a conflict with it, so guessing ids reveals nothing.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..access import roles_required
from ..applications.answers import AnswerRow, answer_rows
from ..applications.rubric import Criterion, rubric
from ..errors import commit_or_show
from ..extensions import db
from ..labels import REVIEW_STATUS_LABELS
from ..models import Application, utcnow
from . import bp
from .forms import ConflictForm, ReviewForm, review_form_data
from .services import (
    IncompleteReview,
    ReviewError,
    ReviewingClosed,
    application_for_reviewer,
    assigned_applications,
    declare_conflict,
    review_of,
    reviewing_open,
    save_review,
    worklist,
)

# Reviewers judge the proposal; they do not need the contact person's details.
HIDDEN_SECTIONS = {"contact"}


def answer_blocks(
    rows: list[tuple[Any, list[AnswerRow]]], criteria: tuple[Criterion, ...]
) -> tuple[list[tuple[Any, list[tuple[str, Any, Any]]]], list[Criterion]]:
    """The application's answers for the review page, section by section: runs of answers
    ("answers", rows, None), and each answer a criterion of the round's rubric scores ("scored",
    row, criterion), so the page can place the score beside it. Also the criteria whose answer
    is not shown."""
    by_id = {criterion.id: criterion for criterion in criteria}
    placed: set[str] = set()
    blocks = []
    for section, section_rows in rows:
        parts: list[tuple[str, Any, Any]] = []
        for row in section_rows:
            criterion = by_id.get(row.question.id)
            if criterion is not None and criterion.id not in placed:
                placed.add(criterion.id)
                parts.append(("scored", row, criterion))
            elif parts and parts[-1][0] == "answers":
                parts[-1][1].append(row)
            else:
                parts.append(("answers", [row], None))
        blocks.append((section, parts))
    return blocks, [c for c in criteria if c.id not in placed]


def _visible_or_404(application_id: int) -> Application:
    application = application_for_reviewer(db.session, current_user, application_id)
    if application is None:
        abort(404)
    return application


WORKLIST_FILTERS = {"": "All your applications", "to-do": "To do", "submitted": "Submitted"}


@bp.get("/")
@roles_required("reviewer", "staff", "admin")
def home() -> str:
    """The reviewer's worklist, round by round: what is left to do first, then what is done."""
    shown = request.args.get("status", "")
    if shown not in WORKLIST_FILTERS:
        shown = ""
    return render_template(
        "panel/home.html",
        rounds=worklist(assigned_applications(db.session, current_user), utcnow()),
        shown=shown,
        filters=WORKLIST_FILTERS,
    )


@bp.route("/applications/<int:application_id>/conflict", methods=["GET", "POST"])
@roles_required("reviewer")
def conflict(application_id: int) -> str | Response:
    application = _visible_or_404(application_id)
    form = ConflictForm()
    if form.validate_on_submit() and commit_or_show(
        form.note, declare_conflict, db.session, application, current_user, form.note.data, utcnow()
    ):
        flash(
            f"You declared a conflict of interest with {application.reference}. It is no "
            "longer in your list, and staff will ask someone else to review it.",
            "success",
        )
        return redirect(url_for("panel.home"))
    return render_template("panel/conflict.html", application=application, form=form)


@bp.route("/applications/<int:application_id>/review", methods=["GET", "POST"])
@roles_required("reviewer")
def review(application_id: int) -> str | Response:
    application = _visible_or_404(application_id)
    here = url_for("panel.review", application_id=application.id)
    is_open = reviewing_open(application.round)
    if request.method == "POST" and not is_open:
        flash(str(ReviewingClosed()), "warning")
        return redirect(here)
    saved = review_of(db.session, application.id, current_user.id)
    form = ReviewForm(data=review_form_data(saved))
    if form.validate_on_submit():
        submit = request.form.get("action") == "submit"
        try:
            result = save_review(
                db.session,
                application,
                current_user,
                scores=form.scores(),
                comments=form.comments(),
                feedback=form.feedback(),
                overall_comment=form.overall_comment.data or "",
                submit=submit,
                now=utcnow(),
            )
        except IncompleteReview as error:
            db.session.rollback()
            titles = {c.id: c.title for c in rubric(application.round)}
            for criterion_id in error.missing:
                form[f"{criterion_id}_score"].errors.append(
                    f"Select a score for “{titles[criterion_id]}” to submit your review"
                )
        except ReviewError as error:  # reviewing closed, or saved from another tab meanwhile
            db.session.rollback()
            flash(str(error), "warning")
            return redirect(here)
        else:
            db.session.commit()
            if result.status == "submitted":
                flash(f"Your review of {application.reference} has been submitted.", "success")
                return redirect(url_for("panel.home"))
            flash("Your draft has been saved. You can come back and finish it later.", "success")
            return redirect(here)
    rows = [
        (section, section_rows)
        for section, section_rows in answer_rows(application.round, application.answers)
        if section.id not in HIDDEN_SECTIONS
    ]
    criteria = rubric(application.round)
    blocks, unplaced = answer_blocks(rows, criteria)
    return render_template(
        "panel/review.html",
        application=application,
        rows=rows,
        blocks=blocks,
        unplaced=unplaced,
        form=form,
        review=saved,
        status=saved.status if saved else "not-started",
        status_labels=REVIEW_STATUS_LABELS,
        is_open=is_open,
        rubric=criteria,
    )
