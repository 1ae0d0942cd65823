"""Staff views for rounds: the staff home (every round at a glance), a round's settings and its
quota table (entered in the form, or uploaded and downloaded as CSV). Staff and admins only."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ...access import roles_required
from ...extensions import db
from ...labels import QUOTA_COLUMN_LABELS
from ...models import Round, User
from .. import bp
from .forms import (
    QuotaUploadForm,
    RoundSettingsForm,
    reminder_days_of,
    settings_data,
    whole_number,
)
from .services import (
    MAX_QUOTA_ROWS,
    QUOTA_COLUMNS,
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
    save_quotas,
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
