"""Selection runs, the ranked shortlist, decisions and exports (staff), on the staff blueprint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ...access import roles_required
from ...audit import record
from ...errors import commit_or_message
from ...exports import csv_response, xlsx_response
from ...extensions import db
from ...labels import CONTACT_PREFERENCE_LABELS, LETTER_LABELS, MIX_LABELS, RUN_STATUS_LABELS
from ...models import Round, SelectionRun, User, utcnow
from ...urls import this_page, whole_number_or_none
from .. import bp
from ..rounds.letters import LetterTemplateError
from .anonymised import anonymised_sheets
from .current import change_log
from .decisions import (
    accept_replacement,
    confirm_run,
    override_effect,
    propose_replacement,
    record_override,
    selected_now,
)
from .engine_input import category_label
from .forms import ActionForm, OverrideForm, ReplacementForm, StartRunForm
from .outcomes import outcomes_queued, planned_letters, queue_outcome_messages
from .rationale import build_rationale, rationale_sheets
from .services import (
    RunError,
    compare_runs,
    new_seed,
    round_run_ids,
    round_runs,
    set_shared,
    start_run,
)
from .shortlist import (
    confirm_check,
    run_overrides,
    shortlist,
    shortlist_context,
    shortlist_query,
)

STAFF = ("staff", "admin")


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _run(run_id: int) -> SelectionRun:
    return db.get_or_404(SelectionRun, run_id)


def _finished_run(run_id: int) -> tuple[SelectionRun, Round]:
    """A run that finished with a result, and its round: 404 for any other run, whose result
    cannot be changed or explained."""
    run = _run(run_id)
    if run.status != "done":
        abort(404)
    return run, _round(run.round_id)


def _name(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else ""


def _application_url(application: Any) -> str:
    return url_for("staff.application", application_id=application.id)


def _int_arg(name: str) -> int | None:
    return whole_number_or_none(request.values.get(name))


def _runs_page(round_: Round, form: StartRunForm) -> str:
    """The round's runs, newest first, with the form to start one."""
    return render_template(
        "staff/runs/runs.html",
        round=round_,
        runs=round_runs(db.session, round_),
        status_labels=RUN_STATUS_LABELS,
        form=form,
    )


@bp.get("/rounds/<int:round_id>/runs")
@roles_required(*STAFF)
def runs(round_id: int) -> str:
    return _runs_page(_round(round_id), StartRunForm())


@bp.post("/rounds/<int:round_id>/runs")
@roles_required(*STAFF)
def start(round_id: int) -> str | Response | tuple[str, int]:
    round_ = _round(round_id)
    form = StartRunForm()
    if not form.validate_on_submit():
        return _runs_page(round_, form), 400
    seed = form.seed.data if form.seed.data is not None else new_seed()
    try:
        # The view commits twice on purpose: once so every other request sees this run's lock
        # while the engine works, and once with the finished run.
        run = start_run(
            db.session,
            round_,
            current_user,
            utcnow(),
            seed,
            reserves=form.reserves.data,
            hold_lock=db.session.commit,
        )
    except RunError as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("staff.runs", round_id=round_.id))
    db.session.commit()
    return redirect(url_for("staff.run", run_id=run.id))


@bp.get("/runs/<int:run_id>")
@roles_required(*STAFF)
def run(run_id: int) -> str:
    run = _run(run_id)
    round_ = _round(run.round_id)
    query = shortlist_query(request.args)
    context = shortlist_context(
        db.session, round_, run, **query, link=this_page, application_url=_application_url
    )
    overrides = run_overrides(db.session, run)
    return render_template(
        "staff/runs/run.html",
        status_labels=RUN_STATUS_LABELS,
        **context,
        overrides=overrides,
        changes=change_log(db.session, run),
        engine_total=(run.summary.get("engine") or {}).get("total_score"),
        other_runs=[i for i in round_run_ids(db.session, round_) if i != run.id],
        outcomes=outcomes_queued(db.session, run) if run.confirmed_at else 0,
        started_by=_name(run.created_by_id),
        confirmed_by=_name(run.confirmed_by_id),
        form=ActionForm(),
    )


@bp.get("/rounds/<int:round_id>/runs/compare")
@roles_required(*STAFF)
def compare(round_id: int) -> str:
    round_ = _round(round_id)
    first, second = _int_arg("a"), _int_arg("b")
    runs_ = {r.id: r for r in round_runs(db.session, round_)}
    if first not in runs_ or second not in runs_:
        abort(404)
    return render_template(
        "staff/runs/run_compare.html",
        round=round_,
        first=runs_[first],
        second=runs_[second],
        changes=compare_runs(db.session, runs_[first], runs_[second]),
    )


