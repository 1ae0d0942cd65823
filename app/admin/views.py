"""Admin pages: the users (list, invite, change a role or suspend) and the audit log (the filtered
list, newest first, and its CSV and XLSX exports). Admins only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..access import roles_required
from ..audit import ACTIONS, RECORD_TYPES, record
from ..auth.services import invite_user
from ..errors import commit_or_show
from ..exports import csv_stream_response, xlsx_response
from ..extensions import db
from ..labels import ROLE_LABELS
from ..models import AuditEvent, Round, User, utcnow
from ..rounds import LONDON
from ..urls import external_url
from . import bp
from .forms import AuditFilterForm, InviteForm, RoleForm
from .services import (
    AuditFilters,
    AuditRow,
    actor_choices,
    change_role,
    export_frame,
    export_frames,
    list_events,
)

FILTER_ARGS = ("action", "actor", "record_type", "date_from", "date_to")


def _record_url(event: AuditEvent) -> str | None:
    """Where the changed record can be seen, if it has a page."""
    if event.record_id is None:
        return None
    if event.record_type == "application":
        return url_for("staff.application", application_id=event.record_id)
    if event.record_type == "run":
        return url_for("staff.run", run_id=event.record_id)
    if event.record_type == "round":
        return url_for("staff.settings", round_id=event.record_id)
    if event.record_type == "user":
        return url_for("admin.edit_user", user_id=event.record_id)
    return None


def _filter_args() -> dict[str, str]:
    return {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}


def _filters() -> tuple[AuditFilterForm, AuditFilters | None, list[tuple[str, str]]]:
    """The form, the filters (None while a date is wrong) and the actor choices."""
    form = AuditFilterForm(formdata=request.args)
    actors = actor_choices(db.session)
    if not form.validate():
        return form, None, actors
    return form, form.filters(dict(actors), request.args), actors


@bp.get("/admin/audit")
@roles_required("admin")
def audit_log() -> tuple[str, int]:
    form, filters, actors = _filters()
    found = list_events(db.session, filters) if filters is not None else None
    args = _filter_args()

    def page_url(page: int) -> str:
        return url_for("admin.audit_log", page=page, **args)

    rows: list[AuditRow] = found.rows if found else []
    rounds = {r.id: r.title for r in db.session.scalars(select(Round))}
    return render_template(
        "admin/audit.html",
        form=form,
        found=found,
        filters=filters,
        choices={
            "action": list(ACTIONS.items()),
            "actor": actors,
            "record_type": list(RECORD_TYPES.items()),
        },
        links={row.event.id: _record_url(row.event) for row in rows},
        rounds=rounds,
        page_url=page_url,
        export_args=args,
    ), 200 if filters is not None else 400


def _export(file_format: str) -> tuple[AuditFilters | None, str]:
    """The filters of an export (in the query string of the button's form), with the export
    itself put on the log, and the file name. A POST with a CSRF token, so a link on another
    site cannot put an export on the log."""
    _form, filters, _actors = _filters()
    if filters is not None:
        record(
            db.session,
            current_user,
            "export.downloaded",
            "audit_log",
            None,
            export="audit_log",
            format=file_format,
            **filters.as_detail(),
        )
        db.session.commit()
    return filters, f"audit-log-{utcnow().astimezone(LONDON):%Y-%m-%d}.{file_format}"


@bp.post("/admin/audit.csv")
@roles_required("admin")
def audit_log_csv() -> Response:
    filters, name = _export("csv")
    if filters is None:
        return _back_to_the_form()
    return csv_stream_response(export_frames(db.session, filters), name)


@bp.post("/admin/audit.xlsx")
@roles_required("admin")
def audit_log_xlsx() -> Response:
    filters, name = _export("xlsx")
    if filters is None:
        return _back_to_the_form()
    return xlsx_response({"Audit log": export_frame(db.session, filters)}, name, created=utcnow())


def _back_to_the_form() -> Response:
    """A hand-edited export link with a wrong date: the form says what is wrong."""
    return redirect(url_for("admin.audit_log", **_filter_args()))


# --- Users ----------------------------------------------------------------------------------


@bp.get("/users")
@roles_required("admin")
def users() -> str:
    people = db.session.scalars(select(User).order_by(User.role, User.name)).all()
    return render_template("admin/users.html", users=people, role_labels=ROLE_LABELS)


@bp.route("/users/invite", methods=["GET", "POST"])
@roles_required("admin")
def invite() -> str | Response:
    form = InviteForm()
    message = None
    if form.validate_on_submit() and commit_or_show(
        form.email,
        invite_user,
        db.session,
        email=form.email.data,
        name=form.name.data,
        role=form.role.data,
        nation=form.nation.data,
        link_for=lambda token: external_url("auth.set_password", token=token),
        now=utcnow(),
        by=current_user,
    ):
        flash("Invitation sent.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form, message=message)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int) -> str | Response:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = RoleForm(data={"role": user.role, "active": "yes" if user.active else "no"})
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != "admin" or form.active.data != "yes"):
            form.role.errors.append("You cannot remove your own admin access")
        else:
            change_role(db.session, user, form.role.data, form.active.data == "yes", current_user)
            db.session.commit()
            flash("Account updated.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/edit_user.html", form=form, user=user)
