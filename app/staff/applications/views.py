"""Staff views: rounds, the applications list and page, screening, withdrawal, merging, assisted
applications and round settings. Every route admits staff and admins only."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ...access import roles_required
from ...apply.forms import page_form_class
from ...apply.questions import PAGES, SECTIONS, applicable_pages
from ...apply.services import (
    NoLongerADraft,
    NotReady,
    RoundClosed,
    answer_rows,
    missing_pages,
    page_complete,
    save_page,
    submit_application,
)
from ...extensions import db
from ...models import Application, Round, User, utcnow
from ...rounds import word_limit
from .. import bp
from .forms import (
    CRITERION_LABELS,
    AssistedStartForm,
    MergeForm,
    QuotaUploadForm,
    RoundSettingsForm,
    ScreeningForm,
    SendForm,
    WithdrawForm,
    settings_data,
)
from .services import (
    CHANNEL_LABELS,
    MAX_QUOTA_ROWS,
    QUOTA_COLUMNS,
    SCREENING_LABELS,
    SCREENING_REASONS,
    SORTS,
    STATUS_LABELS,
    TEXT_KEYS,
    QuotaCheck,
    RoundSettings,
    StaffError,
    cell_of,
    check_against_pool,
    check_quota_csv,
    check_quota_rows,
    describe_quota,
    dimension_choices,
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
    quota_categories,
    quotas_csv,
    record_page_entered,
    record_sent_by_staff,
    round_summaries,
    round_weights,
    save_quotas,
    screen_application,
    start_assisted_application,
    stored_quota_rows,
    submitted_reviews,
    update_round_settings,
    withdraw_application,
)

STAFF = ("staff", "admin")
MAX_UPLOAD_BYTES = 100_000
BLANK_QUOTA_ROWS = 5
LABELS = {
    "status": STATUS_LABELS,
    "screening": SCREENING_LABELS,
    "channel": CHANNEL_LABELS,
    "reasons": SCREENING_REASONS,
    "criteria": CRITERION_LABELS,
}


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _application(application_id: int) -> Application:
    return db.get_or_404(Application, application_id)


@bp.get("/")
@roles_required(*STAFF)
def home() -> str:
    return render_template("staff/rounds/home.html", summaries=round_summaries(db.session))


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
        sorts=SORTS,
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
            try:
                merge_applications(db.session, keep, duplicate, _me(), utcnow())
            except StaffError as error:
                db.session.rollback()
                form.reference.errors.append(str(error))
            else:
                db.session.commit()
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
    if form.validate_on_submit():
        try:
            app_ = start_assisted_application(
                db.session, round_, form.channel.data, _me(), utcnow()
            )
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
        is_open=round_.is_open(utcnow()),
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
    flash(
        f"Sent. The reference is {app_.reference}; a confirmation email is on its way to the "
        "contact.",
        "success",
    )
    return redirect(url_for("staff.application", application_id=app_.id))


# --- Round settings and quotas --------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/settings", methods=["GET", "POST"])
@roles_required(*STAFF)
def settings(round_id: int) -> str | Response:
    round_ = _round(round_id)
    form = (
        RoundSettingsForm()
        if request.method == "POST"
        else RoundSettingsForm(data=settings_data(round_))
    )
    if form.validate_on_submit():
        band = form.lottery_band.data
        update_round_settings(
            db.session,
            round_,
            RoundSettings(
                title=form.title.data,
                texts=form.texts(),
                opens_at=form.opens_at(),  # type: ignore[arg-type]
                closes_at=form.closes_at(),  # type: ignore[arg-type]
                sites_wanted=int(form.sites_wanted.data),
                weights=form.weights(),
                reviews_required=int(form.reviews_required.data),
                lottery_band=float(band) if band else None,
            ),
            _me(),
        )
        db.session.commit()
        flash("The round's settings are saved.", "success")
        return redirect(url_for("staff.settings", round_id=round_.id))
    return render_template(
        "staff/rounds/settings.html",
        form=form,
        round=round_,
        text_keys=TEXT_KEYS,
        criteria=list(round_weights(round_)),
        quotas=describe_quota(round_, round_.quotas or []),
    )


def _posted_quota_rows() -> list[dict[str, str]]:
    rows = []
    for i in range(MAX_QUOTA_ROWS):
        if not any(f"{c}-{i}" in request.form for c in QUOTA_COLUMNS):
            break
        rows.append({c: request.form.get(f"{c}-{i}", "")[:100] for c in QUOTA_COLUMNS})
    return rows


def _render_quotas(
    round_: Round,
    rows: list[dict[str, str]],
    check: QuotaCheck | None = None,
    upload_error: str | None = None,
    upload_form: QuotaUploadForm | None = None,
) -> str:
    blank = dict.fromkeys(QUOTA_COLUMNS, "")
    shown = [*rows, *([blank] * BLANK_QUOTA_ROWS)][:MAX_QUOTA_ROWS]
    cells = check.cell_errors() if check else {}
    links = []
    for problem in check.problems if check else []:
        cell = cell_of(problem)
        shown_row = cell is not None and 2 <= cell[0] <= len(shown) + 1
        links.append((f"#q{cell[0]}-{cell[1]}" if cell and shown_row else "", problem))
    return render_template(
        "staff/rounds/quotas.html",
        round=round_,
        rows=shown,
        problem_links=links,
        cell_errors=cells,
        notes=check.notes if check else [],
        upload_error=upload_error,
        upload_form=upload_form or QuotaUploadForm(),
        dimensions=dimension_choices(),
        categories={d: quota_categories(round_, d) for d, _ in dimension_choices()},
        pool=check_against_pool(db.session, round_),
        stored=describe_quota(round_, round_.quotas or []),
    )


@bp.route("/rounds/<int:round_id>/quotas", methods=["GET", "POST"])
@roles_required(*STAFF)
def quotas(round_id: int) -> str | Response:
    round_ = _round(round_id)
    if request.method == "GET":
        return _render_quotas(round_, stored_quota_rows(round_))
    rows = _posted_quota_rows()
    if request.form.get("action") == "add":
        return _render_quotas(round_, rows)
    check = check_quota_rows(round_, rows)
    if check.problems:
        return _render_quotas(round_, rows, check)
    save_quotas(round_, check, _me(), "form")
    db.session.commit()
    flash("The quota table is saved.", "success")
    return redirect(url_for("staff.quotas", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/quotas/upload")
@roles_required(*STAFF)
def quotas_upload(round_id: int) -> str | Response:
    round_ = _round(round_id)
    form = QuotaUploadForm()
    stored = stored_quota_rows(round_)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_quotas(round_, stored, upload_error="Select a CSV file", upload_form=form)
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        error = f"The file must be smaller than {MAX_UPLOAD_BYTES // 1000} KB"
        return _render_quotas(round_, stored, upload_error=error, upload_form=form)
    if not data.strip():
        return _render_quotas(
            round_, stored, upload_error="The selected file is empty", upload_form=form
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = ""
    if not text or "\x00" in text:
        error = (
            "The selected file must be a CSV file: in your spreadsheet, save it as "
            "‘CSV UTF-8’ and upload it again"
        )
        return _render_quotas(round_, stored, upload_error=error, upload_form=form)
    check = check_quota_csv(round_, text)
    if check.problems:
        # The file's rows go into the form to correct there; the saved table is unchanged.
        return _render_quotas(round_, check.rows or stored, check, upload_form=form)
    save_quotas(round_, check, _me(), "upload")
    db.session.commit()
    flash("The quota table is uploaded and saved.", "success")
    return redirect(url_for("staff.quotas", round_id=round_.id))


@bp.get("/rounds/<int:round_id>/quotas.csv")
@roles_required(*STAFF)
def quotas_download(round_id: int) -> Response:
    round_ = _round(round_id)
    return Response(
        quotas_csv(round_),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="quotas-{round_.slug}.csv"',
        },
    )
