"""Staff views for applications: the list and one application's page, screening, withdrawal,
merging, staff entry (an application received by phone, post or email), data protection (subject
access, erasure) and the round's applications as CSV or XLSX. Staff and admins only (erasure:
admins)."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ...access import roles_required
from ...applications.answers import answer_rows, missing_pages, page_complete
from ...applications.channels import channel_for
from ...applications.forms import page_form_class
from ...applications.questions import PAGES, SECTIONS, applicable_pages
from ...applications.services import (
    NoLongerADraft,
    NotReady,
    RoundClosed,
    save_page,
    submit_application,
)
from ...audit import record
from ...data_protection import DataProtectionError, erase_application, subject_access_record
from ...errors import commit_or_show
from ...exports import csv_stream_response, safe_filename, xlsx_response
from ...extensions import db
from ...labels import (
    CHANNEL_LABELS,
    CO_PRODUCTION_LABELS,
    CRITERION_LABELS,
    LANGUAGE_LABELS,
    SCREENING_LABELS,
    SCREENING_REASONS,
    SORT_LABELS,
    STATUS_LABELS,
)
from ...models import Application, Round, User, utcnow
from ...outbox import remove_file_copies
from ...rounds import closing_day, format_day, word_limit
from .. import bp
from ..runs.shortlist import application_decisions
from .exports import export_frame, export_frames
from .forms import (
    AssistedStartForm,
    EraseForm,
    MergeForm,
    ScreeningForm,
    SendForm,
    WithdrawForm,
)
from .services import (
    ReceivedDateError,
    StaffError,
    filter_choices,
    find_in_round,
    flags,
    history,
    list_applications,
    merge_applications,
    mix_labels,
    moderations,
    parse_filters,
    possible_duplicates,
    record_page_entered,
    record_sent_by_staff,
    screen_application,
    start_assisted_application,
    submitted_reviews,
    withdraw_application,
)

STAFF = ("staff", "admin")
LABELS = {
    "status": STATUS_LABELS,
    "screening": SCREENING_LABELS,
    "channel": CHANNEL_LABELS,
    "language": LANGUAGE_LABELS,
    "reasons": SCREENING_REASONS,
    "criteria": CRITERION_LABELS,
}


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _application(application_id: int) -> Application:
    return db.get_or_404(Application, application_id)


# --- The applications list and page ---------------------------------------------------------


@bp.get("/rounds/<int:round_id>/applications")
@roles_required(*STAFF)
def applications(round_id: int) -> str:
    round_ = _round(round_id)
    filters = parse_filters(round_, request.args)
    found = list_applications(db.session, round_, filters)

    def page_url(page: int) -> str:
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return url_for("staff.applications", round_id=round_.id, page=page, **args)

    return render_template(
        "staff/applications/applications.html",
        round=round_,
        filters=filters,
        choices=filter_choices(round_),
        found=found,
        mix={a.id: mix_labels(round_, a) for a in found.rows},
        labels=LABELS,
        sorts=SORT_LABELS,
        page_url=page_url,
        filtered=any(
            getattr(filters, name)
            for name in (
                "status",
                "screening",
                "nation",
                "region",
                "area_type",
                "size_band",
                "led_by",
                "topic",
                "co_production",
                "q",
            )
        ),
    )


@bp.get("/applications/<int:application_id>")
@roles_required(*STAFF)
def application(application_id: int) -> str:
    app_ = _application(application_id)
    reviews = submitted_reviews(db.session, app_)
    merged_into = db.session.get(Application, app_.merged_into_id) if app_.merged_into_id else None
    entered_by = db.session.get(User, app_.entered_by_id) if app_.entered_by_id else None
    return render_template(
        "staff/applications/application.html",
        application=app_,
        round=app_.round,
        rows=answer_rows(app_.round, app_.answers),
        mix=mix_labels(app_.round, app_),
        history=history(db.session, app_),
        reviews=reviews,
        moderations=moderations(db.session, app_),
        flags=flags(db.session, app_, reviews),
        merged_into=merged_into,
        entered_by=entered_by,
        labels=LABELS,
        # Asked among the eligibility questions online; staff entry does not ask it.
        co_production=CO_PRODUCTION_LABELS.get(
            str((app_.eligibility or {}).get("co_production")), "Not asked"
        ),
        decisions=application_decisions(db.session, app_),
    )


# --- Screening, withdrawal and merging ------------------------------------------------------


@bp.route("/applications/<int:application_id>/screening", methods=["GET", "POST"])
@roles_required(*STAFF)
def screening(application_id: int) -> str | Response:
    app_ = _application(application_id)
    if app_.status != "submitted":
        flash("Only a sent application can be screened.", "warning")
        return redirect(url_for("staff.application", application_id=app_.id))
    if request.method == "POST":
        form = ScreeningForm()
    else:
        form = ScreeningForm(
            data={
                "decision": app_.screening if app_.screening != "unscreened" else None,
                "reason": app_.screening_reason,
                "note": app_.screening_note or "",
            }
        )
    if form.validate_on_submit():
        screen_application(
            db.session,
            app_,
            form.decision.data,
            form.reason.data if form.decision.data == "ineligible" else None,
            form.note.data or "",
            _me(),
            utcnow(),
        )
        db.session.commit()
        flash(
            f"{app_.reference} is now marked {SCREENING_LABELS[app_.screening].lower()}.", "success"
        )
        return redirect(url_for("staff.application", application_id=app_.id))
    return render_template("staff/applications/screening.html", form=form, application=app_)


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
@roles_required(*STAFF)
def withdraw(application_id: int) -> str | Response:
    app_ = _application(application_id)
    if app_.status not in ("draft", "submitted"):
        flash("This application cannot be withdrawn.", "warning")
        return redirect(url_for("staff.application", application_id=app_.id))
    form = WithdrawForm()
    if form.validate_on_submit():
        withdraw_application(db.session, app_, form.reason.data, _me(), utcnow())
        db.session.commit()
        flash(f"{app_.reference or 'The draft'} has been withdrawn.", "success")
        return redirect(url_for("staff.application", application_id=app_.id))
    return render_template("staff/applications/withdraw.html", form=form, application=app_)


@bp.route("/applications/<int:application_id>/merge", methods=["GET", "POST"])
@roles_required(*STAFF)
def merge(application_id: int) -> str | Response:
    app_ = _application(application_id)
    if app_.status != "submitted":
        flash("Only a sent application can be merged.", "warning")
        return redirect(url_for("staff.application", application_id=app_.id))
    form = MergeForm()
    if form.validate_on_submit():
        other = find_in_round(db.session, app_.round, form.reference.data)
        if other is None:
            form.reference.errors.append(
                "There is no application with this reference in this round"
            )
        else:
            keep, duplicate = (app_, other) if form.keep.data == "this" else (other, app_)
            if commit_or_show(
                form.reference, merge_applications, db.session, keep, duplicate, _me(), utcnow()
            ):
                flash(f"{duplicate.reference} is merged into {keep.reference}.", "success")
                return redirect(url_for("staff.application", application_id=keep.id))
    return render_template(
        "staff/applications/merge.html",
        form=form,
        application=app_,
        duplicates=possible_duplicates(db.session, app_),
    )


# --- Assisted applications ------------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/assisted", methods=["GET", "POST"])
@roles_required(*STAFF)
def assisted_start(round_id: int) -> str | Response:
    round_ = _round(round_id)
    form = AssistedStartForm()
    message = None
    now = utcnow()
    if form.validate_on_submit():
        try:
            app_ = start_assisted_application(
                db.session, round_, form.channel.data, form.received_date, _me(), utcnow()
            )
        except ReceivedDateError as error:
            db.session.rollback()
            form.received_on.errors.append(str(error))
        except StaffError as error:
            db.session.rollback()
            message = str(error)
        else:
            db.session.commit()
            return redirect(url_for("staff.assisted", application_id=app_.id))
    return render_template(
        "staff/applications/assisted_start.html",
        form=form,
        round=round_,
        message=message,
        has_opened=now >= round_.opens_at,
        closed=round_.has_closed(now),
        closing=format_day(closing_day(round_)),
    )


def _assisted_draft(application_id: int) -> Application | None:
    app_ = _application(application_id)
    if app_.entered_by_id is None or app_.status != "draft":
        return None
    return app_


@bp.get("/applications/<int:application_id>/enter")
@roles_required(*STAFF)
def assisted(application_id: int) -> str | Response:
    app_ = _assisted_draft(application_id)
    if app_ is None:
        return redirect(url_for("staff.application", application_id=application_id))
    return _render_assisted(app_, [], [])


def _render_assisted(app_: Application, missing: list[Any], messages: list[str]) -> str:
    answers = app_.answers
    sections = [
        (
            section,
            [(page, page_complete(page, answers)) for page in applicable_pages(section, answers)],
        )
        for section in SECTIONS
    ]
    return render_template(
        "staff/applications/assisted.html",
        application=app_,
        round=app_.round,
        sections=sections,
        complete=not missing_pages(answers),
        missing=missing,
        messages=messages,
        form=SendForm(),
        labels=LABELS,
    )


@bp.route("/applications/<int:application_id>/enter/<page_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def assisted_page(application_id: int, page_id: str) -> str | Response:
    page = PAGES.get(page_id)
    if page is None:
        abort(404)
    app_ = _assisted_draft(application_id)
    if app_ is None:
        return redirect(url_for("staff.application", application_id=application_id))
    answers = app_.answers
    if not page.applies(answers):
        return redirect(url_for("staff.assisted", application_id=app_.id))
    form_class = page_form_class(page, app_.round, first_save=False)
    messages: list[str] = []
    if request.method == "POST":
        form = form_class()
        if form.validate():
            now = utcnow()
            try:
                save_page(db.session, app_, page.id, form.answers(), now)
                record_page_entered(db.session, app_, page.id, _me(), now)
            except RoundClosed:
                db.session.rollback()
                messages.append("This round is closed, so answers can no longer be changed.")
            except NoLongerADraft as changed:
                db.session.rollback()
                flash(
                    f"Not saved: while you were entering it the application became "
                    f"{STATUS_LABELS.get(changed.status, changed.status).lower()}.",
                    "info",
                )
                return redirect(url_for("staff.application", application_id=app_.id))
            else:
                db.session.commit()
                flash(f"Saved “{page.title}”.", "success")
                return redirect(url_for("staff.assisted", application_id=app_.id))
    else:
        form = form_class(data=answers.get(page.id, {}))
    return render_template(
        "staff/applications/assisted_page.html",
        form=form,
        page=page,
        application=app_,
        messages=messages,
        word_limit=word_limit(app_.round),
    )


@bp.post("/applications/<int:application_id>/send")
@roles_required(*STAFF)
def assisted_send(application_id: int) -> str | Response:
    app_ = _assisted_draft(application_id)
    if app_ is None:
        return redirect(url_for("staff.application", application_id=application_id))
    now = utcnow()
    try:
        submit_application(db.session, app_, now)
        record_sent_by_staff(db.session, app_, _me(), now)
    except NotReady as not_ready:
        db.session.rollback()
        return _render_assisted(app_, not_ready.pages, [])
    except RoundClosed:
        db.session.rollback()
        return _render_assisted(
            app_, [], ["This round is closed, so the application cannot be sent."]
        )
    db.session.commit()
    if channel_for(app_) == "post":
        sent = "a confirmation letter with a copy of the answers is in Letters to post."
    else:
        sent = "a confirmation email is on its way to the contact."
    flash(f"Sent. The reference is {app_.reference}; {sent}", "success")
    return redirect(url_for("staff.application", application_id=app_.id))


# --- Data protection: subject access and erasure -------------------------------------------


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


# --- Exports of a round's applications -----------------------------------------------------


def _logged_round(round_id: int, file_format: str) -> Round:
    """The round, with the download of its applications put on the audit log (the file holds
    every answer and contact detail), committed before the file is built."""
    round_ = db.get_or_404(Round, round_id)
    record(
        db.session,
        current_user,
        "export.downloaded",
        "round",
        round_.id,
        round_.id,
        export="applications",
        format=file_format,
    )
    db.session.commit()
    # Loaded again now: the streamed CSV reads the round after this request's session has ended.
    db.session.refresh(round_)
    return round_


@bp.post("/rounds/<int:round_id>/applications.csv")
@roles_required(*STAFF)
def applications_csv(round_id: int) -> Response:
    round_ = _logged_round(round_id, "csv")
    return csv_stream_response(export_frames(db.session, round_), f"applications-{round_.slug}.csv")


@bp.post("/rounds/<int:round_id>/applications.xlsx")
@roles_required(*STAFF)
def applications_xlsx(round_id: int) -> Response:
    round_ = _logged_round(round_id, "xlsx")
    return xlsx_response(
        {"Applications": export_frame(db.session, round_)},
        f"applications-{round_.slug}.xlsx",
        created=utcnow(),
    )