def _action(
    run_id: int, verb: Callable[[SelectionRun], Any], done: Callable[[Any], str]
) -> Response:
    """A button on the run page: check the token, call one service, commit, back to the run."""
    run = _run(run_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = verb(run)
    except RunError as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("staff.run", run_id=run.id))
    db.session.commit()
    flash(done(result), "success")
    return redirect(url_for("staff.run", run_id=run.id))


@bp.post("/runs/<int:run_id>/share")
@roles_required(*STAFF)
def share(run_id: int) -> Response:
    shared = request.form.get("shared") == "yes"
    return _action(
        run_id,
        lambda run: set_shared(db.session, run, shared, current_user),
        lambda _: (
            "The shortlist is shared with the panel."
            if shared
            else "The panel can no longer see the shortlist."
        ),
    )


@bp.route("/runs/<int:run_id>/confirm", methods=["GET", "POST"])
@roles_required(*STAFF)
def confirm(run_id: int) -> str | Response:
    """GET: the check page (counts by decision, changes so far, who is affected); POST: make
    the run the round's decision."""
    if request.method == "GET":
        run, round_ = _finished_run(run_id)
        return render_template(
            "staff/runs/run_confirm.html",
            **confirm_check(db.session, round_, run),
            form=ActionForm(),
        )
    return _action(
        run_id,
        lambda run: confirm_run(db.session, run, current_user, utcnow()),
        lambda _: "This run is now the round's decision.",
    )


@bp.route("/runs/<int:run_id>/outcomes", methods=["GET", "POST"])
@roles_required(*STAFF)
def outcomes(run_id: int) -> str | Response:
    """The check page before outcome letters are queued: how many of each, who is contacted how,
    a sample of each letter, and the button that queues exactly those."""
    run, round_ = _finished_run(run_id)
    back = url_for("staff.run", run_id=run.id)
    if run.confirmed_at is None:
        flash("Confirm the run as the decision before sending outcome letters.", "warning")
        return redirect(back)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        expected = whole_number_or_none(request.form.get("expected"))
        if expected is None:  # only the check page's button sends letters
            flash("Check the outcome letters before you send them.", "warning")
            return redirect(url_for("staff.outcomes", run_id=run.id))
        try:
            queued = queue_outcome_messages(
                db.session, run, current_user, utcnow(), expected=expected
            )
        except (RunError, LetterTemplateError) as error:
            db.session.rollback()
            flash(str(error), "warning")
            return redirect(url_for("staff.outcomes", run_id=run.id))
        db.session.commit()
        flash(
            f"{queued} outcome letters are queued for sending."
            if queued
            else "No new outcome letters: every applicant has the letter for their decision.",
            "success",
        )
        return redirect(back)
    try:
        plan = planned_letters(db.session, run)
        problem = None
    except LetterTemplateError as error:  # a saved template that no longer fits an application
        plan, problem = None, str(error)
    return render_template(
        "staff/runs/outcomes_check.html",
        run=run,
        round=round_,
        plan=plan,
        problem=problem,
        labels=LETTER_LABELS,
        contact_labels=CONTACT_PREFERENCE_LABELS,
        form=ActionForm(),
    )


def _selected_choices(run: SelectionRun) -> tuple[list[Any], list[Any]]:
    """(currently selected rows, eligible rows not selected), each best rank first."""
    rows = shortlist(db.session, run)
    chosen = selected_now(run, run_overrides(db.session, run))
    selected = [r for r in rows if r.application.id in chosen]
    others = [
        r for r in rows if r.application.id not in chosen and r.decision.decision != "ineligible"
    ]
    return selected, others


T = TypeVar("T")


def _preview(
    preview: Callable[..., T], run: SelectionRun, *args: int
) -> tuple[T | None, str | None]:
    """What a change to a finished run's decisions would do (nothing is written), or the
    message saying why it cannot be made."""
    try:
        return preview(db.session, run, *args), None
    except RunError as error:
        return None, str(error)


def _change_page(
    template: str,
    round_: Round,
    run: SelectionRun,
    form: FlaskForm,
    problem: str | None,
    **context: Any,
) -> tuple[str, int]:
    """A page that changes a finished run's decisions: 400 when a POST changed nothing."""
    status = 400 if request.method == "POST" else 200
    page = render_template(template, round=round_, run=run, form=form, problem=problem, **context)
    return page, status


