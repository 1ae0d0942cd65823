"""Staff views for rounds: the staff home (every round at a glance), a round's settings and its
quota table (entered in the form, or uploaded and downloaded as CSV). Staff and admins only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ...access import roles_required
from ...applications.rubric import RUBRIC, rubric
from ...applications.services import sent_applications
from ...errors import commit_or_message, commit_or_show
from ...extensions import db
from ...labels import LETTER_LABELS, QUOTA_COLUMN_LABELS
from ...models import Round, User
from ...urls import whole_number_or_none
from .. import bp
from ..runs.forms import ActionForm
from ..runs.outcomes import preview_letter
from .forms import (
    LetterForm,
    LetterSettingsForm,
    QuotaUploadForm,
    RoundSettingsForm,
    RubricForm,
    reminder_days_of,
    rubric_data,
    settings_data,
    whole_number,
)
from .letters import (
    LETTER_DECISIONS,
    LETTER_SETTING_LABELS,
    PLACEHOLDERS,
    LetterTemplate,
    LetterTemplateError,
    check_letter_template,
    letter_setting,
    letter_template,
    render_letter,
    reset_letter_template,
    sample_contexts,
    save_letter_settings,
    save_letter_template,
)
from .services import (
    MAX_QUOTA_ROWS,
    QUOTA_COLUMNS,
    RUBRIC_FROZEN,
    TEXT_KEYS,
    QuotaCheck,
    RoundSettings,
    cell_of,
    check_against_pool,
    check_quota_csv,
    check_quota_rows,
    describe_quota,
    dimension_choices,
    quota_categories,
    quotas_csv,
    round_summaries,
    round_weights,
    rubric_frozen,
    save_quotas,
    save_rubric,
    stored_quota_rows,
    update_round_settings,
)

STAFF = ("staff", "admin")
MAX_UPLOAD_BYTES = 100_000
BLANK_QUOTA_ROWS = 5


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


@bp.get("/")
@roles_required(*STAFF)
def home() -> str:
    return render_template("staff/rounds/home.html", summaries=round_summaries(db.session))


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
                reminder_days=reminder_days_of(form.reminder_days.data) or [],
                reviewing_days=whole_number(form.reviewing_days.data),
                welsh_offered="yes" in (form.welsh_offered.data or []),
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
        column_labels=QUOTA_COLUMN_LABELS,
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


def _save_or_show(
    round_: Round,
    check: QuotaCheck,
    rows: list[dict[str, str]],
    source: str,
    saved: str,
    upload_form: QuotaUploadForm | None = None,
) -> str | Response:
    """Save a checked quota table (from the form or an upload: `source`) and go back to the
    quotas page saying `saved`; or, if it has problems, show them with `rows` to correct."""
    if check.problems:
        return _render_quotas(round_, rows, check, upload_form=upload_form)
    save_quotas(round_, check, _me(), source)
    db.session.commit()
    flash(saved, "success")
    return redirect(url_for("staff.quotas", round_id=round_.id))


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
    return _save_or_show(round_, check, rows, "form", "The quota table is saved.")


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
    # With problems, the file's rows go into the form to correct there; the saved table is
    # unchanged.
    rows = check.rows or stored
    saved = "The quota table is uploaded and saved."
    return _save_or_show(round_, check, rows, "upload", saved, upload_form=form)


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


# --- Outcome letters ------------------------------------------------------------------------


def _letters_page(round_: Round, form: LetterSettingsForm) -> str:
    return render_template(
        "staff/rounds/letters.html",
        round=round_,
        form=form,
        decisions=[(d, LETTER_LABELS[d]) for d in LETTER_DECISIONS],
        placeholders=PLACEHOLDERS,
    )


@bp.route("/rounds/<int:round_id>/letters", methods=["GET", "POST"])
@roles_required(*STAFF)
def outcome_letters(round_id: int) -> str | Response:
    round_ = _round(round_id)
    form = (
        LetterSettingsForm()
        if request.method == "POST"
        else LetterSettingsForm(
            data={key: letter_setting(round_, key) for key in LETTER_SETTING_LABELS}
        )
    )
    if form.validate_on_submit() and commit_or_show(
        form.centre_contact_name, save_letter_settings, db.session, round_, form.values(), _me()
    ):
        flash("The letters' settings are saved.", "success")
        return redirect(url_for("staff.outcome_letters", round_id=round_.id))
    return _letters_page(round_, form)


def _preview_choices(round_: Round) -> list[tuple[str, str]]:
    return [
        (str(a.id), f"{a.reference}: {a.organisation_name or 'No organisation name'}")
        for a in sent_applications(db.session, round_)
    ]


@bp.route("/rounds/<int:round_id>/letters/<decision>", methods=["GET", "POST"])
@roles_required(*STAFF)
def outcome_letter(round_id: int, decision: str) -> str | Response:
    round_ = _round(round_id)
    if decision not in LETTER_DECISIONS:
        abort(404)
    here = url_for("staff.outcome_letter", round_id=round_.id, decision=decision)
    saved = letter_template(round_, decision)
    if request.method == "POST":
        form = LetterForm()
    else:
        form = LetterForm(data={"subject": saved.subject, "body": saved.body})
        form.application.data = request.args.get("application", "")
    choices = _preview_choices(round_)
    form.application.choices = [("", "Choose an application"), *choices]
    action = request.form.get("action", "preview")
    if request.method == "POST" and action == "reset" and ActionForm().validate_on_submit():
        reset_letter_template(db.session, round_, decision, _me())
        db.session.commit()
        flash(f"The {LETTER_LABELS[decision].lower()} letter is back to the default.", "success")
        return redirect(here)
    preview: tuple[str, str] | None = None
    if form.validate_on_submit():
        template = LetterTemplate(form.subject.data, form.body.data)
        if action == "save":
            message = commit_or_message(
                save_letter_template, db.session, round_, decision, template, _me()
            )
            if message is None:
                flash(f"The {LETTER_LABELS[decision].lower()} letter is saved.", "success")
                return redirect(here)
            _letter_error(form, message)
        else:
            preview = _preview(round_, decision, template, form)
    elif request.method == "GET":
        preview = _preview(round_, decision, saved, form)
    return render_template(
        "staff/rounds/letter.html",
        round=round_,
        decision=decision,
        label=LETTER_LABELS[decision],
        form=form,
        preview=preview,
        previewing=request.method == "POST",
        placeholders=PLACEHOLDERS,
        has_choices=bool(choices),
    )


def _letter_error(form: LetterForm, message: str) -> None:
    field = form.subject if message.startswith("The subject") else form.body
    field.errors = [*field.errors, message]


def _preview(
    round_: Round, decision: str, template: LetterTemplate, form: LetterForm
) -> tuple[str, str] | None:
    """The letter for the chosen application (or the first), or None with the error shown."""
    chosen = whole_number_or_none(form.application.data)
    applications = sent_applications(db.session, round_)
    application = next((a for a in applications if a.id == chosen), None)
    if application is None and applications:
        application = applications[0]
        form.application.data = str(application.id)
    try:
        if application is None:
            check_letter_template(round_, decision, template)
            return render_letter(template, sample_contexts(round_, decision)[0])
        return preview_letter(db.session, round_, application, decision, template)
    except LetterTemplateError as error:
        _letter_error(form, str(error))
        return None


# --- The rubric -----------------------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/rubric", methods=["GET", "POST"])
@roles_required(*STAFF)
def rubric_page(round_id: int) -> str | Response:
    round_ = _round(round_id)
    frozen = rubric_frozen(db.session, round_)
    form = RubricForm() if request.method == "POST" else RubricForm(data=rubric_data(round_))
    if frozen and request.method == "POST":
        flash(RUBRIC_FROZEN, "warning")
        return redirect(url_for("staff.rubric_page", round_id=round_.id))
    first = f"{RUBRIC[0].id}_looks_for"
    if form.validate_on_submit() and commit_or_show(
        form[first], save_rubric, db.session, round_, form.words(), _me()
    ):
        flash("The rubric is saved.", "success")
        return redirect(url_for("staff.rubric_page", round_id=round_.id))
    return render_template(
        "staff/rounds/rubric.html",
        round=round_,
        form=form,
        rubric=rubric(round_),
        frozen=frozen,
        frozen_message=RUBRIC_FROZEN,
    )