@bp.route("/runs/<int:run_id>/override", methods=["GET", "POST"])
@roles_required(*STAFF)
def override(run_id: int) -> str | Response | tuple[str, int]:
    run, round_ = _finished_run(run_id)
    form = OverrideForm()
    remove, add = _int_arg("remove"), _int_arg("add")
    effect, problem = None, None
    if remove is not None and add is not None:
        effect, problem = _preview(override_effect, run, remove, add)
    if request.method == "POST" and effect is not None and form.validate_on_submit():
        problem = commit_or_message(
            record_override, db.session, run, remove, add, form.reason.data, current_user, utcnow()
        )
        if problem is None:
            flash("The change is recorded.", "success")
            return redirect(url_for("staff.run", run_id=run.id))
    selected, others = _selected_choices(run)
    return _change_page(
        "staff/runs/run_override.html",
        round_,
        run,
        form,
        problem,
        effect=effect,
        remove=remove,
        add=add,
        selected=selected,
        others=others,
        label=lambda dim, value: category_label(round_, dim, value or ""),
        dimension_labels=MIX_LABELS,
    )


@bp.route("/runs/<int:run_id>/replace", methods=["GET", "POST"])
@roles_required(*STAFF)
def replacement(run_id: int) -> str | Response | tuple[str, int]:
    run, round_ = _finished_run(run_id)
    form = ReplacementForm()
    withdrawn = _int_arg("withdrawn")
    proposal, problem = None, None
    if withdrawn is not None:
        proposal, problem = _preview(propose_replacement, run, withdrawn)
    if request.method == "POST" and proposal is not None and form.validate_on_submit():
        problem = commit_or_message(
            accept_replacement,
            db.session,
            run,
            proposal,
            _int_arg("replacement") or 0,
            form.note.data or "",
            current_user,
            utcnow(),
        )
        if problem is None:
            flash(
                f"{proposal.replacement_reference} replaces {proposal.withdrawn_reference}.",
                "success",
            )
            return redirect(url_for("staff.run", run_id=run.id))
    selected, _others = _selected_choices(run)
    return _change_page(
        "staff/runs/run_replace.html",
        round_,
        run,
        form,
        problem,
        proposal=proposal,
        withdrawn=withdrawn,
        selected=selected,
    )


def _rationale(run_id: int, file_format: str) -> tuple[dict[str, Any], str]:
    """The rationale's sheets and its file name (without extension): by round and run. The
    download is on the audit log, as it holds organisations' details: a POST with a CSRF token,
    so a link on another site cannot record one."""
    run, round_ = _finished_run(run_id)
    anonymised = request.args.get("anonymised") == "yes"
    if anonymised:
        sheets = anonymised_sheets(db.session, run, round_)
    else:
        sheets = rationale_sheets(build_rationale(db.session, run, round_))
    record(
        db.session,
        current_user,
        "export.downloaded",
        "run",
        run.id,
        round_.id,
        export="rationale",
        format=file_format,
        anonymised=anonymised,
    )
    db.session.commit()
    suffix = "-anonymised" if anonymised else ""
    return sheets, f"selection-rationale-{round_.slug}-run-{run.id}{suffix}"


@bp.post("/runs/<int:run_id>/rationale.csv")
@roles_required(*STAFF)
def rationale_csv(run_id: int) -> Response:
    sheets, name = _rationale(run_id, "csv")
    return csv_response(sheets["Decisions"], f"{name}.csv")


@bp.post("/runs/<int:run_id>/rationale.xlsx")
@roles_required(*STAFF)
def rationale_xlsx(run_id: int) -> Response:
    sheets, name = _rationale(run_id, "xlsx")
    # Dated by the run, not the download: the same run gives the same file, byte for byte.
    return xlsx_response(sheets, f"{name}.xlsx", created=_run(run_id).created_at)


@bp.get("/runs/<int:run_id>/rationale")
@roles_required(*STAFF)
def rationale_page(run_id: int) -> str:
    """The rationale as a page to print for board papers (A4): the same content as the XLSX."""
    run, round_ = _finished_run(run_id)
    return render_template(
        "staff/runs/rationale.html",
        round=round_,
        run=run,
        rationale=build_rationale(db.session, run, round_),
    )
